"""The queries behind each role's inbox and lists; all tenant-scoped through the policy.

Lists sort and filter by service level on the request's cached most pressing clock
(``sla_due_at``, ``sla_warn_at``, ``sla_state``; index on tenant and due time), with ``now``
taken at the call, so the filters are right between the background runner's passes. The time
left each row shows comes from its clock rows, read once per page (``sla_clock_rows``).
"""

from datetime import date, datetime

from sqlalchemy import and_, case, func, select, tuple_
from sqlalchemy.orm import contains_eager, joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from app import policy
from app.extensions import db
from app.handlers.assign import workers_of
from app.models import (
    OPEN_TICKET_STATUSES,
    PRIORITIES,
    HumanTask,
    Membership,
    ServiceRequest,
    Ticket,
    User,
)
from app.models.base import utcnow
from app.models.request import OPEN_REQUEST_STATUSES, REQUEST_STATUSES
from app.models.ticket import TICKET_STATUSES
from app.services.paging import Page, PageRequest, Term, fetch_page, order_terms
from app.sla import display
from app.sla.models import SlaClock

SLA_FILTERS = ("overdue", "at_risk")
# Orders the API offers: ``sla`` is the soonest due first (business time), requests with no
# running clock last; ``newest`` the order lists had before service levels.
REQUEST_SORTS = ("sla", "newest")
TASK_SORTS = ("sla", "priority")
# Tickets: ``resolution`` is the resolution clock's due time, then the planned end
TICKET_SORTS = ("resolution", "sla", "planned_end")
_LIVE = ("running", "warning")


def _rank(column, codes):
    """A column's codes ranked by their place in ``codes`` (unknown ones last)."""
    return case({code: rank for rank, code in enumerate(codes)}, value=column,
                else_=len(codes))


# The orders of the web lists, whitelisted (the API's are among them): each key's terms in
# their natural direction, before the list's tie-break; ``-key`` reverses one
# (``paging.order_terms``). Priorities rank urgent first; statuses in lifecycle order.
_DUE = Term(ServiceRequest.sla_due_at, nulls_last=True)
_URGENT_FIRST = Term(_rank(ServiceRequest.priority, tuple(reversed(PRIORITIES))))
REQUEST_ORDERS = {
    "sla": (_DUE,),
    "newest": (),
    "number": (Term(ServiceRequest.number),),
    "priority": (_URGENT_FIRST,),
    "status": (Term(_rank(ServiceRequest.status, REQUEST_STATUSES)),),
}
REQUEST_TIEBREAK = (Term(ServiceRequest.created_at, descending=True),
                    Term(ServiceRequest.id, descending=True))
TASK_ORDERS = {"sla": (_DUE, _URGENT_FIRST), "priority": (_URGENT_FIRST,), "waiting": ()}
TASK_TIEBREAK = (Term(HumanTask.created_at), Term(HumanTask.id))
_PLANNED_END = Term(Ticket.planned_end)
TICKET_ORDERS = {
    "resolution": (Term(SlaClock.due_at, nulls_last=True), _PLANNED_END),
    "sla": (_DUE, _PLANNED_END),
    "planned_end": (_PLANNED_END,),
    "number": (Term(Ticket.number),),
    "status": (Term(_rank(Ticket.status, TICKET_STATUSES)), _PLANNED_END),
}
TICKET_TIEBREAK = (Term(Ticket.id),)


def sla_filter(kind: str, now: datetime):
    """A WHERE clause on ServiceRequest for an SLA filter at ``now``: ``overdue`` (an open
    request whose most pressing clock is due) or ``at_risk`` (past its warning, not yet due).
    Both are ranges on the cached due time. A clock stored as breached was due before it was
    computed, so ``sla_due_at <= now`` covers it; one stored as warning had passed its warning
    time likewise."""
    if kind not in SLA_FILTERS:
        raise ValueError(kind)
    is_open = ServiceRequest.status.in_(OPEN_REQUEST_STATUSES)
    if kind == "overdue":
        return and_(is_open, ServiceRequest.sla_due_at <= now,
                    ServiceRequest.sla_state.in_((*_LIVE, "breached")))
    return and_(is_open, ServiceRequest.sla_state.in_(_LIVE),
                ServiceRequest.sla_warn_at <= now, ServiceRequest.sla_due_at > now)


