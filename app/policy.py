"""Who may see and do what: the one place where access is decided.

Predicates take the user explicitly. Anything a user may not see is answered as "not found" by
the views, so another tenant's or unit's ids reveal nothing.
"""

from sqlalchemy import any_, bindparam, event, exists, false, func, null, or_, select
from sqlalchemy.orm import Session

from app.engine.validation import COMPANY_ROLES, TEAM_ROLE
from app.extensions import db
from app.models import (
    HumanTask,
    Membership,
    ServiceRequest,
    Ticket,
    Unit,
    User,
    ticket_helpers,
)
from app.teams.models import TeamMember

_CACHE = "mesa_lookups"


def session_cached(key, compute):
    """``compute()``, remembered in the database session until it writes or its transaction
    ends (commit, rollback, close).

    For lookups several checks of one request repeat (a head's units, a task's candidates):
    one web request is one session, so each runs once per request instead of once per call.
    """
    cache = db.session.info.setdefault(_CACHE, {})
    if key not in cache:
        cache[key] = compute()
    return cache[key]


@event.listens_for(Session, "after_flush")
@event.listens_for(Session, "after_transaction_end")
def _forget(session, *_args):
    session.info.pop(_CACHE, None)


def descendant_unit_ids(tenant_id: int, unit_ids: set[int]) -> set[int]:
    """The given units and every unit nested under them (one recursive query)."""
    if not unit_ids:
        return set()
    tree = (select(Unit.id)
            .where(Unit.tenant_id == tenant_id, Unit.id.in_(sorted(unit_ids)))
            .cte("unit_tree", recursive=True))
    tree = tree.union(select(Unit.id).where(Unit.tenant_id == tenant_id,
                                            Unit.parent_id == tree.c.id))
    return set(db.session.scalars(select(tree.c.id)))


def headed_unit_ids(user: User) -> set[int]:
    heads = frozenset(user.unit_ids("unit_head"))
    if not heads:
        return set()
    return set(session_cached(("headed_units", user.tenant_id, heads),
                              lambda: frozenset(descendant_unit_ids(user.tenant_id, heads))))


def directed_unit_ids(user: User) -> set[int]:
    return user.unit_ids("service_director")


def is_tenant_admin(user: User) -> bool:
    return user.has_role("tenant_admin")


def can_administer_tenant(user: User) -> bool:
    """Tenant admins manage their own company: people, units, categories, settings, imports,
    and read its audit. Everything they load is still fetched by (their tenant, id)."""
    return user.is_authenticated and user.active and is_tenant_admin(user)


def can_manage_budgets(user: User, service_unit_id: int | None = None) -> bool:
    """Tenant admins set every service unit's budgets; a director those of the units they
    direct (``service_unit_id`` None: of any unit they direct)."""
    if not (user.is_authenticated and user.active):
        return False
    if is_tenant_admin(user):
        return True
    directs = directed_unit_ids(user)
    return bool(directs) if service_unit_id is None else service_unit_id in directs


def can_set_rates(user: User) -> bool:
    """Hourly rates of workers and service units are the tenant admin's."""
    return can_administer_tenant(user)


def can_manage_sla(user: User) -> bool:
    """Business calendars and SLA targets are set by the tenant admin."""
    return can_administer_tenant(user)


def can_view_sla_settings(user: User) -> bool:
    """Directors read the calendars and targets their units are measured by."""
    return can_manage_sla(user) or (user.is_authenticated and user.active
                                    and bool(directed_unit_ids(user)))


def can_view_viability(user: User, req: ServiceRequest | None) -> bool:
    """The budget, similar requests and staff picture of a request: for the directors of its
    service unit and tenant admins."""
    if req is None or req.tenant_id != user.tenant_id:
        return False
    return is_tenant_admin(user) or req.service_unit_id in directed_unit_ids(user)


# History fields that give a budget's figures (what it kept after an approval)
# What a request's history says of its budget and of what people cost: whether the approval
# went over budget, what the budget kept, why the director approved anyway, the worker's
# hourly rate, the budget date and the staff fact the director overrode.
BUDGET_HISTORY_FIELDS = frozenset({"budget_left_after", "over_budget", "justification",
                                   "hourly_rate", "committed_on", "staff_computed"})


