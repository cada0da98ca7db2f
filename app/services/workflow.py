"""Hosts the engine for service requests: start, complete a task, claim, fire timers.

Each public function here is one unit of work inside the caller's transaction: it only flushes.
Every engine step locks the instance row and bumps its version with a conditional UPDATE, so of
two concurrent completions of one task exactly one goes through and the other gets
``TaskConflict``.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from app import policy
from app.checklists import tasks as checklist_tasks
from app.engine import migration
from app.engine.runner import EngineError, Instance, StepFailed, TaskNotReady
from app.engine.validation import COMPANY_ROLES, TEAM_ROLE, lane_role
from app.engine.xml import DiagramError
from app.extensions import db
from app.handlers.base import OperationContext, TaskContext
from app.handlers.form import FormNotFound
from app.handlers.operations import OperationError
from app.handlers.registry import OPERATIONS, handler_for
from app.indicators import heatmap_passes, stages
from app.models import (
    BusinessCalendar,
    HumanTask,
    ProcessDefinition,
    ProcessIncident,
    ProcessInstance,
    ServiceRequest,
    SlaClock,
    User,
)
from app.models.base import utcnow
from app.notifications import notices
from app.request_fields import values as request_fields
from app.services import definitions, events, history, incidents, org
from app.sla import service as sla
from app.teams import board
from app.teams import tasks as team_tasks
from app.tenancy.access import not_suspended


class TaskConflict(Exception):
    """The task was completed, cancelled or claimed by someone else meanwhile."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason  # "already_completed" or "claimed"


class NotAllowed(Exception):
    """The user may see the task but may not act on it."""


class WorkflowError(Exception):
    """The diagram failed to run a step; nothing was changed."""


@dataclass
class Completion:
    request: ServiceRequest
    from_status: str
    to_status: str
    open_tasks: list[HumanTask]  # the steps the request waits on now, oldest first
    stopped: bool = False        # a later automatic step failed: the process owner is told


def _dispatcher(ctx: OperationContext):
    def call(name, params, data):
        operation = OPERATIONS.get(name)
        if operation is None:
            raise OperationError(f"unknown service operation '{name}'")
        return operation(ctx, params, data)

    return call


def restore_instance(row: ProcessInstance, ctx: OperationContext) -> Instance:
    return _restore(row, ctx)


def _restore(row: ProcessInstance, ctx: OperationContext) -> Instance:
    try:
        compiled = definitions.compiled(row.definition)
        return Instance.restore(compiled, row.state, _dispatcher(ctx))
    except (DiagramError, ValueError, KeyError) as exc:
        raise WorkflowError(f"instance {row.id} cannot be restored: {exc}") from exc


def _scope(req: ServiceRequest, role: str, task=None) -> tuple[int | None, int | None]:
    """(unit the task is scoped to, user it is assigned to) for a task of ``role``; a
    ``Team`` lane's task: see ``app.teams.tasks.scope`` (its team is set there)."""
    if role == TEAM_ROLE:
        return req.service_unit_id, team_tasks.assignee(task)
    if role == "requester":
        return req.unit_id, req.requester_id
    if role == "unit_head":
        return org.authorizing_unit_id(req), None
    if role == "worker":
        return req.service_unit_id, req.ticket.worker_id if req.ticket else None
    if role in COMPANY_ROLES:
        return None, None
    return req.service_unit_id, None


def _sync(row: ProcessInstance, instance: Instance, req: ServiceRequest) -> list[HumanTask]:
    """Bring human-task rows and request/ticket statuses in step with the engine; returns the
    open task rows (those created here get their ids at the next flush)."""
    ready = instance.ready_tasks()
    ready_ids = {t.uuid for t in ready}
    open_rows = {
        t.task_uuid: t
        for t in db.session.scalars(
            select(HumanTask).where(HumanTask.instance_id == row.id,
                                    HumanTask.status == "open")
        )
    }
    still_open = []
    for uuid, task_row in open_rows.items():
        if task_row.status != "open":
            continue  # completed by this very step (not flushed yet)
        if uuid in ready_ids:
            still_open.append(task_row)
        else:
            task_row.status = "cancelled"
            task_row.completed_at = utcnow()
    for task in ready:
        if task.uuid in open_rows:
            continue
        role = lane_role(task.lane)
        unit_id, assigned = _scope(req, role, task)
        task_row = HumanTask(
            tenant_id=req.tenant_id, instance_id=row.id, request_id=req.id,
            task_uuid=task.uuid, spec_id=task.spec_id, name=task.name,
            handlers=",".join(task.handlers), lane=task.lane or "", role=role,
            unit_id=unit_id, assigned_user_id=assigned,
            team_id=team_tasks.team_id(req, task) if role == TEAM_ROLE else None,
        )
        db.session.add(task_row)
        if task.properties.get("checklist"):  # its step's instructions, as they are now
            checklist_tasks.open_for(task_row, req, row.definition.process_key,
                                     task.properties["checklist"].strip())
        notices.task_waiting(task_row, req)
        still_open.append(task_row)
    for task in ready:
        status = task.properties.get("request_status")
        if status and status != req.status:
            req.status = status
        ticket_status = task.properties.get("ticket_status")
        if ticket_status and req.ticket is not None:
            req.ticket.status = ticket_status
        break
    return still_open


