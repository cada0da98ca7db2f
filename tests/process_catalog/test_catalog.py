"""The catalog: listing, adopting (draft, deploy, taken key, plan limit, who may, which
company), in the API and on the Procesos page."""

import dataclasses

import pytest
from sqlalchemy import func, select

from app.admin.models import AuditEntry
from app.extensions import db
from app.models import Membership, ProcessDefinition, ProcessDraft, Tenant
from app.process_catalog import adopt, adoption, templates
from app.teams.models import Team
from app.tenancy import quotas
from app.tenancy.plans import PLANS

OWNER = "admin@acme.test"
CATALOG = "/api/v1/processes/catalog"
PLAN_LIMIT = "https://mesa-de-servicios.org/problems/plan-limit"


def tenant(slug="acme") -> Tenant:
    db.session.rollback()
    return db.session.scalar(select(Tenant).where(Tenant.slug == slug))


def rows(model, slug="acme", **where):
    t = tenant(slug)
    return list(db.session.scalars(select(model).filter_by(tenant_id=t.id, **where)))


@pytest.fixture
def limit_plan(monkeypatch):
    def set_limits(key, **limits):
        monkeypatch.setitem(PLANS, key, dataclasses.replace(PLANS[key], **limits))

    return set_limits


def test_every_template_file_passes_the_tenants_validation(app):
    from app.services import definitions

    assert {"incident", "service_request"} <= {t.key for t in templates.available()}
    for template in templates.available():
        assert definitions.compile_xml(template.xml()).process_id, template.key
        assert "scriptTask" not in template.xml()


def test_the_api_lists_the_templates_in_both_languages(demo, api):
    owner = api(OWNER)
    response = owner.get(CATALOG)
    assert response.status_code == 200, response.json
    by_key = {t["key"]: t for t in response.json}
    incident = by_key["incident"]
    assert incident["kind"] == "incident"
    assert incident["names"] == {"es": "Incidente", "en": "Incident"}
    assert incident["name"] == "Incidente"  # the caller's language (Spanish)
    assert incident["descriptions"]["en"].startswith("Something stopped working")
    assert incident["descriptions"]["es"].startswith("Algo dejó de funcionar")
    assert incident["teams"][0]["key"] == "second_line"
    assert incident["taken"] is False
    assert by_key["service_request"]["taken"] is True  # every company has it
    english = db.session.scalar(select(Tenant).where(Tenant.slug == "acme"))
    demo.user(OWNER).locale = "en"
    db.session.commit()
    again = {t["key"]: t for t in owner.get(CATALOG).json}
    assert again["incident"]["name"] == "Incident"
    assert english is not None


def test_adopt_as_a_draft_creates_the_draft_the_team_and_an_audit_entry(demo, api):
    response = api(OWNER).post(f"{CATALOG}/incident/adopt", {})
    assert response.status_code == 201, response.json
    assert response.json == {"template": "incident", "process_key": "incident",
                             "deployed": False, "version": None, "teams": ["second_line"],
                             "checklists": []}
    (draft,) = rows(ProcessDraft, process_key="incident")
    assert 'value="incident"' in draft.bpmn_xml
    assert rows(ProcessDefinition, process_key="incident") == []
    (team,) = rows(Team, key="second_line")
    assert team.name == "Segunda línea" and team.names["en"] == "Second line"
    (entry,) = rows(AuditEntry, action="process.adopted")
    assert entry.after["template"] == "incident" and entry.after["deployed"] is False


def test_adopt_and_deploy_makes_the_first_version(demo, api):
    response = api(OWNER).post(f"{CATALOG}/incident/adopt",
                               {"process_key": "incidentes_ti", "deploy": True})
    assert response.status_code == 201, response.json
    assert response.json["deployed"] is True and response.json["version"] == 1
    (definition,) = rows(ProcessDefinition, process_key="incidentes_ti")
    assert definition.is_active and definition.bpmn_process_id == "incident"
    assert rows(ProcessDraft, process_key="incidentes_ti") == []


@pytest.mark.parametrize("template", [t.key for t in templates.available()
                                      if t.key != "service_request"])