def hidden_history_fields(user: User, req: ServiceRequest) -> frozenset[str]:
    """The fields of ``req``'s history entries ``user`` may not read: a budget's figures,
    unless they see the request's viability (never its requester, heads or workers)."""
    return frozenset() if can_view_viability(user, req) else BUDGET_HISTORY_FIELDS


def request_visibility(user: User):
    """A WHERE clause selecting the requests ``user`` may see (always tenant-scoped)."""
    clauses = [ServiceRequest.requester_id == user.id]
    if is_tenant_admin(user):
        clauses.append(ServiceRequest.tenant_id == user.tenant_id)
    heads = headed_unit_ids(user)
    if heads:
        clauses.append(ServiceRequest.unit_id.in_(heads))
    directs = directed_unit_ids(user)
    if directs:
        clauses.append(ServiceRequest.service_unit_id.in_(directs))
    if user.has_role("worker"):
        clauses.append(_id_among(ServiceRequest.id, worked_request_ids(user)))
    clauses.append(_id_among(ServiceRequest.id, team_task_request_ids(user)))
    return (ServiceRequest.tenant_id == user.tenant_id) & or_(*clauses)


# --- teams (app.teams) ------------------------------------------------------------------------

def _teams_of(user: User):
    """SELECT of the ids of the teams ``user`` is in (a subquery: no round trip of its own)."""
    return select(TeamMember.team_id).where(TeamMember.tenant_id == user.tenant_id,
                                            TeamMember.user_id == user.id)


def team_task_request_ids(user: User):
    """SELECT of the ids of the requests with a task (open or done) for a team of ``user``'s:
    its members see the request they act on."""
    return (select(HumanTask.request_id)
            .join(TeamMember, TeamMember.team_id == HumanTask.team_id)
            .where(HumanTask.tenant_id == user.tenant_id, TeamMember.tenant_id == user.tenant_id,
                   TeamMember.user_id == user.id))


def _team_has_active_member(tenant_id: int, team_id: int | None):
    """A clause: the team has an active member."""
    return exists(select(TeamMember.id).join(User, User.id == TeamMember.user_id)
                  .where(TeamMember.tenant_id == tenant_id, TeamMember.team_id == team_id,
                         User.active.is_(True)))


def team_member_ids(tenant_id: int, team_id: int | None) -> frozenset[int]:
    """The active members of a team (remembered for the session's work at hand)."""
    if team_id is None:
        return frozenset()
    from app.teams import service as teams

    return session_cached(("team_members", tenant_id, team_id),
                          lambda: frozenset(teams.active_member_ids_of(tenant_id, team_id)))


def is_team_candidate(user: User, task: HumanTask) -> bool:
    """A ``Team`` lane's task is for the team's active members; while the team has none, for
    the directors of the request's service unit (so the work is never left unseen)."""
    members = team_member_ids(task.tenant_id, task.team_id)
    if members:
        return user.active and user.id in members
    return task.unit_id is not None and task.unit_id in directed_unit_ids(user)


def _has_team_task(user: User, req: ServiceRequest) -> bool:
    return session_cached(("team_task", user.id, req.id), lambda: db.session.scalar(
        select(exists(team_task_request_ids(user).where(HumanTask.request_id == req.id)))))


def worked_request_ids(user: User):
    """SELECT of the ids of the requests whose ticket ``user`` works on or helps with."""
    worked = select(Ticket.request_id).where(Ticket.tenant_id == user.tenant_id,
                                             Ticket.worker_id == user.id)
    helped = (select(Ticket.request_id)
              .join(ticket_helpers, ticket_helpers.c.ticket_id == Ticket.id)
              .where(Ticket.tenant_id == user.tenant_id, ticket_helpers.c.user_id == user.id))
    return worked.union(helped)


def _id_among(column, ids_select):
    """``column IN (ids_select)``. On PostgreSQL written ``= ANY(ARRAY(...))``: the ids are
    fetched once and the column's index is used even inside an OR with other clauses, where a
    plain IN subquery makes PostgreSQL filter every row of the tenant."""
    if db.engine.dialect.name == "postgresql":
        return column == any_(func.array(ids_select.scalar_subquery()))
    return column.in_(ids_select)