def _measured(req: ServiceRequest) -> bool:
    """Whether the request has an open clock (a breached one is open while it has a due
    time; one that stopped after its breach has none)."""
    return req.sla_state in (*_LIVE, "paused") or (req.sla_state == "breached"
                                                   and req.sla_due_at is not None)


def sla_clock_rows(requests, *, measured_only: bool = True) -> dict[int, list[SlaClock]]:
    """The clock rows of a page's requests with their calendars, in one query (none when no
    request of the page is measured). ``measured_only``: only requests with an open clock
    (what a page shows); otherwise every request of the page (the API's ``sla`` object)."""
    wanted = [r for r in requests if not measured_only or _measured(r)]
    if not wanted:
        return {}
    found: dict[int, list[SlaClock]] = {r.id: [] for r in wanted}
    for row in db.session.scalars(
            select(SlaClock)
            .where(SlaClock.tenant_id == wanted[0].tenant_id,
                   SlaClock.request_id.in_(list(found)))
            .options(joinedload(SlaClock.calendar))):
        found[row.request_id].append(row)
    return found


def with_sla_clocks(requests) -> None:
    """Fill each request's ``sla_clocks`` (calendars joined) with one query for them all."""
    found = sla_clock_rows(requests, measured_only=False)
    for req in requests:
        set_committed_value(req, "sla_clocks", sorted(found.get(req.id, []),
                                                      key=lambda row: row.id))


def time_left(requests, now: datetime | None = None) -> dict[int, "display.Left"]:
    """Request id -> what its list row shows: the time left on its most pressing open clock,
    or how its clocks ended (met, breached) once none is open. For a page of requests: one
    query, and none when no request of the page has an open clock."""
    now = now or utcnow()
    out = {}
    for request_id, rows in sla_clock_rows(requests).items():
        left = display.time_left(rows, now)
        if left is not None:
            out[request_id] = left
    for req in requests:
        if req.id not in out and req.sla_state in ("met", "breached") and not _measured(req):
            out[req.id] = display.Left("", req.sla_state, "", None)
    return out


def inbox_query(user: User, *, people: bool = True, sla: str | None = None,
                sort: str | None = None, now: datetime | None = None,
                kind: str | None = None):
    """The open tasks waiting for ``user`` (the API's list), with their request and claimant
    joined in the same query; with ``people`` also the requester and the assigned person,
    loaded in one more query each, not one per task. ``sort``: ``oldest`` (the longest
    waiting first) or a key of ``TASK_ORDERS``. ``sla``: only tasks of requests overdue or at
    risk (``sla_filter``)."""
    stmt = tasks_query(user, sla=sla, sort="waiting" if sort in (None, "oldest") else sort,
                       now=now, kind=kind)
    stmt = stmt.options(contains_eager(HumanTask.request), joinedload(HumanTask.claimed_by))
    if people:
        stmt = stmt.options(
            contains_eager(HumanTask.request).selectinload(ServiceRequest.requester),
            selectinload(HumanTask.assigned_user))
    return stmt


def tasks_query(user: User, *, sla: str | None = None, sort: str = "sla",
                now: datetime | None = None, kind: str | None = None):
    """The open tasks waiting for ``user`` in the order ``sort`` (a key of ``TASK_ORDERS``,
    or one reversed): ``sla``, the request due soonest first (those with no running clock
    after), then the most urgent, then the longest waiting; ``priority``: the most urgent
    first, then the longest waiting; ``waiting``: the longest waiting first."""
    stmt = (select(HumanTask)
            .join(ServiceRequest, ServiceRequest.id == HumanTask.request_id)
            .where(policy.task_inbox_filter(user)))
    if sla:
        stmt = stmt.where(sla_filter(sla, now or utcnow()))
    if kind:
        stmt = stmt.where(ServiceRequest.kind == kind)
    return stmt.order_by(*order_terms(TASK_ORDERS, sort, TASK_TIEBREAK))


