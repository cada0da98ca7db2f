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

import uuid
from dataclasses import dataclass, field

from flask import has_app_context
from sqlalchemy import event as sa_event
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

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
from app.notifications.catalog import DEFAULT_CHANNELS, EVENTS, TO_REQUESTER
from app.policy import task_candidate_ids

_PENDING = "mesa_notices"
_ACTORS = "mesa_notice_actors"
# The statuses a request with a ticket can be in (in the others it has none yet).
TICKET_BEARING = ("in_service", "completed", "cancelled", "rejected")


@dataclass
class Notice:
    event: str
    request: ServiceRequest
    to: list[int] = field(default_factory=list)   # user ids
    task: HumanTask | None = None                # the task it links to; its candidates if no ``to``
    actor: User | None = None
    comment: str | None = None
    cause: HistoryEvent | None = None            # what makes the key unique, with ``key``
    key: str | None = None
    template: str | None = None                  # the wording, if not the event's own


def announce(notice: Notice, session: Session | None = None) -> None:
    """Queue ``notice``; it is written when the session commits, dropped if it rolls back."""
    from app.extensions import db

    (session or db.session()).info.setdefault(_PENDING, []).append(notice)


def acted(user: User, session: Session | None = None) -> None:
    """``user`` took this step: they are told of nothing it causes (not even a task it gives
    them: they are on the page already)."""
    from app.extensions import db

    (session or db.session()).info.setdefault(_ACTORS, set()).add(user.id)


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


def task_waiting(task: HumanTask, req: ServiceRequest) -> None:
    """A new task: the people it is meant for hear that it waits for them."""
    announce(Notice("task.waiting", req, task=task))


def comment(req: ServiceRequest, actor: User, cause: HistoryEvent) -> None:
    """A comment: the requester hears of it, and the ticket's worker (never the author)."""
    announce(Notice("request.comment", req, [req.requester_id], actor=actor,
                    comment=cause.comment, cause=cause))
    if req.ticket is not None:
        announce(Notice("ticket.comment", req, [req.ticket.worker_id], actor=actor,
                        comment=cause.comment, cause=cause))


# -- written before commit ---------------------------------------------------------------------

