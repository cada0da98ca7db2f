"""The tenant admin's categories: list (active and not), create and edit on the page and over
the API, each change audited with its before and after; every refusal changes nothing;
another tenant's ids are not found and other people do not see the pages; people see each
category in their language, and an inactive one is not offered for new requests."""

import pytest
from marshmallow import ValidationError
from sqlalchemy import select

from app.admin.models import AuditEntry
from app.extensions import db
from app.models import Category, ServiceRequest, Tenant, Unit
from app.services import requests
from tests.factories import user

ADMIN, REQUESTER, HEAD = "admin@acme.test", "ana@acme.test", "jefe.finanzas@acme.test"


@pytest.fixture
def demo(demo):
    """The demo tenants, their admin reading English (the messages checked are the source's)."""
    user(ADMIN).locale = "en"
    db.session.commit()
    return demo


class Api:
    def __init__(self, app, email: str):
        self.app, self.client = app, app.test_client()
        token = self.call("POST", "/api/v1/tokens", {"email": email, "password": "demo1234"},
                          auth=False)
        assert token.status_code == 201, token.json
        self.headers = {"Authorization": f"Bearer {token.json['token']}"}

    def call(self, method, url, json=None, auth=True):
        with self.app.app_context():
            return self.client.open(url, method=method, json=json,
                                    headers=self.headers if auth else {})


def unit(tenant_slug: str, name: str) -> Unit:
    db.session.rollback()
    return db.session.scalar(select(Unit).join(Tenant, Tenant.id == Unit.tenant_id).where(
        Tenant.slug == tenant_slug, Unit.name == name))


def category(tenant_slug: str, name: str) -> Category | None:
    db.session.rollback()
    return db.session.scalar(select(Category).join(Tenant, Tenant.id == Category.tenant_id)
                             .where(Tenant.slug == tenant_slug, Category.name == name))


def audit(action: str) -> list[AuditEntry]:
    db.session.rollback()
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)
                                   .order_by(AuditEntry.id)))


def snapshot() -> list[tuple]:
    db.session.rollback()
    return sorted((c.tenant_id, c.name, sorted((c.names or {}).items()), c.description,
                   c.service_unit_id, c.default_priority, c.process_key, c.active)
                  for c in db.session.scalars(select(Category)))


def form(**over) -> dict:
    values = {"name_es": "Jardinería", "name_en": "Gardening",
              "description": "Poda y riego",
              "service_unit_id": str(unit("acme", "Servicios Generales").id),
              "default_priority": "low", "process_key": "service_request", "active": "yes"}
    values.update(over)
    return {k: v for k, v in values.items() if v is not None}


# --- pages -----------------------------------------------------------------------------------

def test_the_list_shows_active_and_inactive_categories_and_filters_them(demo, browser):
    cat = category("acme", "Limpieza")
    cat.active = False
    db.session.commit()
    admin = browser(ADMIN)
    html = admin.get("/admin/categories").get_data(as_text=True)
    assert "Electricidad" in html and "Limpieza" in html and "Mantenimiento locativo" not in html
    inactive = admin.get("/admin/categories?state=inactive").get_data(as_text=True)
    assert "Limpieza" in inactive and "Electricidad" not in inactive
    active = admin.get("/admin/categories?state=active").get_data(as_text=True)
    assert "Limpieza" not in active and "Plomería" in active


def test_the_list_pages(demo, browser):
    acme = db.session.scalar(select(Tenant).where(Tenant.slug == "acme"))
    su = unit("acme", "Servicios Generales")
    for n in range(30):
        db.session.add(Category(tenant_id=acme.id, name=f"Zeta {n:02d}", service_unit_id=su.id))
    db.session.commit()
    admin = browser(ADMIN)
    first = admin.get("/admin/categories").get_data(as_text=True)
    assert "Page 1 of 2" in first and "Zeta 29" not in first and "page=2" in first
    assert "Zeta 29" in admin.get("/admin/categories?page=2").get_data(as_text=True)