# What the inbox page shows of each task, loaded with the page's tasks.
TASK_LIST_LOAD = (
    joinedload(HumanTask.request, innerjoin=True).selectinload(ServiceRequest.requester),
    # the request's badge tells a finished job waiting for its confirmation by the ticket
    joinedload(HumanTask.request, innerjoin=True).joinedload(ServiceRequest.ticket),
    joinedload(HumanTask.claimed_by),
    selectinload(HumanTask.assigned_user),
)


def my_tasks(user: User, *, sla: str | None = None, sort: str = "sla",
             now: datetime | None = None, kind: str | None = None) -> list[HumanTask]:
    """Every task waiting for ``user`` (``tasks_query``), people loaded."""
    tasks = list(db.session.scalars(
        tasks_query(user, sla=sla, sort=sort, now=now, kind=kind)
        .options(*TASK_LIST_LOAD)).unique())
    _prefetch_candidates(tasks)
    return tasks


def task_page(user: User, wanted: PageRequest, *, sla: str | None = None, sort: str = "sla",
              now: datetime | None = None, kind: str | None = None) -> Page:
    """One page of the inbox (``tasks_query``), with whom each pooled task waits on."""
    page = fetch_page(tasks_query(user, sla=sla, sort=sort, now=now, kind=kind), wanted,
                      model=HumanTask, load=TASK_LIST_LOAD)
    _prefetch_candidates(page.items)
    return page


def open_tasks_for_request(req: ServiceRequest) -> list[HumanTask]:
    return list(db.session.scalars(
        select(HumanTask).where(HumanTask.tenant_id == req.tenant_id,
                                HumanTask.request_id == req.id,
                                HumanTask.status == "open")
        .order_by(HumanTask.id)
    ))


def _pool_key(task: HumanTask) -> tuple:
    return ("candidates", task.tenant_id, task.role, task.unit_id)


def _pool(tenant_id: int, role: str, unit_id: int | None) -> list[User]:
    return list(db.session.scalars(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.tenant_id == tenant_id, Membership.role == role,
               Membership.unit_id == unit_id, User.active.is_(True))
        .order_by(User.name)
    ).unique())


def _prefetch_candidates(tasks: list[HumanTask]) -> None:
    """Who every pooled task of a page waits on, in one query instead of one per task."""
    wanted = {_pool_key(t) for t in tasks
              if t.claimed_by_id is None and t.assigned_user_id is None
              and t.unit_id is not None and t.role != policy.TEAM_ROLE}
    if len(wanted) < 2:
        return
    found: dict[tuple, list[User]] = {key: [] for key in wanted}
    pairs = {(role, unit_id) for _, _, role, unit_id in wanted}
    tenant_ids = {tenant_id for _, tenant_id, _, _ in wanted}
    rows = db.session.execute(
        select(User, Membership.tenant_id, Membership.role, Membership.unit_id)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.tenant_id.in_(tenant_ids),
               tuple_(Membership.role, Membership.unit_id).in_(sorted(pairs)),
               User.active.is_(True))
        .order_by(User.name, User.id)
    )
    for user, tenant_id, role, unit_id in rows:
        people = found.get(("candidates", tenant_id, role, unit_id))
        if people is not None and user not in people:
            people.append(user)
    for key, people in found.items():
        policy.session_cached(key, lambda people=people: people)


