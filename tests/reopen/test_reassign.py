"""The director reassigns an open ticket or changes its planned dates: audited, notified,
the open steps following the new worker, refused to anyone else, and to a late second change."""

from datetime import date, timedelta

from app.extensions import db
from app.models import HistoryEvent, OutboxMessage, ServiceRequest, Ticket
from app.services import events as events_service
from app.viability import staff
from tests.factories import open_task, request_at, user
from tests.reopen.helpers import notices_of, second_service_unit

DIRECTOR, OLD, NEW = "director@acme.test", "tecnico1@acme.test", "tecnico2@acme.test"
TODAY = date.today()


def ticket_of(req) -> Ticket:
    db.session.rollback()  # a fresh read: the calls since wrote in their own transactions
    return db.session.get(ServiceRequest, req.id).ticket


def at(step: str):
    """A request at ``step`` and its ticket's id, with this session's transaction ended (on
    SQLite a reader's snapshot would not see what the calls write)."""
    req, _ = request_at(step)
    ids = (req.id, req.ticket.id)
    db.session.rollback()
    return db.session.get(ServiceRequest, ids[0]), ids[1]


def test_the_director_reassigns_and_the_open_step_follows(demo, api, monkeypatch):
    req, ticket_id = at("Task_Work")
    emitted = []
    monkeypatch.setattr(events_service, "emit",
                        lambda req, event, actor=None, extra=None: emitted.append(event))
    director = api(DIRECTOR)
    ticket = director.get(f"/api/v1/tickets/{ticket_id}").json
    done = director.post(f"/api/v1/tickets/{ticket['id']}/reassign", {
        "worker_id": user(NEW).id, "reason": "Tomás está de vacaciones",
        "revision": ticket["revision"]})
    assert done.status_code == 200, done.json
    assert done.json["action"] == "reassigned"
    assert done.json["changes"] == {"worker": [user(OLD).name, user(NEW).name]}
    assert done.json["comment"] == "Tomás está de vacaciones"
    assert ticket_of(req).worker_id == user(NEW).id
    work = open_task(db.session.get(ServiceRequest, req.id), "Task_Work")
    assert work.assigned_user_id == user(NEW).id
    assert emitted == ["ticket.reassigned"]
    req = db.session.get(ServiceRequest, req.id)
    assert notices_of(req, "ticket.assigned_to_you")[-1:] == [NEW]
    assert notices_of(req, "ticket.unassigned") == [OLD]
    assert db.session.query(OutboxMessage).filter_by(event="ticket.unassigned",
                                                     channel="email").count() == 1
    work_id = work.id
    db.session.rollback()
    # the new worker finishes it; the one before may no longer
    assert api(OLD).post(f"/api/v1/tasks/{work_id}/complete", {
        "kind": "finish", "resolution": "x", "hours_spent": 1, "materials_cost": 0,
    }).status_code in (403, 404)
    finished = api(NEW).post(f"/api/v1/tasks/{work_id}/complete", {
        "kind": "finish", "resolution": "Hecho", "hours_spent": 1, "materials_cost": 0})
    assert finished.status_code == 200, finished.json
    again = director.post(f"/api/v1/tickets/{ticket['id']}/reassign",
                          {"worker_id": user(OLD).id})
    assert again.status_code == 422 and "_schema" in again.json["errors"]


def test_replanning_moves_the_dates_and_the_bookings(demo, api):
    req, ticket_id = at("Task_Start")
    start, end = TODAY + timedelta(days=7), TODAY + timedelta(days=9)
    done = api(DIRECTOR).post(f"/api/v1/tickets/{ticket_id}/replan", {
        "planned_start": start.isoformat(), "planned_end": end.isoformat()})
    assert done.status_code == 200, done.json
    assert done.json["action"] == "replanned"
    assert done.json["changes"]["planned_end"][1] == end.isoformat()
    ticket = ticket_of(req)
    assert (ticket.planned_start, ticket.planned_end) == (start, end)
    (booked,) = [w for w in staff.workers(ticket.tenant_id, ticket.service_unit_id)
                 if w.id == user(OLD).id]
    assert any((b.start, b.end) == (start, end) for b in booked.bookings)
    req = db.session.get(ServiceRequest, req.id)
    assert notices_of(req, "ticket.replanned") == sorted([OLD, "ana@acme.test"])
    entry = db.session.query(HistoryEvent).filter_by(request_id=req.id,
                                                     action="replanned").one()
    assert entry.actor_id == user(DIRECTOR).id and entry.ticket_id == ticket.id