def _save(row: ProcessInstance, instance: Instance, expected_version: int,
          stopped: bool = False) -> None:
    """Write the instance's new state if its version is still ``expected_version``. A plain
    table UPDATE (not the ORM's bulk path, several times its cost on every step); pending ORM
    changes are flushed by the caller. ``stopped``: an incident holds it (its timers wait)."""
    table = ProcessInstance.__table__
    status = "completed" if instance.is_completed else "incident" if stopped else "running"
    result = db.session.execute(
        update(table)
        .where(table.c.id == row.id, table.c.version == expected_version)
        .values(
            state=instance.dump(),
            version=expected_version + 1,
            status=status,
            next_timer_at=instance.next_timer_at(),
            updated_at=utcnow(),
        )
    )
    if result.rowcount != 1:
        raise TaskConflict("already_completed")
    db.session.expire(row)


def _stopped(row: ProcessInstance, instance: Instance, req: ServiceRequest,
             failure: StepFailed | None, during: str, actor: User | None) -> bool:
    """Whether an incident stops the instance after this step (recording a new failure);
    no query at all for an ordinary step of an instance that has none."""
    if failure is None and row.status != "incident":
        return False
    return incidents.after_step(row, instance, req, failure, during, actor)


def start(req: ServiceRequest, actor: User,
          definition: ProcessDefinition | None = None) -> ProcessInstance:
    """Start the request's workflow on ``definition`` (default: the active version of its
    category's process); the request takes that version's kind of work."""
    if definition is None:
        definition = definitions.active_definition(req.tenant_id, req.category.process_key)
    if req.kind != definition.kind:  # filing sets it before its INSERT: no UPDATE then
        req.kind = definition.kind
    tenant = req.requester.tenant
    data = {
        # The diagram's name for "no authorization needed" (requester heads the unit, or
        # nobody above heads one).
        "requester_is_head": not org.authorization_needed(req),
        "priority": req.priority,
        "authorization_reminder_after": tenant.setting("authorization_reminder_after"),
        "auto_close_after": tenant.setting("auto_close_after"),
        # Until the evaluation says otherwise (it writes both afresh)
        "over_budget": False,
        "over_budget_approval": bool(tenant.setting("over_budget_approval")),
    }
    compiled = definitions.compiled(definition)
    # The answers to its category's fields, by name, for gateway conditions
    data.update(request_fields.task_data(req, compiled.free_names))
    failure = None
    try:
        instance = Instance.create(compiled, data,
                                   _dispatcher(OperationContext(req, actor)))
        instance.advance()
    except StepFailed as exc:  # filed all the same; the process owner sees the incident
        failure = exc
    except (EngineError, OperationError) as exc:
        raise WorkflowError(str(exc)) from exc
    heatmap_passes.record(req, definition.id, instance)
    row = ProcessInstance(
        tenant_id=req.tenant_id, definition=definition, request_id=req.id,
        state=instance.dump(), version=1,
        status="completed" if instance.is_completed else "incident" if failure else "running",
        next_timer_at=instance.next_timer_at(),
    )
    db.session.add(row)
    db.session.flush()
    set_committed_value(req, "instance", row)  # known now: reading it costs no query
    _sync(row, instance, req)
    if failure is not None:
        incidents.after_step(row, instance, req, failure, "filing", actor)
    db.session.flush()
    return row


