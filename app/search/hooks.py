"""The index follows every change in the transaction that makes it, whoever writes it.

After each flush, what changed is noted in the session: requests filed or edited (number,
title, description, template values), tickets created, comments written (history entries
with a comment, public or internal). Before the transaction commits, the notes become
statements in that same transaction (``documents``): a new request's document built from its
objects (no query), an edited one's rebuilt from its rows, a ticket's number and comments
added to the document in one UPDATE. A savepoint rolled back takes its notes with it; a
rolled-back transaction leaves none.
"""

from dataclasses import dataclass, field

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from app.models import HistoryEvent, ServiceRequest, Ticket
from app.search import documents

_PENDING = "search.pending"
INDEXED = ("number", "title", "description", "fields")


@dataclass
class Change:
    request: ServiceRequest | None = None  # filed in this transaction
    edited: bool = False
    tickets: list = field(default_factory=list)
    comments: list = field(default_factory=list)


def _change(session, request_id: int) -> Change:
    return session.info.setdefault(_PENDING, {}).setdefault(request_id, Change())


def _edited(obj, names) -> bool:
    state = inspect(obj)
    return any(name in state.attrs and state.attrs[name].history.has_changes()
               for name in names)


@event.listens_for(Session, "after_flush")
def _note(session, _flush_context):
    for obj in session.new:
        if isinstance(obj, ServiceRequest):
            _change(session, obj.id).request = obj
        elif isinstance(obj, Ticket):
            _change(session, obj.request_id).tickets.append(obj)
        elif isinstance(obj, HistoryEvent) and obj.comment:
            _change(session, obj.request_id).comments.append(obj)
    for obj in session.dirty:
        if isinstance(obj, ServiceRequest) and _edited(obj, INDEXED):
            _change(session, obj.id).edited = True
        elif isinstance(obj, Ticket) and _edited(obj, ("number", "request_id")):
            _change(session, obj.request_id).edited = True


def _alive(obj) -> bool:
    """Still to be committed (not taken away by a savepoint's rollback)."""
    return inspect(obj).persistent


def apply(pending: dict[int, Change]) -> None:
    new, whole = {}, []
    for request_id, change in sorted(pending.items()):
        tickets = [t for t in change.tickets if _alive(t)]
        comments = [e for e in change.comments if _alive(e)]
        if change.request is not None and _alive(change.request) and not change.edited:
            new[request_id] = documents.parts_of_new(change.request, tickets, comments)
        elif change.edited or change.request is not None:
            whole.append(request_id)
        elif tickets or comments:
            public = [e.comment for e in comments if not documents.is_internal(e)]
            internal = [e.comment for e in comments if documents.is_internal(e)]
            if not documents.append(request_id, head=[t.number for t in tickets],
                                    comments=public, internal=internal):
                whole.append(request_id)
    if new:
        documents.write(new)
    if whole:
        documents.rebuild(whole)


@event.listens_for(Session, "before_commit")
def _write_before_commit(session):
    if session.in_nested_transaction():
        return
    session.flush()  # the commit's own flush comes after this hook: note what it holds now
    pending = session.info.pop(_PENDING, None)
    if pending:
        apply(pending)


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session, previous_transaction):
    if previous_transaction.parent is None:
        session.info.pop(_PENDING, None)
