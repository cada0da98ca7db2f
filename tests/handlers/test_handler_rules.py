"""Each task form's limits, at their edges: text lengths, amounts, ratings and ids, the message
that says which limit was crossed, and what a resubmission and a confirmation change. The
schemas are built when the app is imported; these tests pin the numbers they were built with."""

from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError

from app.extensions import db
from app.handlers.assign import workers_of
from app.handlers.base import MAX_AMOUNT, TaskContext, normalize_messages
from app.handlers.registry import TASK_HANDLERS
from app.models import WEBHOOK_EVENTS, HistoryEvent, Membership, ServiceRequest, Unit, User
from app.services import workflow
from tests.factories import open_task, request_at, user

# Tomorrow: still ahead of the clock if the run crosses midnight
TODAY = (date.today() + timedelta(days=1)).isoformat()
BASE = {
    "authorize": {"decision": "authorize"},
    "evaluate": {"decision": "approve", "estimated_cost": "1", "estimated_hours": "8",
                 "staff_available": "true"},
    "assign": {"worker_id": "7", "planned_start": TODAY, "planned_end": TODAY},
    "start": {},
    "hold": {"reason": "Falta material"},
    "resume": {},
    "finish": {"resolution": "Listo", "hours_spent": "1", "materials_cost": "0"},
    "confirm": {"rating": "5"},
    "resubmit": {"comment": "Piso 3"},
}
# (handler, field, fewest characters, most characters)
TEXTS = [
    ("authorize", "comment", 0, 2000), ("evaluate", "comment", 0, 2000),
    ("assign", "comment", 0, 2000), ("start", "comment", 0, 2000),
    ("hold", "reason", 1, 2000), ("resume", "comment", 0, 2000),
    ("finish", "resolution", 1, 10000), ("confirm", "comment", 0, 2000),
    ("resubmit", "title", 3, 200), ("resubmit", "description", 3, 10000),
    ("resubmit", "location", 0, 200), ("resubmit", "comment", 1, 2000),
]
# (handler, field, lowest, highest)
NUMBERS = [
    ("evaluate", "estimated_cost", 0, MAX_AMOUNT), ("finish", "hours_spent", 0, 10000),
    ("finish", "materials_cost", 0, MAX_AMOUNT), ("confirm", "rating", 1, 5),
]


@pytest.fixture(autouse=True)
def request_context(app):
    with app.test_request_context():
        yield


def load(handler: str, **changes) -> dict:
    return TASK_HANDLERS[handler].schema().load({**BASE[handler], **changes})


def errors(handler: str, **changes) -> dict:
    with pytest.raises(ValidationError) as refused:
        load(handler, **changes)
    return refused.value.messages


def length_message(low: int, high: int) -> str:
    if low:
        return str(_l("Between %(min)s and %(max)s characters.", min=low, max=high))
    return str(_l("At most %(max)s characters.", max=high))


@pytest.mark.parametrize("handler,field,low,high", TEXTS,
                         ids=[f"{h}-{f}" for h, f, _, _ in TEXTS])
def test_text_lengths(handler, field, low, high):
    assert load(handler, **{field: "x" * high})[field] == "x" * high
    assert errors(handler, **{field: "x" * (high + 1)}) == {field: [length_message(low, high)]}
    if low > 1:
        assert load(handler, **{field: "x" * low})[field] == "x" * low
        assert errors(handler, **{field: "x" * (low - 1)}) == {
            field: [length_message(low, high)]}


@pytest.mark.parametrize("handler,field,low,high", NUMBERS,
                         ids=[f"{h}-{f}" for h, f, _, _ in NUMBERS])
def test_number_ranges(handler, field, low, high):
    message = [str(_l("Must be between %(min)s and %(max)s.", min=low, max=high))]
    assert load(handler, **{field: str(low)})[field] == low
    assert load(handler, **{field: str(high)})[field] == high
    assert errors(handler, **{field: str(low - 1)}) == {field: message}
    assert errors(handler, **{field: str(high + 1)}) == {field: message}


