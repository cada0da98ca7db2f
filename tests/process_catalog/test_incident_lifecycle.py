"""An incident filed in a category that follows the adopted template, through the real services:
prioritized by the company's matrix, assigned without a director, escalated to the second line
by the timer (the clock held by the test), resolved, confirmed."""

from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import select

from app.extensions import db
from app.models import HistoryEvent, HumanTask, ServiceRequest, Tenant
from app.process_catalog import settings
from app.services import requests, workflow
from tests.factories import open_task, user

T0 = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
FINISH = {"resolution": "Reiniciado el servidor", "hours_spent": "1", "materials_cost": "0"}


def file_incident(category, impact="high", urgency="high", email="ana@acme.test"):
    db.session.rollback()
    req = requests.file_request(user(email), {
        "title": "El correo no funciona", "description": "Nadie del piso recibe correo",
        "category_id": category.id, "location": "Piso 3",
        "fields": {"impact": impact, "urgency": urgency}})
    db.session.commit()
    return req


def history(req) -> list[str]:
    return list(db.session.scalars(select(HistoryEvent.action).where(
        HistoryEvent.request_id == req.id).order_by(HistoryEvent.id)))


def fire_due_timers(now) -> int:
    fired = 0
    for claim in workflow.claim_due_timers(60, now, limit=50):
        fired += workflow.fire_timers(claim)
    db.session.commit()
    return fired


def test_an_incident_is_prioritized_assigned_and_solved_without_a_director(incidents):
    with time_machine.travel(T0, tick=False):
        req = file_incident(incidents, "high", "medium")
        assert req.kind == "incident"
        assert req.priority == "high"  # the default matrix: high impact, medium urgency
        assert req.ticket is not None and req.ticket.worker_id is not None
        actions = history(req)
        assert "prioritized" in actions and "auto_assigned" in actions
        assert "authorize" not in actions and "assign" not in actions
        start = open_task(req, "Task_Start")
        assert start.role == "worker" and start.assigned_user_id == req.ticket.worker_id
        assert req.instance.next_timer_at.replace(tzinfo=UTC) == T0 + timedelta(hours=4)
        worker = db.session.get(type(user("ana@acme.test")), req.ticket.worker_id)
        workflow.complete(worker, start, "start", {})
        db.session.commit()
        workflow.complete(worker, open_task(req, "Task_Work"), "finish", FINISH)
        db.session.commit()
        confirm = open_task(req, "Task_Confirm")
        workflow.complete(user("ana@acme.test"), confirm, "confirm",
                          {"rating": "5", "comment": "Gracias"})
        db.session.commit()
        db.session.refresh(req)
        assert req.status == "completed" and req.ticket.status == "closed"
        assert "escalated" not in history(req)


def test_the_companys_matrix_decides_the_priority(incidents, api):
    table = {level: {u: "low" for u in ("high", "medium", "low")}
             for level in ("high", "medium", "low")}
    table["low"]["high"] = "urgent"
    response = api("admin@acme.test").put("/api/v1/processes/priority-matrix",
                                           {"matrix": table})
    assert response.status_code == 200
    assert file_incident(incidents, "low", "high").priority == "urgent"
    assert file_incident(incidents, "high", "low").priority == "low"


def test_without_impact_and_urgency_the_filed_priority_is_kept(incidents):
    incidents.request_fields = []
    incidents.default_priority = "low"
    db.session.commit()
    req = requests.file_request(user("ana@acme.test"), {
        "title": "Impresora", "description": "No imprime", "category_id": incidents.id,
        "location": "", "priority": "high"})
    db.session.commit()
    assert req.priority == "high"
    event = db.session.scalar(select(HistoryEvent).where(
        HistoryEvent.request_id == req.id, HistoryEvent.action == "prioritized"))
    assert event.changes == {"priority": "high"}  # no impact nor urgency to show
    assert event.actor_id is None  # filed by Ana, prioritized by the System


def test_the_timer_escalates_to_the_second_line(incidents):
    tenant = db.session.scalar(select(Tenant).where(Tenant.id == incidents.tenant_id))
    tenant.settings = {**(tenant.settings or {}), settings.ESCALATION_KEY: {
        "urgent": "PT30M", "high": "PT2H", "normal": "PT8H", "low": "P1D"}}
    db.session.commit()
    with time_machine.travel(T0, tick=False) as clock:
        req = file_incident(incidents, "high", "high")
        assert req.priority == "urgent"
        req_id = req.id
        worker = db.session.get(type(user("ana@acme.test")), req.ticket.worker_id)
        workflow.complete(worker, open_task(req, "Task_Start"), "start", {})
        db.session.commit()
        clock.move_to(T0 + timedelta(minutes=29))
        assert fire_due_timers(T0 + timedelta(minutes=29)) == 0
        clock.move_to(T0 + timedelta(minutes=31))
        assert fire_due_timers(T0 + timedelta(minutes=31)) == 1
        req = db.session.get(ServiceRequest, req_id)
        assert "escalated" in history(req)
        work = db.session.scalar(select(HumanTask).where(
            HumanTask.request_id == req_id, HumanTask.spec_id == "Task_Work"))
        assert work.status == "cancelled"
        second = open_task(req, "Task_SecondLine")
        assert second.role == "team"
        expert = user("tecnico2@acme.test")
        workflow.complete(expert, second, "finish", FINISH)
        db.session.commit()
        workflow.complete(user("ana@acme.test"), open_task(req, "Task_Confirm"), "reopen",
                          {"reason": "Sigue sin llegar el correo"})
        db.session.commit()
        assert open_task(req, "Task_SecondLine") is not None  # back to the second line


def test_the_request_page_tells_the_prioritization_and_the_escalation(incidents, browser):
    with time_machine.travel(T0, tick=False) as clock:
        req = file_incident(incidents, "medium", "high")
        clock.move_to(T0 + timedelta(hours=5))
        assert fire_due_timers(T0 + timedelta(hours=5)) == 1
        page = browser("ana@acme.test").get(f"/requests/{req.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "ev-prioritized" in html and "ev-escalated" in html
    assert "Segunda línea" in html  # the team's name, not its key
