"""A form defined in the diagram, through the pages: inbox, task page, errors, history."""

import re

import pytest

from app.extensions import db
from app.models import HumanTask
from tests.factories import file
from tests.form_diagrams import VALID, deploy_for_acme, request_state, with_fields, with_review
from tests.views.helpers import html, open_task, reload

HEAD = "jefe.finanzas@acme.test"


@pytest.fixture
def review(demo):
    deploy_for_acme(with_review(), "review form")
    req = file(title="Tablero eléctrico")
    return req.id, open_task(req.id, "Task_Review").id


def _tag(page: str, name: str) -> str:
    """The HTML tag (input, textarea or select) of the field called ``name``."""
    match = re.search(rf'<(input|textarea|select)[^>]*name="{name}"[^>]*>', page)
    assert match, f"no field {name}"
    return match.group(0)


def test_the_inbox_lists_the_form_task(review, browser):
    req_id, task_id = review
    page = html(browser(HEAD).get("/inbox"))
    assert f"/tasks/{task_id}" in page and "Revisar" in page


def test_the_task_page_renders_the_diagrams_fields(review, browser):
    req_id, task_id = review
    page = html(browser(HEAD).get(f"/tasks/{task_id}"))
    assert 'name="handler" value="form"' in page
    reason = _tag(page, "reason")
    assert 'type="text"' in reason and "required" in reason
    assert 'maxlength="200"' in reason and 'minlength="3"' in reason
    hours = _tag(page, "hours")
    assert 'inputmode="decimal"' in hours and "required" in hours
    when = _tag(page, "when")
    assert 'type="date"' in when and 'min="2026-01-01"' in when and 'max="2027-12-31"' in when
    assert "required" not in when
    notes = _tag(page, "notes")
    assert notes.startswith("<textarea") and 'maxlength="4000"' in notes
    # A required choice with two options is a pair of radios with the diagram's labels.
    assert page.count('type="radio" name="job_kind"') == 2
    assert 'value="a"' in page and "Opción A" in page and "Opción B" in page
    # Yes/no as two radios; not required, so nothing forces an answer.
    assert page.count('type="radio" name="ok"') == 2
    assert "¿Conforme?" in page
    # Required markers on the required fields only.
    for label in ("Motivo", "Horas", "Tipo"):
        assert re.search(rf'{label}\s*<span class="req">\*</span>', page), label
    for label in ("Fecha", "¿Conforme?"):
        assert not re.search(rf'{label}\s*<span class="req">', page), label
    # Labels are the tenant's text: shown as written, escaped.
    assert "Notas &lt;b&gt;internas&lt;/b&gt;" in page and "<b>internas</b>" not in page
    # The limits of the number are said under it.
    assert "40" in page.split('name="hours"')[1].split("</div>")[0]


def test_invalid_input_shows_field_errors_and_changes_nothing(review, browser):
    req_id, task_id = review
    head = browser(HEAD)
    before = request_state(req_id)
    response = head.post(
        f"/tasks/{task_id}",
        {
            "handler": "form",
            "reason": "ab",
            "hours": "99",
            "when": "2020-01-01",
            "notes": "Se queda",
        },
    )
    assert response.status_code == 422
    page = html(response)
    assert page.count('class="field-error"') == 4  # reason, hours, when, job_kind
    assert "Este campo es obligatorio." in page  # job_kind, missing
    # What was typed is kept.
    assert 'value="ab"' in _tag(page, "reason") and 'value="99"' in _tag(page, "hours")
    assert ">Se queda</textarea>" in page
    assert request_state(req_id) == before


