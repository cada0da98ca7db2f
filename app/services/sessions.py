"""Login sessions of the web pages, kept on the server.

Logging in starts a row whose random id travels in the signed session cookie (only its SHA-256
is stored, as for API tokens). Every page request loads the person through that row, in the same
query, and is refused when the row is missing, ended, older than SESSION_MAX_AGE_HOURS or idle
for SESSION_IDLE_MINUTES: a cookie copied before logout is dead afterwards wherever it is replayed.
Functions here only flush; the view commits.
"""

import hashlib
import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import joinedload

from app import db_unavailable
from app.api import tokens_service
from app.extensions import db
from app.models import User, UserSession
from app.models.base import utcnow
from app.sqlite import wants_write, writing
from app.tenancy import isolation

# Ending sessions for these reasons also revokes the person's API tokens (a password changed
# or reset, a person deactivated, "log out everywhere" with tokens).
REVOKES_TOKENS = {"password_changed", "password_reset", "deactivated", "logout_all"}
MAX_LIVE = 20  # live sessions per person; a new login ends the oldest beyond this
KEEP_ENDED = timedelta(days=30)  # ended or expired rows are deleted after this...
FORGET_BATCH = 200  # ...at most this many per login, so no login pays for a backlog
TOUCH_EVERY = timedelta(minutes=5)  # last_seen_at is written at most this often
MAX_ID = 2**31 - 1
RAW_LENGTH = 43  # secrets.token_urlsafe(32)


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def _max_age() -> timedelta:
    return timedelta(hours=current_app.config["SESSION_MAX_AGE_HOURS"])


def _idle() -> timedelta:
    return timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])


def _touch_every() -> timedelta:
    return min(TOUCH_EVERY, _idle() / 4)


def _live(now: datetime):
    """The SQL condition of a live session at ``now``."""
    return ((UserSession.ended_at.is_(None))
            & (UserSession.created_at > now - _max_age())
            & (UserSession.last_seen_at > now - _idle()))


def _expired(row: UserSession, now: datetime) -> bool:
    return now - row.created_at >= _max_age() or now - row.last_seen_at >= _idle()


def _of(user: User):
    return (UserSession.tenant_id == user.tenant_id) & (UserSession.user_id == user.id)


def start(user: User, user_agent: str | None, address: str | None) -> str:
    """A new session for ``user``; returns the raw id for the cookie (never stored)."""
    now = utcnow()
    _forget_old(now)
    _end_beyond_limit(user, now)
    raw = secrets.token_urlsafe(32)
    db.session.add(UserSession(
        tenant_id=user.tenant_id, user_id=user.id, sid_hash=_hash(raw), created_at=now,
        last_seen_at=now, user_agent=str(user_agent or "")[:200], address=str(address or "")[:64]))
    db.session.flush()
    return raw


def _forget_old(now: datetime) -> None:
    """Delete a bounded batch of rows ended (or expired) more than KEEP_ENDED ago, of the
    tenant of the login (row-level security: of any tenant when run in platform scope). Rows
    another login is deleting at the same moment are skipped (PostgreSQL), not waited on.

    The batch is picked once (a materialized CTE): as a plain ``IN (subquery)`` PostgreSQL may
    run the subquery again for each row, each run skipping the rows the last one locked, and
    delete far more than a batch."""
    old = (select(UserSession.id)
           .where(or_(UserSession.ended_at < now - KEEP_ENDED,
                      UserSession.created_at < now - _max_age() - KEEP_ENDED))
           .limit(FORGET_BATCH).with_for_update(skip_locked=True)
           .cte("old_sessions").prefix_with("MATERIALIZED", dialect="postgresql"))
    db.session.execute(delete(UserSession).where(UserSession.id.in_(select(old.c.id)))
                       .execution_options(synchronize_session=False))


def _end_beyond_limit(user: User, now: datetime) -> None:
    """Leave room for one more: end the person's oldest unended sessions beyond MAX_LIVE - 1."""
    surplus = list(db.session.scalars(
        select(UserSession.id).where(_of(user), UserSession.ended_at.is_(None))
        .order_by(UserSession.created_at.desc(), UserSession.id.desc()).offset(MAX_LIVE - 1)))
    if surplus:
        db.session.execute(update(UserSession).where(UserSession.id.in_(surplus))
                           .values(ended_at=now, end_reason="limit")
                           .execution_options(synchronize_session=False))


