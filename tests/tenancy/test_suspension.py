"""A suspended company: a clear page on every page (logging out and changing the language
still work), 403 problem+json over the API with the reason, its timers and messages wait,
nothing of its data is lost, and resuming restores everything."""

from datetime import timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    ApiToken,
    Category,
    HistoryEvent,
    OutboxMessage,
    ProcessInstance,
    ServiceRequest,
    Tenant,
    User,
)
from app.models.base import utcnow
from app.outbox import queue
from app.services import workflow
from app.tenancy import operators
from tests import factories

SUSPENDED = "https://mesa-de-servicios.org/problems/tenant-suspended"


def suspend(slug="acme", reason="Factura de marzo vencida"):
    db.session.rollback()
    operators.suspend(slug, reason)
    db.session.commit()


def resume(slug="acme"):
    db.session.rollback()
    operators.resume(slug)
    db.session.commit()


def snapshot() -> dict:
    db.session.rollback()
    return {model.__name__: db.session.scalar(select(func.count()).select_from(model))
            for model in (User, Category, ServiceRequest, HistoryEvent, ApiToken,
                          ProcessInstance)}


def test_people_of_a_suspended_company_see_why_on_every_page(app, demo, browser):
    ana = browser("ana@acme.test")
    pedro = browser("pedro@globex.test")
    before = snapshot()
    app.config["OPERATOR_CONTACT"] = "soporte@mesa.example"
    try:
        suspend()
        for url in ("/inbox", "/requests", "/requests/new", "/account/tokens", "/"):
            page = ana.get(url)
            assert page.status_code == 403, url
            text = page.get_data(as_text=True)
            assert "Factura de marzo vencida" in text
            assert "Acme Industrial S.A." in text
            assert "soporte@mesa.example" in text
            assert page.headers["Cache-Control"] == "no-store"
    finally:
        app.config["OPERATOR_CONTACT"] = ""
    category = db.session.scalar(select(Category.id).join(Tenant).where(Tenant.slug == "acme"))
    filed = ana.post("/requests/new", {"title": "Revisar", "description": "Revisar la luz",
                                       "category_id": str(category), "priority": "normal"})
    assert filed.status_code == 403
    assert snapshot() == before

    # Another company goes on as usual
    assert pedro.get("/inbox").status_code == 200

    # Changing the language and logging out still work
    assert ana.post("/language", {"code": "en", "next": "/inbox"}).status_code == 302
    assert "Access suspended" in ana.get("/inbox").get_data(as_text=True)
    assert ana.post("/logout").status_code == 302
    assert ana.get("/inbox").status_code == 302  # to the login, as anyone logged out
    # Logging in again leads to the same page
    again = browser("ana@acme.test")
    assert again.get("/inbox").status_code == 403

    resume()
    assert again.get("/inbox").status_code == 200
    assert snapshot() == before


def test_the_api_of_a_suspended_company_answers_403_with_the_reason(demo, api):
    from tests.tenancy.conftest import ApiClient

    client = api("ana@acme.test")
    before = snapshot()
    suspend()
    for answer in (client.get("/api/v1/me"), client.get("/api/v1/requests"),
                   client.post("/api/v1/requests", {"title": "x"})):
        assert answer.status_code == 403
        assert answer.content_type == "application/problem+json"
        assert answer.json["type"] == SUSPENDED
        assert answer.json["reason"] == "Factura de marzo vencida"
    # No new token either
    anonymous = ApiClient(client.app)
    refused = anonymous.post("/api/v1/tokens", {"email": "ana@acme.test",
                                                "password": "demo1234"})
    assert refused.status_code == 403 and refused.json["type"] == SUSPENDED
    assert snapshot() == before
    assert api("pedro@globex.test").get("/api/v1/me").status_code == 200

    resume()
    assert client.get("/api/v1/me").status_code == 200


def test_timers_of_a_suspended_company_wait_until_it_resumes(demo):
    acme_req, _ = factories.request_at("Task_Authorize")
    globex_req, _ = factories.request_at("Task_Authorize", requester="pedro@globex.test",
                                         head="jefe@globex.test")
    past = utcnow() - timedelta(minutes=5)
    for req in (acme_req, globex_req):
        db.session.get(ProcessInstance, req.instance.id).next_timer_at = past
    db.session.commit()
    suspend()
    claimed = workflow.claim_due_timers(60, limit=100)
    db.session.commit()
    ids = {c.instance_id for c in claimed}
    assert globex_req.instance.id in ids and acme_req.instance.id not in ids
    resume()
    claimed = workflow.claim_due_timers(60, limit=100)
    db.session.commit()
    assert acme_req.instance.id in {c.instance_id for c in claimed}


def test_messages_of_a_suspended_company_wait_until_it_resumes(demo):
    acme = db.session.scalar(select(Tenant.id).where(Tenant.slug == "acme"))
    globex = db.session.scalar(select(Tenant.id).where(Tenant.slug == "globex"))
    for tenant_id in (acme, globex):  # an e-mail each, due now
        db.session.add(OutboxMessage(tenant_id=tenant_id, channel="email", event="test",
                                     address="someone@example.test",
                                     idempotency_key=f"suspension-test-{tenant_id}",
                                     payload={}, status="pending"))
    db.session.commit()

    def due_tenants():
        db.session.rollback()
        channels = list(queue.CHANNELS)
        rows = db.session.execute(queue._due(utcnow() + timedelta(days=1), channels, set()))
        return {row.tenant_id for row in rows}

    assert {acme, globex} <= due_tenants()
    pending = db.session.scalar(select(func.count(OutboxMessage.id)).where(
        OutboxMessage.tenant_id == acme, OutboxMessage.status == "pending"))
    suspend()
    assert acme not in due_tenants() and globex in due_tenants()
    resume()
    assert acme in due_tenants()
    assert db.session.scalar(select(func.count(OutboxMessage.id)).where(
        OutboxMessage.tenant_id == acme, OutboxMessage.status == "pending")) == pending
