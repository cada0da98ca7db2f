"""The pages: the tenant admin's rules (create, refuse, edit, move, try, delete), the workers'
skills for directors of their own units, the assignment form's preselected worker and its
reason; whoever may not finds nothing (404); another company's rule is not found."""

import pytest
from sqlalchemy import func, select

from app.classification.models import ClassificationRule, WorkerSkill
from app.extensions import db
from app.models import HumanTask
from app.services import workflow
from tests.classification.helpers import (
    ADMIN,
    DIRECTOR,
    by_email,
    category,
    file_in,
    give_load,
    help_desk,
    rule,
    unit,
)


@pytest.fixture
def desk(demo):
    return help_desk(process_key=None)


def _rules():
    db.session.rollback()
    return list(db.session.scalars(select(ClassificationRule)
                                   .order_by(ClassificationRule.position)))


def test_an_admin_creates_edits_moves_tries_and_deletes_a_rule(desk, browser):
    admin = browser(ADMIN)
    assert admin.get("/classification/rules").status_code == 200
    form = {"name": "Impresoras", "active": "1", "words": "impresora, tóner\natasco de papel",
            "words_mode": "any", "unit_id": str(unit("Finanzas").id), "include_subunits": "1",
            "field_conditions": "", "category_id": str(desk["categories"]["Impresoras"].id),
            "priority": "high", "service_unit_id": "", "position": ""}
    assert admin.post("/classification/rules/new", form).status_code == 302
    second = {**form, "name": "Urgencias", "words": "urgente", "unit_id": "",
              "category_id": "", "priority": "urgent"}
    assert admin.post("/classification/rules/new", second).status_code == 302
    first, last = _rules()
    assert first.words == ["impresora", "tóner", "atasco de papel"]
    assert first.unit_id == unit("Finanzas").id and first.include_subunits is True
    page = admin.get("/classification/rules").get_data(as_text=True)
    assert "Impresoras" in page and "atasco de papel" in page
    admin.post(f"/classification/rules/{last.id}/move", {"direction": "up"})
    assert [r.name for r in _rules()] == ["Urgencias", "Impresoras"]
    tried = admin.get("/classification/rules?try=1&title=Es+URGENTE&description=")
    assert "Urgencias" in tried.get_data(as_text=True)
    edited = admin.post(f"/classification/rules/{first.id}/edit",
                        {**form, "name": "Impresoras y tóner", "field_conditions":
                         "piso = 3"})
    assert edited.status_code == 302
    assert _rules()[1].field_conditions == [{"name": "piso", "value": "3"}]
    assert admin.get(f"/classification/rules/{first.id}/delete").status_code == 200
    assert admin.post(f"/classification/rules/{first.id}/delete").status_code == 302
    assert [r.name for r in _rules()] == ["Urgencias"]


@pytest.mark.parametrize("change, field", [
    ({"name": ""}, "name"),
    ({"words": "", "unit_id": ""}, None),                 # no condition
    ({"category_id": "", "priority": ""}, None),          # no action
    ({"field_conditions": "sin signo igual"}, "field_conditions"),
    ({"category_id": "abc"}, "category_id"),
    ({"position": "-3"}, "position"),
    ({"words": "x" * 80}, "words"),
])
def test_a_refused_rule_shows_the_form_again_and_stores_nothing(desk, browser, change, field):
    admin = browser(ADMIN)
    form = {"name": "Regla", "active": "1", "words": "red", "words_mode": "any",
            "unit_id": "", "category_id": "", "priority": "high", "service_unit_id": "",
            "field_conditions": "", "position": "", **change}
    response = admin.post("/classification/rules/new", form)
    assert response.status_code == 422
    assert 'class="flash error"' in response.get_data(as_text=True)
    assert _rules() == []


@pytest.mark.parametrize("email", [DIRECTOR, "ana@acme.test", "w1@acme.test"])
def test_the_rules_pages_are_not_found_for_anyone_but_the_admin(desk, browser, email):
    row = rule("Regla", words=["x"], priority="low")
    person = browser(email)
    for url in ("/classification/rules", "/classification/rules/new",
                f"/classification/rules/{row.id}/edit",
                f"/classification/rules/{row.id}/delete"):
        assert person.get(url).status_code == 404, url
    assert person.post(f"/classification/rules/{row.id}/delete").status_code == 404
    assert len(_rules()) == 1


def test_another_companys_rule_is_not_found_and_the_login_comes_first(desk, browser):
    theirs = rule("De Globex", slug="globex", words=["x"], priority="low")
    admin = browser(ADMIN)
    assert admin.get(f"/classification/rules/{theirs.id}/edit").status_code == 404
    assert admin.post(f"/classification/rules/{theirs.id}/move",
                      {"direction": "up"}).status_code == 404
    assert admin.get("/classification/rules/99999999999/edit").status_code == 404
    assert browser().get("/classification/rules").status_code == 302  # to the login