def can_view_request(user: User, req: ServiceRequest | None) -> bool:
    if req is None or req.tenant_id != user.tenant_id:
        return False
    if req.requester_id == user.id or is_tenant_admin(user):
        return True
    if req.unit_id in headed_unit_ids(user) or req.service_unit_id in directed_unit_ids(user):
        return True
    ticket = req.ticket
    if ticket is not None and (
            ticket.worker_id == user.id or any(h.id == user.id for h in ticket.helpers)):
        return True
    return _has_team_task(user, req)  # asked last: one query, for those denied so far


INTERNAL_UNIT_ROLES = ("service_director", "worker")


def can_see_internal(user: User, req: ServiceRequest | None) -> bool:
    """Whether ``user`` reads ``req``'s internal comments (and may write one): the service
    unit's people (its directors and workers, the ticket's worker and helpers), the head of the
    requester's unit and tenant admins, among those who may see the request. Never the
    requester as such: heading their own unit does not count, being one of the others does."""
    if not can_view_request(user, req):
        return False
    if is_tenant_admin(user):
        return True
    if any(req.service_unit_id in user.unit_ids(role) for role in INTERNAL_UNIT_ROLES):
        return True
    if req.requester_id != user.id and req.unit_id in headed_unit_ids(user):
        return True
    ticket = req.ticket
    return ticket is not None and (
        ticket.worker_id == user.id or any(h.id == user.id for h in ticket.helpers)
    )


def internal_visibility(user: User):
    """A WHERE clause on ServiceRequest selecting the requests whose internal comments
    ``user`` may read (the same rule as ``can_see_internal``, always tenant-scoped). Search
    and lists pair it with ``HistoryEvent.internal``: ``~internal | <this clause>``."""
    clauses = []
    if is_tenant_admin(user):
        clauses.append(ServiceRequest.tenant_id == user.tenant_id)
    service_units = set().union(*(user.unit_ids(role) for role in INTERNAL_UNIT_ROLES))
    if service_units:
        clauses.append(ServiceRequest.service_unit_id.in_(sorted(service_units)))
    heads = headed_unit_ids(user)
    if heads:
        clauses.append(ServiceRequest.unit_id.in_(heads)
                       & (ServiceRequest.requester_id != user.id))
    if user.has_role("worker"):
        clauses.append(_id_among(ServiceRequest.id, worked_request_ids(user)))
    if not clauses:
        return false()
    return request_visibility(user) & or_(*clauses)


def ticket_visibility(user: User):
    """A WHERE clause selecting the tickets ``user`` may see: those of requests they may see
    (the same rule as ``can_view_ticket``)."""
    visible = select(ServiceRequest.id).where(request_visibility(user))
    return (Ticket.tenant_id == user.tenant_id) & Ticket.request_id.in_(visible)


def can_view_ticket(user: User, ticket: Ticket | None) -> bool:
    return ticket is not None and can_view_request(user, ticket.request)


CANCELLABLE_STATUSES = ("pending_authorization", "pending_evaluation", "returned",
                        "pending_assignment")


def can_cancel_request(user: User, req: ServiceRequest) -> bool:
    """Requesters may withdraw their own request until a ticket exists."""
    return (
        req.tenant_id == user.tenant_id
        and req.requester_id == user.id
        and req.status in CANCELLABLE_STATUSES
        and req.ticket is None
    )


def directs_ticket(user: User, ticket: Ticket | None) -> bool:
    """Whether ``user`` directs the service unit of ``ticket``."""
    return (ticket is not None and user.active and ticket.tenant_id == user.tenant_id
            and ticket.service_unit_id in directed_unit_ids(user))


def can_direct_ticket(user: User, ticket: Ticket | None) -> bool:
    """The directors of a ticket's service unit may reassign it to another of its workers or
    change its planned dates while it is open (app.services.reassignment)."""
    return directs_ticket(user, ticket) and ticket.status in ("pending", "in_progress",
                                                               "on_hold")


def can_file_request(user: User) -> bool:
    return user.home_unit_id is not None


