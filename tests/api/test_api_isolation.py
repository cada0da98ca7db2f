"""Every endpoint with another tenant's ids, another unit's ids, no token, a revoked token."""

import pytest

from app.extensions import db
from app.models import (
    ApiToken,
    Category,
    HistoryEvent,
    HumanTask,
    ProcessInstance,
    ServiceRequest,
)
from tests.factories import work_in_both_tenants

ID_ROUTES = [
    ("GET", "/api/v1/requests/{req}"),
    ("GET", "/api/v1/requests/{req}/history"),
    ("POST", "/api/v1/requests/{req}/comments"),
    ("GET", "/api/v1/tasks/{task}"),
    ("POST", "/api/v1/tasks/{task}/complete"),
    ("POST", "/api/v1/tasks/{task}/claim"),
    ("POST", "/api/v1/tasks/{task}/release"),
    ("GET", "/api/v1/tickets/{ticket}"),
]
LIST_ROUTES = ["/api/v1/me", "/api/v1/requests", "/api/v1/tasks", "/api/v1/tickets",
               "/api/v1/categories", "/api/v1/units", "/api/v1/users"]
BODY = {"comment": "x", "kind": "finish", "resolution": "x", "hours_spent": 1,
        "materials_cost": 1}


def fingerprint():
    db.session.rollback()
    return (
        db.session.query(HistoryEvent).count(),
        db.session.query(ServiceRequest).count(),
        sorted((t.id, t.status, t.claimed_by_id) for t in db.session.query(HumanTask)),
        sorted((i.id, i.version) for i in db.session.query(ProcessInstance)),
    )


@pytest.fixture
def targets(demo):
    """Objects at a worker step in each tenant, keyed by tenant slug."""
    return work_in_both_tenants()


OUTSIDERS = [
    ("ana@acme.test", "globex"), ("director@acme.test", "globex"),
    ("tecnico1@acme.test", "globex"), ("admin@acme.test", "globex"),
    ("director@globex.test", "acme"), ("tecnico@globex.test", "acme"),
    ("jefe.produccion@acme.test", "acme"), ("maria@acme.test", "acme"),
    ("luis@acme.test", "acme"), ("tecnico2@acme.test", "acme"),
]


@pytest.mark.parametrize("email,tenant", OUTSIDERS)
def test_foreign_ids_answer_404_and_change_nothing(targets, api, email, tenant):
    client = api(email)
    before = fingerprint()
    for method, route in ID_ROUTES:
        response = client.request(method, route.format(**targets[tenant]), json=BODY)
        assert response.status_code == 404, (route, response.json)
        assert response.json["status"] == 404
        assert response.headers["Content-Type"].startswith("application/problem+json")
    assert fingerprint() == before


def test_lists_never_show_another_tenant(targets, api):
    for email in ("ana@acme.test", "director@acme.test", "tecnico1@acme.test",
                  "admin@acme.test"):
        client = api(email)
        for route in LIST_ROUTES:
            body = client.get(route + ("?per_page=100" if route != "/api/v1/me" else "")).json
            text = str(body)
            assert "globex" not in text.lower() and "Tito Ramos" not in text, (email, route)


def test_filing_with_another_tenants_category_is_refused(targets, api):
    foreign = db.session.query(Category).filter_by(name="Aire acondicionado").one()
    before = fingerprint()
    response = api("ana@acme.test").post("/api/v1/requests", {
        "title": "Prueba", "description": "Prueba", "category_id": foreign.id})
    assert response.status_code == 422 and "category_id" in response.json["errors"]
    assert fingerprint() == before