def test_who_may_not_change_it(demo, api):
    req, ticket_id = at("Task_Work")
    body = {"worker_id": user(NEW).id}
    other_unit = second_service_unit(user(DIRECTOR).tenant_id)
    db.session.rollback()
    assert api(other_unit.email).post(f"/api/v1/tickets/{ticket_id}/reassign",
                                      body).status_code == 404
    assert api("director@globex.test").post(f"/api/v1/tickets/{ticket_id}/reassign",
                                            body).status_code == 404
    for email in (OLD, "ana@acme.test"):
        refused = api(email).post(f"/api/v1/tickets/{ticket_id}/replan", {
            "planned_start": TODAY.isoformat(), "planned_end": TODAY.isoformat()})
        assert refused.status_code == 403, (email, refused.json)
    assert ticket_of(req).worker_id == user(OLD).id
    assert db.session.query(HistoryEvent).filter(
        HistoryEvent.request_id == req.id,
        HistoryEvent.action.in_(("reassigned", "replanned"))).count() == 0


def test_invalid_changes_are_422(demo, api):
    req, ticket_id = at("Task_Work")
    ana_id, old_id = user("ana@acme.test").id, user(OLD).id
    db.session.rollback()
    director, url = api(DIRECTOR), f"/api/v1/tickets/{ticket_id}"
    not_a_worker = director.post(f"{url}/reassign", {"worker_id": ana_id})
    assert not_a_worker.status_code == 422 and "worker_id" in not_a_worker.json["errors"]
    same = director.post(f"{url}/reassign", {"worker_id": old_id})
    assert same.status_code == 422
    backwards = director.post(f"{url}/replan", {
        "planned_start": (TODAY + timedelta(days=3)).isoformat(),
        "planned_end": TODAY.isoformat()})
    assert backwards.status_code == 422 and "planned_end" in backwards.json["errors"]
    past = director.post(f"{url}/replan", {"planned_start": "2020-01-01",
                                          "planned_end": "2020-01-02"})
    assert past.status_code == 422
    assert director.post(f"{url}/replan", {}).status_code == 422


def test_of_two_changes_at_once_the_later_gets_409(demo, api):
    req, ticket_id = at("Task_Work")
    planned = (req.ticket.planned_start, req.ticket.planned_end)
    new_id = user(NEW).id
    db.session.rollback()
    director, url = api(DIRECTOR), f"/api/v1/tickets/{ticket_id}"
    read = director.get(url).json["revision"]  # both read the ticket...
    first = director.post(f"{url}/reassign", {"worker_id": new_id, "revision": read})
    assert first.status_code == 200
    late = director.post(f"{url}/replan", {  # ...the second sends what it read
        "planned_start": TODAY.isoformat(), "planned_end": TODAY.isoformat(),
        "revision": read})
    assert late.status_code == 409 and late.json["title"] == "Conflict"
    ticket = ticket_of(req)
    assert ticket.worker_id == user(NEW).id
    assert (ticket.planned_start, ticket.planned_end) == planned


def test_the_pages_show_the_forms_to_the_director_only(demo, browser):
    req, ticket_id = at("Task_Work")
    new_id, new_name = user(NEW).id, user(NEW).name
    db.session.rollback()
    page = browser(DIRECTOR)
    html = page.get(f"/requests/{req.id}").get_data(as_text=True)
    assert 'id="director-actions"' in html and new_name in html
    assert 'id="director-actions"' in page.get(f"/tickets/{ticket_id}").get_data(
        as_text=True)
    for email in (OLD, "ana@acme.test"):
        assert 'id="director-actions"' not in browser(email).get(
            f"/requests/{req.id}").get_data(as_text=True)
    moved = page.post(f"/tickets/{ticket_id}/reassign",
                      {"worker_id": str(new_id), "reason": "Carga"})
    assert moved.status_code == 303
    assert ticket_of(req).worker_id == new_id
    history = page.get(f"/requests/{req.id}").get_data(as_text=True)
    assert f"{user(OLD).name} → {new_name}" in history
    db.session.rollback()
    refused = browser(OLD).post(f"/tickets/{ticket_id}/replan", {
        "planned_start": TODAY.isoformat(), "planned_end": TODAY.isoformat()})
    assert refused.status_code == 404  # no longer theirs: they do not see it
