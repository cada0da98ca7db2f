"""A security responder on a phone (390 px): the triage step's checklist is ticked box by box
(each a POST, no script), completion is refused until the last box, then goes through; the
request's report fits the screen and prints without the menus.

Selectors lean on ids, input names and URLs rather than on translated text."""

import os

import pytest
from sqlalchemy import select

from app.checklists import service
from app.extensions import db
from app.models import Category, HumanTask
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


def test_a_responder_ticks_the_checklist_on_a_phone_then_completes(person, app):
    request_id, task_id = _security_incident()
    responder = person("tecnico1@acme.test")
    responder.set_viewport_size({"width": 390, "height": 844})
    responder.goto(f"/tasks/{task_id}")
    items = responder.locator(".checklist-items li")
    expect(items).to_have_count(4)
    assert _fits(responder)
    form = responder.locator("form#form-form")
    form.locator("select[name=severity], input[name=severity]").first.wait_for()
    if form.locator("select[name=severity]").count():
        form.locator("select[name=severity]").select_option("high")
    else:
        form.locator("input[name=severity][value=high]").check()
    form.locator("input[name=false_positive][value=false]").check()
    with responder.expect_navigation():
        form.locator("button[type=submit]").click()
    expect(responder.locator(".checklist-items li.unticked")).to_have_count(4)  # refused
    for position in (1, 2, 3, 4):
        with responder.expect_navigation():
            responder.locator(f"#item-{position} button").click()
        expect(responder.locator(f"#item-{position}")).to_have_class("ticked")
    form = responder.locator("form#form-form")
    if form.locator("select[name=severity]").count():
        form.locator("select[name=severity]").select_option("high")
    else:
        form.locator("input[name=severity][value=high]").check()
    form.locator("input[name=false_positive][value=false]").check()
    with responder.expect_navigation():
        form.locator("button[type=submit]").click()
    assert responder.url.endswith(f"/requests/{request_id}"), responder.url
    responder.goto(f"/requests/{request_id}/report")
    expect(responder.locator("article.report")).to_be_visible()
    assert _fits(responder)
    responder.emulate_media(media="print")
    assert not responder.locator("nav.mainnav").is_visible()
    errors = [e for e in responder.http_errors if " 422 " not in f" {e} "]
    assert errors == [], errors