def test_every_template_adopts_and_deploys_with_its_teams_and_checklists(demo, api, template):
    from app.checklists.models import Checklist

    key = f"mi_{template}"
    response = api(OWNER).post(f"{CATALOG}/{template}/adopt",
                               {"process_key": key, "deploy": True})
    assert response.status_code == 201, response.json
    expected = templates.get(template)
    assert {t.key for t in rows(Team)} == {t.key for t in expected.teams}
    assert {c.key for c in rows(Checklist, process_key=key)} == set(expected.checklists)
    (definition,) = rows(ProcessDefinition, process_key=key)
    assert definition.kind == expected.kind


def test_a_taken_key_is_refused_and_nothing_changes(demo, api):
    owner = api(OWNER)
    assert owner.post(f"{CATALOG}/incident/adopt", {}).status_code == 201
    before = len(rows(AuditEntry))
    again = owner.post(f"{CATALOG}/incident/adopt", {"deploy": True})
    assert again.status_code == 409
    assert "incident" in again.json["detail"]
    default = owner.post(f"{CATALOG}/incident/adopt", {"process_key": "service_request"})
    assert default.status_code == 409
    assert len(rows(AuditEntry)) == before
    assert rows(ProcessDefinition, process_key="incident") == []


@pytest.mark.parametrize("key", ["1abc", "a", "Con espacios", "x" * 81, "drop;table"])
def test_a_bad_key_is_refused(demo, api, key):
    response = api(OWNER).post(f"{CATALOG}/incident/adopt", {"process_key": key})
    assert response.status_code == 422
    assert rows(ProcessDraft) == []


def test_an_unknown_template_is_not_found(demo, api):
    owner = api(OWNER)
    assert owner.post(f"{CATALOG}/nothing/adopt", {}).status_code == 404
    assert owner.post(f"{CATALOG}/..%2Fetc/adopt", {}).status_code == 404


def test_the_plans_processes_limit_counts_a_new_key(demo, api, limit_plan):
    plan = tenant().plan
    limit_plan(plan, custom_processes=0)
    owner = api(OWNER)
    refused = owner.post(f"{CATALOG}/incident/adopt", {"process_key": "incidentes"})
    assert refused.status_code == 403
    assert refused.json["type"] == PLAN_LIMIT and refused.json["limit"] == "custom_processes"
    assert rows(ProcessDraft) == [] and rows(Team) == []
    # The product's own key is built in: it costs nothing
    assert owner.post(f"{CATALOG}/incident/adopt", {"deploy": True}).status_code == 201
    assert quotas.count(tenant(), "custom_processes") == 0


def test_only_process_owners_may(demo, api):
    for email in ("ana@acme.test", "director@acme.test", "tecnico1@acme.test"):
        client = api(email)
        assert client.get(CATALOG).status_code == 403
        assert client.post(f"{CATALOG}/incident/adopt", {}).status_code == 403
        assert client.get("/api/v1/processes/priority-matrix").status_code == 403
    assert rows(ProcessDraft) == []
    assert api().get(CATALOG).status_code == 401


def test_adopting_stays_in_the_company(demo, api):
    assert api(OWNER).post(f"{CATALOG}/incident/adopt", {"deploy": True}).status_code == 201
    assert rows(ProcessDefinition, "globex", process_key="incident") == []
    assert rows(Team, "globex") == []
    globex_owner = demo.user("director@globex.test")
    db.session.add(Membership(tenant_id=globex_owner.tenant_id, user=globex_owner,
                              role="process_owner"))
    db.session.commit()
    other = api("director@globex.test")
    listed = {t["key"]: t for t in other.get(CATALOG).json}
    assert listed["incident"]["taken"] is False
    assert other.post(f"{CATALOG}/incident/adopt", {}).status_code == 201
    assert len(rows(ProcessDraft, "globex", process_key="incident")) == 1


