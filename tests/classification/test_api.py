"""The API of classification rules and workers' skills: tenant admins edit rules (directors and
others 403), bounded input is a 422 that changes nothing, another company's ids are 404, the
order is kept dense, every change audited; directors set skills of their own units only."""

import pytest
from sqlalchemy import func, select

from app.admin.models import AuditEntry
from app.classification.models import ClassificationRule, WorkerSkill
from app.extensions import db
from tests.classification.helpers import (
    ADMIN,
    DIRECTOR,
    by_email,
    category,
    help_desk,
    rule,
    unit,
)

RULES = "/api/v1/admin/classification-rules"


@pytest.fixture
def desk(demo):
    return help_desk(process_key=None)


def _rule(**extra):
    return {"name": "Impresoras", "words": ["impresora", "tóner"],
            "category_id": category("Impresoras").id, "priority": "high", **extra}


def test_an_admin_creates_lists_changes_moves_and_deletes_rules(desk, api):
    admin = api(ADMIN)
    first = admin.post(RULES, _rule())
    assert first.status_code == 201, first.json
    assert first.json["position"] == 1 and first.json["words"] == ["impresora", "tóner"]
    second = admin.post(RULES, {"name": "Urgente", "words": ["urgente"], "priority": "urgent",
                                "position": 1})
    assert second.status_code == 201
    listed = admin.get(RULES).json
    assert [r["name"] for r in listed["items"]] == ["Urgente", "Impresoras"]
    assert [r["position"] for r in listed["items"]] == [1, 2]
    moved = admin.patch(f"{RULES}/{first.json['id']}", {"position": 1})
    assert moved.status_code == 200 and moved.json["position"] == 1
    assert admin.get(f"{RULES}/{second.json['id']}").json["position"] == 2
    tried = admin.post(f"{RULES}/match", {"title": "La IMPRESORA", "description": ""})
    assert tried.json["matched"] is True and tried.json["rule_id"] == first.json["id"]
    assert admin.post(f"{RULES}/match", {"title": "nada"}).json == {"matched": False}
    assert admin.delete(f"{RULES}/{first.json['id']}").status_code == 204
    assert [r["position"] for r in admin.get(RULES).json["items"]] == [1]
    db.session.rollback()
    actions = list(db.session.scalars(select(AuditEntry.action).where(
        AuditEntry.target_type == "classification_rule").order_by(AuditEntry.id)))
    assert actions == ["classification_rule.created", "classification_rule.created",
                       "classification_rule.updated", "classification_rule.deleted"]


def test_put_replaces_and_patch_keeps_what_is_left_out(desk, api):
    admin = api(ADMIN)
    row = admin.post(RULES, _rule(unit_id=unit("Finanzas").id)).json
    patched = admin.patch(f"{RULES}/{row['id']}", {"active": False}).json
    assert patched["unit_id"] == unit("Finanzas").id and patched["active"] is False
    put = admin.put(f"{RULES}/{row['id']}", {"name": "Solo palabras", "words": ["x"],
                                             "priority": "low"}).json
    assert put["unit_id"] is None and put["category_id"] is None and put["active"] is True


@pytest.mark.parametrize("body, field", [
    ({"name": "", "words": ["x"], "priority": "low"}, "name"),
    ({"name": "x" * 121, "words": ["x"], "priority": "low"}, "name"),
    ({"name": "Sin condición", "priority": "low"}, "_schema"),
    ({"name": "Sin acción", "words": ["x"]}, "_schema"),
    ({"name": "Muchas", "words": [f"w{i}" for i in range(21)], "priority": "low"}, "words"),
    ({"name": "Larga", "words": ["x" * 61], "priority": "low"}, "words"),
    ({"name": "Frase", "words": ["uno dos tres cuatro cinco seis"], "priority": "low"},
     "words"),
    ({"name": "Signos", "words": ["¡¿!?"], "priority": "low"}, "words"),
    ({"name": "Modo", "words": ["x"], "words_mode": "some", "priority": "low"}, "words_mode"),
    ({"name": "Prioridad", "words": ["x"], "priority": "critical"}, "priority"),
    ({"name": "Campo", "field_conditions": [{"name": "Bad Name", "value": "1"}],
      "priority": "low"}, "field_conditions"),
    ({"name": "Campos", "field_conditions": [{"name": f"f{i}", "value": "1"}
                                             for i in range(6)], "priority": "low"},
     "field_conditions"),
    ({"name": "Unidad", "words": ["x"], "unit_id": 999999}, "unit_id"),
    ({"name": "Categoría", "words": ["x"], "category_id": 999999}, "category_id"),
    ({"name": "No servicio", "words": ["x"], "service_unit_id": "FINANZAS"},
     "service_unit_id"),
    ({"name": "Regex", "words": ["x"], "priority": "low", "regex": ".*"}, None),
])
def test_bad_input_is_a_422_that_changes_nothing(desk, api, body, field):
    if body.get("service_unit_id") == "FINANZAS":
        body = {**body, "service_unit_id": unit("Finanzas").id}
    response = api(ADMIN).post(RULES, body)
    assert response.status_code == 422, response.json
    if field:
        assert any(key.split(".")[0] == field for key in response.json["errors"]), \
            response.json
    db.session.rollback()
    assert db.session.scalar(select(func.count(ClassificationRule.id))) == 0


