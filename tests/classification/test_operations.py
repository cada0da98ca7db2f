"""The classify and auto_assign operations through a small diagram (classify -> auto_assign ->
create_ticket -> the worker's start and finish), the engine saved and restored between steps:
a request is classified and gets its ticket with no director; the loads, skills and turn are
hand-computed."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from app.classification import assignment
from app.classification.models import AssignmentTurn
from app.extensions import db
from app.models import HistoryEvent, HumanTask, ProcessIncident, ProcessInstance
from app.services import workflow
from tests.classification.helpers import (
    by_email,
    category,
    file_in,
    give_load,
    help_desk,
    rule,
    skill,
    unit,
)

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # a Monday, 10:00 in Bogotá
TODAY = date(2026, 3, 2)


@pytest.fixture
def desk(demo):
    with time_machine.travel(T0, tick=False):
        yield help_desk()


def _entries(req, action):
    return list(db.session.scalars(select(HistoryEvent).where(
        HistoryEvent.request_id == req.id, HistoryEvent.action == action)))


def _open(req, spec_id):
    return db.session.scalar(select(HumanTask).where(
        HumanTask.request_id == req.id, HumanTask.spec_id == spec_id,
        HumanTask.status == "open"))


def test_a_request_is_classified_assigned_and_worked_without_a_director(desk):
    printers = desk["categories"]["Impresoras"]
    rule("Impresoras", position=1, words=["impresora", "toner"], category_id=printers.id,
         priority="high")
    w1, w2, w3 = desk["workers"]
    give_load(w1, "4")
    give_load(w2, "2")  # w2 and w3: one ticket each; w3's has fewer hours
    give_load(w3, "1")
    give_load(w1, "1")

    req = file_in(desk["categories"]["Redes"], title="La IMPRESORA no imprime",
                  description="Se atascó el papel")
    assert req.category_id == printers.id
    assert req.priority == "high"
    classified = _entries(req, "classified")
    assert [e.changes for e in classified] == [
        {"rule": "Impresoras", "category": "Impresoras", "priority": "high"}]
    assert req.ticket is not None and req.ticket.worker_id == w3.id
    assert req.ticket.planned_start == TODAY
    assert req.ticket.planned_end == TODAY + timedelta(days=1)  # high: one day
    auto = _entries(req, "auto_assigned")
    assert len(auto) == 1 and auto[0].actor_id is None
    assert auto[0].changes["worker"] == w3.name
    assert auto[0].changes["open_tickets"] == 1
    assert auto[0].changes["planned_hours"] == "1.00"
    assert auto[0].changes["tie_turn"] is False
    # Filed by Ana, but nobody decided the ticket: the System made it, as it assigned it.
    assert [e.actor_id for e in _entries(req, "ticket_created")] == [None]

    # The worker's steps, each restoring the saved instance
    start = _open(req, "Task_Start")
    assert start.assigned_user_id == w3.id
    workflow.complete(by_email("w3@acme.test"), start, "start", {})
    db.session.commit()
    workflow.complete(by_email("w3@acme.test"), _open(req, "Task_Work"), "finish",
                      {"resolution": "Cambiado el tóner", "hours_spent": "1",
                       "materials_cost": "0"})
    db.session.commit()
    instance = db.session.scalar(select(ProcessInstance).where(
        ProcessInstance.request_id == req.id))
    assert instance.status == "completed"


def test_no_rule_matching_changes_nothing(desk):
    rule("Impresoras", words=["impresora"], category_id=desk["categories"]["Impresoras"].id)
    req = file_in(desk["categories"]["Redes"], title="Sin red en el piso 3",
                  description="Los cables")
    assert req.category.name == "Redes" and req.priority == "normal"
    assert _entries(req, "classified") == []
    assert req.ticket is not None  # assigned all the same


def test_a_rule_that_changes_nothing_writes_no_history(desk):
    rule("Redes", words=["red"], category_id=desk["categories"]["Redes"].id)
    req = file_in(desk["categories"]["Redes"], title="Sin red")
    assert _entries(req, "classified") == []


def test_a_category_of_another_service_unit_brings_its_unit_but_not_its_process(desk):
    electricity = category("Electricidad")
    rule("Eléctrico", words=["enchufe"], category_id=electricity.id)
    req = file_in(desk["categories"]["Redes"], title="El enchufe del switch echa chispas")
    assert req.category_id == electricity.id
    assert req.service_unit_id == unit("Servicios Generales").id
    assert _entries(req, "classified")[0].changes["service_unit"] == "Servicios Generales"
    # Still the auto diagram it was filed under: assigned among Servicios Generales' workers
    instance = db.session.scalar(select(ProcessInstance).where(
        ProcessInstance.request_id == req.id))
    assert instance.definition.process_key == "auto_desk"
    assert req.ticket.worker.email in ("tecnico1@acme.test", "tecnico2@acme.test")


def test_skills_narrow_the_workers_and_no_skill_rows_means_every_category(desk):
    w1, w2, w3 = desk["workers"]
    redes, printers = desk["categories"]["Redes"], desk["categories"]["Impresoras"]
    skill(w1, printers)  # w1 only printers
    skill(w2, printers)  # w2 only printers; w3 has none: everything
    give_load(w3, "10")
    give_load(w3, "10")
    req = file_in(redes)  # only w3 handles Redes, however loaded
    assert req.ticket.worker_id == w3.id
    req = file_in(printers, title="Impresora")  # w1 and w2 tie at 0: the turn, then w1
    assert req.ticket.worker_id == w1.id


def test_ties_go_round_robin_by_a_turn_per_service_unit(desk):
    w1, w2, w3 = desk["workers"]
    redes = desk["categories"]["Redes"]
    chosen = []
    for _ in range(4):
        req = file_in(redes)
        chosen.append(req.ticket.worker_id)
    # 0,0,0 -> w1; then w2 and w3 tie at 0 -> w2 (after w1); w3; all at 1 -> after w3: w1
    assert chosen == [w1.id, w2.id, w3.id, w1.id]
    turn = db.session.scalar(select(AssignmentTurn))
    assert turn.last_worker_id == w1.id and turn.service_unit_id == desk["desk"].id
    ties = [e.changes["tie_turn"] for e in db.session.scalars(select(HistoryEvent).where(
        HistoryEvent.action == "auto_assigned").order_by(HistoryEvent.id))]
    assert ties == [True, True, False, True]


def test_load_counts_open_tickets_first_then_planned_hours(desk):
    w1, w2, w3 = desk["workers"]
    give_load(w1, "40")               # w1: 1 ticket, 40 h
    give_load(w2, "1")                # w2: 2 tickets, 2 h
    give_load(w2, "1")
    give_load(w3, None)               # w3: 1 ticket with no estimate (0 h) + a closed one
    give_load(w3, "30", status="closed")
    loads = assignment.loads(w1.tenant_id, [w1.id, w2.id, w3.id])
    assert {k: (v.open_tickets, str(v.planned_hours)) for k, v in loads.items()} == {
        w1.id: (1, "40.00"), w2.id: (2, "2.00"), w3.id: (1, "0.00")}
    assert file_in(desk["categories"]["Redes"]).ticket.worker_id == w3.id


def test_inactive_workers_and_other_units_are_not_chosen(desk):
    w1, w2, w3 = desk["workers"]
    w1.active = False
    w2.active = False
    db.session.commit()
    assert file_in(desk["categories"]["Redes"]).ticket.worker_id == w3.id


def test_nobody_to_assign_stops_the_request_as_an_incident_with_a_clear_message(desk):
    w1, w2, w3 = desk["workers"]
    printers = desk["categories"]["Impresoras"]
    for w in (w1, w2, w3):
        skill(w, printers)
    req = file_in(desk["categories"]["Redes"])
    assert req.ticket is None
    incident = db.session.scalar(select(ProcessIncident).where(
        ProcessIncident.request_id == req.id))
    assert incident is not None
    assert "no active worker of the service unit 'Mesa TI' handles the category 'Redes'" \
        in incident.error
    assert _entries(req, "auto_assigned") == []


def test_planned_end_follows_the_estimated_hours_as_working_days(desk):
    from app.models import ServiceRequest

    req = ServiceRequest(tenant_id=desk["desk"].tenant_id, priority="low",
                         estimated_hours=None, sla_due_at=None)
    today = date(2026, 3, 2)
    assert assignment.planned_dates(req, today) == (today, today + timedelta(days=5))
    req.estimated_hours = 8
    assert assignment.planned_dates(req, today) == (today, today)
    req.estimated_hours = 17
    assert assignment.planned_dates(req, today) == (today, today + timedelta(days=2))
    req.priority, req.estimated_hours = "urgent", None
    assert assignment.planned_dates(req, today) == (today, today)


def test_after_a_skill_is_added_retrying_the_incident_assigns_the_request(desk):
    w1, w2, w3 = desk["workers"]
    printers, redes = desk["categories"]["Impresoras"], desk["categories"]["Redes"]
    for w in (w1, w2, w3):
        skill(w, printers)
    req = file_in(redes)
    incident = db.session.scalar(select(ProcessIncident).where(
        ProcessIncident.request_id == req.id))
    skill(w2, redes)
    assert workflow.retry_incident(by_email("admin@acme.test"), incident) is True
    db.session.commit()
    db.session.expire_all()
    assert req.ticket is not None and req.ticket.worker_id == w2.id
    assert _open(req, "Task_Start").assigned_user_id == w2.id