def test_the_admin_creates_a_category_with_names_per_language(demo, browser):
    admin = browser(ADMIN)
    assert "Gardening" not in admin.get("/admin/categories/new").get_data(as_text=True)
    response = admin.post("/admin/categories/new", form())
    assert response.status_code == 302, response.get_data(as_text=True)
    created = category("acme", "Jardinería")
    assert created.names == {"es": "Jardinería", "en": "Gardening"}
    assert (created.description, created.default_priority, created.process_key,
            created.active) == ("Poda y riego", "low", "service_request", True)
    assert created.service_unit_id == unit("acme", "Servicios Generales").id
    [entry] = audit("category.created")
    assert entry.target_id == created.id and entry.actor_id == user(ADMIN).id
    assert entry.after["names"] == {"es": "Jardinería", "en": "Gardening"}
    assert entry.after["default_priority"] == "low" and entry.before is None


@pytest.mark.parametrize(("over", "field", "says"), [
    ({"name_es": ""}, "name_es", "company&#39;s language"),
    ({"name_es": "  "}, "name_es", "company&#39;s language"),
    ({"name_es": "x" * 121}, "name_es", "At most 120"),
    ({"name_es": "electricidad"}, "name_es", "already called"),
    ({"name_en": "Plomería"}, "name_en", "already called"),
    ({"service_unit_id": ""}, "service_unit_id", "service units"),
    ({"default_priority": "critical"}, "default_priority", "low, normal, high or urgent"),
    ({"process_key": "not_deployed"}, "process_key", "deployed"),
])
def test_a_refused_category_changes_nothing(demo, browser, over, field, says):
    before = snapshot()
    admin = browser(ADMIN)
    response = admin.post("/admin/categories/new", form(**over))
    assert response.status_code == 422
    assert says in response.get_data(as_text=True)
    assert snapshot() == before and audit("category.created") == []


@pytest.mark.parametrize("which", ["not_service", "other_tenant", "archived", "huge"])
def test_the_service_unit_is_one_of_the_tenants_service_units(demo, browser, which):
    if which == "archived":
        from app.models.base import utcnow

        su = unit("acme", "Servicios Generales")
        su.archived_at = utcnow()
        db.session.commit()
        unit_id = su.id
    else:
        unit_id = {"not_service": lambda: unit("acme", "Finanzas").id,
                   "other_tenant": lambda: unit("globex", "Mantenimiento").id,
                   "huge": lambda: 10**12}[which]()
    before = snapshot()
    response = browser(ADMIN).post("/admin/categories/new", form(service_unit_id=str(unit_id)))
    assert response.status_code == 422
    assert "service units" in response.get_data(as_text=True)
    assert snapshot() == before


def test_the_admin_edits_a_category_and_the_audit_keeps_before_and_after(demo, browser):
    cat = category("acme", "Electricidad")
    admin = browser(ADMIN)
    page = admin.get(f"/admin/categories/{cat.id}").get_data(as_text=True)
    assert 'value="Electricidad"' in page
    response = admin.post(f"/admin/categories/{cat.id}", form(
        name_es="Electricidad", name_en="Electrical work", default_priority="urgent",
        description="Cables", active=None))
    assert response.status_code == 302
    changed = category("acme", "Electricidad")
    assert changed.names == {"es": "Electricidad", "en": "Electrical work"}
    assert (changed.default_priority, changed.active) == ("urgent", False)
    [entry] = audit("category.updated")
    assert entry.before["default_priority"] == "high" and entry.after["default_priority"] == \
        "urgent"
    assert entry.before["active"] is True and entry.after["active"] is False
    assert "name" not in entry.after  # the name in Spanish did not change
    # Saving the same again changes nothing and writes no entry
    admin.post(f"/admin/categories/{cat.id}", form(
        name_es="Electricidad", name_en="Electrical work", default_priority="urgent",
        description="Cables", active=None))
    assert len(audit("category.updated")) == 1


