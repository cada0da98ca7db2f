"""The process modeler page and its JSON calls: who may use them, drafts, validation, deploy."""

import json
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from app.engine.forms import HOST_DATA_NAMES
from app.engine.vocabulary import ANY
from app.extensions import db
from app.handlers import work
from app.handlers.registry import DATA_VOCABULARY
from app.models import PRIORITIES, Membership, ProcessDefinition, ProcessDraft
from app.services import definitions
from app.views.modeler import UNLISTED_DATA_NAMES, _data_names
from tests.factories import user
from tests.views.helpers import html

PAGE = "/processes/{key}/modeler"
DIAGRAM = "/processes/{key}/modeler/diagram"
DRAFT = "/processes/{key}/modeler/draft"
VALIDATE = "/processes/{key}/modeler/validate"
DEPLOY = "/processes/{key}/modeler/deploy"
CONFIG_RE = re.compile(r'<script type="application/json" id="modeler-config">(.*?)</script>', re.S)
BPMN_TEXTS_RE = re.compile(
    r'<script type="application/json" id="modeler-bpmn-texts">(.*?)</script>', re.S)
NODE_MODULES = Path(__file__).resolve().parents[2] / "node_modules"
# As every page shows a moment (labels.when): "22 nov 2026, 05:38", hours with two digits.
WHEN_RE = re.compile(r"^\d{1,2} \S+ \d{4}, \d{2}:\d{2}$")

DOCTYPE_XML = """<?xml version="1.0"?>
<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&xxe;</bpmn:definitions>
"""


def default_xml() -> str:
    return definitions.default_diagram()


def renamed_xml() -> str:
    return default_xml().replace('name="Autorizar solicitud"', 'name="Visto bueno del jefe"')


def broken_condition_xml() -> str:
    xml = default_xml().replace("decision == 'approve'", "__import__('os').system('id')")
    assert xml != default_xml()
    return xml


class Owner:
    """A logged-in person calling the modeler's JSON endpoints as its page does."""

    def __init__(self, browser, email):
        self.browser = browser(email)
        page = self.browser.get(PAGE.format(key="service_request"))
        match = CONFIG_RE.search(html(page))
        self.token = json.loads(match.group(1))["csrfToken"] if match else self.browser.token

    def get(self, url):
        return self.browser.get(url)

    def post(self, url, body, csrf=True):
        headers = {"X-CSRFToken": self.token} if csrf else {}
        with self.browser.app.app_context():
            return self.browser.client.post(url, json=body, headers=headers)


@pytest.fixture
def owner(demo, browser):
    return Owner(browser, "admin@acme.test")


@pytest.fixture
def globex_owner(demo, browser):
    """The Globex director, made process owner of Globex for the test."""
    director = user("director@globex.test")
    db.session.add(Membership(tenant_id=director.tenant_id, user=director, role="process_owner"))
    db.session.commit()
    return Owner(browser, "director@globex.test")


def versions(email="admin@acme.test", key="service_request"):
    db.session.rollback()
    tenant_id = user(email).tenant_id
    return list(db.session.scalars(select(ProcessDefinition).where(
        ProcessDefinition.tenant_id == tenant_id, ProcessDefinition.process_key == key)
        .order_by(ProcessDefinition.version)))


def drafts_count():
    db.session.rollback()
    return db.session.query(ProcessDraft).count()


# --- who may use it ---------------------------------------------------------------------------


@pytest.mark.parametrize("email", ["ana@acme.test", "jefe.finanzas@acme.test",
                                   "director@acme.test", "tecnico1@acme.test",
                                   "pedro@globex.test"])
def test_people_who_do_not_own_processes_get_404_everywhere(demo, browser, email):
    client = browser(email)
    assert client.get(PAGE.format(key="service_request")).status_code == 404
    assert client.get(DIAGRAM.format(key="service_request")).status_code == 404
    for url in (DRAFT, VALIDATE, DEPLOY):
        with client.app.app_context():
            response = client.client.post(url.format(key="service_request"),
                                          json={"xml": renamed_xml()},
                                          headers={"X-CSRFToken": client.token})
        assert response.status_code == 404, url
    assert drafts_count() == 0
    assert len(versions()) == 1


def test_anonymous_people_are_sent_to_the_login(demo, app):
    client = app.test_client()
    for url in (PAGE, DIAGRAM):
        # A fresh app context per request, as in production: nobody logged in by an earlier
        # test is left in the session-wide context's g.
        with app.app_context():
            response = client.get(url.format(key="service_request"))
        assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("key", ["Service_Request", "x", "1abc", "a-b", "a" * 81])
