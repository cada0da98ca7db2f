"""Choosing a worker for a request: who may take it, their load, the turn on ties.

- **Eligible**: the active workers of the request's service unit who handle its category. A
  worker with no skill rows handles every category (a company that never sets skills gets
  plain least-loaded assignment; the first skill given to a worker narrows them to it).
- **Load** of a worker, compared in this order: (1) their open tickets (pending, in progress,
  on hold), as the ticket's worker or as one of its helpers, in any service unit of the company
  (a ticket counts once per person); (2) the hours still planned on those tickets: the hours
  the viability evaluation estimated for the request minus the hours already recorded on the
  ticket (a reopened ticket keeps its earlier rounds' hours), never below 0; a request with no
  estimate counts 0. Each person on a ticket carries its remaining hours. Fewer tickets wins;
  among equal ticket counts, fewer hours wins. One query for every worker.
- **Ties** (same tickets and hours) go by round robin: each service unit keeps the worker who
  got its last automatic assignment (``AssignmentTurn``); the tie goes to the first tied worker
  after them by id, wrapping around. ``auto_assign`` locks that row before it reads the loads,
  so two assignments at once in one service unit take turns and the second sees the first's
  ticket.
- **Planned dates**: from the company's today; the end is today plus the estimated hours as
  8-hour days, else by priority (urgent: today, high: 1 day, normal: 2, low: 5), never past
  the request's service-level due date when it has one (and never before today).

``suggestion`` is what the director's assignment form preselects (no lock, no write);
``suggest_worker`` the public helper returning just the person.
"""

import math
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import case, func, select, union

from app.classification.models import AssignmentTurn, WorkerSkill
from app.extensions import db
from app.handlers.assign import workers_of
from app.models import (
    OPEN_TICKET_STATUSES,
    ServiceRequest,
    Tenant,
    Ticket,
    User,
    ticket_helpers,
)
from app.tenancy import clock

HOURS_PER_DAY = 8
DAYS_BY_PRIORITY = {"urgent": 0, "high": 1, "normal": 2, "low": 5}
MAX_PLANNED_DAYS = 60


@dataclass(frozen=True)
class Load:
    open_tickets: int = 0
    planned_hours: Decimal = Decimal("0")

    @property
    def key(self) -> tuple:
        return (self.open_tickets, self.planned_hours)


@dataclass(frozen=True)
class Choice:
    worker: User
    load: Load
    tie: bool  # several workers had this same least load: the turn decided


def eligible_workers(req: ServiceRequest) -> list[User]:
    """Active workers of the request's service unit who handle its category, by id."""
    workers = workers_of(req.tenant_id, req.service_unit_id)
    if not workers:
        return []
    skills: dict[int, set[int]] = {}
    for user_id, category_id in db.session.execute(
            select(WorkerSkill.user_id, WorkerSkill.category_id).where(
                WorkerSkill.tenant_id == req.tenant_id,
                WorkerSkill.user_id.in_([w.id for w in workers]))):
        skills.setdefault(user_id, set()).add(category_id)
    return sorted((w for w in workers if w.id not in skills or req.category_id in skills[w.id]),
                  key=lambda w: w.id)


def loads(tenant_id: int, worker_ids: list[int]) -> dict[int, Load]:
    """Each worker's load (see the module's note); every id given is in the result."""
    found = {worker_id: Load() for worker_id in worker_ids}
    if not worker_ids:
        return found
    on_ticket = _people_on_open_tickets(tenant_id, worker_ids)
    left = (func.coalesce(ServiceRequest.estimated_hours, 0)
            - func.coalesce(Ticket.hours_spent, 0))
    rows = db.session.execute(
        select(on_ticket.c.user_id, func.count(Ticket.id),
               func.coalesce(func.sum(case((left > 0, left), else_=0)), 0))
        .join(Ticket, Ticket.id == on_ticket.c.ticket_id)
        .join(ServiceRequest, ServiceRequest.id == Ticket.request_id)
        .where(Ticket.tenant_id == tenant_id, ServiceRequest.tenant_id == tenant_id)
        .group_by(on_ticket.c.user_id))
    for worker_id, count, hours in rows:
        found[worker_id] = Load(int(count), Decimal(str(hours)).quantize(Decimal("0.01")))
    return found