def test_a_category_with_another_service_unit_is_refused(desk, api):
    response = api(ADMIN).post(RULES, _rule(service_unit_id=unit("Servicios Generales").id))
    assert response.status_code == 422
    assert "service_unit_id" in response.json["errors"]


def test_the_number_of_rules_is_bounded(desk, api, monkeypatch):
    from app.classification import editing

    monkeypatch.setattr(editing, "MAX_RULES", 2)
    admin = api(ADMIN)
    assert admin.post(RULES, _rule()).status_code == 201
    assert admin.post(RULES, _rule()).status_code == 201
    refused = admin.post(RULES, _rule())
    assert refused.status_code == 422 and "_schema" in refused.json["errors"]


@pytest.mark.parametrize("email", [DIRECTOR, "ana@acme.test", "w1@acme.test",
                                   "director@acme.test"])
def test_only_tenant_admins_reach_the_rules(desk, api, email):
    row = rule("Impresoras", words=["x"], priority="low")
    client = api(email)
    assert client.get(RULES).status_code == 403
    assert client.post(RULES, _rule()).status_code == 403
    assert client.get(f"{RULES}/{row.id}").status_code == 403
    assert client.delete(f"{RULES}/{row.id}").status_code == 403
    assert client.post(f"{RULES}/match", {"title": "x"}).status_code == 403


def test_another_companys_rule_is_not_found(desk, api):
    theirs = rule("De Globex", slug="globex", words=["x"], priority="low")
    admin = api(ADMIN)
    for response in (admin.get(f"{RULES}/{theirs.id}"),
                     admin.patch(f"{RULES}/{theirs.id}", {"name": "Mía"}),
                     admin.delete(f"{RULES}/{theirs.id}"),
                     admin.get(f"{RULES}/99999999999")):
        assert response.status_code == 404
    assert admin.get(RULES).json["total"] == 0
    mine = admin.post(RULES, {"name": "Con su categoría", "words": ["x"],
                              "category_id": category("Aire acondicionado", "globex").id})
    assert mine.status_code == 422


def test_the_openapi_document_lists_the_endpoints(app):
    paths = app.test_client().get("/api/v1/openapi.json").json["paths"]
    assert "/api/v1/admin/classification-rules" in paths
    assert "/api/v1/admin/classification-rules/{rule_id}" in paths
    assert "/api/v1/admin/classification-rules/match" in paths
    assert "/api/v1/admin/worker-skills/{user_id}" in paths


# --- skills ---------------------------------------------------------------------------------

SKILLS = "/api/v1/admin/worker-skills"


def test_a_director_sets_their_workers_skills(desk, api):
    w1 = desk["workers"][0]
    printers, redes = desk["categories"]["Impresoras"], desk["categories"]["Redes"]
    director = api(DIRECTOR)
    listed = director.get(SKILLS).json
    assert [(r["name"], r["handles_all"]) for r in listed["items"]] == [
        ("W1", True), ("W2", True), ("W3", True)]
    done = director.put(f"{SKILLS}/{w1.id}", {"service_unit_id": desk["desk"].id,
                                              "category_ids": [printers.id]})
    assert done.status_code == 200, done.json
    assert done.json == {"user_id": w1.id, "name": "W1", "service_unit_id": desk["desk"].id,
                         "handles_all": False, "category_ids": [printers.id]}
    both = director.put(f"{SKILLS}/{w1.id}", {"service_unit_id": desk["desk"].id,
                                              "category_ids": [printers.id, redes.id]})
    assert sorted(both.json["category_ids"]) == sorted([printers.id, redes.id])
    cleared = director.put(f"{SKILLS}/{w1.id}", {"service_unit_id": desk["desk"].id,
                                                 "category_ids": []})
    assert cleared.json["handles_all"] is True
    db.session.rollback()
    assert db.session.scalar(select(func.count(WorkerSkill.id))) == 0
    assert db.session.scalar(select(func.count(AuditEntry.id)).where(
        AuditEntry.action == "worker_skills.changed")) == 3


def test_skills_refuse_other_units_categories_other_units_and_other_roles(desk, api):
    w1 = desk["workers"][0]
    director = api(DIRECTOR)
    other_category = director.put(f"{SKILLS}/{w1.id}", {
        "service_unit_id": desk["desk"].id, "category_ids": [category("Plomería").id]})
    assert other_category.status_code == 422
    not_theirs = director.put(f"{SKILLS}/{w1.id}", {
        "service_unit_id": unit("Servicios Generales").id, "category_ids": []})
    assert not_theirs.status_code == 404
    general_worker = by_email("tecnico1@acme.test")
    assert director.put(f"{SKILLS}/{general_worker.id}", {
        "service_unit_id": desk["desk"].id, "category_ids": []}).status_code == 404
    assert director.get(f"{SKILLS}?service_unit_id={unit('Servicios Generales').id}") \
        .status_code == 404
    for email in ("ana@acme.test", "w1@acme.test"):
        assert api(email).get(SKILLS).status_code == 403
    globex = api("director@globex.test")
    assert globex.put(f"{SKILLS}/{w1.id}", {"service_unit_id": desk["desk"].id,
                                            "category_ids": []}).status_code == 404
    db.session.rollback()
    assert db.session.scalar(select(func.count(WorkerSkill.id))) == 0