def candidates(task: HumanTask) -> list[User]:
    """The people a task waits on: who holds it, else the people ``policy`` makes its
    candidates (a ``Team`` lane's step: the team's active members, else the directors)."""
    if task.claimed_by_id is not None:
        return [task.claimed_by]
    if task.assigned_user_id is not None:
        return [task.assigned_user]
    if task.role == policy.TEAM_ROLE:
        return list(policy.session_cached(
            ("team_candidates", task.tenant_id, task.team_id, task.unit_id),
            lambda: _people(task.tenant_id, policy.task_candidate_ids([task])[task.id])))
    return list(policy.session_cached(
        _pool_key(task), lambda: _pool(task.tenant_id, task.role, task.unit_id)))


def _people(tenant_id: int, ids) -> list[User]:
    if not ids:
        return []
    return list(db.session.scalars(
        select(User).where(User.tenant_id == tenant_id, User.id.in_(ids))
        .order_by(User.name, User.id)))


def requests_query(user: User, *, status=None, unit_id=None, unit_ids=None,
                   service_unit_id=None, mine_only=False, q=None, sla=None, sort="newest",
                   now: datetime | None = None, kind=None):
    """The requests ``user`` may see with these filters, in the order ``sort`` (a key of
    ``REQUEST_ORDERS`` or one reversed), then the newest: ``sla``, the soonest due first."""
    stmt = select(ServiceRequest).where(policy.request_visibility(user))
    if sla:
        stmt = stmt.where(sla_filter(sla, now or utcnow()))
    if unit_ids is not None:
        stmt = stmt.where(ServiceRequest.unit_id.in_(unit_ids))
    if mine_only:
        stmt = stmt.where(ServiceRequest.requester_id == user.id)
    if status:
        stmt = stmt.where(ServiceRequest.status == status)
    if kind:
        stmt = stmt.where(ServiceRequest.kind == kind)
    if unit_id:
        stmt = stmt.where(ServiceRequest.unit_id == unit_id)
    if service_unit_id:
        stmt = stmt.where(ServiceRequest.service_unit_id == service_unit_id)
    if q:
        like = f"%{q.strip()}%"
        stmt = stmt.where(ServiceRequest.title.ilike(like) | ServiceRequest.number.ilike(like))
    return stmt.order_by(*order_terms(REQUEST_ORDERS, sort, REQUEST_TIEBREAK))


# Everything a list shows of each request, joined in one query (at most one row each).
REQUEST_LIST_LOAD = (
    joinedload(ServiceRequest.requester, innerjoin=True),
    joinedload(ServiceRequest.category, innerjoin=True),
    joinedload(ServiceRequest.unit, innerjoin=True),
    joinedload(ServiceRequest.service_unit, innerjoin=True),
    joinedload(ServiceRequest.ticket).joinedload(Ticket.worker),
)


def fetch_window(window, model, load) -> list:
    """The rows of ``window`` (a query of ``model`` with its ORDER BY and LIMIT, or the list
    of ids it selects), read with the loader options ``load`` in two steps: the ids first,
    then only those rows with their relations joined. Joining in the first step would make
    the database join every matching row (thousands, for a director's list) before sorting
    and cutting."""
    ids = window if isinstance(window, list) else list(
        db.session.scalars(window.with_only_columns(model.id)))
    if not ids:
        return []
    found = {obj.id: obj for obj in db.session.scalars(
        select(model).where(model.id.in_(ids)).options(*load))}
    return [found[i] for i in ids if i in found]


def list_requests(user: User, limit: int = 200, **filters) -> list[ServiceRequest]:
    return fetch_window(requests_query(user, **filters).limit(limit), ServiceRequest,
                        REQUEST_LIST_LOAD)


def request_page(user: User, wanted: PageRequest, **filters) -> Page:
    """One page of ``requests_query``, counted, with what a list shows of each request."""
    return fetch_page(requests_query(user, **filters), wanted, model=ServiceRequest,
                      load=REQUEST_LIST_LOAD)


