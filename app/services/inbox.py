"""The queries behind each role's inbox and lists; all tenant-scoped through the policy."""

from datetime import date

from sqlalchemy import case, func, select, tuple_
from sqlalchemy.orm import joinedload, selectinload

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


def inbox_query(user: User, *, people: bool = True):
    """The open tasks waiting for ``user``, oldest first, with their request and claimant
    joined in the same query; with ``people`` also the requester and the assigned person
    (what the inbox page shows), loaded in one more query each, not one per task."""
    stmt = (select(HumanTask)
            .where(policy.task_inbox_filter(user))
            .options(joinedload(HumanTask.request, innerjoin=True),
                     joinedload(HumanTask.claimed_by))
            .order_by(HumanTask.created_at, HumanTask.id))
    if people:
        stmt = stmt.options(
            joinedload(HumanTask.request, innerjoin=True).selectinload(ServiceRequest.requester),
            selectinload(HumanTask.assigned_user))
    return stmt


PRIORITY_RANK = {name: rank for rank, name in enumerate(reversed(PRIORITIES))}  # urgent: 0


def my_tasks(user: User) -> list[HumanTask]:
    """The inbox page: most urgent request first, then the longest waiting."""
    tasks = sorted(db.session.scalars(inbox_query(user)),
                   key=lambda t: PRIORITY_RANK.get(t.request.priority, len(PRIORITIES)))
    _prefetch_candidates(tasks)
    return tasks


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
              and t.unit_id is not None}
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
    """The people a task waits on."""
    if task.claimed_by_id is not None:
        return [task.claimed_by]
    if task.assigned_user_id is not None:
        return [task.assigned_user]
    return list(policy.session_cached(
        _pool_key(task), lambda: _pool(task.tenant_id, task.role, task.unit_id)))


def requests_query(user: User, *, status=None, unit_id=None, unit_ids=None,
                   service_unit_id=None, mine_only=False, q=None):
    stmt = select(ServiceRequest).where(policy.request_visibility(user))
    if unit_ids is not None:
        stmt = stmt.where(ServiceRequest.unit_id.in_(unit_ids))
    if mine_only:
        stmt = stmt.where(ServiceRequest.requester_id == user.id)
    if status:
        stmt = stmt.where(ServiceRequest.status == status)
    if unit_id:
        stmt = stmt.where(ServiceRequest.unit_id == unit_id)
    if service_unit_id:
        stmt = stmt.where(ServiceRequest.service_unit_id == service_unit_id)
    if q:
        like = f"%{q.strip()}%"
        stmt = stmt.where(ServiceRequest.title.ilike(like) | ServiceRequest.number.ilike(like))
    return stmt.order_by(ServiceRequest.created_at.desc(), ServiceRequest.id.desc())


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


def list_tickets(user: User, *, status=None, worker_id=None, category_id=None,
                 overdue=False, mine_only=False, open_only=False, service_unit_id=None,
                 limit: int = 200) -> list[Ticket]:
    stmt = select(Ticket).where(policy.ticket_visibility(user))
    if mine_only:
        stmt = stmt.where(Ticket.worker_id == user.id)
    if open_only:
        stmt = stmt.where(Ticket.status.in_(OPEN_TICKET_STATUSES))
    if service_unit_id:
        stmt = stmt.where(Ticket.service_unit_id == service_unit_id)
    if status:
        stmt = stmt.where(Ticket.status == status)
    if worker_id:
        stmt = stmt.where(Ticket.worker_id == worker_id)
    if category_id:
        stmt = stmt.join(ServiceRequest, ServiceRequest.id == Ticket.request_id).where(
            ServiceRequest.category_id == category_id)
    if overdue:
        stmt = stmt.where(Ticket.status.in_(OPEN_TICKET_STATUSES),
                          Ticket.planned_end < date.today())
    stmt = stmt.options(selectinload(Ticket.request), selectinload(Ticket.worker))
    return list(db.session.scalars(stmt.order_by(Ticket.planned_end, Ticket.id).limit(limit)))


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