def load(user_id, raw) -> User | None:
    """The active person of a live session, or None (treated as logged out).

    One query: the session row with its person, the person's company and memberships (what the
    pages read next). ``user_id`` and ``raw`` come from the signed cookie; both must match."""
    if not isinstance(raw, str) or len(raw) != RAW_LENGTH:
        return None
    user_id = str(user_id)
    if not (user_id.isascii() and user_id.isdecimal() and 0 < int(user_id) <= MAX_ID):
        return None
    found = db.session.execute(
        select(UserSession, User)
        .join(User, (User.id == UserSession.user_id) & (User.tenant_id == UserSession.tenant_id))
        .where(UserSession.sid_hash == _hash(raw), UserSession.user_id == int(user_id))
        .options(joinedload(User.tenant), joinedload(User.memberships))
    ).unique().one_or_none()
    if found is None:
        return None
    row, user = found
    now = utcnow()
    if row.ended_at is not None or not user.active:
        return None
    if _expired(row, now):
        _record(row, ended_at=now, end_reason="expired")
        return None
    if now - row.last_seen_at >= _touch_every():
        _record(row, last_seen_at=now)
    return user


def _record(row: UserSession, **values) -> None:
    """Write to the session row without making a page view pay a write each time: a form post
    commits it with its own change; a page that only reads writes it in a short transaction of
    its own (it holds no write lock, so this cannot wait on itself). A database that refuses
    writes just now (read-only, full) leaves the row as it was: reading pages keep working."""
    if wants_write():
        for name, value in values.items():
            setattr(row, name, value)
        return
    try:
        with writing(), db.engine.begin() as conn:
            isolation.configure(conn, row.tenant_id)
            conn.execute(update(UserSession).where(UserSession.id == row.id).values(**values))
    except DBAPIError as error:
        if not db_unavailable.is_unavailable(error):
            raise


def end(user: User, raw: str | None, reason: str) -> None:
    """End the session with this raw id (the one a logout comes from)."""
    if not isinstance(raw, str):
        return
    db.session.execute(
        update(UserSession)
        .where(_of(user), UserSession.sid_hash == _hash(raw), UserSession.ended_at.is_(None))
        .values(ended_at=utcnow(), end_reason=reason)
        .execution_options(synchronize_session=False))


def find_live(user: User, session_id: int) -> UserSession | None:
    """One of the person's own live sessions by its row id (another person's is not found)."""
    if not 0 < session_id <= MAX_ID:
        return None
    return db.session.scalar(
        select(UserSession).where(_of(user), UserSession.id == session_id, _live(utcnow())))


def end_row(row: UserSession, reason: str = "logout") -> None:
    if row.ended_at is None:
        row.ended_at = utcnow()
        row.end_reason = reason
        db.session.flush()


def end_sessions(user: User, reason: str, keep: str | None = None) -> int:
    """End every session of ``user`` (but the one whose raw id is ``keep``), and when the
    reason is a password change or a deactivation, revoke their API tokens too. Returns how
    many sessions ended. The tenant administration calls this when it deactivates a person
    or changes a password."""
    condition = _of(user) & UserSession.ended_at.is_(None)
    if keep is not None:
        condition &= UserSession.sid_hash != _hash(str(keep))
    result = db.session.execute(
        update(UserSession).where(condition).values(ended_at=utcnow(), end_reason=reason)
        .execution_options(synchronize_session=False))
    if reason in REVOKES_TOKENS:
        for token in tokens_service.tokens_of(user):
            tokens_service.revoke(token)
    db.session.flush()
    return result.rowcount


def live_sessions(user: User) -> list[UserSession]:
    """The person's live sessions, the most recently used first (at most MAX_LIVE)."""
    return list(db.session.scalars(
        select(UserSession).where(_of(user), _live(utcnow()))
        .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc()).limit(MAX_LIVE)))


def is_current(row: UserSession, raw: str | None) -> bool:
    return isinstance(raw, str) and row.sid_hash == _hash(raw)


_BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"),
             ("Chrome/", "Chrome"), ("CriOS/", "Chrome"), ("Safari/", "Safari"))
_SYSTEMS = (("Windows", "Windows"), ("Android", "Android"), ("iPhone", "iOS"), ("iPad", "iOS"),
            ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"), ("Linux", "Linux"))


def browser_of(user_agent: str) -> tuple[str | None, str | None]:
    """(browser, operating system) named in a User-Agent header, None where not recognised."""
    browser = next((name for mark, name in _BROWSERS if mark in user_agent), None)
    system = next((name for mark, name in _SYSTEMS if mark in user_agent), None)
    return browser, system
