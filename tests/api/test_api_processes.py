"""/api/v1/processes: the same operations process owners have, tenant-scoped."""

from app.extensions import db
from app.models import Membership
from app.services import definitions
from tests.factories import request_at, user
from tests.services.test_processes import without_viability_step

BASE = "/api/v1/processes/service_request"


def test_owner_validates_deploys_diffs_and_migrates(demo, api):
    waiting, _ = request_at("Task_Authorize")
    owner = api("admin@acme.test")
    listed = owner.get("/api/v1/processes").json
    assert [(p["process_key"], p["active_version"]["version"]) for p in listed] == [
        ("service_request", 1)]

    bad = definitions.default_diagram().replace("decision == 'authorize'", "__import__('os')")
    checked = owner.post(f"{BASE}/validate", {"bpmn_xml": bad}).json
    assert not checked["valid"]
    assert checked["problems"][0]["element_id"] == "Flow_Authorized"
    refused = owner.post(f"{BASE}/versions", {"bpmn_xml": bad})
    assert refused.status_code == 422 and "Flow_Authorized" in refused.json["errors"]
    assert len(owner.get(f"{BASE}/versions").json) == 1

    shorter = without_viability_step()
    assert owner.post(f"{BASE}/validate", {"bpmn_xml": shorter}).json == {
        "valid": True, "problems": []}
    deployed = owner.post(f"{BASE}/versions", {"bpmn_xml": shorter, "note": "sin viabilidad"})
    assert deployed.status_code == 201 and deployed.json["version"] == 2
    assert owner.get(f"{BASE}/versions/2").json["bpmn_xml"] == shorter
    change = owner.get(f"{BASE}/diff?from=1&to=2").json
    assert "Task_Evaluate: Evaluar viabilidad" in change["removed"]
    assert {"element_id": "Flow_Approve", "element_name": "Aprobar", "what": "condition",
            "old": "decision == 'approve'", "new": None} in change["expressions"]

    dry = owner.post(f"{BASE}/migrate", {"dry_run": True}).json
    mine = next(m for m in dry if m["request_id"] == waiting.id)
    assert mine["movable"] and not mine["moved"]
    done = owner.post(f"{BASE}/migrate", {"dry_run": False}).json
    assert next(m for m in done if m["request_id"] == waiting.id)["moved"]
    db.session.rollback()
    assert waiting.instance.definition.version == 2

    reset = owner.post(f"{BASE}/reset")
    assert reset.status_code == 201 and reset.json["version"] == 3


def test_only_process_owners_of_the_tenant_see_processes(demo, api):
    director = api("director@acme.test")
    assert director.get("/api/v1/processes").status_code == 404
    assert director.get(f"{BASE}/versions").status_code == 404
    assert director.post(f"{BASE}/reset").status_code == 404
    acme_owner = api("admin@acme.test")
    acme_owner.post(f"{BASE}/versions", {"bpmn_xml": without_viability_step()})
    globex_director = user("director@globex.test")
    db.session.add(Membership(tenant_id=globex_director.tenant_id, user=globex_director,
                              role="process_owner"))
    db.session.commit()
    globex_owner = api("director@globex.test")
    versions = globex_owner.get(f"{BASE}/versions").json
    assert [v["version"] for v in versions] == [1]           # globex's own, not acme's 2
    assert globex_owner.get(f"{BASE}/versions/2").status_code == 404
    assert globex_owner.get(f"{BASE}/diff?from=1&to=2").status_code == 404
    assert acme_owner.get(f"{BASE}/versions/2").status_code == 200


def test_drafts_upload_check_deploy_and_discard(demo, api):
    owner = api("admin@acme.test")
    assert owner.get(f"{BASE}/draft").status_code == 404
    unsafe = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]><x>&e;</x>'
    refused = owner.put(f"{BASE}/draft", {"bpmn_xml": unsafe})
    assert refused.status_code == 422 and "DOCTYPE" in str(refused.json["errors"])
    assert owner.get(f"{BASE}/draft").status_code == 404

    # A draft may still have problems: it is saved, and deploying it is refused.
    broken = definitions.default_diagram().replace("decision == 'authorize'", "__import__('os')")
    saved = owner.put(f"{BASE}/draft", {"bpmn_xml": broken})
    assert saved.status_code == 200 and saved.json["bpmn_xml"] == broken
    refused = owner.post(f"{BASE}/draft/deploy", {"note": "x"})
    assert refused.status_code == 422 and "Flow_Authorized" in refused.json["errors"]
    assert len(owner.get(f"{BASE}/versions").json) == 1
    assert owner.get(f"{BASE}/draft").status_code == 200  # still there to fix

    owner.put(f"{BASE}/draft", {"bpmn_xml": without_viability_step()})
    listed = owner.get("/api/v1/processes").json
    assert listed[0]["has_draft"] is True
    deployed = owner.post(f"{BASE}/draft/deploy", {"note": "desde borrador"})
    assert deployed.status_code == 201 and deployed.json["version"] == 2
    assert deployed.json["note"] == "desde borrador"
    assert owner.get(f"{BASE}/draft").status_code == 404  # deploying used it up

    owner.put(f"{BASE}/draft", {"bpmn_xml": broken})
    assert owner.delete(f"{BASE}/draft").status_code == 204
    assert owner.delete(f"{BASE}/draft").status_code == 404

    # A draft of a brand-new process is listed before it has any version.
    owner.put("/api/v1/processes/trabajos_menores/draft", {"bpmn_xml": without_viability_step()})
    listed = {p["process_key"]: p for p in owner.get("/api/v1/processes").json}
    assert listed["trabajos_menores"]["active_version"] is None
    assert listed["trabajos_menores"]["has_draft"] is True


def test_a_category_is_pointed_at_a_deployed_process(demo, api):
    owner = api("admin@acme.test")
    category = owner.get("/api/v1/categories").json["items"][0]
    assert category["process_key"] == "service_request"
    url = f"/api/v1/categories/{category['id']}"
    refused = owner.patch(url, {"process_key": "trabajos_menores"})
    assert refused.status_code == 422 and "process_key" in refused.json["errors"]
    owner.put("/api/v1/processes/trabajos_menores/draft", {"bpmn_xml": without_viability_step()})
    assert owner.post("/api/v1/processes/trabajos_menores/draft/deploy", {}).status_code == 201
    changed = owner.patch(url, {"process_key": "trabajos_menores"})
    assert changed.status_code == 200 and changed.json["process_key"] == "trabajos_menores"

    assert api("director@acme.test").patch(url, {"process_key": "service_request"}
                                           ).status_code == 404
    globex = api("pedro@globex.test")
    assert globex.patch(url, {"process_key": "service_request"}).status_code == 404