@sa_event.listens_for(Session, "before_commit")
def _write_pending(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    actors = session.info.pop(_ACTORS, set())
    if pending and has_app_context():
        session.flush()  # the ids of what the step created (tasks, history) make the keys
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


def _plan(session: Session, notices: list[Notice], actors: set[int]) -> list[_Planned]:
    """One per person and request: the highest-ranked event, linking to a task of theirs;
    nothing for those who took the step."""
    candidates = task_candidate_ids([n.task for n in notices if n.task and not n.to])
    best: dict[tuple[int, int], _Planned] = {}
    waiting: dict[tuple[int, int], HumanTask] = {}
    for notice in notices:
        people = notice.to or candidates.get(notice.task.id if notice.task else None, [])
        for user_id in dict.fromkeys(p for p in people if p is not None):
            if user_id in actors or (notice.actor is not None and user_id == notice.actor.id):
                continue  # nobody is told of what they did themselves
            slot = (user_id, notice.request.id)
            if notice.event == "task.waiting":
                waiting.setdefault(slot, notice.task)
            held = best.get(slot)
            if held is None or EVENTS[notice.event].rank > EVENTS[held.notice.event].rank:
                best[slot] = _Planned(notice, user_id, notice.task)
    for slot, planned in best.items():
        planned.task = planned.task or waiting.get(slot)
    return list(best.values())


def write(session: Session, notices: list[Notice], actors: set[int] = frozenset()) -> None:
    """Write the notices and their outbox messages (two inserts, whatever their number)."""
    planned = _plan(session, notices, set(actors))
    if not planned:
        return
    tenant_id = planned[0].notice.request.tenant_id
    people, chosen = _people(session, tenant_id, {p.user_id for p in planned})
    configured = message_channels.configured()
    notifications, messages = [], []
    for p in planned:
        user = people.get(p.user_id)
        if user is None:
            continue  # deactivated, or not of this tenant
        group = EVENTS[p.notice.event].group
        channels = chosen[(user.id, group)] if (user.id, group) in chosen \
            else _tenant_default(session, tenant_id, group)
        key = _key(p)
        notifications.append({
            "tenant_id": tenant_id, "user_id": user.id, "event": p.notice.event,
            "request_id": p.notice.request.id, "task_id": p.task.id if p.task else None,
            "params": params(p.notice, p.task), "key": key, "inapp": "inapp" in channels})
        for channel in message_channels.MESSAGE_CHANNELS:
            if channel in channels:
                messages.append(_message(tenant_id, key, channel, p.notice, user, configured))
    if not notifications:
        return
    # Core inserts: one statement each, whatever the rows (the ORM's would split them by
    # which values are empty).
    table = Notification.__table__
    ids = dict(session.execute(
        insert(table).returning(table.c.key, table.c.id),
        notifications).all())
    if messages:
        for message in messages:
            message["notification_id"] = ids[message.pop("notice_key")]
        session.execute(insert(OutboxMessage.__table__), messages)


def _key(p: _Planned) -> str:
    """Unique per cause and person: the same step never notifies anyone twice."""
    n = p.notice
    if n.key:
        base = n.key
    elif n.cause is not None:
        base = f"{n.event}:h{n.cause.id}"
    elif n.task is not None:
        base = f"{n.event}:t{n.task.id}"
    else:
        base = f"{n.event}:{uuid.uuid4().hex}"
    return f"{base}:u{p.user_id}"[:160]


def _message(tenant_id, key, channel, notice, user, configured) -> dict:
    address = user.email if channel == "email" else user.phone
    reason = configured.get(channel)
    if reason is None and not address:
        reason = "No phone number on the person's profile."
    return {
        "tenant_id": tenant_id, "channel": channel, "event": notice.event,
        "notice_key": key, "address": address, "idempotency_key": f"{key}:{channel}"[:120],
        "payload": {"template": notice.template or notice.event},
        "status": "unsent" if reason else "pending", "last_error": reason, "attempts": 0,
    }


def params(notice: Notice, task: HumanTask | None) -> dict:
    """The values its messages are written from, as they are when it happens."""
    req = notice.request
    ticket = _ticket_of(req)
    values = {
        "request_number": req.number, "request_title": req.title, "request_status": req.status,
        "ticket_number": ticket.number if ticket else "",
        "worker_name": ticket.worker.name if ticket and ticket.worker else "",
        "step": task.name if task else "",
        "actor_name": notice.actor.name if notice.actor else "",
        "comment": notice.comment or "",
        "path": f"/tasks/{task.id}" if task else f"/requests/{req.id}",
    }
    return {k: v for k, v in values.items() if v}


def _ticket_of(req: ServiceRequest):
    """The request's ticket; not looked for before a request can have one (no query)."""
    if "ticket" in req.__dict__ or req.status in TICKET_BEARING:
        return req.ticket
    return None


def _people(session, tenant_id: int, ids: set[int]) -> tuple[dict, dict]:
    """The active people of the tenant among ``ids``, and their channel choices by (person,
    group): one query."""
    people, chosen = {}, {}
    for person, group, channels in session.execute(
            select(User, NotificationPreference.event_group, NotificationPreference.channels)
            .outerjoin(NotificationPreference, (NotificationPreference.user_id == User.id)
                       & (NotificationPreference.tenant_id == tenant_id))
            .where(User.tenant_id == tenant_id, User.active.is_(True), User.id.in_(ids))):
        people[person.id] = person
        if group is not None:
            chosen[(person.id, group)] = channels
    return people, chosen


def _tenant_default(session, tenant_id: int, group: str) -> list[str]:
    tenant = session.get(Tenant, tenant_id)
    defaults = (tenant.settings or {}).get("notification_defaults") or {}
    return defaults.get(group) or DEFAULT_CHANNELS[group]