def _people_on_open_tickets(tenant_id: int, worker_ids: list[int]):
    """(ticket_id, user_id) of the company's open tickets each of ``worker_ids`` works on, as
    the worker or a helper; ``union`` keeps a pair once (a worker also listed as helper)."""
    open_ticket = (Ticket.tenant_id == tenant_id, Ticket.status.in_(OPEN_TICKET_STATUSES))
    return union(
        select(Ticket.id.label("ticket_id"), Ticket.worker_id.label("user_id"))
        .where(*open_ticket, Ticket.worker_id.in_(worker_ids)),
        select(ticket_helpers.c.ticket_id, ticket_helpers.c.user_id)
        .join(Ticket, Ticket.id == ticket_helpers.c.ticket_id)
        .where(*open_ticket, ticket_helpers.c.user_id.in_(worker_ids)),
    ).subquery()


def choose(workers: list[User], load_of: dict[int, Load],
           last_worker_id: int | None) -> Choice | None:
    """The least-loaded worker; on a tie, the first tied one after ``last_worker_id`` by id."""
    if not workers:
        return None
    least = min(load_of[w.id].key for w in workers)
    tied = sorted((w for w in workers if load_of[w.id].key == least), key=lambda w: w.id)
    if len(tied) == 1:
        return Choice(tied[0], load_of[tied[0].id], tie=False)
    after = [w for w in tied if last_worker_id is not None and w.id > last_worker_id]
    chosen = (after or tied)[0]
    return Choice(chosen, load_of[chosen.id], tie=True)


def _turn(tenant_id: int, service_unit_id: int, lock: bool) -> AssignmentTurn | None:
    stmt = select(AssignmentTurn).where(AssignmentTurn.tenant_id == tenant_id,
                                        AssignmentTurn.service_unit_id == service_unit_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return db.session.scalar(stmt)


def lock_turn(tenant_id: int, service_unit_id: int) -> AssignmentTurn:
    """The service unit's turn row, created if missing, locked until the transaction ends
    (PostgreSQL; SQLite writes one transaction at a time anyway)."""
    table = AssignmentTurn.__table__
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    db.session.execute(
        insert(table).values(tenant_id=tenant_id, service_unit_id=service_unit_id,
                             updated_at=func.now())
        .on_conflict_do_nothing(index_elements=["tenant_id", "service_unit_id"]))
    return _turn(tenant_id, service_unit_id, lock=True)


def pick(req: ServiceRequest, last_worker_id: int | None) -> Choice | None:
    workers = eligible_workers(req)
    return choose(workers, loads(req.tenant_id, [w.id for w in workers]), last_worker_id)


def suggestion(req: ServiceRequest) -> Choice | None:
    """Whom ``auto_assign`` would choose now (read only: no lock, the turn not moved)."""
    if req.service_unit_id is None:
        return None
    turn = _turn(req.tenant_id, req.service_unit_id, lock=False)
    return pick(req, turn.last_worker_id if turn is not None else None)


def suggest_worker(req: ServiceRequest) -> User | None:
    choice = suggestion(req)
    return choice.worker if choice is not None else None


def planned_dates(req: ServiceRequest, today: date | None = None) -> tuple[date, date]:
    """(planned start, planned end) for an automatic assignment (see the module's note)."""
    if today is None:
        today = clock.today(db.session.get(Tenant, req.tenant_id))
    if req.estimated_hours is not None and req.estimated_hours > 0:
        days = math.ceil(Decimal(req.estimated_hours) / HOURS_PER_DAY) - 1
    else:
        days = DAYS_BY_PRIORITY.get(req.priority, DAYS_BY_PRIORITY["normal"])
    end = today + timedelta(days=min(days, MAX_PLANNED_DAYS))
    if req.sla_due_at is not None:
        tenant = db.session.get(Tenant, req.tenant_id)
        due = req.sla_due_at.astimezone(clock.zone(tenant)).date()
        end = max(today, min(end, due))
    return today, end


def why(choice: Choice | None) -> str:
    """The assignment form's note on its preselected worker, in the reader's language."""
    from flask_babel import format_decimal, ngettext
    from flask_babel import gettext as _

    if choice is None:
        return _("No active worker of this service unit handles this category (see the "
                 "workers' skills): choose one.")
    tickets = ngettext("%(num)s open ticket", "%(num)s open tickets", choice.load.open_tickets)
    hours = format_decimal(choice.load.planned_hours, format="#,##0.##")
    text = _("Suggested: %(name)s, the least load: %(tickets)s, %(hours)s h planned.",
             name=choice.worker.name, tickets=tickets, hours=hours)
    if choice.tie:
        text += " " + _("Tied with others: it is their turn.")
    return text
