"""The live diagram on the request page, in a real (headless) browser: bpmn-js draws the request's
own process version with the path taken, the current step and who did each step, under the
page's Content Security Policy, with tenant text shown as text."""

import os
import re

import pytest

from app.extensions import db
from app.models import ServiceRequest, User
from app.services import workflow
from tests.factories import file, open_task, request_at, user

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - skipped locally, an error in CI
    if os.environ.get("CI"):
        raise
    pytest.skip("the playwright Python package is not installed", allow_module_level=True)

WATCH_CSP = """
window.__problems = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__problems.push(`CSP ${e.violatedDirective} ${e.blockedURI}`);
});
"""


def watch(page):
    """Record console errors and CSP violations from now on (before the next navigation)."""
    page.console_errors = []
    page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))
    page.add_init_script(WATCH_CSP)
    return page


def open_diagram(page, req_id: int):
    page.goto(f"/requests/{req_id}")
    viewer = page.locator("#diagram-viewer")
    expect(viewer).to_have_attribute("data-state", "ready")
    return viewer


def element(page, element_id: str):
    return page.locator(f"#diagram-viewer svg [data-element-id='{element_id}']").first


def marked(page, element_id: str, marker: str):
    expect(element(page, element_id)).to_have_class(re.compile(rf"\b{marker}\b"))


def not_marked(page, element_id: str, marker: str):
    expect(element(page, element_id)).not_to_have_class(re.compile(rf"\b{marker}\b"))


def no_problems(page):
    problems = page.evaluate("window.__problems") + page.console_errors + page.http_errors
    assert problems == []


def test_the_request_page_draws_the_path_the_current_step_and_who_did_what(person):
    req, _ = request_at("Task_OnHold")  # authorized, approved, assigned, started, put on hold
    worker = user("tecnico1@acme.test")
    worker.name = "<b>Tomás</b> Herrera"  # a name is text, never markup
    db.session.commit()
    head_name = user("jefe.finanzas@acme.test").name

    ana = watch(person("ana@acme.test"))
    open_diagram(ana, req.id)

    for done in ("Start_Filed", "Task_Authorize", "Task_Evaluate", "Task_Assign",
                 "Service_CreateTicket", "Task_Start", "Task_Work"):
        marked(ana, done, "trail-done")
    for flow in ("Flow_Start", "Flow_ToAuthorize", "Flow_Authorized", "Flow_Approve",
                 "Flow_ToStart", "Flow_Hold"):
        marked(ana, flow, "trail-flow")
    marked(ana, "Task_OnHold", "trail-current")
    for untaken in ("Flow_SkipAuthorization", "Flow_Return", "Flow_Resume", "Flow_Finished"):
        not_marked(ana, untaken, "trail-flow")
    for ahead in ("Task_Confirm", "Timer_AuthorizationReminder", "Task_ProvideInformation"):
        not_marked(ana, ahead, "trail-done")
        not_marked(ana, ahead, "trail-current")

    authorized = ana.locator(".djs-overlays[data-container-id='Task_Authorize'] .trail-note-done")
    expect(authorized).to_contain_text(head_name)
    waiting = ana.locator(".djs-overlays[data-container-id='Task_OnHold'] .trail-note-current")
    expect(waiting).to_contain_text("<b>Tomás</b> Herrera")
    assert waiting.locator("b").count() == 0
    expect(ana.locator(".legend")).to_be_visible()
    no_problems(ana)


def test_a_withdrawn_request_shows_where_it_stopped_and_step_names_stay_text(person):
    from app.services import definitions

    req = file()
    tenant_id = req.tenant_id
    xml = req.instance.definition.bpmn_xml
    definitions.deploy(tenant_id, xml.replace(
        'name="Evaluar viabilidad"', 'name="&lt;img src=x onerror=alert(1)&gt; Evaluar"'),
        note="nombre con marcas")
    db.session.commit()
    req = file(title="Con un nombre raro")
    workflow.complete(user("jefe.finanzas@acme.test"), open_task(req, "Task_Authorize"),
                      "authorize", {"decision": "authorize"})
    db.session.commit()
    workflow.cancel_request(user("ana@acme.test"), db.session.get(ServiceRequest, req.id),
                            "Ya no hace falta")
    db.session.commit()

    ana = watch(person("ana@acme.test"))
    dialogs = []
    ana.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    open_diagram(ana, req.id)
    marked(ana, "Task_Authorize", "trail-done")
    marked(ana, "Flow_ToEvaluate", "trail-flow")
    marked(ana, "Task_Evaluate", "trail-stopped")
    assert ana.locator("#diagram-viewer .trail-current").count() == 0
    expect(ana.locator(".djs-overlays[data-container-id='Task_Evaluate'] .trail-note-stopped"))\
        .to_be_visible()
    label = element(ana, "Task_Evaluate").locator("text")
    expect(label).to_contain_text("<img")
    assert ana.locator("#diagram-viewer img").count() == 0
    assert dialogs == []
    no_problems(ana)


def test_the_json_of_another_tenant_is_not_found_in_the_browser_either(person):
    db.session.rollback()
    globex_req = file("pedro@globex.test")
    assert db.session.get(User, globex_req.requester_id).tenant_id != user(
        "ana@acme.test").tenant_id
    ana = person("ana@acme.test")
    response = ana.request.get(f"/requests/{globex_req.id}/diagram.json")
    assert response.status == 404