def test_malformed_process_keys_are_not_found(owner, key):
    assert owner.get(PAGE.format(key=key)).status_code == 404
    assert owner.get(DIAGRAM.format(key=key)).status_code == 404


def test_the_page_runs_only_the_apps_own_scripts(owner):
    response = owner.get(PAGE.format(key="service_request"))
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    script_src = re.search(r"script-src ([^;]*)", csp).group(1)
    assert script_src == "'self'"
    body = html(response)
    assert '<script src="/static/dist/modeler.js" defer></script>' in body
    assert "/static/dist/bpmn-js.css" in body and "/static/dist/diagram-js.css" in body
    # Every script element is the bundle or a JSON data block: nothing inline runs.
    scripts = re.findall(r"<script([^>]*)>", body)
    assert all('type="application/json"' in s or 'src="/static/dist/' in s for s in scripts)
    config = json.loads(CONFIG_RE.search(body).group(1))
    assert config["urls"]["deploy"] == DEPLOY.format(key="service_request")
    assert {"Requester", "UnitHead", "ServiceDirector", "Worker", "TenantAdmin",
            "Team"} == {
        r["value"] for r in config["roles"]}
    assert "authorize" in {h["value"] for h in config["handlers"]}
    assert "create_ticket" in {o["value"] for o in config["operations"]}
    assert config["dataNames"], "the condition panel's list of data"
    # Other pages keep the script-free policy.
    other = owner.get("/inbox")
    assert "script-src 'none'" in other.headers["Content-Security-Policy"]


def page_config(owner) -> dict:
    return json.loads(CONFIG_RE.search(html(owner.get(PAGE.format(key="service_request"))))
                      .group(1))


def test_the_condition_panel_is_told_the_data_the_service_desk_writes(owner):
    names = {entry["name"]: entry for entry in page_config(owner)["dataNames"]}
    # Every name the host writes into task data is offered, but those no condition reads.
    assert set(names) == HOST_DATA_NAMES - UNLISTED_DATA_NAMES
    assert UNLISTED_DATA_NAMES <= HOST_DATA_NAMES
    assert names["priority"]["sources"][0]["values"] == [repr(p) for p in PRIORITIES]
    assert names["requester_is_head"]["sources"][0]["values"] == ["True", "False"]
    # decision: listed once, with the values of each step that writes it.
    decision = {s["step"]: s["values"] for s in names["decision"]["sources"]}
    assert decision == {"Autorizar solicitud": ["'authorize'", "'reject'"],
                        "Evaluar viabilidad": ["'approve'", "'reject'", "'return'"]}, decision
    assert all(entry["description"] for entry in names.values())
    assert [v for s in names["rating"]["sources"] for v in s["values"]] == list("12345")


def test_the_data_offered_agrees_with_what_validation_accepts(app):
    """The panel never suggests a name or value the validator would refuse."""
    with app.test_request_context():
        offered = _data_names()
    known = DATA_VOCABULARY.values
    for entry in offered:
        assert entry["name"] in known, entry["name"]
        values = {v for s in entry["sources"] for v in s["values"]}
        if known[entry["name"]] is ANY:
            continue
        assert values == {repr(v) for v in known[entry["name"]]}, entry["name"]


def test_the_action_values_offered_are_what_the_work_handlers_write(app):
    ctx = SimpleNamespace(request=SimpleNamespace(ticket=SimpleNamespace()))
    written = {
        work.HoldHandler().apply(ctx, {"reason": "x"})["action"],
        work.FinishHandler().apply(ctx, {"resolution": "x", "hours_spent": 1,
                                         "materials_cost": 0})["action"],
    }
    with app.test_request_context():
        action = next(entry for entry in _data_names() if entry["name"] == "action")
    assert {v for s in action["sources"] for v in s["values"]} == {repr(v) for v in written}


def test_bpmn_js_texts_are_rendered_for_translation(owner):
    body = html(owner.get(PAGE.format(key="service_request")))
    texts = json.loads(BPMN_TEXTS_RE.search(body).group(1))
    for english in ("Create pool/participant", "Activate hand tool", "Change element",
                    "Append task", "Delete", "User task", "Service task", "Exclusive gateway",
                    "Timer boundary event",
                    "flow elements must be children of pools/participants"):
        assert texts.get(english), english
    # Refused kinds of task are not offered (frontend/modeler/bpmn-ui.js): no text needed.
    assert "Script task" not in texts