def tickets_query(user: User, *, status=None, worker_id=None, category_id=None,
                  overdue=False, mine_only=False, open_only=False, service_unit_id=None,
                  sla=None, sort="planned_end", now: datetime | None = None, kind=None):
    """The tickets ``user`` may see with these filters. ``sort`` (a key of ``TICKET_ORDERS``
    or one reversed, then id): ``planned_end``; ``resolution``: the resolution clock's due
    time first (none last), then the planned end; ``sla``: the request's soonest due clock
    first, then the planned end. ``sla``: only tickets of requests overdue or at risk
    (``sla_filter``). ``mine_only``: the tickets ``user`` works on or helps with."""
    key = sort.removeprefix("-")
    stmt = select(Ticket).where(policy.ticket_visibility(user))
    if sla or key == "sla" or category_id or kind:
        stmt = stmt.join(ServiceRequest, ServiceRequest.id == Ticket.request_id)
    if kind:
        stmt = stmt.where(ServiceRequest.kind == kind)
    if sla:
        stmt = stmt.where(sla_filter(sla, now or utcnow()))
    if mine_only:
        stmt = stmt.where(Ticket.request_id.in_(policy.worked_request_ids(user)))
    if open_only:
        stmt = stmt.where(Ticket.status.in_(OPEN_TICKET_STATUSES))
    if service_unit_id:
        stmt = stmt.where(Ticket.service_unit_id == service_unit_id)
    if status:
        stmt = stmt.where(Ticket.status == status)
    if worker_id:
        stmt = stmt.where(Ticket.worker_id == worker_id)
    if category_id:
        stmt = stmt.where(ServiceRequest.category_id == category_id)
    if overdue:
        stmt = stmt.where(Ticket.status.in_(OPEN_TICKET_STATUSES),
                          Ticket.planned_end < date.today())
    if key == "resolution":
        stmt = stmt.outerjoin(SlaClock, and_(SlaClock.tenant_id == Ticket.tenant_id,
                                             SlaClock.request_id == Ticket.request_id,
                                             SlaClock.kind == "resolution"))
    return stmt.order_by(*order_terms(TICKET_ORDERS, sort, TICKET_TIEBREAK))


TICKET_LIST_LOAD = (selectinload(Ticket.request), selectinload(Ticket.worker))


def list_tickets(user: User, *, limit: int = 200, **filters) -> list[Ticket]:
    stmt = tickets_query(user, **filters).options(*TICKET_LIST_LOAD)
    return list(db.session.scalars(stmt.limit(limit)))


def ticket_page(user: User, wanted: PageRequest, **filters) -> Page:
    """One page of ``tickets_query``, counted, with each ticket's request and worker."""
    return fetch_page(tickets_query(user, **filters), wanted, model=Ticket,
                      load=TICKET_LIST_LOAD)


def workload(user: User, service_unit_id: int) -> list[dict]:
    """Open tickets per worker of a service unit the user directs."""
    workers = workers_of(user.tenant_id, service_unit_id)
    counts = {
        row.worker_id: row
        for row in db.session.execute(
            select(
                Ticket.worker_id,
                func.sum(case((Ticket.status == "pending", 1), else_=0)).label("pending"),
                func.sum(case((Ticket.status == "in_progress", 1), else_=0)).label("in_progress"),
                func.sum(case((Ticket.status == "on_hold", 1), else_=0)).label("on_hold"),
                func.sum(case(((Ticket.planned_end < date.today()), 1), else_=0)).label("overdue"),
            )
            .where(Ticket.tenant_id == user.tenant_id,
                   Ticket.service_unit_id == service_unit_id,
                   Ticket.status.in_(OPEN_TICKET_STATUSES))
            .group_by(Ticket.worker_id)
        )
    }
    board = []
    for worker in workers:
        row = counts.get(worker.id)
        entry = {"worker": worker, "pending": 0, "in_progress": 0, "on_hold": 0, "overdue": 0}
        if row is not None:
            entry.update(pending=row.pending or 0, in_progress=row.in_progress or 0,
                         on_hold=row.on_hold or 0, overdue=row.overdue or 0)
        entry["open"] = entry["pending"] + entry["in_progress"] + entry["on_hold"]
        board.append(entry)
    return board
