"""The process modeler page and its JSON calls: who may use them, drafts, validation, deploy."""

import json
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Membership, ProcessDefinition, ProcessDraft
from app.services import definitions
from tests.factories import user
from tests.views.helpers import html

PAGE = "/processes/{key}/modeler"
DIAGRAM = "/processes/{key}/modeler/diagram"
DRAFT = "/processes/{key}/modeler/draft"
VALIDATE = "/processes/{key}/modeler/validate"
DEPLOY = "/processes/{key}/modeler/deploy"
CONFIG_RE = re.compile(r'<script type="application/json" id="modeler-config">(.*?)</script>', re.S)

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
    response = client.get(PAGE.format(key="service_request"))
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    response = client.get(DIAGRAM.format(key="service_request"))
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
    assert {"Requester", "UnitHead", "ServiceDirector", "Worker"} == {
        r["value"] for r in config["roles"]}
    assert "authorize" in {h["value"] for h in config["handlers"]}
    assert "create_ticket" in {o["value"] for o in config["operations"]}
    # Other pages keep the script-free policy.
    other = owner.get("/inbox")
    assert "script-src 'none'" in other.headers["Content-Security-Policy"]


# --- opening a diagram ------------------------------------------------------------------------


def test_opens_the_active_version_when_there_is_no_draft(owner):
    data = owner.get(DIAGRAM.format(key="service_request")).get_json()
    assert data["source"] == "version" and data["version"] == 1
    assert 'id="Task_Authorize"' in data["xml"]


def test_a_new_process_opens_with_a_start_event(owner):
    data = owner.get(DIAGRAM.format(key="incident_fast")).get_json()
    assert data["source"] == "new" and data["version"] is None
    assert '<bpmn:process id="incident_fast"' in data["xml"]
    assert versions(key="incident_fast") == []  # opening writes nothing


def test_a_saved_draft_is_what_opens_next_time(owner):
    response = owner.post(DRAFT.format(key="service_request"), {"xml": renamed_xml()})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["saved_at"]
    data = owner.get(DIAGRAM.format(key="service_request")).get_json()
    assert data["source"] == "draft"
    assert data["xml"] == renamed_xml()
    assert data["saved_by"] == user("admin@acme.test").name
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