@pytest.mark.skipif(not (NODE_MODULES / "bpmn-js").is_dir(), reason="npm packages not installed")
def test_every_bpmn_js_text_is_one_bpmn_js_asks_for(owner):
    """A typo in the page's dictionary would leave bpmn-js's English text showing."""
    source = "".join(path.read_text(encoding="utf-8")
                     for package in ("bpmn-js", "diagram-js")
                     for path in (NODE_MODULES / package / "lib").rglob("*.js"))
    body = html(owner.get(PAGE.format(key="service_request")))
    texts = json.loads(BPMN_TEXTS_RE.search(body).group(1))
    aligned = {f"Align elements {side}" for side in
               ("left", "center", "right", "top", "middle", "bottom")}
    unknown = [text for text in texts if text not in aligned and f"'{text}'" not in source]
    assert unknown == []


# --- opening a diagram ------------------------------------------------------------------------


def test_opens_the_active_version_when_there_is_no_draft(owner, app):
    data = owner.get(DIAGRAM.format(key="service_request")).get_json()
    assert data["source"] == "version" and data["version"] == 1
    assert 'id="Task_Authorize"' in data["xml"]
    # The date as the other pages show it (labels.when), not left to the browser's locale.
    from zoneinfo import ZoneInfo

    from babel.dates import format_datetime

    from app.models import Tenant

    version = versions()[0]  # in the default language and the company's time zone
    zone = ZoneInfo(db.session.get(Tenant, version.tenant_id).timezone)
    expected = format_datetime(version.created_at, "d MMM y, HH:mm", tzinfo=zone, locale="es")
    assert data["saved_when"] == expected and WHEN_RE.match(expected), data["saved_when"]


def test_a_new_process_opens_with_a_start_event(owner):
    data = owner.get(DIAGRAM.format(key="incident_fast")).get_json()
    assert data["source"] == "new" and data["version"] is None
    assert '<bpmn:process id="incident_fast"' in data["xml"]
    assert versions(key="incident_fast") == []  # opening writes nothing


def test_a_saved_draft_is_what_opens_next_time(owner):
    response = owner.post(DRAFT.format(key="service_request"), {"xml": renamed_xml()})
    assert response.status_code == 200, response.get_data(as_text=True)
    saved = response.get_json()
    assert saved["saved_at"] and WHEN_RE.match(saved["saved_when"]), saved
    data = owner.get(DIAGRAM.format(key="service_request")).get_json()
    assert data["source"] == "draft"
    assert data["xml"] == renamed_xml()
    assert data["saved_by"] == user("admin@acme.test").name
    assert data["saved_when"] == saved["saved_when"]
    assert len(versions()) == 1  # a draft is not a version


def test_another_tenants_owner_never_sees_the_draft(owner, globex_owner):
    owner.post(DRAFT.format(key="service_request"), {"xml": renamed_xml()})
    owner.post(DRAFT.format(key="only_acme"), {"xml": renamed_xml()})
    data = globex_owner.get(DIAGRAM.format(key="service_request")).get_json()
    assert data["source"] == "version" and "Visto bueno del jefe" not in data["xml"]
    assert globex_owner.get(DIAGRAM.format(key="only_acme")).get_json()["source"] == "new"
    # Deploying in Globex leaves Acme's draft and versions alone.
    response = globex_owner.post(DEPLOY.format(key="service_request"),
                                 {"xml": default_xml(), "note": "globex"})
    assert response.get_json() == {"version": 2}
    assert owner.get(DIAGRAM.format(key="service_request")).get_json()["source"] == "draft"
    assert [v.version for v in versions()] == [1]


# --- validation --------------------------------------------------------------------------------


def test_validate_lists_problems_by_element(owner):
    response = owner.post(VALIDATE.format(key="service_request"), {"xml": broken_condition_xml()})
    assert response.status_code == 200
    data = response.get_json()
    assert data["valid"] is False
    assert any(p["element_id"] == "Flow_Approve" and "condition" in p["message"]
               for p in data["problems"]), data


def test_validate_accepts_a_good_diagram(owner):
    data = owner.post(VALIDATE.format(key="service_request"), {"xml": renamed_xml()}).get_json()
    assert data == {"valid": True, "problems": []}


def test_validate_reports_a_user_task_outside_any_role(owner):
    xml = default_xml().replace('<bpmn:lane id="Lane_UnitHead" name="UnitHead">',
                                '<bpmn:lane id="Lane_UnitHead" name="Jefatura">')
    data = owner.post(VALIDATE.format(key="service_request"), {"xml": xml}).get_json()
    assert {"element_id": "Task_Authorize",
            "message": "the user task is not in a lane mapped to a role"} in data["problems"]


