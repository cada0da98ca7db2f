"""Writing notices: in the transaction of the change that causes them, once per person.

Code that changes something calls ``announce`` (or one of its shorthands) while it works; the
notices wait in the session and are written just before it commits (a ``before_commit`` hook):
so a step that rolls back leaves none, and a step that commits leaves them all, whatever path
it took. Written then, for each step:

- the people each notice is for (a task's: the same rule as the inboxes', in one query),
  active ones of the request's tenant only;
- one notice per person and request: a step that both moves someone's request and gives them a
  task (the worker assigned, the requester asked to confirm) tells them once, with the most
  specific event, linking to the task that waits for them;
- the channels each person chose for the event's group (else the tenant's, else the product's
  defaults): an in-app notice, and an outbox message per other channel, unique by key, so it
  is sent once whatever number of runners there are.
"""

import hashlib
import uuid
from dataclasses import dataclass, field

from flask import has_app_context
from sqlalchemy import bindparam, insert, select
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from app.conversation import followers
from app.models import (
    HistoryEvent,
    HumanTask,
    Notification,
    NotificationPreference,
    OutboxMessage,
    ServiceRequest,
    Tenant,
    User,
)
from app.notifications import channels as message_channels
from app.notifications import reasons
from app.notifications.catalog import DEFAULT_CHANNELS, EVENTS, TO_REQUESTER
from app.policy import task_candidate_ids

_PENDING = "mesa_notices"
_ACTORS = "mesa_notice_actors"
# The statuses a request with a ticket can be in (in the others it has none yet).
TICKET_BEARING = ("in_service", "completed", "cancelled", "rejected")


@dataclass
class Notice:
    event: str
    request: ServiceRequest | None               # None: about the company (a summary)
    to: list[int] = field(default_factory=list)   # user ids
    task: HumanTask | None = None                # the task it links to; its candidates if no ``to``
    actor: User | None = None
    comment: str | None = None
    cause: HistoryEvent | None = None            # what makes the key unique, with ``key``
    key: str | None = None
    template: str | None = None                  # the wording, if not the event's own
    values: dict = field(default_factory=dict)   # more of its wording's values (an SLA's)
    tenant_id: int | None = None                 # the company, for a notice of no request

    @property
    def company_id(self) -> int:
        return self.request.tenant_id if self.request is not None else self.tenant_id

    @property
    def about(self):
        """What one person hears of once per step: a request (by id), else the notice's key."""
        return self.request.id if self.request is not None else self.key


def announce(notice: Notice, session: Session | None = None) -> None:
    """Queue ``notice``; it is written when the session commits, dropped if it rolls back."""
    from app.extensions import db

    (session or db.session()).info.setdefault(_PENDING, []).append(notice)


def acted(user: User, req: ServiceRequest, session: Session | None = None) -> None:
    """``user`` took a step of ``req``: they are told of nothing it causes there (not even a
    task it gives them: they are on the page already)."""
    from app.extensions import db

    (session or db.session()).info.setdefault(_ACTORS, set()).add((user.id, req.id))


def lifecycle(req: ServiceRequest, event: str, actor: User | None, cause: HistoryEvent | None,
              comment: str | None = None) -> None:
    """A lifecycle event of the request: its requester hears of it (and, for an assignment,
    the worker of the ticket)."""
    if event in TO_REQUESTER:
        announce(Notice(event, req, [req.requester_id], actor=actor, comment=comment,
                        cause=cause))
    if event == "ticket.assigned" and req.ticket is not None:
        to = [req.ticket.worker_id, *(h.id for h in req.ticket.helpers)]
        announce(Notice("ticket.assigned_to_you", req, to, actor=actor, cause=cause))
    if event == "ticket.reopened" and req.ticket is not None:
        announce(Notice("ticket.reopened", req, _workers(req.ticket), actor=actor,
                        comment=comment, cause=cause))


def _workers(ticket) -> list[int]:
    return [ticket.worker_id, *(h.id for h in ticket.helpers)]


def reassigned(req: ServiceRequest, actor: User, cause: HistoryEvent, from_worker_id: int,
               comment: str | None) -> None:
    """The director gave the ticket to another worker: the new one hears it is theirs, the
    one before that it no longer is, the requester who works on it now."""
    announce(Notice("ticket.assigned_to_you", req, [req.ticket.worker_id], actor=actor,
                    comment=comment, cause=cause))
    announce(Notice("ticket.unassigned", req, [from_worker_id], actor=actor, comment=comment,
                    cause=cause))
    announce(Notice("ticket.assigned", req, [req.requester_id], actor=actor, cause=cause))


def replanned(req: ServiceRequest, actor: User, cause: HistoryEvent, comment: str) -> None:
    """The director moved the ticket's planned dates: its workers and the requester hear."""
    announce(Notice("ticket.replanned", req, [*_workers(req.ticket), req.requester_id],
                    actor=actor, comment=comment, cause=cause))