def _lock_instance(task: HumanTask) -> ProcessInstance:
    """Lock the task's instance (with its definition's row, not locked: only the checksum is
    read), then read the task, its request and ticket as they are now that the lock is ours:
    two statements."""
    row = db.session.scalars(
        select(ProcessInstance)
        .where(ProcessInstance.id == task.instance_id,
               ProcessInstance.tenant_id == task.tenant_id)
        .options(joinedload(ProcessInstance.definition, innerjoin=True))
        .with_for_update(of=ProcessInstance)
        .execution_options(populate_existing=True)
    ).one()
    db.session.scalars(
        select(HumanTask).where(HumanTask.id == task.id)
        .options(joinedload(HumanTask.request).joinedload(ServiceRequest.ticket),
                 # the step refreshes them (app.sla): read in the same statement
                 joinedload(HumanTask.request).joinedload(ServiceRequest.sla_clocks)
                 .joinedload(SlaClock.calendar)
                 # what finds the calendar's parsed copy (app.sla.service.calendar_of); its
                 # shifts and holidays are read only when that copy is not there yet
                 .load_only(BusinessCalendar.id, BusinessCalendar.tenant_id,
                            BusinessCalendar.time_zone, BusinessCalendar.updated_at,
                            # the default one measures lead times too (app.indicators)
                            BusinessCalendar.is_default))
        .execution_options(populate_existing=True)
    ).unique().one()
    return row


def complete(user: User, task: HumanTask, handler_name: str, form: dict) -> Completion:
    """Validate ``form`` with the handler, apply it, and move the engine one step.

    Raises marshmallow's ValidationError (bad input), TaskConflict (someone was first),
    NotAllowed, or WorkflowError; in every case the caller rolls back and nothing changes.
    """
    row = _lock_instance(task)
    if task.status != "open":
        raise TaskConflict("already_completed")
    if task.claimed_by_id not in (None, user.id):
        raise TaskConflict("claimed")
    if not policy.can_complete_task(user, task) or handler_name not in task.handler_list:
        raise NotAllowed()
    # a step with a checklist: every item ticked first (the page and the API alike)
    checklist_tasks.require_ticked(task, definitions.compiled(row.definition))
    req = task.request
    try:
        handler = handler_for(task, handler_name)
    except FormNotFound as exc:
        raise WorkflowError(str(exc)) from exc
    ctx = TaskContext(user=user, request=req, task=task)
    data = handler.load(ctx, form)
    notices.acted(user, req)
    from_status = req.status
    from_ticket_status = req.ticket.status if req.ticket else None
    # Written in one flush at the end (an operation that needs an id flushes on its own):
    # each flush costs a pass over the session, and the step's history entry can then be
    # inserted complete instead of inserted and updated.
    with db.session.no_autoflush:
        # Recorded first, so what the diagram does next (a ticket created...) follows it.
        event = history.record(req, handler_name, user, step=task.name,
                               comment=handler.comment(data), from_status=from_status,
                               changes=handler.describe(ctx, data), ticket=req.ticket)
        task_data = handler.apply(ctx, data)
        expected_version = row.version
        failure = None
        try:
            instance = _restore(row, OperationContext(req, user))
            if task.role == TEAM_ROLE:  # a change board's vote: counted (app.teams.board)
                task_data = board.before_vote(instance, req, task, user, task_data)
            instance.complete(task.task_uuid, task_data)
            if task.role == TEAM_ROLE:
                board.after_vote(instance, req, user)
        except TaskNotReady:
            raise TaskConflict("already_completed") from None
        except board.AlreadyVoted:
            raise TaskConflict("already_completed") from None
        except board.NotAVoter:
            raise NotAllowed() from None
        except StepFailed as exc:  # the person's step stands; an automatic one after it failed
            failure = exc
        except (EngineError, OperationError) as exc:
            raise WorkflowError(str(exc)) from exc
        task.status = "completed"
        task.completed_at = utcnow()
        task.completed_by_id = user.id
        open_tasks = _sync(row, instance, req)
        stopped = _stopped(row, instance, req, failure, "step", user)
        heatmap_passes.record(req, row.definition_id, instance)
        _save(row, instance, expected_version, stopped)
        event.to_status = req.status
        to_ticket_status = req.ticket.status if req.ticket else None
        if to_ticket_status != from_ticket_status:
            event.changes = {**event.changes,
                             "ticket_status": [from_ticket_status, to_ticket_status]}
        # milestones and lead times (app.indicators), before the notices' queries flush
        # the request: its one UPDATE carries them
        stages.settle(req)
        lifecycle_event = handler.event(data)
        if lifecycle_event:
            events.emit(req, lifecycle_event, user)
            notices.lifecycle(req, lifecycle_event, user, event, handler.comment(data))
    sla.refresh(req)  # the clocks as this step leaves them, in its transaction
    db.session.flush()
    return Completion(req, from_status, req.status, sorted(open_tasks, key=lambda t: t.id),
                      stopped)