def test_amounts_keep_two_decimals():
    assert load("evaluate", estimated_cost="150,555")["estimated_cost"] == Decimal("150.56")
    assert load("finish", hours_spent="1.5")["hours_spent"] == Decimal("1.50")
    assert str(load("finish", materials_cost="2")["materials_cost"]) == "2.00"
    typed = "$\u00a01\u00a0500,50"  # as a spreadsheet copies it: non-breaking spaces
    assert load("evaluate", estimated_cost=typed)["estimated_cost"] == Decimal("1500.50")
    assert load("evaluate", estimated_cost="1,500,000")["estimated_cost"] == Decimal("1500000")


def test_ids_are_positive_integers_the_database_can_hold():
    assert load("assign", worker_id=str(2**31 - 1))["worker_id"] == 2**31 - 1
    assert load("assign", worker_id=7)["worker_id"] == 7
    for bad in ("0", "-3", str(2**31), "7.5", "siete"):
        assert "worker_id" in errors("assign", worker_id=bad), bad
    assert load("assign", helper_ids=[str(n) for n in range(1, 21)])["helper_ids"] == list(
        range(1, 21))
    refused = errors("assign", helper_ids=[str(n) for n in range(1, 22)])
    assert refused == {"helper_ids": [length_message(0, 20)]}


def test_messages_are_flat_lists_of_strings():
    assert normalize_messages({"a": "x", "b": ["y", ["z"]], "c": {0: ["w"]}}) == {
        "a": ["x"], "b": ["y", "z"], "c": {0: ["w"]}}
    assert normalize_messages([["x", "y"], "z"]) == ["x", "y", "z"]
    assert normalize_messages([{"a": "x"}, "y"]) == [{"a": ["x"]}, "y"]


def returned_request():
    req, task = request_at("Task_Evaluate")
    workflow.complete(user("director@acme.test"), task, "evaluate",
                      {"decision": "return", "comment": "¿Qué piso?"})
    db.session.commit()
    return req, open_task(req, "Task_ProvideInformation")


def test_a_resubmission_offers_the_request_and_changes_only_what_is_sent(demo):
    req, task = returned_request()
    ana = user("ana@acme.test")
    handler = TASK_HANDLERS["resubmit"]
    assert handler.prefill(TaskContext(ana, req, task)) == {
        "title": req.title, "description": req.description, "location": req.location}
    workflow.complete(ana, task, "resubmit",
                      {"title": "Cambiar tres bombillos", "comment": "Piso 3"})
    db.session.commit()
    req = db.session.get(ServiceRequest, req.id)
    assert (req.title, req.description, req.location) == (
        "Cambiar tres bombillos", "Detalle del pedido", "Piso 1")
    assert req.status == "pending_evaluation"

    other, task = returned_request()
    workflow.complete(ana, task, "resubmit", {
        "title": "Otro título", "description": "Más detalle", "location": "Bodega 2",
        "comment": "Listo"})
    db.session.commit()
    other = db.session.get(ServiceRequest, other.id)
    assert (other.title, other.description, other.location) == (
        "Otro título", "Más detalle", "Bodega 2")


def test_a_confirmation_records_the_rating_and_its_comment(demo):
    req, task = request_at("Task_Confirm")
    workflow.complete(user("ana@acme.test"), task, "confirm",
                      {"rating": "4", "comment": "Rápido"})
    db.session.commit()
    req = db.session.get(ServiceRequest, req.id)
    assert (req.rating, req.rating_comment) == (4, "Rápido")
    assert TASK_HANDLERS["confirm"].event({"rating": 4}) == "request.confirmed"
    # The rating is also handed to the diagram, for a company's own process to read, with
    # the answer its gateway after the confirmation routes on.
    assert TASK_HANDLERS["confirm"].apply(TaskContext(None, req, None), {"rating": 4}) == {
        "rating": 4, "solved": True}
    db.session.rollback()