@pytest.mark.parametrize("token", [None, "", "mds_not-a-token", "Basic abc", "revoked"])
def test_without_a_valid_token_everything_is_401(targets, api, token):
    client = api()
    if token == "revoked":
        client = api("director@acme.test")
        db.session.rollback()  # a fresh transaction: the token was created since our snapshot
        db.session.query(ApiToken).update({"revoked_at": db.func.now()})
        db.session.commit()
    else:
        client.token = None
    headers = {"Authorization": token} if token and token != "revoked" else None
    before = fingerprint()
    for method, route in ID_ROUTES:
        response = client.request(method, route.format(**targets["acme"]), json=BODY,
                                  headers=headers)
        assert response.status_code == 401, route
    for route in LIST_ROUTES:
        assert client.get(route, headers=headers).status_code == 401, route
    assert client.post("/api/v1/requests", {"title": "x"}, headers=headers).status_code == 401
    assert fingerprint() == before


def test_errors_are_problem_documents(demo, api):
    client = api("ana@acme.test")
    for method, url, code in (("GET", "/api/v1/nothing-here", 404),
                              ("DELETE", "/api/v1/requests", 405),
                              ("GET", "/api/v1/requests/abc", 404)):
        response = client.request(method, url)
        assert response.status_code == code
        assert response.headers["Content-Type"].startswith("application/problem+json")
        assert set(response.json) >= {"type", "title", "status"}
    big = client.post("/api/v1/requests", {"title": "x" * (6 * 1024 * 1024)})
    assert big.status_code == 413 and big.json["status"] == 413
    garbage = client.request("POST", "/api/v1/requests", json=["not", "an", "object"])
    assert garbage.status_code == 422


def test_visible_but_not_theirs_is_403_and_changes_nothing(targets, api):
    before = fingerprint()
    # Ana may follow her request's open task, but it is the worker's to complete.
    response = api("ana@acme.test").post(f"/api/v1/tasks/{targets['acme']['task']}/complete",
                                         BODY)
    assert response.status_code == 403
    assert fingerprint() == before


def test_out_of_range_ids_in_bodies_and_filters_are_422(demo, api):
    client = api("ana@acme.test")
    before = fingerprint()
    filed = client.post("/api/v1/requests", {"title": "Prueba", "description": "Prueba",
                                             "category_id": 2**31})
    assert filed.status_code == 422 and "category_id" in filed.json["errors"]
    for url in ("/api/v1/requests?unit_id=2147483648", "/api/v1/tickets?worker_id=9" + "9" * 20,
                "/api/v1/categories?service_unit_id=0"):
        assert client.get(url).status_code == 422, url
    assert fingerprint() == before


def test_people_lists_show_only_the_roles_in_shared_units(demo, api):
    """Luis also works in Producción: Ana (Finanzas) sees him with his Finanzas role only, and
    cannot find out through the filters who holds roles in Producción; an admin sees all."""
    from app.models import Membership, Unit
    from tests.factories import user

    luis = user("luis@acme.test")
    produccion = db.session.query(Unit).filter_by(tenant_id=luis.tenant_id,
                                                  name="Producción").one()
    finanzas = db.session.query(Unit).filter_by(tenant_id=luis.tenant_id, name="Finanzas").one()
    db.session.add(Membership(tenant_id=luis.tenant_id, user_id=luis.id, unit_id=produccion.id,
                              role="worker"))
    db.session.commit()

    ana = api("ana@acme.test")
    people = {p["email"]: p for p in ana.get("/api/v1/users?per_page=100").json["items"]}
    assert people["luis@acme.test"]["roles"] == [{"role": "requester", "unit_id": finanzas.id}]
    assert "maria@acme.test" not in people  # Producción only
    assert ana.get(f"/api/v1/users?unit_id={produccion.id}").json["items"] == []
    assert ana.get("/api/v1/users?role=worker").json["items"] == []

    admin = api("admin@acme.test")
    everyone = {p["email"]: p for p in admin.get("/api/v1/users?per_page=100").json["items"]}
    assert {"role": "worker", "unit_id": produccion.id} in everyone["luis@acme.test"]["roles"]
    assert [p["email"] for p in admin.get(
        f"/api/v1/users?unit_id={produccion.id}&role=worker").json["items"]] == ["luis@acme.test"]