def test_another_tenants_category_and_other_people_are_not_found(demo, browser):
    theirs = category("globex", "Aire acondicionado")
    admin = browser(ADMIN)
    assert admin.get(f"/admin/categories/{theirs.id}").status_code == 404
    assert admin.post(f"/admin/categories/{theirs.id}", form()).status_code == 404
    assert admin.get("/admin/categories/99999999999").status_code == 404
    ours = category("acme", "Electricidad")
    for email in (REQUESTER, HEAD, "director@acme.test"):
        person = browser(email)
        assert person.get("/admin/categories").status_code == 404
        assert person.get(f"/admin/categories/{ours.id}").status_code == 404
        assert person.post("/admin/categories/new", form()).status_code == 404
    anonymous = browser()
    assert anonymous.get("/admin/categories").status_code == 302
    assert category("globex", "Aire acondicionado").name == "Aire acondicionado"
    assert category("acme", "Jardinería") is None


# --- where people see categories ---------------------------------------------------------------

def _english(email: str) -> None:
    person = user(email)
    person.locale = "en"
    db.session.commit()


def test_people_see_a_category_in_their_language(demo, app, browser):
    cat = category("acme", "Electricidad")
    cat.names = {"es": "Electricidad", "en": "Electrical work"}
    db.session.commit()
    _english(REQUESTER)
    ana = browser(REQUESTER)
    assert "Electrical work" in ana.get("/requests/new").get_data(as_text=True)
    req = db.session.scalar(select(ServiceRequest).where(
        ServiceRequest.requester_id == user(REQUESTER).id,
        ServiceRequest.category_id == cat.id))
    assert "Electrical work" in ana.get(f"/requests/{req.id}").get_data(as_text=True)
    assert "Electrical work" in ana.get("/requests").get_data(as_text=True)
    # Someone who reads Spanish sees the Spanish name
    head = browser(HEAD).get(f"/requests/{req.id}").get_data(as_text=True)
    assert "Electricidad" in head and "Electrical work" not in head
    # The API catalog answers in the caller's language
    names = {c["name"] for c in Api(app, REQUESTER)
             .call("GET", "/api/v1/categories?per_page=100").json["items"]}
    assert "Electrical work" in names and "Electricidad" not in names


def test_an_inactive_category_is_not_offered_for_new_requests(demo, app, browser):
    cat = category("acme", "Limpieza")
    cat.active = False
    db.session.commit()
    page = browser(REQUESTER).get("/requests/new").get_data(as_text=True)
    assert "Limpieza" not in page and "Plomería" in page
    with pytest.raises(ValidationError):
        requests.file_request(user(REQUESTER), {"title": "Limpiar", "description": "Piso 2",
                                                "category_id": cat.id})
    db.session.rollback()
    response = browser(REQUESTER).post("/requests/new", {
        "title": "Limpiar", "description": "Piso dos", "category_id": str(cat.id)})
    assert response.status_code == 422
    api = Api(app, REQUESTER)
    listed = {c["id"] for c in api.call("GET", "/api/v1/categories?per_page=100").json["items"]}
    assert cat.id not in listed


# --- API -------------------------------------------------------------------------------------

def test_the_api_lists_creates_and_changes_categories(demo, app):
    api = Api(app, ADMIN)
    cat = category("acme", "Limpieza")
    cat.active = False
    db.session.commit()
    listed = api.call("GET", "/api/v1/admin/categories?per_page=100").json
    names = {c["name"]: c for c in listed["items"]}
    assert listed["total"] == 5 and names["Limpieza"]["active"] is False
    inactive = api.call("GET", "/api/v1/admin/categories?active=false").json["items"]
    assert [c["name"] for c in inactive] == ["Limpieza"]
    su = unit("acme", "Servicios Generales").id
    created = api.call("POST", "/api/v1/admin/categories", {
        "names": {"es": "Jardinería", "en": "Gardening"}, "service_unit_id": su,
        "default_priority": "high"})
    assert created.status_code == 201, created.json
    assert created.json["name"] == "Jardinería" and created.json["process_key"] == \
        "service_request"
    assert created.json["active"] is True
    changed = api.call("PATCH", f"/api/v1/admin/categories/{created.json['id']}",
                       {"active": False, "description": "Poda"})
    assert changed.status_code == 200 and changed.json["active"] is False
    assert api.call("GET", f"/api/v1/admin/categories/{created.json['id']}").json[
        "description"] == "Poda"
    assert [e.action for e in audit("category.created") + audit("category.updated")] == [
        "category.created", "category.updated"]