def test_resuming_clears_the_reason_for_the_hold(demo):
    req, task = request_at("Task_OnHold")
    assert req.ticket.hold_reason == "Falta material"
    workflow.complete(user("tecnico1@acme.test"), task, "resume", {})
    db.session.commit()
    assert db.session.get(ServiceRequest, req.id).ticket.hold_reason is None



def history_of(req_id: int, action: str) -> HistoryEvent:
    return db.session.query(HistoryEvent).filter_by(request_id=req_id, action=action).one()


def test_the_workers_steps_record_what_they_say(demo):
    worker = user("tecnico1@acme.test")
    req, task = request_at("Task_Start")
    workflow.complete(worker, task, "start", {"comment": "Voy"})
    db.session.commit()
    assert db.session.get(ServiceRequest, req.id).ticket.actual_start is not None
    workflow.complete(worker, open_task(req, "Task_Work"), "hold", {"reason": "Sin repuesto"})
    db.session.commit()
    assert db.session.get(ServiceRequest, req.id).ticket.hold_reason == "Sin repuesto"
    hold = history_of(req.id, "hold")
    assert hold.comment == "Sin repuesto" and "reason" not in hold.changes
    workflow.complete(worker, open_task(req, "Task_OnHold"), "resume", {})
    db.session.commit()
    workflow.complete(worker, open_task(req, "Task_Work"), "finish", {
        "resolution": "Cambiado", "hours_spent": "2,5", "materials_cost": "30000",
        "comment": "Cambiado"})
    db.session.commit()
    ticket = db.session.get(ServiceRequest, req.id).ticket
    assert (ticket.resolution, ticket.hours_spent, ticket.materials_cost) == (
        "Cambiado", Decimal("2.50"), Decimal("30000.00"))
    assert ticket.actual_end is not None and ticket.actual_end >= ticket.actual_start
    finish = history_of(req.id, "finish")
    assert finish.comment == "Cambiado"
    # What the history lists as changed leaves out the comment, and a value equal to it.
    # With its cost: hours x the rate that applies (none set here) + materials.
    assert set(finish.changes) == {"hours_spent", "materials_cost", "hourly_rate", "actual_cost",
                                   "ticket_status"}
    assert finish.changes["actual_cost"] == "30000.00" and finish.changes["hourly_rate"] is None
    assert ticket.actual_cost == Decimal("30000.00")


def test_the_work_step_tells_the_diagram_how_it_ended():
    """``action`` is in the data vocabulary a company's own gateway may test after the work."""
    ticket = SimpleNamespace()
    ctx = TaskContext(None, SimpleNamespace(ticket=ticket), None)
    assert TASK_HANDLERS["hold"].apply(ctx, load("hold")) == {"action": "hold"}
    assert TASK_HANDLERS["finish"].apply(ctx, load("finish")) == {"action": "finish"}
    assert ticket.hold_reason == "Falta material" and ticket.actual_end is not None


def test_each_step_announces_its_webhook_event():
    events = {name: TASK_HANDLERS[name].event(BASE[name]) for name in BASE}
    assert events == {
        "authorize": "request.authorized", "evaluate": "request.approved",
        "assign": "ticket.assigned", "start": "ticket.started", "hold": "ticket.on_hold",
        "resume": "ticket.resumed", "finish": "ticket.finished", "confirm": "request.confirmed",
        "resubmit": None}
    assert set(events.values()) - {None} <= set(WEBHOOK_EVENTS)
    rejected = TASK_HANDLERS["authorize"].event({"decision": "reject", "comment": "No"})
    assert rejected == "request.rejected"


@pytest.mark.parametrize("decision,event", [
    ("approve", "request.approved"), ("reject", "request.rejected"),
    ("return", "request.returned")])
