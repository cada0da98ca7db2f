"""Sending what the outbox holds: one claim, lease, retry and record design for every channel.

Rows are written in the transaction of the change that causes them (``webhooks.emit``,
``notifications``), so nothing is sent for a change that rolled back. ``deliver_due`` sends
them afterwards, from the embedded runner, the ``flask ... deliver`` commands or Celery tasks,
one at a time:

1. claim the next due row in a short transaction (``FOR UPDATE SKIP LOCKED`` on PostgreSQL,
   ``BEGIN IMMEDIATE`` on SQLite): count the attempt and lease the row for its channel's lease
   (longer than one send may take) by moving its ``next_attempt_at``; commit;
2. hand it to its channel's sender with no transaction open (it may read what it needs, such as
   an endpoint's address or a tenant's wording), so a slow provider never holds a lock;
3. record the outcome in another short transaction, only if the row is still this claim's:
   delivered; retried later with exponential backoff; failed (for good, or after
   ``MAX_ATTEMPTS``); or unsent (never tried, with the reason).

Each row has a unique idempotency key, written once: one row per receiver and channel, so a
retry is the same message, never a second one. A runner that dies between 1 and 3 leaves the
lease to expire and the row is claimed again (webhooks: receivers dedupe on the key). A
channel whose provider did not answer after taking a message reports it as final, so it is not
sent twice.
"""

import logging
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, or_, select, update

from app.extensions import db
from app.models import OutboxMessage, WebhookEndpoint
from app.models.base import utcnow
from app.outbox.outcome import Outcome
from app.sqlite import writing
from app.tenancy.access import not_suspended

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
BACKOFF_BASE_SECONDS = 30          # wait after the first failed attempt
BACKOFF_FACTOR = 4                 # 30 s, 2 min, 8 min, 32 min, 2 h 8 min, then the cap
BACKOFF_CAP_SECONDS = 6 * 3600
ERROR_CHARS = 300                  # how much of an error is kept


@dataclass(frozen=True)
class Claim:
    """One row taken for one attempt."""

    id: int
    tenant_id: int
    channel: str
    event: str
    key: str
    payload: dict
    attempt: int  # the number of this attempt, 1 for the first
    endpoint_id: int | None
    notification_id: int | None
    address: str | None

    @property
    def queue(self) -> Hashable:
        """What one unanswering receiver holds up: an endpoint, or a channel's provider."""
        return (self.channel, self.endpoint_id)


@dataclass(frozen=True)
class Channel:
    """How one channel sends: ``send`` runs with no transaction open and must not write;
    ``lease`` says how long a claim is left to it (longer than a send may take)."""

    name: str
    send: Callable[[Claim], Outcome]
    lease: Callable[[], float]


CHANNELS: dict[str, Channel] = {}


def register(channel: Channel) -> None:
    CHANNELS[channel.name] = channel


def backoff(attempts: int) -> int:
    """Seconds to wait after ``attempts`` failed attempts."""
    return min(BACKOFF_BASE_SECONDS * BACKOFF_FACTOR ** (attempts - 1), BACKOFF_CAP_SECONDS)


def _due(now, channels, skip: set, endpoint_id=None):
    """The due rows, oldest first; a webhook's only while its endpoint is enabled."""
    query = (
        select(OutboxMessage.id, OutboxMessage.tenant_id, OutboxMessage.channel,
               OutboxMessage.event, OutboxMessage.idempotency_key, OutboxMessage.payload,
               OutboxMessage.attempts, OutboxMessage.endpoint_id,
               OutboxMessage.notification_id, OutboxMessage.address)
        .outerjoin(WebhookEndpoint, WebhookEndpoint.id == OutboxMessage.endpoint_id)
        .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now,
               OutboxMessage.channel.in_(channels),
               or_(OutboxMessage.endpoint_id.is_(None), WebhookEndpoint.active.is_(True)),
               not_suspended(OutboxMessage.tenant_id))  # a suspended company's wait
    )
    skipped_endpoints = [e for _, e in skip if e is not None]
    skipped_channels = [c for c, e in skip if e is None]
    if skipped_endpoints:
        query = query.where(or_(OutboxMessage.endpoint_id.is_(None),
                                OutboxMessage.endpoint_id.not_in(skipped_endpoints)))
    if skipped_channels:
        query = query.where(or_(OutboxMessage.endpoint_id.is_not(None),
                                OutboxMessage.channel.not_in(skipped_channels)))
    if endpoint_id is not None:
        query = query.where(OutboxMessage.endpoint_id == endpoint_id)
    return query


