"""The People API (/api/v1/admin/people): the same rules as the pages, problem details for
every refusal, 404 for anyone but a tenant admin and for another company's ids."""

import pytest
from sqlalchemy import func, select

from app.api import tokens_service
from app.extensions import db
from app.models import AccountLink, AuditEntry, Membership, Unit, User
from tests import factories
from tests.api.conftest import ApiClient

ADMIN = "admin@acme.test"


def client_of(app, email: str) -> ApiClient:
    raw, _ = tokens_service.issue(factories.user(email), "test", 1)
    db.session.commit()
    return ApiClient(app, raw)


def unit_id(name: str) -> int:
    return db.session.scalar(select(Unit.id).where(Unit.name == name))


def counts():
    db.session.rollback()
    return tuple(db.session.scalar(select(func.count()).select_from(model))
                 for model in (User, Membership, AuditEntry, AccountLink))


@pytest.fixture
def api(app, demo):
    return client_of(app, ADMIN)


def test_list_search_filters_and_pages(api):
    page = api.get("/api/v1/admin/people?per_page=5").json
    assert page["total"] == 9 and page["pages"] == 2 and len(page["items"]) == 5
    assert all(p["email"].endswith("@acme.test") for p in page["items"])
    found = api.get("/api/v1/admin/people?q=ANA@").json["items"]
    assert [p["email"] for p in found] == ["ana@acme.test"]
    assert found[0]["status"] == "active"
    assert found[0]["memberships"][0]["role"] == "requester"
    assert found[0]["memberships"][0]["unit_name"] == "Finanzas"
    heads = api.get("/api/v1/admin/people?role=unit_head").json["items"]
    assert {p["email"] for p in heads} == {"jefe.finanzas@acme.test",
                                          "jefe.produccion@acme.test"}
    in_unit = api.get(f"/api/v1/admin/people?unit_id={unit_id('Producción')}").json["items"]
    assert {p["email"] for p in in_unit} == {"maria@acme.test", "jefe.produccion@acme.test"}
    assert api.get(f"/api/v1/admin/people?unit_id={unit_id('Operaciones')}").json["total"] == 0
    for bad in ("role=boss", "status=x", "unit_id=abc", "unit_id=99999999999", "page=0"):
        response = api.get(f"/api/v1/admin/people?{bad}")
        assert response.status_code == 422, bad
        assert response.content_type == "application/problem+json"


def test_invite_edit_roles_and_audit(api):
    finance = unit_id("Finanzas")
    response = api.post("/api/v1/admin/people", {
        "email": "Olga@acme.test", "name": "Olga", "locale": "es", "phone": "+573001234567",
        "memberships": [{"role": "requester", "unit_id": finance},
                        {"role": "tenant_admin", "unit_id": None}]})
    assert response.status_code == 201, response.json
    olga = response.json
    assert olga["email"] == "olga@acme.test" and olga["status"] == "invited"
    assert sorted(m["role"] for m in olga["memberships"]) == ["requester", "tenant_admin"]
    assert api.get(f"/api/v1/admin/people/{olga['id']}").json["name"] == "Olga"

    patched = api.patch(f"/api/v1/admin/people/{olga['id']}",
                        {"name": "Olga Ortiz", "phone": None, "locale": "en"})
    assert patched.status_code == 200
    assert patched.json["name"] == "Olga Ortiz" and patched.json["phone"] is None

    added = api.post(f"/api/v1/admin/people/{olga['id']}/memberships",
                     {"role": "unit_head", "unit_id": unit_id("Producción")})
    assert added.status_code == 201
    membership = next(m for m in added.json["memberships"] if m["role"] == "unit_head")
    removed = api.delete(f"/api/v1/admin/people/{olga['id']}/memberships/{membership['id']}")
    assert removed.status_code == 200
    assert "unit_head" not in [m["role"] for m in removed.json["memberships"]]
    assert api.post(f"/api/v1/admin/people/{olga['id']}/invitation").status_code == 200

    db.session.rollback()
    actions = list(db.session.scalars(select(AuditEntry.action).where(
        AuditEntry.target_id == olga["id"], AuditEntry.target_type == "user")
        .order_by(AuditEntry.id)))
    assert actions == ["user.invited", "user.updated", "membership.added",
                       "membership.removed", "user.invitation_resent"]
    updated = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.updated"))
    assert updated.before == {"name": "Olga", "phone": "+573001234567", "locale": "es"}
    assert updated.after == {"name": "Olga Ortiz", "phone": None, "locale": "en"}