# --- deploy ------------------------------------------------------------------------------------


def test_deploy_creates_a_version_and_discards_the_draft(owner):
    owner.post(DRAFT.format(key="service_request"), {"xml": renamed_xml()})
    assert drafts_count() == 1
    response = owner.post(DEPLOY.format(key="service_request"),
                          {"xml": renamed_xml(), "note": "  Nuevo nombre del paso  "})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json() == {"version": 2}
    found = versions()
    assert [(v.version, v.is_active) for v in found] == [(1, False), (2, True)]
    assert found[1].note == "Nuevo nombre del paso"
    assert found[1].created_by_id == user("admin@acme.test").id
    assert "Visto bueno del jefe" in found[1].bpmn_xml
    assert drafts_count() == 0
    data = owner.get(DIAGRAM.format(key="service_request")).get_json()
    assert (data["source"], data["version"]) == ("version", 2)


def test_a_refused_deploy_changes_nothing(owner):
    owner.post(DRAFT.format(key="service_request"), {"xml": renamed_xml()})
    response = owner.post(DEPLOY.format(key="service_request"),
                          {"xml": broken_condition_xml(), "note": "x"})
    assert response.status_code == 422
    assert any(p["element_id"] == "Flow_Approve" for p in response.get_json()["problems"])
    assert [v.version for v in versions()] == [1]
    assert drafts_count() == 1  # the draft stays for the owner to fix


def test_a_new_process_is_deployed_as_its_first_version(owner):
    xml = default_xml()
    response = owner.post(DEPLOY.format(key="short_jobs"), {"xml": xml, "note": ""})
    assert response.get_json() == {"version": 1}
    assert [v.version for v in versions(key="short_jobs")] == [1]
    assert [v.version for v in versions()] == [1]  # the default process is untouched


def test_a_long_note_is_refused(owner):
    response = owner.post(DEPLOY.format(key="service_request"),
                          {"xml": renamed_xml(), "note": "x" * 501})
    assert response.status_code == 400
    assert "500" in response.get_json()["error"]
    assert len(versions()) == 1


# --- unsafe or broken input ----------------------------------------------------------------------


@pytest.mark.parametrize("url", [DRAFT, DEPLOY, VALIDATE])
def test_doctype_and_entities_are_refused_with_a_clear_message(owner, url):
    response = owner.post(url.format(key="service_request"), {"xml": DOCTYPE_XML, "note": ""})
    data = response.get_json()
    problems = data["problems"]
    assert response.status_code == (200 if url == VALIDATE else 422)
    assert problems == [{"element_id": None,
                         "message": "DOCTYPE and entity declarations are not allowed"}]
    assert drafts_count() == 0 and len(versions()) == 1


@pytest.mark.parametrize("xml,fragment", [
    ("hello", "not well-formed XML"),
    ("<html><body>hi</body></html>", "not a BPMN 2.0 diagram"),
])
def test_a_file_that_is_not_bpmn_is_not_saved(owner, xml, fragment):
    response = owner.post(DRAFT.format(key="service_request"), {"xml": xml})
    assert response.status_code == 422
    assert fragment in response.get_json()["problems"][0]["message"]
    assert drafts_count() == 0


def test_a_diagram_over_the_size_limit_is_refused(owner, app):
    limit = app.config["MAX_DIAGRAM_BYTES"]
    xml = default_xml().replace("</bpmn:definitions>",
                                f"<!-- {'x' * limit} --></bpmn:definitions>")
    response = owner.post(DRAFT.format(key="service_request"), {"xml": xml})
    assert response.status_code in (413, 422)
    assert drafts_count() == 0


@pytest.mark.parametrize("body", [None, {}, {"xml": ""}, {"xml": 42}, ["x"]])
def test_a_body_without_xml_is_a_bad_request(owner, body):
    response = owner.post(DRAFT.format(key="service_request"), body)
    assert response.status_code == 400
    assert "xml" in response.get_json()["error"]


@pytest.mark.parametrize("url", [DRAFT, VALIDATE, DEPLOY])
def test_calls_without_the_csrf_token_are_refused(owner, url):
    response = owner.post(url.format(key="service_request"),
                          {"xml": renamed_xml(), "note": ""}, csrf=False)
    assert response.status_code == 400
    assert response.get_json()["error"]  # what to do, in the page's language
    assert drafts_count() == 0 and len(versions()) == 1