def claim_next(channels, skip: set, endpoint_id: int | None = None) -> Claim | None:
    """Take the next due row of ``channels`` in a short transaction of its own, or None."""
    with writing():
        try:
            while True:
                now = utcnow()
                row = db.session.execute(
                    _due(now, channels, skip, endpoint_id)
                    .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
                    .limit(1)
                    .with_for_update(skip_locked=True, of=OutboxMessage)  # SQLite: IMMEDIATE
                ).first()
                if row is None:
                    db.session.commit()
                    return None
                if row.attempts >= MAX_ATTEMPTS:  # a runner died during the last attempt
                    _set(row.id, status="failed",
                         last_error="The runner stopped during the last attempt.")
                    continue
                _set(row.id, attempts=row.attempts + 1, last_attempt_at=now,
                     next_attempt_at=now + timedelta(seconds=CHANNELS[row.channel].lease()))
                db.session.commit()
                return Claim(row.id, row.tenant_id, row.channel, row.event,
                             row.idempotency_key, row.payload, row.attempts + 1,
                             row.endpoint_id, row.notification_id, row.address)
        except BaseException:
            db.session.rollback()
            raise


def _set(row_id: int, **values) -> None:
    db.session.execute(update(OutboxMessage).where(OutboxMessage.id == row_id).values(**values)
                       .execution_options(synchronize_session=False))


def record(claim: Claim, outcome: Outcome) -> None:
    """Write what happened, unless the row changed hands meanwhile (its lease expired)."""
    now = utcnow()
    values = {"response_status": outcome.status}
    if outcome.error:
        values["last_error"] = outcome.error[:ERROR_CHARS]
    if outcome.reference:
        values["reference"] = outcome.reference[:120]
    if outcome.address:
        values["address"] = outcome.address[:320]
    if outcome.delivered:
        values.update(status="delivered", delivered_at=now)
        values.setdefault("last_error", None)  # an earlier attempt's error no longer applies
    elif outcome.unsent:
        values.update(status="unsent")
    elif outcome.final or claim.attempt >= MAX_ATTEMPTS:
        values.update(status="failed")
    else:
        values.update(next_attempt_at=now + timedelta(seconds=backoff(claim.attempt)))
    with writing():
        try:
            db.session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == claim.id, OutboxMessage.status == "pending",
                       OutboxMessage.attempts == claim.attempt)
                .values(**values)
                .execution_options(synchronize_session=False))
            db.session.commit()
        except BaseException:
            db.session.rollback()
            raise


def _send(claim: Claim) -> Outcome:
    """The channel's send, seeing the row's tenant's data only; whatever goes wrong in it is
    this row's failure, not the pass's."""
    from app.tenancy import isolation

    try:
        with isolation.tenant(claim.tenant_id):
            return CHANNELS[claim.channel].send(claim)
    except Exception as exc:
        log.exception("outbox %s (%s): unexpected error while sending", claim.id, claim.channel)
        return Outcome.failed(f"{type(exc).__name__}; see the server's log.")
    finally:
        db.session.rollback()  # whatever the sender read, no transaction stays open


def deliver_due(channels, limit: int = 50, endpoint_id: int | None = None) -> int:
    """Send up to ``limit`` due rows of ``channels`` (of one webhook endpoint, if given), each
    claimed, sent and recorded on its own.

    Returns how many were tried (whatever the answer). Commits its own transactions: call it
    with none of yours open. A receiver or provider that did not answer is not tried again in
    the same pass, so one that is down costs one timeout per pass.
    """
    db.session.rollback()
    sent = 0
    unreachable: set = set()
    while sent < limit:
        claim = claim_next(channels, unreachable, endpoint_id)
        if claim is None:
            break
        outcome = _send(claim)
        record(claim, outcome)
        sent += 1
        if not outcome.delivered:
            log.warning("outbox %s (%s, %s): attempt %s: %s", claim.id, claim.channel,
                        claim.event, claim.attempt, outcome.error)
        if not outcome.reachable:
            unreachable.add(claim.queue)
    return sent


def due_queues(channels, limit: int = 100) -> list[tuple[str, int | None]]:
    """(channel, endpoint id) of the queues with a row due now, the longest waiting first:
    what the Celery dispatcher fans out, one task per queue."""
    now = utcnow()
    rows = db.session.execute(
        _due(now, channels, set())
        .with_only_columns(OutboxMessage.channel, OutboxMessage.endpoint_id)
        .group_by(OutboxMessage.channel, OutboxMessage.endpoint_id)
        .order_by(func.min(OutboxMessage.next_attempt_at))
        .limit(limit))
    return [(channel, endpoint_id) for channel, endpoint_id in rows]


def resend(message: OutboxMessage) -> bool:
    """Queue a failed or unsent message again, now, with a fresh retry schedule."""
    if message.status not in ("failed", "unsent"):
        return False
    message.status = "pending"
    message.attempts = 0
    message.next_attempt_at = utcnow()
    db.session.flush()
    return True