@pytest.mark.parametrize("body, field", [
    ({"email": "ana@acme.test"}, "email"),
    ({"email": "PEDRO@globex.test"}, "email"),
    ({"email": "x"}, "email"),
    ({"name": "n" * 201}, "name"),
    ({"name": "   "}, "name"),
    ({"phone": "123"}, "phone"),
    ({"locale": "de"}, "locale"),
    ({"memberships": [{"role": "king", "unit_id": None}]}, "memberships"),
    ({"memberships": [{"role": "worker", "unit_id": None}]}, "memberships"),
    ({"memberships": [{"role": "worker", "unit_id": "abc"}]}, "memberships.0.unit_id"),
    ({"memberships": [{"role": "worker", "unit_id": 2**40}]}, "memberships.0.unit_id"),
    ({"memberships": [{"role": "worker", "unit_id": "OPERACIONES"}]}, "memberships"),
    ({"extra": 1}, "extra"),
])
def test_bad_invitations_are_422_by_field_and_change_nothing(api, body, field):
    if body.get("memberships") and body["memberships"][0]["unit_id"] == "OPERACIONES":
        body = {"memberships": [{"role": "worker", "unit_id": unit_id("Operaciones")}]}
    before = counts()
    response = api.post("/api/v1/admin/people",
                        {"email": "nuevo@acme.test", "name": "Nuevo", **body})
    assert response.status_code == 422, response.json
    assert response.content_type == "application/problem+json"
    assert field in response.json["errors"], response.json
    assert "globex" not in str(response.json).lower().replace("pedro@globex.test", "")
    assert counts() == before


def test_deactivate_reactivate_and_the_last_admin(api, app):
    ana = factories.user("ana@acme.test").id
    response = api.post(f"/api/v1/admin/people/{ana}/deactivate")
    assert response.status_code == 200
    assert response.json["status"] == "inactive" and response.json["claims_released"] == []
    assert api.post(f"/api/v1/admin/people/{ana}/deactivate").status_code == 409
    assert api.post(f"/api/v1/admin/people/{ana}/reactivate").json["status"] == "active"
    me = factories.user(ADMIN)
    role = next(m.id for m in me.memberships if m.role == "tenant_admin")
    me_id = me.id
    before = counts()
    refused = api.delete(f"/api/v1/admin/people/{me_id}/memberships/{role}")
    assert refused.status_code == 409
    assert "administr" in refused.json["detail"]  # administrator / administrador
    assert api.post(f"/api/v1/admin/people/{me_id}/deactivate").status_code == 409
    assert counts() == before


def test_another_companys_people_are_not_found(api):
    pedro = factories.user("pedro@globex.test")
    pedro_id = pedro.id
    pedro_role = pedro.memberships[0].id
    ana = factories.user("ana@acme.test").id
    before = counts()
    calls = [("GET", f"/api/v1/admin/people/{pedro_id}", None),
             ("PATCH", f"/api/v1/admin/people/{pedro_id}", {"name": "X"}),
             ("POST", f"/api/v1/admin/people/{pedro_id}/deactivate", None),
             ("POST", f"/api/v1/admin/people/{pedro_id}/reactivate", None),
             ("POST", f"/api/v1/admin/people/{pedro_id}/invitation", None),
             ("POST", f"/api/v1/admin/people/{pedro_id}/memberships",
              {"role": "requester", "unit_id": unit_id("Finanzas")}),
             ("DELETE", f"/api/v1/admin/people/{pedro_id}/memberships/{pedro_role}", None),
             ("DELETE", f"/api/v1/admin/people/{ana}/memberships/{pedro_role}", None),
             ("GET", "/api/v1/admin/people/99999999999", None)]
    for method, url, body in calls:
        response = api.request(method, url, json=body)
        assert response.status_code == 404, (method, url, response.json)
        assert response.content_type == "application/problem+json"
    assert counts() == before


@pytest.mark.parametrize("email", ["ana@acme.test", "director@acme.test", "jefe@globex.test"])
def test_non_admins_get_404(app, demo, email):
    client = client_of(app, email)
    ana = factories.user("ana@acme.test").id
    for method, url, body in (("GET", "/api/v1/admin/people", None),
                              ("GET", f"/api/v1/admin/people/{ana}", None),
                              ("POST", "/api/v1/admin/people",
                               {"email": "z@acme.test", "name": "Z"}),
                              ("POST", f"/api/v1/admin/people/{ana}/deactivate", None),
                              ("GET", "/api/v1/admin/units", None),
                              ("GET", "/api/v1/admin/audit", None)):
        assert client.request(method, url, json=body).status_code == 404, url
    assert ApiClient(app).get("/api/v1/admin/people").status_code == 401
    db.session.rollback()
    assert factories.user("ana@acme.test").active


def test_the_documented_operations(app, api):
    paths = api.get("/api/v1/openapi.json").json["paths"]
    for path in ("/api/v1/admin/people", "/api/v1/admin/people/{user_id}",
                 "/api/v1/admin/people/{user_id}/deactivate",
                 "/api/v1/admin/people/{user_id}/memberships/{membership_id}",
                 "/api/v1/admin/units", "/api/v1/admin/units/{unit_id}/move",
                 "/api/v1/admin/audit"):
        assert path in paths, path
    assert "404" in paths["/api/v1/admin/people"]["get"]["responses"]
    assert "403" in paths["/api/v1/admin/people"]["post"]["responses"]
