"""`flask seed-scale`: generated requests look like walked ones and work like them."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    HistoryEvent,
    HumanTask,
    Membership,
    NumberSequence,
    ProcessInstance,
    ServiceRequest,
    Tenant,
    Ticket,
    User,
)
from app.models.base import utcnow
from app.seeding import seed_scale, seed_scale_command
from app.seeding.plans import STAGES
from app.services import requests as request_service
from app.services.background import run_due_timers

# What each open stage waits for: (open task, request status, ticket status)
OPEN = {
    "at_authorize": ("Task_Authorize", "pending_authorization", None),
    "at_evaluate": ("Task_Evaluate", "pending_evaluation", None),
    "returned": ("Task_ProvideInformation", "returned", None),
    "at_assign": ("Task_Assign", "pending_assignment", None),
    "at_start": ("Task_Start", "in_service", "pending"),
    "at_work": ("Task_Work", "in_service", "in_progress"),
    "on_hold": ("Task_OnHold", "in_service", "on_hold"),
    "at_confirm": ("Task_Confirm", "completed", "finished"),
}
CLOSED = {"completed": "completed", "completed_after_hold": "completed",
          "rejected_by_head": "rejected", "rejected_by_director": "rejected",
          "cancelled": "cancelled"}


@pytest.fixture
def seeded(app):
    result = seed_scale(2, 600, seed=7, progress=False)
    assert result["requests"] == 600
    return result


def _open_task(req):
    return db.session.scalars(select(HumanTask).where(
        HumanTask.request_id == req.id, HumanTask.status == "open")).all()


def _stage_of(req) -> str:
    tasks = _open_task(req)
    return tasks[0].spec_id if tasks else req.status


class Api:
    def __init__(self, app, email):
        self.app, self.client = app, app.test_client()
        response = self.call("POST", "/api/v1/tokens", {"email": email, "password": "demo1234"})
        assert response.status_code == 201, response.json
        self.token = response.json["token"]

    def call(self, method, url, body=None):
        headers = {"Authorization": f"Bearer {self.token}"} if getattr(self, "token", None) \
            else {}
        with self.app.app_context():
            return self.client.open(url, method=method, json=body, headers=headers)


def test_counts_and_numbers(seeded):
    assert db.session.scalar(select(func.count(Tenant.id))) == 2
    assert db.session.scalar(select(func.count(ServiceRequest.id))) == 600
    assert db.session.scalar(select(func.count(ProcessInstance.id))) == 600
    # Every request's number is unique in its tenant, and the counters continue after them.
    for tenant_id, last in db.session.execute(
            select(NumberSequence.tenant_id, func.sum(NumberSequence.last))
            .where(NumberSequence.kind == "SOL").group_by(NumberSequence.tenant_id)):
        assert last == db.session.scalar(select(func.count(ServiceRequest.id)).where(
            ServiceRequest.tenant_id == tenant_id))
    tickets = db.session.scalar(select(func.count(Ticket.id)))
    assert tickets == db.session.scalar(select(func.sum(NumberSequence.last)).where(
        NumberSequence.kind == "TKT"))


def test_every_request_is_consistent(seeded):
    """Open requests wait on exactly one open task matching their status; closed ones on none;
    the instance version counts the steps; history starts with the filing."""
    seen = set()
    for req in db.session.scalars(select(ServiceRequest)):
        tasks = _open_task(req)
        instance = req.instance
        events = db.session.scalars(select(HistoryEvent).where(
            HistoryEvent.request_id == req.id).order_by(HistoryEvent.id)).all()
        assert events[0].action == "filed"
        assert events[0].created_at == req.created_at
        if tasks:
            assert len(tasks) == 1
            spec_id = tasks[0].spec_id
            stage = next(s for s, (t, status, _) in OPEN.items()
                         if t == spec_id and status == req.status)
            _, status, ticket_status = OPEN[stage]
            assert (req.ticket.status if req.ticket else None) == ticket_status
            assert instance.status == "running" and req.closed_at is None
            seen.add(stage)
        else:
            assert req.status in set(CLOSED.values())
            assert instance.status == "completed" and req.closed_at is not None
            seen.add(req.status)
        assert instance.version == 1 + sum(
            1 for e in events if e.action not in ("filed", "ticket_created"))
    assert seen >= set(OPEN) - {"returned", "on_hold"}


def test_a_completed_request_reads_like_a_walked_one(seeded):
    req = db.session.scalars(select(ServiceRequest).where(
        ServiceRequest.status == "completed", ServiceRequest.closed_at.is_not(None))).first()
    actions = [e.action for e in db.session.scalars(select(HistoryEvent).where(
        HistoryEvent.request_id == req.id).order_by(HistoryEvent.id))]
    assert actions in (
        ["filed", "authorize", "evaluate", "assign", "ticket_created", "start", "finish",
         "confirm"],
        ["filed", "authorize", "evaluate", "assign", "ticket_created", "start", "hold",
         "resume", "finish", "confirm"])
    assert req.ticket.status == "closed" and req.rating == 5
    statuses = [t.status for t in db.session.scalars(select(HumanTask).where(
        HumanTask.request_id == req.id))]
    assert statuses and set(statuses) == {"completed"}


def test_seeded_requests_are_walked_to_the_end_through_the_api(app, seeded):
    """Every open stage: the person it waits on sees it, opens it and completes it; then the
    rest of the lifecycle goes on as for any request."""
    steps = {
        "Task_Authorize": {"decision": "authorize"},
        "Task_Evaluate": {"decision": "approve", "estimated_cost": 100, "estimated_hours": 4,
                          "staff_available": True},
        "Task_ProvideInformation": {"comment": "Piso 3, oficina 301"},
        "Task_Assign": None,
        "Task_Start": {},
        "Task_OnHold": {},
        "Task_Work": {"kind": "finish", "resolution": "Listo", "hours_spent": 1,
                      "materials_cost": 0},
        "Task_Confirm": {"rating": 4},
    }
    walked = set()
    for spec_id in steps:
        task = db.session.scalars(select(HumanTask).where(
            HumanTask.spec_id == spec_id, HumanTask.status == "open")).first()
        if task is None:
            continue
        request_id = task.request_id
        for _ in range(10):
            task = db.session.scalars(select(HumanTask).where(
                HumanTask.request_id == request_id, HumanTask.status == "open")).first()
            if task is None:
                break
            person = _person_for(task)
            api = Api(app, person.email)
            detail = api.call("GET", f"/api/v1/requests/{request_id}")
            assert detail.status_code == 200
            assert person.email in [p["email"] for p in detail.json["current_steps"][0][
                "waiting_on"]]
            inbox = api.call("GET", "/api/v1/tasks?per_page=100")
            assert task.id in [t["id"] for t in inbox.json["items"]] or inbox.json["total"] > 100
            body = steps[task.spec_id]
            if body is None:
                worker = _member(task.tenant_id, "worker", task.unit_id)
                today = utcnow().date()
                body = {"worker_id": worker.id, "planned_start": today.isoformat(),
                        "planned_end": (today + timedelta(days=2)).isoformat()}
            done = api.call("POST", f"/api/v1/tasks/{task.id}/complete", body)
            assert done.status_code == 200, done.json
            walked.add(task.spec_id)
            db.session.rollback()  # a fresh snapshot: the API committed meanwhile
        req = db.session.get(ServiceRequest, request_id)
        assert req.status == "completed" and req.closed_at is not None
        assert req.ticket.status == "closed"
    assert {"Task_Authorize", "Task_Work", "Task_Confirm"} <= walked


def _member(tenant_id: int, role: str, unit_id: int) -> User:
    return db.session.scalars(select(User).join(Membership).where(
        Membership.tenant_id == tenant_id, Membership.role == role,
        Membership.unit_id == unit_id).order_by(User.id)).first()


def _person_for(task: HumanTask) -> User:
    if task.assigned_user_id:
        return db.session.get(User, task.assigned_user_id)
    return _member(task.tenant_id, task.role, task.unit_id)


def test_no_timer_is_due_and_new_requests_get_the_next_numbers(app, seeded):
    assert run_due_timers() == 0
    waiting = db.session.scalars(select(ProcessInstance).where(
        ProcessInstance.next_timer_at.is_not(None))).all()
    assert waiting and all(i.next_timer_at > utcnow() for i in waiting)
    requester = db.session.scalars(select(User).where(
        User.email == "empleado011@t001.test")).one()
    category = db.session.scalars(select(ServiceRequest.category_id).where(
        ServiceRequest.tenant_id == requester.tenant_id)).first()
    req = request_service.file_request(requester, {
        "title": "Nueva", "description": "Después del sembrado", "category_id": category})
    db.session.commit()
    year = utcnow().year
    last = db.session.scalar(select(func.max(ServiceRequest.number)).where(
        ServiceRequest.tenant_id == requester.tenant_id,
        ServiceRequest.number.like(f"SOL-{year}-%"), ServiceRequest.id != req.id))
    assert req.number > last


def test_the_command(app):
    runner = app.test_cli_runner()
    result = runner.invoke(seed_scale_command, ["--tenants", "1", "--requests", "40", "--quiet"])
    assert result.exit_code == 0, result.output
    assert "40 request(s)" in result.output
    again = runner.invoke(seed_scale_command, ["--tenants", "1", "--requests", "40", "--quiet",
                                               "--if-empty"])
    assert "nothing to do" in again.output
    refused = runner.invoke(seed_scale_command, ["--tenants", "1", "--requests", "40", "--quiet"])
    assert refused.exit_code != 0 and "already exist" in refused.output
    assert db.session.scalar(select(func.count(ServiceRequest.id))) == 40


def test_stage_shares_add_up():
    assert abs(sum(share for _, share in STAGES.values()) - 1) < 1e-9


def test_seeded_budget_figures_agree_with_the_seeded_history(app, seeded):
    """The seeded rows hold what their history says: a year's budget for every service unit
    of a tenant, for each year the requests span, adds up by both ways of counting."""
    from app.models import Budget, Tenant, Unit
    from app.tenancy import isolation
    from app.viability import budgets, ledger

    tenant = db.session.scalars(select(Tenant).order_by(Tenant.id)).first()
    with isolation.tenant(tenant.id):
        first, last = db.session.execute(select(
            func.min(ServiceRequest.committed_on), func.max(ServiceRequest.committed_on))
            .where(ServiceRequest.tenant_id == tenant.id)).one()
        assert first is not None
        for unit in db.session.scalars(select(Unit).where(Unit.tenant_id == tenant.id,
                                                          Unit.is_service_unit.is_(True))):
            for year in range(first.year, last.year + 1):
                budgets.save(tenant.id, budgets.BudgetInput(
                    service_unit_id=unit.id, period="year", starts_on=first.replace(
                        year=year, month=1, day=1), amount=budgets.MAX_AMOUNT))
        db.session.flush()
        assert ledger.check(tenant.id) == []
        figures = budgets.figures(list(db.session.scalars(select(Budget))))
        assert sum(f.requests for f in figures.values()) > 0
        assert sum(f.spent for f in figures.values()) > 0
        db.session.rollback()
