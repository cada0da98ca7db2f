"""The kind of work is set in the modeler (a property of the process element, saved in the
diagram): saving and deploying from the modeler keep each kind, refuse one that is not a kind
with a clear message, and the versions page only shows it (the diagram is the one source of
truth: nothing else writes it, so nothing overwrites the modeler's)."""

import json

import pytest
from sqlalchemy import select

from app.extensions import db
from app.kinds import KINDS
from app.kinds.diagram import kind_of_xml, with_kind
from app.models import Category, ProcessDefinition, ProcessDraft, ServiceRequest
from app.services import definitions, processes
from tests.factories import file
from tests.kinds.helpers import INCIDENT_CATEGORY, acme
from tests.views.helpers import html
from tests.views.test_modeler import CONFIG_RE, DEPLOY, DRAFT, VALIDATE, Owner

ADMIN, REQUESTER = "admin@acme.test", "ana@acme.test"
KEY = "por_tipo"
BAD = "incidente"


def _diagram(kind: str) -> str:
    xml = with_kind(definitions.default_diagram(), "incident")
    return xml.replace('value="incident"', f'value="{kind}"') if kind not in KINDS else \
        with_kind(definitions.default_diagram(), kind)


def _draft_xml(key: str = KEY) -> str | None:
    db.session.rollback()
    return db.session.scalar(select(ProcessDraft.bpmn_xml).where(
        ProcessDraft.tenant_id == acme().id, ProcessDraft.process_key == key))


def _follow(key: str) -> None:
    category = db.session.scalar(select(Category).where(
        Category.tenant_id == acme().id, Category.name == INCIDENT_CATEGORY))
    processes.set_category_process(category, key)
    db.session.commit()


@pytest.fixture
def owner(demo, browser):
    return Owner(browser, ADMIN)


@pytest.mark.parametrize("kind", KINDS)
def test_the_modeler_saves_and_deploys_each_kind_and_requests_take_it(owner, kind):
    saved = owner.post(DRAFT.format(key=KEY), {"xml": _diagram(kind)})
    assert saved.status_code == 200, saved.json
    assert kind_of_xml(_draft_xml()) == kind
    deployed = owner.post(DEPLOY.format(key=KEY), {"xml": _diagram(kind), "note": ""})
    assert deployed.status_code == 200, deployed.json
    db.session.rollback()
    version = db.session.scalar(select(ProcessDefinition).where(
        ProcessDefinition.tenant_id == acme().id, ProcessDefinition.process_key == KEY))
    assert (version.version, version.kind) == (deployed.json["version"], kind)
    _follow(KEY)
    request = file(REQUESTER, category=INCIDENT_CATEGORY)
    db.session.rollback()
    assert db.session.get(ServiceRequest, request.id).kind == kind


def test_each_version_keeps_its_own_kind(owner):
    for kind in ("change", "security_incident"):
        assert owner.post(DEPLOY.format(key=KEY), {"xml": _diagram(kind)}).status_code == 200
    db.session.rollback()
    stored = dict(db.session.execute(select(ProcessDefinition.version, ProcessDefinition.kind)
                                     .where(ProcessDefinition.tenant_id == acme().id,
                                            ProcessDefinition.process_key == KEY)).all())
    assert stored == {1: "change", 2: "security_incident"}


@pytest.mark.parametrize("bad", [BAD, "", "Incident", "request "])
def test_a_kind_that_is_not_one_is_refused_on_save_validate_and_deploy(owner, bad):
    owner.post(DRAFT.format(key=KEY), {"xml": _diagram("change")})
    xml = _diagram("change").replace('value="change"', f'value="{bad}"')
    assert f'value="{bad}"' in xml
    expected = (f"the process's kind of work {bad!r} is not a kind; it must be one of "
                "request, incident, change, security_incident")
    saved = owner.post(DRAFT.format(key=KEY), {"xml": xml})
    assert saved.status_code == 422
    assert {"element_id": "service_request", "message": expected} in saved.json["problems"]
    assert kind_of_xml(_draft_xml()) == "change"  # the draft saved before is untouched
    checked = owner.post(VALIDATE.format(key=KEY), {"xml": xml}).json
    assert checked["valid"] is False
    assert {"element_id": "service_request", "message": expected} in checked["problems"]
    deployed = owner.post(DEPLOY.format(key=KEY), {"xml": xml})
    assert deployed.status_code == 422
    assert {"element_id": "service_request", "message": expected} in deployed.json["problems"]
    db.session.rollback()
    assert processes.versions(acme().id, KEY) == []


def test_the_api_refuses_a_draft_with_a_bad_kind(demo, api):
    xml = _diagram(BAD)
    answer = api(ADMIN).put(f"/api/v1/processes/{KEY}/draft", json={"xml": xml})
    assert answer.status_code == 422
    assert _draft_xml() is None


def test_the_modeler_page_offers_the_kinds_with_their_labels(owner):
    page = owner.get(f"/processes/{KEY}/modeler")


    config = json.loads(CONFIG_RE.search(html(page)).group(1))
    assert [k["value"] for k in config["kinds"]] == list(KINDS)
    assert config["kinds"][1]["label"] == "Incidente"


def test_the_versions_page_shows_the_kind_and_sends_to_the_modeler(owner):
    owner.post(DRAFT.format(key="service_request"),
               {"xml": with_kind(definitions.default_diagram(), "incident")})
    page = html(owner.get("/processes/service_request/versions"))
    assert "Borrador: Incidente." in page
    assert 'name="kind"' not in page  # no second place to write it
    assert 'href="/processes/service_request/modeler"' in page.split('id="kind"', 1)[1]
    # the form it had is gone: nothing but the diagram writes the kind
    gone = owner.browser.client.post("/processes/service_request/kind", data={"kind": "change"})
    assert gone.status_code in (404, 405)
    assert kind_of_xml(_draft_xml("service_request")) == "incident"


def test_the_process_list_shows_each_processs_kind(owner):
    owner.post(DEPLOY.format(key=KEY), {"xml": _diagram("security_incident")})
    page = html(owner.get("/processes"))
    row = page.split(f"<code>{KEY}</code>", 1)[1].split("</td>", 1)[0]
    assert 'data-kind="security_incident"' in row and "Incidente de seguridad" in row
    default_row = page.split("<code>service_request</code>", 1)[1].split("</td>", 1)[0]
    assert 'data-kind="request"' in default_row


def test_copying_a_draft_saved_with_a_bad_kind_is_refused_clearly(owner):
    """A draft stored before kinds were checked on save (written here straight into the table)
    cannot be the source of a new process: a clear message, nothing created, never a 500."""
    db.session.add(ProcessDraft(tenant_id=acme().id, process_key="antiguo",
                                bpmn_xml=_diagram(BAD)))
    db.session.commit()
    b = owner.browser
    b.get("/processes")
    answer = b.post("/processes/new", data={"process_key": "copia", "copy_from": "antiguo"})
    assert answer.status_code == 302
    page = html(b.get("/processes"))
    assert "antiguo" in page and BAD in page and "no se puede copiar" in page.lower()
    assert _draft_xml("copia") is None