def test_a_post_without_the_csrf_token_is_refused(desk, app):
    client = app.test_client()
    with app.app_context():
        response = client.post("/classification/rules/new", data={"name": "x"})
    assert response.status_code in (302, 400)
    assert _rules() == []


def test_a_director_sets_skills_of_their_unit_only(desk, browser):
    w1 = desk["workers"][0]
    printers = desk["categories"]["Impresoras"]
    director = browser(DIRECTOR)
    page = director.get("/classification/skills").get_data(as_text=True)
    assert "W1" in page and "Impresoras" in page and "Redes" in page
    saved = director.post(f"/classification/skills/{desk['desk'].id}/{w1.id}",
                          {"category_ids": [str(printers.id)]})
    assert saved.status_code == 302
    db.session.rollback()
    assert [(s.user_id, s.category_id) for s in db.session.scalars(select(WorkerSkill))] == [
        (w1.id, printers.id)]
    other = browser("director@acme.test")  # directs Servicios Generales
    assert other.post(f"/classification/skills/{desk['desk'].id}/{w1.id}",
                      {"category_ids": []}).status_code == 404
    assert "W1" not in other.get("/classification/skills").get_data(as_text=True)
    assert other.get(f"/classification/skills?unit={desk['desk'].id}").status_code == 200
    bad = director.post(f"/classification/skills/{desk['desk'].id}/{w1.id}",
                        {"category_ids": [str(category("Plomería").id)]})
    assert bad.status_code == 302  # told on the page; nothing changed
    db.session.rollback()
    assert db.session.scalar(select(func.count(WorkerSkill.id))) == 1
    for email in ("ana@acme.test", "w1@acme.test"):
        assert browser(email).get("/classification/skills").status_code == 404


def _at_assignment(desk):
    req = file_in(desk["categories"]["Redes"])
    for email, spec_id, handler, form in (
            ("jefe.finanzas@acme.test", "Task_Authorize", "authorize",
             {"decision": "authorize"}),
            (DIRECTOR, "Task_Evaluate", "evaluate",
             {"decision": "approve", "estimated_cost": "100", "estimated_hours": "8",
              "justification": "Prueba"})):
        task = db.session.scalar(select(HumanTask).where(
            HumanTask.request_id == req.id, HumanTask.spec_id == spec_id,
            HumanTask.status == "open"))
        workflow.complete(by_email(email), task, handler, form)
        db.session.commit()
    return db.session.scalar(select(HumanTask).where(
        HumanTask.request_id == req.id, HumanTask.spec_id == "Task_Assign",
        HumanTask.status == "open"))


def test_the_assignment_form_preselects_the_least_loaded_worker_and_says_why(desk, browser):
    w1, w2, w3 = desk["workers"]
    give_load(w1, "3")
    give_load(w1, "3")   # w1: 2 tickets, 6 h
    give_load(w2, "8")   # w2: 1 ticket, 8 h
    give_load(w3, "3")   # w3: 1 ticket, 3 h: the least
    task = _at_assignment(desk)
    page = browser(DIRECTOR).get(f"/tasks/{task.id}").get_data(as_text=True)
    assert f'<option value="{w3.id}" selected>' in page
    assert "W3" in page and "3 h" in page
    # The director overrides as before
    response = browser(DIRECTOR).post(f"/tasks/{task.id}", {
        "handler": "assign", "worker_id": str(w1.id),
        "planned_start": "2099-01-01", "planned_end": "2099-01-02"})
    assert response.status_code == 302
    db.session.rollback()
    assert db.session.get(HumanTask, task.id).request.ticket.worker_id == w1.id


def test_the_form_counts_helping_and_takes_off_the_hours_already_recorded(desk, browser):
    w1, w2, w3 = desk["workers"]
    give_load(w1, "3", helpers=(w3,))
    give_load(w1, "3")                 # w1: 2 tickets, 6 h
    give_load(w2, "8", spent="6")      # w2: 1 ticket, 8 - 6 = 2 h left: the least
    give_load(w3, "3")                 # w3: 1 ticket, 3 h, and helps on w1's: 2 tickets
    task = _at_assignment(desk)
    page = browser(DIRECTOR).get(f"/tasks/{task.id}").get_data(as_text=True)
    assert f'<option value="{w2.id}" selected>' in page
    assert "W2" in page and "2 h" in page


def test_with_nobody_who_handles_the_category_the_form_says_so(desk, browser):
    printers = desk["categories"]["Impresoras"]
    for w in desk["workers"]:
        db.session.add(WorkerSkill(tenant_id=w.tenant_id, user_id=w.id,
                                   category_id=printers.id))
    db.session.commit()
    task = _at_assignment(desk)
    page = browser(DIRECTOR).get(f"/tasks/{task.id}").get_data(as_text=True)
    assert " selected>" not in page.split('name="worker_id"')[1].split("</select>")[0]