def is_task_candidate(user: User, task: HumanTask) -> bool:
    """Whether the task is meant for ``user`` (ignoring who claimed it)."""
    if task.tenant_id != user.tenant_id:
        return False
    if task.assigned_user_id is not None:
        return task.assigned_user_id == user.id
    if task.role == "unit_head":  # nobody authorizes their own request
        return task.unit_id in headed_unit_ids(user) and task.request.requester_id != user.id
    if task.role in COMPANY_ROLES:  # e.g. a tenant admin's second approval over budget
        return user.has_role(task.role)
    if task.role == TEAM_ROLE:
        return is_team_candidate(user, task)
    return task.unit_id in user.unit_ids(task.role)


def _candidates_statements():
    """The two statements of ``task_candidate_ids``, built once (their cache keys too): the
    holders of roles in units, and the same with the units above a head's task's unit."""
    tenant = bindparam("tenant_id")
    base = (select(Membership.user_id, Membership.role, Membership.unit_id)
            .join(User, User.id == Membership.user_id)
            .where(Membership.tenant_id == tenant, User.tenant_id == tenant,
                   User.active.is_(True),
                   Membership.role.in_(bindparam("roles", expanding=True))))
    plain = base.add_columns(null()).where(
        Membership.unit_id.in_(bindparam("units", expanding=True)))
    up = (select(Unit.id.label("id"), Unit.parent_id.label("parent_id"),
                 Unit.id.label("task_unit"))
          .where(Unit.tenant_id == tenant, Unit.id.in_(bindparam("heads_of", expanding=True)))
          .cte("units_up", recursive=True))
    up = up.union(select(Unit.id, Unit.parent_id, up.c.task_unit)
                  .where(Unit.tenant_id == tenant, Unit.id == up.c.parent_id))
    with_up = (base.add_columns(up.c.task_unit)
               .outerjoin(up, (Membership.role == "unit_head") & (up.c.id == Membership.unit_id))
               .where(or_(Membership.unit_id.in_(bindparam("units", expanding=True)),
                          up.c.task_unit.is_not(None))))
    return plain, with_up


_CANDIDATES, _CANDIDATES_UP = _candidates_statements()


def task_candidate_ids(tasks: list[HumanTask]) -> dict[int, list[int]]:
    """The active people each task is meant for, by task id: the same rule as
    ``is_task_candidate``, for many tasks in one query (a head's task: the heads of its unit
    and of the units above it, never the requester)."""
    found: dict[int, set[int]] = {task.id: set() for task in tasks}
    open_to_role = []
    company_wide = []
    for task in tasks:
        if task.assigned_user_id is not None:
            found[task.id].add(task.assigned_user_id)
        elif task.role == TEAM_ROLE:
            found[task.id].update(_team_candidates(task))
        elif task.role in COMPANY_ROLES:
            company_wide.append(task)
        elif task.unit_id is not None:
            open_to_role.append(task)
    for task in company_wide:
        found[task.id].update(_company_role_holders(task.tenant_id, task.role))
    by_tenant: dict[int, list[HumanTask]] = {}
    for task in open_to_role:
        by_tenant.setdefault(task.tenant_id, []).append(task)
    for tenant_id, of_tenant in by_tenant.items():
        _add_candidates(found, tenant_id, of_tenant)
    return {task_id: sorted(ids) for task_id, ids in found.items()}


def _team_candidates(task: HumanTask) -> frozenset[int]:
    """The same rule as ``is_team_candidate``: the team's active members, or the directors of
    the service unit while it has none."""
    members = team_member_ids(task.tenant_id, task.team_id)
    if members or task.unit_id is None:
        return members
    return session_cached(("unit_directors", task.tenant_id, task.unit_id), lambda: frozenset(
        db.session.scalars(
            select(Membership.user_id).join(User, User.id == Membership.user_id)
            .where(Membership.tenant_id == task.tenant_id, User.tenant_id == task.tenant_id,
                   User.active.is_(True), Membership.role == "service_director",
                   Membership.unit_id == task.unit_id))))


def _company_role_holders(tenant_id: int, role: str) -> frozenset[int]:
    """The active holders of a company-wide role (one query per role and request)."""
    return session_cached(("company_role", tenant_id, role), lambda: frozenset(db.session.scalars(
        select(Membership.user_id).join(User, User.id == Membership.user_id)
        .where(Membership.tenant_id == tenant_id, User.tenant_id == tenant_id,
               User.active.is_(True), Membership.role == role))))


