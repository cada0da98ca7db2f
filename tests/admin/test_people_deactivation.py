"""Deactivating a person: login refused, their sessions and API tokens dead, their claimed
tasks back with their group (in the request's history), their history kept; reactivating."""

from sqlalchemy import select

from app.api import tokens_service
from app.extensions import db
from app.models import AuditEntry, HistoryEvent, HumanTask, User
from app.services import workflow
from tests import factories
from tests.api.conftest import ApiClient

ADMIN = "admin@acme.test"


def _token(email: str) -> str:
    raw, _ = tokens_service.issue(factories.user(email), "test", 1)
    db.session.commit()
    return raw


def test_deactivation_ends_access_releases_claims_and_keeps_history(app, demo, browser):
    req, task = factories.request_at("Task_Assign")
    director = factories.user("director@acme.test")
    workflow.claim(director, task)
    db.session.commit()
    task_id, req_id, director_id = task.id, req.id, director.id
    history_before = db.session.scalar(select(HistoryEvent.id).where(
        HistoryEvent.request_id == req_id, HistoryEvent.actor_id == director_id).limit(1))
    raw = _token("director@acme.test")
    director_pages = browser("director@acme.test")
    client = ApiClient(app, raw)
    assert client.get("/api/v1/tasks").status_code == 200

    admin = browser(ADMIN)
    response = admin.post(f"/admin/people/{director_id}/deactivate")
    assert response.status_code == 302

    db.session.rollback()
    assert not db.session.get(User, director_id).active
    # the open session and the token are dead
    assert director_pages.get("/inbox").status_code == 302
    assert client.get("/api/v1/tasks").status_code == 401
    # the password no longer logs in
    fresh = browser()
    fresh.get("/login")
    assert fresh.post("/login", {"email": "director@acme.test",
                                 "password": "demo1234"}).status_code == 401
    # the claim went back to the group, recorded in the request's history by the admin
    released = db.session.get(HumanTask, task_id)
    assert released.status == "open" and released.claimed_by_id is None
    event = db.session.scalar(select(HistoryEvent).where(
        HistoryEvent.request_id == req_id, HistoryEvent.action == "released"))
    assert event.actor.email == ADMIN
    # their history stays
    assert db.session.scalar(select(HistoryEvent.id).where(
        HistoryEvent.request_id == req_id, HistoryEvent.actor_id == director_id).limit(1)
    ) == history_before
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.deactivated"))
    assert entry.target_id == director_id and entry.before == {"active": True}
    assert entry.after["active"] is False and entry.after["claims_released"] == [task_id]
    assert entry.after["sessions_ended"] >= 1
    # the list shows them inactive; deactivating again is refused and writes nothing
    assert "director@acme.test" in admin.get("/admin/people?status=inactive").get_data(
        as_text=True)
    assert admin.post(f"/admin/people/{director_id}/deactivate").status_code == 422
    assert db.session.scalar(select(AuditEntry.id).where(
        AuditEntry.action == "user.deactivated").offset(1)) is None

    # reactivated: the password works again; the old token stays revoked
    assert admin.post(f"/admin/people/{director_id}/reactivate").status_code == 302
    assert client.get("/api/v1/tasks").status_code == 401
    browser("director@acme.test")  # logs in (asserts the redirect)
    db.session.rollback()
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.reactivated"))
    assert entry.before == {"active": False} and entry.after == {"active": True}


def test_deactivating_a_person_without_claims_or_sessions(demo, browser):
    admin = browser(ADMIN)
    maria = factories.user("maria@acme.test").id
    assert admin.post(f"/admin/people/{maria}/deactivate").status_code == 302
    db.session.rollback()
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.deactivated"))
    assert entry.after == {"active": False, "sessions_ended": 0, "claims_released": []}


def test_an_invited_person_can_be_sent_a_new_link_and_an_active_one_cannot(demo, browser):
    admin = browser(ADMIN)
    finance = factories.user("ana@acme.test").memberships[0].unit_id
    admin.post("/admin/people/invite", {"name": "Nina", "email": "nina@acme.test",
                                        "role-0": "requester", "unit-0": str(finance)})
    db.session.rollback()
    nina = factories.user("nina@acme.test").id
    assert admin.post(f"/admin/people/{nina}/invitation").status_code == 302
    db.session.rollback()
    assert db.session.scalar(select(AuditEntry.action).where(
        AuditEntry.target_id == nina).order_by(AuditEntry.id.desc()).limit(1)
    ) == "user.invitation_resent"
    ana = factories.user("ana@acme.test").id
    assert admin.post(f"/admin/people/{ana}/invitation").status_code == 422
