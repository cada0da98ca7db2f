"""A security responder on a phone (390 px): the triage step's checklist is ticked box by box
without a reload (dist/checklist.js sends each tick with fetch), so the severity chosen in the
step's form stays chosen; a refused tick says why beside its box and the box goes back;
completion is refused until the last box, then goes through; the request's report fits the
screen and prints without the menus. Without JavaScript each tick is a POST that reloads the
page, and still counts. The alerts-by-severity groups on /checklists are framed like cards.

Selectors lean on ids, input names and URLs rather than on translated text."""

import os

import pytest
from sqlalchemy import select

from app.checklists import service
from app.extensions import db
from app.models import Category, HistoryEvent, HumanTask
from app.services import definitions, processes
from app.teams import service as teams
from app.teams.models import TeamMember
from tests.factories import file, user

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - skipped locally, an error in CI
    if os.environ.get("CI"):
        raise
    pytest.skip("the playwright Python package is not installed", allow_module_level=True)

SECURITY = "security_incident"


def _security_incident():
    admin = user("admin@acme.test")
    tenant_id = admin.tenant_id
    definitions.deploy(tenant_id, definitions.default_diagram(SECURITY), process_key=SECURITY,
                       user=admin)
    service.ensure_defaults(tenant_id, SECURITY, SECURITY, admin)
    team = teams.ensure(tenant_id, "security", {"es": "Seguridad"})
    db.session.add(TeamMember(tenant_id=tenant_id, team_id=team.id,
                              user_id=user("tecnico1@acme.test").id))
    category = db.session.scalars(select(Category).where(Category.tenant_id == tenant_id)
                                  .order_by(Category.name)).first()
    processes.set_category_process(category, SECURITY, admin)
    db.session.commit()
    req = file("ana@acme.test", category=category.name, title="Correo sospechoso")
    task = db.session.scalars(select(HumanTask).where(HumanTask.request_id == req.id,
                                                      HumanTask.status == "open")).one()
    return req.id, task.id


