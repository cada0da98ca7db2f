"""``flask tenants create`` -> the new company's admin accepts the invitation, logs in and files
a request through the default process, which reaches the service director's step; nothing of
the demo companies is visible to them, on pages or over the API."""

from app.admin.models import AuditEntry
from app.extensions import db
from app.models import (
    Category,
    HumanTask,
    Membership,
    ProcessDefinition,
    ServiceRequest,
    Tenant,
    Unit,
    User,
)

PASSWORD = "Pradera-Azul-7391"


def test_a_new_company_works_end_to_end(app, demo, browser, api, new_company):
    welcome = new_company()
    nova = db.session.query(Tenant).filter_by(slug="nova").one()
    assert (nova.name, nova.plan, nova.status, nova.locale) == (
        "Nova S.A.S.", "profesional", "active", "es")
    units = {u.name: u for u in db.session.query(Unit).filter_by(tenant_id=nova.id)}
    assert set(units) == {"Servicios Generales", "Administración"}
    assert units["Servicios Generales"].is_service_unit
    categories = db.session.query(Category).filter_by(tenant_id=nova.id).all()
    assert {c.name for c in categories} >= {"Mantenimiento", "Electricidad"}
    assert all(c.service_unit_id == units["Servicios Generales"].id for c in categories)
    assert all(c.names["en"] and c.names["es"] == c.name for c in categories)
    definition = db.session.query(ProcessDefinition).filter_by(tenant_id=nova.id).one()
    assert (definition.process_key, definition.version, definition.is_active) == (
        "service_request", 1, True)
    admin = db.session.query(User).filter_by(email="admin@nova.test").one()
    assert admin.tenant_id == nova.id
    assert {m.role for m in db.session.query(Membership).filter_by(user_id=admin.id)} == {
        "tenant_admin", "process_owner", "unit_head", "service_director"}
    entry = db.session.query(AuditEntry).filter_by(tenant_id=nova.id,
                                                   action="tenant.created").one()
    assert entry.actor_label == "operator" and entry.after["admin"] == "admin@nova.test"

    # The admin cannot log in before accepting the invitation
    person = browser()
    person.get("/login")
    refused = person.post("/login", {"email": "admin@nova.test", "password": PASSWORD})
    assert refused.status_code == 401

    # Accept: choose a password, and be logged in
    page = person.get(welcome)
    assert page.status_code == 200, page.get_data(as_text=True)
    accepted = person.post(welcome, {"new_password": PASSWORD, "new_password_again": PASSWORD})
    assert accepted.status_code == 302, accepted.get_data(as_text=True)
    assert person.get(welcome).status_code in (404, 410)  # single use

    # Log in again from scratch, file a request through the page
    person = browser()
    person.login("admin@nova.test", PASSWORD)
    form = person.get("/requests/new").get_data(as_text=True)
    assert "Mantenimiento" in form and "Electricidad" in form
    assert "Plomería" in form  # its own categories...
    assert "Transporte" not in form and "Aire acondicionado" not in form  # ...not the demo's
    maintenance = next(c for c in categories if c.name == "Mantenimiento")
    filed = person.post("/requests/new", {"title": "Arreglar la puerta",
                                          "description": "La puerta del cuarto piso no cierra",
                                          "category_id": str(maintenance.id),
                                          "priority": "normal", "location": "Piso 4"})
    assert filed.status_code == 302, filed.get_data(as_text=True)
    db.session.rollback()  # see what the page committed
    req = db.session.query(ServiceRequest).filter_by(tenant_id=nova.id).one()
    # The head of Administración files without authorization: it waits for the director
    assert req.status == "pending_evaluation"
    task = db.session.query(HumanTask).filter_by(request_id=req.id, status="open").one()
    assert (task.spec_id, task.role, task.unit_id) == (
        "Task_Evaluate", "service_director", units["Servicios Generales"].id)
    inbox = person.get("/inbox").get_data(as_text=True)
    assert "Arreglar la puerta" in inbox
    assert "Cambiar bombillo" not in inbox

    # Over the API: only Nova's rows
    client = api("admin@nova.test", PASSWORD)
    listed = client.get("/api/v1/requests").json
    assert [r["id"] for r in listed["items"]] == [req.id]
    names = {c["name"] for c in client.get("/api/v1/categories?per_page=100").json["items"]}
    assert names == {c.name for c in categories}
    units_seen = {u["name"] for u in client.get("/api/v1/units?per_page=100").json["items"]}
    assert units_seen <= {"Servicios Generales", "Administración"}
    people = {u["email"] for u in client.get("/api/v1/users?per_page=100").json["items"]}
    assert people == {"admin@nova.test"}
    tasks = client.get("/api/v1/tasks").json["items"]
    assert [t["request_id"] for t in tasks] == [req.id]
    acme_request = db.session.query(ServiceRequest).join(Tenant).filter(
        Tenant.slug == "acme").first()
    assert client.get(f"/api/v1/requests/{acme_request.id}").status_code == 404
    assert person.get(f"/requests/{acme_request.id}").status_code == 404


def test_english_company_starts_in_english(app, new_company):
    new_company("north", "boss@north.test", "--language", "en", "--timezone", "Europe/Madrid",
                "--plan", "basico")
    north = db.session.query(Tenant).filter_by(slug="north").one()
    assert (north.locale, north.timezone, north.plan) == ("en", "Europe/Madrid", "basico")
    assert {u.name for u in db.session.query(Unit).filter_by(tenant_id=north.id)} == {
        "General Services", "Administration"}
    assert "Maintenance" in {c.name for c in db.session.query(Category).filter_by(
        tenant_id=north.id)}