def test_the_api_refuses_bad_values_and_changes_nothing(demo, app):
    api = Api(app, ADMIN)
    before = snapshot()
    su = unit("acme", "Servicios Generales").id
    cases = [
        ({"names": {"en": "Only English"}, "service_unit_id": su}, "names.es"),
        ({"names": {"es": "Electricidad"}, "service_unit_id": su}, "names.es"),
        ({"names": {"es": "Nueva"}, "service_unit_id": unit("acme", "Finanzas").id},
         "service_unit_id"),
        ({"names": {"es": "Nueva"}, "service_unit_id": unit("globex", "Mantenimiento").id},
         "service_unit_id"),
        ({"names": {"es": "Nueva"}, "service_unit_id": su, "process_key": "nope"},
         "process_key"),
        ({"names": {"es": "Nueva"}, "service_unit_id": su, "default_priority": "x"},
         "default_priority"),
        ({"names": {"es": "Nueva", "fr": "Nouvelle"}, "service_unit_id": su}, "names.fr"),
        ({"names": {"es": "Nueva"}}, "service_unit_id"),
    ]
    for body, field in cases:
        response = api.call("POST", "/api/v1/admin/categories", body)
        assert response.status_code == 422, (body, response.json)
        assert response.content_type == "application/problem+json"
        assert field in response.json["errors"], (body, response.json)
    ours = category("acme", "Plomería")
    response = api.call("PATCH", f"/api/v1/admin/categories/{ours.id}",
                        {"names": {"es": "Electricidad"}})
    assert response.status_code == 422 and "names.es" in response.json["errors"]
    assert snapshot() == before and audit("category.created") == []


def test_the_api_hides_other_tenants_categories_and_refuses_non_admins(demo, app):
    theirs = category("globex", "Aire acondicionado")
    api = Api(app, ADMIN)
    assert api.call("GET", f"/api/v1/admin/categories/{theirs.id}").status_code == 404
    assert api.call("PATCH", f"/api/v1/admin/categories/{theirs.id}",
                    {"active": False}).status_code == 404
    listed = {c["name"] for c in api.call("GET", "/api/v1/admin/categories").json["items"]}
    assert "Aire acondicionado" not in listed
    ours = category("acme", "Plomería")
    for email in (REQUESTER, "director@acme.test"):
        other = Api(app, email)
        assert other.call("GET", "/api/v1/admin/categories").status_code == 404
        assert other.call("PATCH", f"/api/v1/admin/categories/{ours.id}",
                          {"active": False}).status_code == 404
        assert other.call("POST", "/api/v1/admin/categories", {
            "names": {"es": "X"}, "service_unit_id": 1}).status_code == 404
    anonymous = api.call("GET", "/api/v1/admin/categories", auth=False)
    assert anonymous.status_code == 401
    assert category("globex", "Aire acondicionado").active is True
    assert category("acme", "Plomería").active is True


def test_the_openapi_document_lists_the_category_endpoints(app):
    with app.app_context():
        spec = app.test_client().get("/api/v1/openapi.json").json
    assert {"get", "post"} <= set(spec["paths"]["/api/v1/admin/categories"])
    assert {"get", "patch"} <= set(spec["paths"]["/api/v1/admin/categories/{category_id}"])