def _add_candidates(found: dict[int, set[int]], tenant_id: int,
                    open_to_role: list[HumanTask]) -> None:
    """The people of one tenant holding each task's role where it applies (one query)."""
    heads_of = sorted({task.unit_id for task in open_to_role if task.role == "unit_head"})
    rows = db.session.execute(_CANDIDATES_UP if heads_of else _CANDIDATES, {
        "tenant_id": tenant_id,
        "roles": sorted({task.role for task in open_to_role}),
        "units": sorted({task.unit_id for task in open_to_role}), "heads_of": heads_of})
    for user_id, role, unit_id, task_unit in rows:
        for task in open_to_role:
            if task.role != role:
                continue
            if role == "unit_head":
                if task_unit == task.unit_id and task.request.requester_id != user_id:
                    found[task.id].add(user_id)
            elif unit_id == task.unit_id:
                found[task.id].add(user_id)


def can_view_task(user: User, task: HumanTask | None) -> bool:
    if task is None or task.tenant_id != user.tenant_id:
        return False
    return is_task_candidate(user, task) or can_view_request(user, task.request)


def can_complete_task(user: User, task: HumanTask) -> bool:
    return (
        task.status == "open"
        and is_task_candidate(user, task)
        and task.claimed_by_id in (None, user.id)
    )


def can_claim_task(user: User, task: HumanTask) -> bool:
    return (
        task.status == "open"
        and task.assigned_user_id is None
        and task.claimed_by_id is None
        and is_task_candidate(user, task)
    )


def can_release_task(user: User, task: HumanTask) -> bool:
    """The claimant, or a tenant admin (e.g. when the claimant left), may release a claim."""
    return task.status == "open" and task.claimed_by_id is not None and (
        task.claimed_by_id == user.id
        or (is_tenant_admin(user) and task.tenant_id == user.tenant_id)
    )


def task_inbox_filter(user: User):
    """A WHERE clause for the open tasks in ``user``'s inbox."""
    role_clauses = []
    heads = headed_unit_ids(user)
    if heads:
        own = select(ServiceRequest.id).where(ServiceRequest.tenant_id == user.tenant_id,
                                              ServiceRequest.requester_id == user.id)
        role_clauses.append((HumanTask.role == "unit_head") & HumanTask.unit_id.in_(heads)
                            & HumanTask.request_id.not_in(own))
    for role in ("service_director", "worker", "requester"):
        units = user.unit_ids(role)
        if units:
            role_clauses.append((HumanTask.role == role) & HumanTask.unit_id.in_(units))
    for role in COMPANY_ROLES:
        if user.has_role(role):
            role_clauses.append(HumanTask.role == role)
    role_clauses.append((HumanTask.role == TEAM_ROLE) & HumanTask.team_id.in_(_teams_of(user)))
    directs = directed_unit_ids(user)
    if directs:  # a team with no active member: its tasks go to the service unit's directors
        role_clauses.append((HumanTask.role == TEAM_ROLE)
                            & HumanTask.unit_id.in_(sorted(directs))
                            & ~_team_has_active_member(user.tenant_id, HumanTask.team_id))
    pooled = (
        HumanTask.assigned_user_id.is_(None)
        & or_(*role_clauses)
        & or_(HumanTask.claimed_by_id.is_(None), HumanTask.claimed_by_id == user.id)
        if role_clauses
        else false()
    )
    return (
        (HumanTask.tenant_id == user.tenant_id)
        & (HumanTask.status == "open")
        & or_(HumanTask.assigned_user_id == user.id, pooled)
    )


def can_manage_notifications(user: User) -> bool:
    """Tenant admins set the tenant's notification defaults and wording, and read its log of
    sent messages."""
    return is_tenant_admin(user)


def can_manage_webhooks(user: User) -> bool:
    """Tenant admins register webhook endpoints and read their delivery log."""
    return is_tenant_admin(user)


def can_manage_token(user: User, token) -> bool:
    """People manage only their own API tokens."""
    return token is not None and token.tenant_id == user.tenant_id and token.user_id == user.id