def test_valid_input_completes_and_the_history_shows_the_answers(review, browser):
    req_id, task_id = review
    head = browser(HEAD)
    response = head.post(f"/tasks/{task_id}", {"handler": "form", **VALID})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/requests/{req_id}")
    db.session.rollback()
    assert db.session.get(HumanTask, task_id).status == "completed"
    # 10 hours: the gateway sends it on to the authorization.
    assert open_task(req_id, "Task_Authorize")
    page = html(browser("ana@acme.test").get(f"/requests/{req_id}"))
    timeline = page[page.index('<ol class="timeline">') :]
    for text in (
        "Revisar",
        "Motivo",
        "Revisión del tablero",
        "Horas",
        "10",
        "Fecha",
        "Opción B",
        "¿Conforme?",
        "Llevar escalera",
        "Notas &lt;b&gt;internas",
    ):
        assert text in timeline, text
    assert "2026" in timeline.split("Fecha")[1][:80]
    assert "<b>internas</b>" not in timeline


def test_a_small_job_goes_straight_to_evaluation(review, browser):
    req_id, task_id = review
    form = {
        "handler": "form",
        "reason": "Cambio menor",
        "hours": "1,5",
        "job_kind": "a",
        "ok": "false",
    }
    assert browser(HEAD).post(f"/tasks/{task_id}", form).status_code == 302
    assert reload(req_id).status == "pending_evaluation"
    assert open_task(req_id, "Task_Evaluate")


def test_the_same_task_cannot_be_completed_twice(review, browser):
    req_id, task_id = review
    head = browser(HEAD)
    assert head.post(f"/tasks/{task_id}", {"handler": "form", **VALID}).status_code == 302
    before = request_state(req_id)
    assert head.post(f"/tasks/{task_id}", {"handler": "form", **VALID}).status_code == 409
    assert request_state(req_id) == before


def test_other_people_cannot_complete_it(review, browser):
    req_id, task_id = review
    before = request_state(req_id)
    response = browser("ana@acme.test").post(f"/tasks/{task_id}", {"handler": "form", **VALID})
    assert response.status_code == 403
    assert request_state(req_id) == before


@pytest.mark.parametrize("email", ["jefe@globex.test", "pedro@globex.test"])
def test_another_tenant_sees_nothing(review, browser, email):
    req_id, task_id = review
    other = browser(email)
    before = request_state(req_id)
    assert other.get(f"/tasks/{task_id}").status_code == 404
    assert other.post(f"/tasks/{task_id}", {"handler": "form", **VALID}).status_code == 404
    assert "Revisar" not in html(other.get("/inbox"))
    assert request_state(req_id) == before


def test_longer_or_optional_choices_are_selects(demo, browser):
    options = "".join(f'<mesa:option value="o{i}" label="Opción {i}"/>' for i in range(6))
    xml = with_fields(
        f'<mesa:field name="many" type="choice" label="Muchas" required="true">{options}'
        "</mesa:field>",
        '<mesa:field name="maybe" type="choice" label="Quizás">'
        '<mesa:option value="x" label="Equis"/></mesa:field>',
        condition="maybe == 'x'",
    )
    deploy_for_acme(xml, "selects")
    req = file()
    task_id = open_task(req.id, "Task_Review").id
    head = browser(HEAD)
    page = html(head.get(f"/tasks/{task_id}"))
    many = page.split('name="many"')[1].split("</select>")[0]
    assert many.count("<option") == 7 and 'value="o5"' in many and "Opción 5" in many
    assert "required" in _tag(page, "many")
    maybe = page.split('name="maybe"')[1].split("</select>")[0]
    assert '<option value="">—</option>' in maybe and "Equis" in maybe
    assert "required" not in _tag(page, "maybe")
    # The optional one may stay empty; the chosen value is kept when something else fails.
    response = head.post(f"/tasks/{task_id}", {"handler": "form", "maybe": "x"})
    assert response.status_code == 422
    assert '<option value="x" selected>' in html(response)
    assert head.post(f"/tasks/{task_id}", {"handler": "form", "many": "o5"}).status_code == 302
    # Left empty, ``maybe`` is None in the task data: the condition is false, no error.
    assert open_task(req.id, "Task_Evaluate")