def test_adopt_in_one_transaction_with_the_caller(demo):
    """The service only flushes: a rollback leaves nothing behind."""
    acme = tenant()
    adopt(acme.id, "incident", demo.user(OWNER), deploy=True)
    db.session.rollback()
    assert rows(ProcessDefinition, process_key="incident") == []
    assert rows(Team) == [] and rows(AuditEntry, action="process.adopted") == []
    with pytest.raises(adoption.AdoptError) as refused:
        adopt(acme.id, "service_request", demo.user(OWNER))
    assert refused.value.code == "key_taken"


def test_the_openapi_document_has_the_catalog(app):
    spec = app.test_client().get("/api/v1/openapi.json").json
    assert "/api/v1/processes/catalog" in spec["paths"]
    assert "post" in spec["paths"]["/api/v1/processes/catalog/{template_key}/adopt"]
    assert {"get", "put"} <= set(spec["paths"]["/api/v1/processes/priority-matrix"])


# --- pages ------------------------------------------------------------------------------

def test_the_processes_page_shows_the_catalog_cards(demo, browser):
    page = browser(OWNER).get("/processes")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'id="template-incident"' in html and "Incidente" in html
    assert "/processes/catalog/incident/adopt" in html


def test_the_page_adopts_as_a_draft_or_deploys(demo, browser):
    owner = browser(OWNER)
    draft = owner.post("/processes/catalog/incident/adopt", {"deploy": "0"})
    assert draft.status_code == 302
    assert draft.headers["Location"].endswith("/processes/incident/modeler")
    assert len(rows(ProcessDraft, process_key="incident")) == 1
    deployed = owner.post("/processes/catalog/incident/adopt",
                          {"deploy": "1", "process_key": "incidentes_planta"})
    assert deployed.status_code == 302
    assert deployed.headers["Location"].endswith("/processes#categories")
    assert len(rows(ProcessDefinition, process_key="incidentes_planta")) == 1
    taken = owner.post("/processes/catalog/incident/adopt", {"deploy": "1"})
    assert taken.status_code == 302
    assert rows(ProcessDefinition, process_key="incident") == []
    assert "incident" in owner.get("/processes").get_data(as_text=True)


def _card(html: str, key: str) -> str:
    start = html.index(f'id="template-{key}"')
    return html[start:html.index("</article>", start)]


def test_an_adopted_template_says_so_and_offers_only_another_key(demo, browser):
    owner = browser(OWNER)
    fresh = _card(owner.get("/processes").get_data(as_text=True), "incident")
    assert "/processes/incident/modeler" not in fresh and " required" not in fresh
    assert owner.post("/processes/catalog/incident/adopt", {"deploy": "1"}).status_code == 302
    html = owner.get("/processes").get_data(as_text=True)
    card = _card(html, "incident")
    assert "/processes/incident/modeler" in card  # where the adopted one lives
    assert 'name="process_key"' in card and " required" in card  # another key, not the same
    assert "incident_2" in card
    assert " required" not in _card(html, "security_incident")  # the others are untouched


def test_the_preview_and_its_diagram(demo, browser):
    owner = browser(OWNER)
    page = owner.get("/processes/catalog/incident/preview")
    assert page.status_code == 200
    assert "diagram-viewer" in page.get_data(as_text=True)
    body = owner.get("/processes/catalog/incident/diagram.json").json
    assert body["xml"].startswith("<?xml") and "Resolver en segunda línea" in body["xml"]
    assert owner.get("/processes/catalog/nothing/preview").status_code == 404
    assert browser("ana@acme.test").get("/processes/catalog/incident/preview").status_code == 404
    assert browser("ana@acme.test").post("/processes/catalog/incident/adopt",
                                         {}).status_code == 404
    assert db.session.scalar(select(func.count()).select_from(ProcessDraft)) == 0


def test_a_process_called_catalog_keeps_its_pages(demo, browser):
    """The catalog's pages never shadow a company's process of that name."""
    from app.services import definitions

    acme = tenant()
    definitions.deploy(acme.id, definitions.default_diagram(), process_key="catalog")
    db.session.commit()
    owner = browser(OWNER)
    assert owner.get("/processes/catalog/versions").status_code == 200
    assert owner.get("/processes/catalog/migrate").status_code == 200