# Who works with the REST API: the people who set the company up (they connect its other
# systems), and anyone who already holds a token of their own (revoked ones aside), so a
# token in use never loses its page. Everyone else is never shown the token pages.
API_ROLES = ("tenant_admin", "process_owner")


def can_use_api(user: User) -> bool:
    """Whether ``user`` sees "API tokens" under their account and may open the token pages."""
    from app.models import ApiToken

    if not (user.is_authenticated and user.active):
        return False
    if any(user.has_role(role) for role in API_ROLES):
        return True
    return session_cached(("holds_api_token", user.id), lambda: db.session.scalar(
        select(ApiToken.id).where(ApiToken.tenant_id == user.tenant_id,
                                  ApiToken.user_id == user.id,
                                  ApiToken.revoked_at.is_(None)).limit(1)) is not None)


def can_manage_checklists(user: User) -> bool:
    """Process owners and tenant admins keep the steps' checklists (app.checklists) and
    who a security incident alerts by severity."""
    return (user.is_authenticated and user.active
            and (can_own_processes(user) or is_tenant_admin(user)))


def can_own_processes(user: User) -> bool:
    """Process owners read, validate, deploy and migrate their tenant's processes."""
    return user.has_role("process_owner")


# --- attachments (app.attachments) -----------------------------------------------------------

def can_attach(user: User, req: ServiceRequest) -> bool:
    """Whoever sees a request may attach files to it while it is open (with a comment or a
    step's completion they may at any time they may do those)."""
    from app.models import OPEN_REQUEST_STATUSES

    return can_view_request(user, req) and req.status in OPEN_REQUEST_STATUSES


def can_see_attachment(user: User, attachment, req: ServiceRequest) -> bool:
    """An attachment is seen by those who see its request; one of an internal comment only by
    those who read internal comments (``can_see_internal``)."""
    return (attachment is not None and attachment.tenant_id == req.tenant_id
            and attachment.request_id == req.id and can_view_request(user, req)
            and (not attachment.internal or can_see_internal(user, req)))


def can_delete_attachment(user: User, attachment, req: ServiceRequest) -> bool:
    """Only its uploader deletes an attachment, and only while the request is open."""
    from app.models import OPEN_REQUEST_STATUSES

    return (can_see_attachment(user, attachment, req) and attachment.uploader_id == user.id
            and req.status in OPEN_REQUEST_STATUSES)


def can_schedule_requests(user: User) -> bool:
    """Recurring requests (app.recurring): tenant admins, and directors for the categories of
    the service units they direct."""
    return (user.is_authenticated and user.active
            and (is_tenant_admin(user) or bool(directed_unit_ids(user))))


def can_manage_schedule(user: User, schedule) -> bool:
    return (schedule is not None and schedule.tenant_id == user.tenant_id
            and can_schedule_requests(user)
            and (is_tenant_admin(user)
                 or schedule.category.service_unit_id in directed_unit_ids(user)))


def can_manage_teams(user: User) -> bool:
    """Teams (app.teams) and their members are the tenant admin's."""
    return can_administer_tenant(user)


def can_view_teams(user: User) -> bool:
    """Directors read the teams (their units' work may go to one, or come back to them while
    a team is empty)."""
    return can_manage_teams(user) or (user.is_authenticated and user.active
                                      and bool(directed_unit_ids(user)))


# --- classification and auto-assignment (app.classification) ---------------------------------

def can_manage_classification(user: User) -> bool:
    """Classification rules are the tenant admin's."""
    return can_administer_tenant(user)


def can_manage_skills(user: User, service_unit_id: int | None = None) -> bool:
    """Workers' skills: tenant admins for every service unit, directors for the units they
    direct (``service_unit_id`` None: for any unit they direct)."""
    if not (user.is_authenticated and user.active):
        return False
    if is_tenant_admin(user):
        return True
    directed = directed_unit_ids(user)
    return bool(directed) if service_unit_id is None else service_unit_id in directed


# --- the learned suggestion (app.suggestions) -------------------------------------------------

def can_manage_suggestions(user: User) -> bool:
    """The suggestion's page, settings and training: the company's tenant admins."""
    return can_administer_tenant(user)


def can_ask_suggestion(user: User) -> bool:
    """A suggestion while writing a request: whoever may file one."""
    return user.is_authenticated and user.active and can_file_request(user)
