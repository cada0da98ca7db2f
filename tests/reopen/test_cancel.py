"""A requester withdraws a request, with a reason, until a ticket exists: page and API."""

from app.extensions import db
from app.models import HistoryEvent, ServiceRequest
from tests.factories import file, request_at


def test_the_api_requires_a_reason(demo, api):
    req = file()
    db.session.rollback()
    ana = api("ana@acme.test")
    for body in ({}, {"reason": "   "}, {"reason": 5}):
        refused = ana.post(f"/api/v1/requests/{req.id}/cancel", body)
        assert refused.status_code == 422 and "reason" in refused.json["errors"], body
    assert api("jefe.finanzas@acme.test").post(
        f"/api/v1/requests/{req.id}/cancel", {"reason": "No"}).status_code == 403
    assert api("pedro@globex.test").post(
        f"/api/v1/requests/{req.id}/cancel", {"reason": "No"}).status_code == 404
    done = ana.post(f"/api/v1/requests/{req.id}/cancel", {"reason": " Ya no hace falta "})
    assert done.status_code == 200 and done.json["status"] == "cancelled"
    db.session.rollback()
    entry = db.session.query(HistoryEvent).filter_by(request_id=req.id,
                                                     action="cancelled").one()
    assert entry.comment == "Ya no hace falta"
    assert ana.post(f"/api/v1/requests/{req.id}/cancel",
                    {"reason": "Otra vez"}).status_code == 409


def test_not_once_a_ticket_exists(demo, api, browser):
    req, _ = request_at("Task_Start")
    db.session.rollback()
    assert api("ana@acme.test").post(f"/api/v1/requests/{req.id}/cancel",
                                     {"reason": "Ya no"}).status_code == 409
    assert f"requests/{req.id}/cancel" not in browser("ana@acme.test").get(
        f"/requests/{req.id}").get_data(as_text=True)
    db.session.rollback()
    assert db.session.get(ServiceRequest, req.id).status == "in_service"


def test_the_page_requires_a_reason(demo, browser):
    req = file()
    db.session.rollback()
    page = browser("ana@acme.test")
    assert 'name="reason"' in page.get(f"/requests/{req.id}").get_data(as_text=True)
    page.post(f"/requests/{req.id}/cancel", {"reason": "  "})
    db.session.rollback()
    assert db.session.get(ServiceRequest, req.id).status == "pending_authorization"
    page.post(f"/requests/{req.id}/cancel", {"reason": "Lo resolvimos"})
    db.session.rollback()
    assert db.session.get(ServiceRequest, req.id).status == "cancelled"