def task_waiting(task: HumanTask, req: ServiceRequest) -> None:
    """A new task: the people it is meant for hear that it waits for them."""
    announce(Notice("task.waiting", req, task=task))


def comment(req: ServiceRequest, actor: User, cause: HistoryEvent,
            mentioned: list[User] = ()) -> None:
    """A comment: the requester hears of it, and the ticket's worker (never the author); an
    internal note only those of them who may read it (``policy.can_see_internal``: never the
    requester as such). The people it mentions hear they were (``app.conversation.mentions``
    only lets it name those who may read it)."""
    from app.policy import can_see_internal

    if not cause.internal or can_see_internal(req.requester, req):
        announce(Notice("request.comment", req, [req.requester_id], actor=actor,
                        comment=cause.comment, cause=cause))
    if req.ticket is not None:
        announce(Notice("ticket.comment", req, [req.ticket.worker_id], actor=actor,
                        comment=cause.comment, cause=cause))
    if mentioned:
        announce(Notice("request.mention", req, [p.id for p in mentioned], actor=actor,
                        comment=cause.comment, cause=cause))


# -- written before commit ---------------------------------------------------------------------

@sa_event.listens_for(Session, "before_commit")
def _write_pending(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a SAVEPOINT released inside the step: the step itself has not committed
    pending = session.info.pop(_PENDING, None)
    actors = session.info.pop(_ACTORS, set())
    if pending and has_app_context():
        if any(n.task is not None and n.task.id is None
               or n.cause is not None and n.cause.id is None for n in pending):
            session.flush()  # the ids of what the step created (tasks, history) make the keys
        pending += followers.notices_for(session, pending)  # who follows those requests
        write(session, pending, actors)


@sa_event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)
    session.info.pop(_ACTORS, None)


@dataclass
class _Planned:
    notice: Notice
    user_id: int
    task: HumanTask | None


def _plan(session: Session, notices: list[Notice], actors: set[tuple]) -> list[_Planned]:
    """One per person and request: the highest-ranked event (of equal ones, the latest),
    linking to a task of theirs that still waits; nothing for those who took a step of that
    request, and nothing of a task that no longer waits (done in the same transaction)."""
    notices = [n for n in notices
               if not (n.event == "task.waiting" and n.task.status != "open")]
    candidates = task_candidate_ids([n.task for n in notices if n.task and not n.to])
    best: dict[tuple[int, int], _Planned] = {}
    waiting: dict[tuple[int, int], HumanTask] = {}
    for notice in notices:
        people = notice.to or candidates.get(notice.task.id if notice.task else None, [])
        for user_id in dict.fromkeys(p for p in people if p is not None):
            slot = (user_id, notice.about)
            if slot in actors or (notice.actor is not None and user_id == notice.actor.id):
                continue  # nobody is told of what they did themselves
            if notice.event == "task.waiting":
                waiting[slot] = notice.task
            held = best.get(slot)
            if held is None or EVENTS[notice.event].rank >= EVENTS[held.notice.event].rank:
                best[slot] = _Planned(notice, user_id, notice.task)
    for slot, planned in best.items():
        if planned.task is None or planned.task.status != "open":
            planned.task = waiting.get(slot) or planned.task
    return list(best.values())


def write(session: Session, notices: list[Notice], actors: set[tuple] = frozenset()) -> None:
    """Write the notices and their outbox messages: per tenant the transaction touched
    (one, for a person's step), one query for the people and two inserts, whatever the
    number of notices."""
    by_tenant: dict[int, list[Notice]] = {}
    for notice in notices:
        by_tenant.setdefault(notice.company_id, []).append(notice)
    for tenant_id, of_tenant in by_tenant.items():
        _write_tenant(session, tenant_id, of_tenant, set(actors))


def _write_tenant(session: Session, tenant_id: int, notices: list[Notice],
                  actors: set[tuple]) -> None:
    planned = _plan(session, notices, actors)
    if not planned:
        return
    people, chosen, settings = _people(session, tenant_id, {p.user_id for p in planned})
    defaults = settings.get("notification_defaults") or {}
    configured = message_channels.configured()
    notifications, messages = [], []
    for p in planned:
        user = people.get(p.user_id)
        if user is None:
            continue  # deactivated, or not of this tenant
        group = EVENTS[p.notice.event].group
        channels = chosen[(user.id, group)] if (user.id, group) in chosen \
            else defaults.get(group) or DEFAULT_CHANNELS[group]
        key = _key(p)
        notifications.append({
            "tenant_id": tenant_id, "user_id": user.id, "event": p.notice.event,
            "request_id": p.notice.request.id if p.notice.request is not None else None,
            "task_id": p.task.id if p.task else None,
            "params": params(p.notice, p.task, people), "key": key,
            "inapp": "inapp" in channels})
        for channel in message_channels.MESSAGE_CHANNELS:
            if channel in channels:
                messages.append(_message(tenant_id, key, channel, p.notice, user, configured))
    if not notifications:
        return
    ids = dict(session.execute(_INSERT_NOTICES, notifications).all())
    if messages:
        for message in messages:
            message["notification_id"] = ids[message.pop("notice_key")]
        session.execute(_INSERT_MESSAGES, messages)