def host_step(task: HumanTask, actor: User | None, step) -> bool:
    """Run ``step(instance, request)`` on the instance of an open ``task`` as the host, not as
    a person's completion (e.g. closing a withdrawn approver's seat: app.teams.board), locked
    and versioned like any step. ``step`` returns whether it changed anything; False: nothing
    is saved. Only flushes."""
    row = _lock_instance(task)
    if task.status != "open" or row.status != "running":
        return False
    req = task.request
    expected_version = row.version
    failure = None
    try:
        instance = _restore(row, OperationContext(req, actor))
        if not step(instance, req):
            return False
    except StepFailed as exc:
        failure = exc
    except (EngineError, OperationError) as exc:
        raise WorkflowError(str(exc)) from exc
    from_status = req.status
    _sync(row, instance, req)
    stopped = _stopped(row, instance, req, failure, "step", actor)
    heatmap_passes.record(req, row.definition_id, instance)
    _save(row, instance, expected_version, stopped)
    if actor is not None and req.status != from_status:  # (set_status records it without)
        history.record(req, "status_changed", None, from_status=from_status,
                       to_status=req.status)
    stages.settle(req)
    sla.refresh(req)
    db.session.flush()
    return True


def _lock_instance_of(req: ServiceRequest) -> ProcessInstance:
    """The request's instance row, locked for this transaction and read afresh."""
    return db.session.scalars(
        select(ProcessInstance)
        .where(ProcessInstance.request_id == req.id, ProcessInstance.tenant_id == req.tenant_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def cancel_request(user: User, req: ServiceRequest, reason: str) -> None:
    """The requester withdraws the request: the workflow stops, open tasks are cancelled."""
    row = _lock_instance_of(req)
    db.session.refresh(req)
    if not policy.can_cancel_request(user, req):
        raise TaskConflict("already_completed")
    expected_version = row.version
    instance = _restore(row, OperationContext(req, user))
    try:
        instance.cancel()
    except Exception as exc:
        raise WorkflowError(str(exc)) from exc
    from_status = req.status
    _sync(row, instance, req)
    req.status = "cancelled"
    req.closed_at = utcnow()
    if row.status == "incident":
        incidents.resolve_all(row, "cancelled", user)
    heatmap_passes.record(req, row.definition_id, instance)
    _save(row, instance, expected_version)
    history.record(req, "cancelled", user, comment=reason, from_status=from_status,
                   to_status="cancelled")
    stages.settle(req)
    sla.refresh(req)
    db.session.flush()


def claim(user: User, task: HumanTask) -> None:
    _lock_instance(task)
    if task.status != "open":
        raise TaskConflict("already_completed")
    if task.claimed_by_id == user.id or task.assigned_user_id == user.id:
        return  # already theirs
    if task.claimed_by_id is not None:
        raise TaskConflict("claimed")
    if not policy.can_claim_task(user, task):
        raise NotAllowed()
    task.claimed_by_id = user.id
    history.record(task.request, "claimed", user, step=task.name)
    db.session.flush()


def release(user: User, task: HumanTask) -> None:
    _lock_instance(task)
    if not policy.can_release_task(user, task):
        raise NotAllowed()
    task.claimed_by_id = None
    history.record(task.request, "released", user, step=task.name)
    db.session.flush()


@dataclass(frozen=True)
class TimerClaim:
    """A due timer leased to one runner: fire it with ``fire_timers(claim)``."""

    instance_id: int
    version: int       # the instance's version when claimed; firing checks it
    due_at: datetime   # when the timer was due (for the timer lag)
    tenant_id: int | None = None  # whose: firing sees that tenant's rows only (None: all)


def claim_due_timers(lease_seconds: float, now=None, *, limit: int) -> list[TimerClaim]:
    """Lease up to ``limit`` instances whose timer is due, oldest first.

    The rows are read with ``FOR UPDATE SKIP LOCKED`` (PostgreSQL; on SQLite the caller's
    ``BEGIN IMMEDIATE`` makes claims take turns) and their ``next_timer_at`` moves to the end of
    the lease, so no other runner takes them meanwhile. A runner that dies before firing leaves
    the lease to expire and the timer is claimed again. Only flushes: the caller commits.
    """
    now = now or utcnow()
    rows = db.session.execute(
        select(ProcessInstance.id, ProcessInstance.version, ProcessInstance.next_timer_at,
               ProcessInstance.tenant_id)
        .where(ProcessInstance.status == "running", ProcessInstance.next_timer_at <= now,
               not_suspended(ProcessInstance.tenant_id))  # a suspended company's wait
        .order_by(ProcessInstance.next_timer_at, ProcessInstance.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    if rows:
        db.session.execute(
            update(ProcessInstance)
            .where(ProcessInstance.id.in_([r.id for r in rows]))
            .values(next_timer_at=now + timedelta(seconds=lease_seconds),
                    updated_at=ProcessInstance.updated_at)  # a lease is not a change
            .execution_options(synchronize_session=False)
        )
    return [TimerClaim(r.id, r.version, r.next_timer_at, r.tenant_id) for r in rows]


def fire_timers(claim: TimerClaim) -> bool:
    """Fire the due timers of a claimed instance, once.

    False when there is nothing to do: the instance moved on since the claim (a person's step,
    or this same claim fired already: its version changed), finished, or is locked by another
    step right now (that step rewrites ``next_timer_at``, so a timer still due is claimed
    again). Only flushes: the caller commits.
    """
    row = db.session.scalars(
        select(ProcessInstance)
        .where(ProcessInstance.id == claim.instance_id, ProcessInstance.status == "running",
               ProcessInstance.version == claim.version)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    ).one_or_none()
    if row is None:
        return False
    req = row.request
    failure = None
    try:
        instance = _restore(row, OperationContext(req, None))
        instance.fire_due_timers()
    except StepFailed as exc:  # saved up to the failing step: no retry every few minutes
        failure = exc
    except (EngineError, OperationError) as exc:
        raise WorkflowError(str(exc)) from exc
    _sync(row, instance, req)
    stopped = _stopped(row, instance, req, failure, "timer", None)
    heatmap_passes.record(req, row.definition_id, instance)
    _save(row, instance, claim.version, stopped)
    stages.settle(req)
    sla.refresh(req)
    db.session.flush()
    return True


def postpone_timers(claim: TimerClaim, seconds: int) -> None:
    """Move a failing instance's next timer check later; its state is left as it was."""
    db.session.execute(
        update(ProcessInstance)
        .where(ProcessInstance.id == claim.instance_id,
               ProcessInstance.version == claim.version)
        .values(next_timer_at=utcnow() + timedelta(seconds=seconds))
        .execution_options(synchronize_session=False)
    )


def migrate_instance(user: User, req: ServiceRequest, to_version: int) -> None:
    """Move a request's workflow to ``to_version`` of its process (one locked, versioned step)."""
    row = _lock_instance_of(req)
    old = row.definition
    target = db.session.scalar(select(ProcessDefinition).where(
        ProcessDefinition.tenant_id == req.tenant_id,
        ProcessDefinition.process_key == old.process_key,
        ProcessDefinition.version == to_version))
    if target is None or row.status not in ("running", "incident"):
        raise WorkflowError("nothing to move")
    expected_version = row.version
    instance = _restore(row, OperationContext(req, user))
    try:
        moved = migration.migrate(instance, definitions.compiled(target))
    except EngineError as exc:
        raise WorkflowError(str(exc)) from exc
    from_status = req.status
    _sync(row, moved, req)
    heatmap_passes.record(req, row.definition_id, moved, moved_to=target.id)
    _save(row, moved, expected_version, stopped=row.status == "incident")
    db.session.execute(update(ProcessInstance).where(ProcessInstance.id == row.id)
                       .values(definition_id=target.id)
                       .execution_options(synchronize_session=False))
    history.record(req, "migrated", user, from_status=from_status, to_status=req.status,
                   changes={"from_version": old.version, "to_version": target.version})
    stages.settle(req)
    sla.refresh(req)
    db.session.flush()


def retry_incident(user: User, incident: ProcessIncident) -> bool:
    """Run the failed step of an incident's request again, on the version the request is on
    now (move it to a fixed version first). True if the request went on; False if it failed
    again (the incident stays open, with the new error). One locked, versioned step."""
    req = incident.request
    row = _lock_instance_of(req)
    db.session.refresh(incident)
    if incident.status != "open" or row.status != "incident":
        raise TaskConflict("already_completed")
    if not policy.can_own_processes(user) or user.tenant_id != incident.tenant_id:
        raise NotAllowed()
    expected_version = row.version
    instance = _restore(row, OperationContext(req, user))
    from_status = req.status
    failure = None
    try:
        instance.retry()
    except StepFailed as exc:
        failure = exc
    except (EngineError, OperationError) as exc:
        raise WorkflowError(str(exc)) from exc
    _sync(row, instance, req)
    history.record(req, "process_retried", user, step=incident.element_name,
                   from_status=from_status, to_status=req.status)
    if incident.element_id not in instance.live_elements():  # the step itself went through
        incidents.resolve(incident, "retried", user)
    stopped = incidents.after_step(row, instance, req, failure, "retry", user)
    heatmap_passes.record(req, row.definition_id, instance)
    _save(row, instance, expected_version, stopped)
    stages.settle(req)
    sla.refresh(req)
    db.session.flush()
    return failure is None