def test_an_evaluation_keeps_cost_and_staff_only_when_approved(decision, event, monkeypatch):
    handler = TASK_HANDLERS["evaluate"]
    data = {"decision": decision, "estimated_cost": Decimal("150.50"),
            "estimated_hours": Decimal("12.50"), "staff_available": True, "comment": "Revisado",
            "over_budget": False, "earliest_start": date(2026, 12, 7),
            "committed_on": date(2026, 12, 4)}
    tenant = SimpleNamespace(setting=lambda key: key == "over_budget_approval")
    req = SimpleNamespace(estimated_cost=None, estimated_hours=None, staff_available=None,
                          committed_on=date(2026, 1, 1))
    monkeypatch.setattr("app.handlers.evaluate.tenant_of", lambda row: tenant)
    ctx = TaskContext(None, req, None)
    approved = decision == "approve"
    assert handler.event(data) == event
    assert handler.apply(ctx, data) == {
        "decision": decision, "estimated_cost": 150.5 if approved else None,
        "estimated_hours": 12.5 if approved else None,
        "staff_available": True if approved else None, "over_budget": False,
        "earliest_start": "2026-12-07", "over_budget_approval": True}
    assert (req.estimated_cost, req.estimated_hours, req.staff_available, req.committed_on) == (
        (Decimal("150.50"), Decimal("12.50"), True, date(2026, 12, 4)) if approved
        else (None, None, None, None))
    expected = {"decision": decision, "over_budget": False, "earliest_start": date(2026, 12, 7),
                "committed_on": date(2026, 12, 4)}
    if approved:
        expected.update(estimated_cost=Decimal("150.50"), estimated_hours=Decimal("12.50"),
                        staff_available=True)
    assert handler.describe(ctx, data) == expected


@pytest.mark.parametrize("comment", ["", None, "Revisado"])
def test_the_history_never_lists_the_comment_as_a_change(comment):
    """The comment has its own place in the history: an empty one is no change either."""
    handler = TASK_HANDLERS["authorize"]
    data = {"decision": "approve", "comment": comment}
    assert handler.describe(None, data) == {"decision": "approve"}


def test_only_active_workers_of_the_service_unit_may_be_assigned(demo):
    acme = user("ana@acme.test").tenant_id
    services = user("tecnico1@acme.test").memberships[0].unit_id
    by_name = [w.email for w in workers_of(acme, services)]
    assert by_name == ["tecnico2@acme.test", "tecnico1@acme.test"]  # Teresa, then Tomás
    it = Unit(tenant_id=acme, name="Sistemas", is_service_unit=True)
    other = User(tenant_id=acme, email="tecnico.ti@acme.test", name="Tina TI",
                 password_hash=user("ana@acme.test").password_hash)
    db.session.add_all([it, other, Membership(tenant_id=acme, user=other, unit=it,
                                              role="worker")])
    user("tecnico2@acme.test").active = False
    db.session.commit()
    req, task = request_at("Task_Assign")
    assert [w.email for w in workers_of(acme, req.service_unit_id)] == ["tecnico1@acme.test"]
    for email in ("tecnico.ti@acme.test", "tecnico2@acme.test", "director@acme.test"):
        with pytest.raises(ValidationError) as refused:
            workflow.complete(user("director@acme.test"), task, "assign",
                              {**BASE["assign"], "worker_id": str(user(email).id)})
        db.session.rollback()
        assert "worker_id" in refused.value.messages, email


def test_an_assignment_is_recorded_with_names_and_dates(demo):
    req, task = request_at("Task_Assign")
    one, two = user("tecnico1@acme.test"), user("tecnico2@acme.test")
    workflow.complete(user("director@acme.test"), task, "assign", {
        **BASE["assign"], "worker_id": str(one.id), "helper_ids": [str(two.id)]})
    db.session.commit()
    assert history_of(req.id, "assign").changes == {
        "worker": one.name, "planned_start": TODAY, "planned_end": TODAY,
        "helpers": [two.name], "ticket_status": [None, "pending"]}
    ticket = db.session.get(ServiceRequest, req.id).ticket
    assert (ticket.worker_id, [h.id for h in ticket.helpers]) == (one.id, [two.id])