KEY_CHARS = 100  # a notice's key; its messages' keys add ":<channel>" (at most 120)


def _key(p: _Planned) -> str:
    """Unique per cause and person: the same step never notifies anyone twice. A cause
    named at length (a reminder of a long step id) is hashed, never cut: cutting could make
    two keys one."""
    n = p.notice
    if n.key:
        base = n.key
    elif n.cause is not None:
        base = f"{n.event}:h{n.cause.id}"
    elif n.task is not None:
        base = f"{n.event}:t{n.task.id}"
    else:
        base = f"{n.event}:{uuid.uuid4().hex}"
    key = f"{base}:u{p.user_id}"
    if len(key) > KEY_CHARS:
        key = f"{n.event[:40]}:{hashlib.sha256(key.encode()).hexdigest()}"
    return key


def _message(tenant_id, key, channel, notice, user, configured) -> dict:
    address = user.email if channel == "email" else user.phone
    reason = configured.get(channel)
    if reason is None and not address:
        reason = reasons.NO_PHONE
    return {
        "tenant_id": tenant_id, "channel": channel, "event": notice.event,
        "notice_key": key, "address": address, "idempotency_key": f"{key}:{channel}",
        "payload": {"template": notice.template or notice.event},
        "status": "unsent" if reason else "pending", "last_error": reason, "attempts": 0,
    }


def params(notice: Notice, task: HumanTask | None, people: dict | None = None) -> dict:
    """The values its messages are written from, as they are when it happens (the worker's
    name from ``people`` when they are among them: no query)."""
    req = notice.request
    if req is None:  # about the company: its own values say it all (and where it leads)
        return {k: v for k, v in notice.values.items() if v}
    ticket = _ticket_of(req)
    worker = (people or {}).get(ticket.worker_id) if ticket else None
    values = {
        "request_number": req.number, "request_title": req.title, "request_status": req.status,
        "ticket_number": ticket.number if ticket else "",
        "worker_name": worker.name if worker else ticket.worker.name if ticket else "",
        "step": task.name if task else "",
        "actor_name": notice.actor.name if notice.actor else "",
        "comment": notice.comment or "",
        "path": f"/tasks/{task.id}" if task else f"/requests/{req.id}",
        "template": notice.template or "",  # a diagram's message: the tenant's own wording
        **notice.values,
    }
    return {k: v for k, v in values.items() if v}


def _ticket_of(req: ServiceRequest):
    """The request's ticket; not looked for before a request can have one (no query)."""
    if "ticket" in req.__dict__ or req.status in TICKET_BEARING:
        return req.ticket
    return None


@dataclass(frozen=True)
class _Person:
    id: int
    name: str
    email: str
    phone: str | None


# Built once: a statement's cache key is then computed once, not at every step. The inserts
# are Core's: one statement each, whatever the rows (the ORM's would split them by which
# values are empty).
_INSERT_NOTICES = insert(Notification.__table__).returning(
    Notification.__table__.c.key, Notification.__table__.c.id)
_INSERT_MESSAGES = insert(OutboxMessage.__table__)
_PEOPLE = (
    select(User.id, User.name, User.email, User.phone, NotificationPreference.event_group,
           NotificationPreference.channels, Tenant.settings)
    .join(Tenant, Tenant.id == User.tenant_id)
    .outerjoin(NotificationPreference, (NotificationPreference.user_id == User.id)
               & (NotificationPreference.tenant_id == bindparam("tenant_id")))
    .where(User.tenant_id == bindparam("tenant_id"), User.active.is_(True),
           User.id.in_(bindparam("ids", expanding=True))))


def _people(session, tenant_id: int, ids: set[int]) -> tuple[dict, dict, dict]:
    """The active people of the tenant among ``ids``, their channel choices by (person,
    group), and the tenant's settings (its default channels): one query."""
    people, chosen, settings = {}, {}, {}
    for person_id, name, email, phone, group, channels, tenant_settings in session.execute(
            _PEOPLE, {"tenant_id": tenant_id, "ids": sorted(ids)}):
        people[person_id] = _Person(person_id, name, email, phone)
        settings = tenant_settings or {}
        if group is not None:
            chosen[(person_id, group)] = channels
    return people, chosen, settings