def _fits(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def _choose_severity(form, value):
    form.locator("select[name=severity], input[name=severity]").first.wait_for()
    if form.locator("select[name=severity]").count():
        form.locator("select[name=severity]").select_option(value)
    else:
        form.locator(f"input[name=severity][value={value}]").check()


def _chosen_severity(form):
    if form.locator("select[name=severity]").count():
        return form.locator("select[name=severity]").input_value()
    return form.locator("input[name=severity]:checked").get_attribute("value")


def _set_claimant(task_id, email):
    db.session.rollback()
    db.session.get(HumanTask, task_id).claimed_by_id = user(email).id if email else None
    db.session.commit()


def test_a_responder_ticks_the_checklist_on_a_phone_then_completes(person, app):
    request_id, task_id = _security_incident()
    responder = person("tecnico1@acme.test")
    responder.set_viewport_size({"width": 390, "height": 844})
    responder.goto(f"/tasks/{task_id}")
    items = responder.locator(".checklist-items li")
    expect(items).to_have_count(4)
    assert _fits(responder)
    form = responder.locator("form#form-form")
    _choose_severity(form, "high")
    form.locator("input[name=false_positive][value=false]").check()
    form.locator("textarea[name=triage_notes]").fill("Correo de suplantación")
    responder.evaluate("window.notReloaded = true")  # gone if the page is loaded again
    progress = responder.locator("#checklist .checklist-progress")
    expect(progress).to_contain_text("0 de 4 marcados")
    for position in (1, 2, 3):
        responder.locator(f"#item-{position} button").click()
        expect(responder.locator(f"#item-{position}")).to_have_class("ticked")
        expect(responder.locator(f"#item-{position}")).to_contain_text("Marcado por")
    expect(progress).to_contain_text("3 de 4 marcados")
    expect(responder.locator("#item-2 button")).to_have_attribute("aria-pressed", "true")
    # an untick, in place too
    responder.locator("#item-3 button").click()
    expect(responder.locator("#item-3")).to_have_class("unticked")
    expect(progress).to_contain_text("2 de 4 marcados")
    assert responder.evaluate("window.notReloaded === true")
    assert _chosen_severity(form) == "high"  # what was typed is still there
    assert form.locator("textarea[name=triage_notes]").input_value() == "Correo de suplantación"

    # someone else takes the step meanwhile: the tick is refused beside its box, which goes back
    _set_claimant(task_id, "tecnico2@acme.test")
    responder.locator("#item-3 button").click()
    error = responder.locator("#item-3 .field-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("otra persona")
    expect(responder.locator("#item-3")).to_have_class("unticked")
    expect(progress).to_contain_text("2 de 4 marcados")
    assert _fits(responder)
    _set_claimant(task_id, None)

    for position in (3, 4):
        responder.locator(f"#item-{position} button").click()
        expect(responder.locator(f"#item-{position}")).to_have_class("ticked")
    expect(responder.locator("#item-3 .field-error")).to_have_count(0)
    expect(progress).to_contain_text("4 de 4 marcados")
    assert responder.evaluate("window.notReloaded === true")
    assert _chosen_severity(form) == "high"
    with responder.expect_navigation():
        form.locator("button[type=submit]").click()
    assert responder.url.endswith(f"/requests/{request_id}"), responder.url
    db.session.rollback()
    answers = db.session.scalars(select(HistoryEvent).where(
        HistoryEvent.request_id == request_id, HistoryEvent.action == "form")).one()
    assert {a["name"]: a["value"] for a in answers.changes["form"]}["severity"] == "high"
    ticks = list(db.session.scalars(select(HistoryEvent.action).where(
        HistoryEvent.request_id == request_id, HistoryEvent.action.like("checklist_%"))))
    assert ticks.count("checklist_ticked") == 5 and ticks.count("checklist_unticked") == 1
    responder.goto(f"/requests/{request_id}/report")
    expect(responder.locator("article.report")).to_be_visible()
    assert _fits(responder)
    responder.emulate_media(media="print")
    assert not responder.locator("nav.mainnav").is_visible()
    errors = [e for e in responder.http_errors if " 403 " not in f" {e} "]
    assert errors == [], errors


def test_without_javascript_each_tick_reloads_the_page_and_counts(live_server, chromium):
    _request_id, task_id = _security_incident()
    context = chromium.new_context(base_url=live_server, locale="es-ES",
                                   java_script_enabled=False,
                                   viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        page.goto("/login")
        page.fill("input[name=email]", "tecnico1@acme.test")
        page.fill("input[name=password]", "demo1234")
        with page.expect_navigation():
            page.click("form button[type=submit]")
        page.goto(f"/tasks/{task_id}")
        assert page.locator("#checklist noscript").count() == 1  # tick first, then the form
        for position in (1, 2):
            with page.expect_navigation():
                page.locator(f"#item-{position} button").click()
            assert page.url.endswith(f"/tasks/{task_id}#item-{position}"), page.url
            expect(page.locator(f"#item-{position}")).to_have_class("ticked")
        expect(page.locator("#checklist .checklist-progress")).to_contain_text(
            "2 de 4 marcados")
    finally:
        context.close()


def test_the_alert_groups_are_framed_like_cards_on_a_phone(person):
    admin = person("admin@acme.test")
    admin.set_viewport_size({"width": 390, "height": 844})
    admin.goto("/checklists")
    groups = admin.locator("#alerts ~ form fieldset.group")
    expect(groups).to_have_count(4)
    style = groups.first.evaluate(
        "el => { const s = getComputedStyle(el); return [s.borderTopStyle, s.borderTopColor,"
        " s.borderTopLeftRadius]; }")
    assert style == ["solid", "rgb(221, 227, 234)", "8px"], style  # var(--line), not grey groove
    assert _fits(admin)
    assert admin.http_errors == []
