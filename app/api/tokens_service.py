"""Issuing, checking and revoking bearer tokens (stored as SHA-256 hashes)."""

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from app.admin import audit
from app.extensions import db
from app.models import ApiToken, User
from app.models.base import utcnow
from app.sqlite import wants_write, writing
from app.tenancy import access, quotas

PREFIX = "mds_"


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def issue(user: User, name: str, hours: int) -> tuple[str, ApiToken]:
    """A new token for ``user``; the raw value is returned once and never stored. Raises
    QuotaExceeded when the company's plan has no API access, TenantSuspended when it is
    suspended; audited."""
    access.require_active(user.tenant)
    quotas.require(user.tenant_id, "api_access")
    raw = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(tenant_id=user.tenant_id, user_id=user.id, name=name[:100],
                     token_hash=_hash(raw), prefix=raw[:12],
                     expires_at=utcnow() + timedelta(hours=hours))
    db.session.add(token)
    db.session.flush()
    audit.record(user.tenant_id, user, "api_token.issued", "api_token", token.id,
                 target_label=token.name, after=audit.snapshot(token, AUDITED))
    return raw, token


AUDITED = ("name", "prefix", "expires_at", "revoked_at")  # never the hash


TOUCH_EVERY = timedelta(hours=1)


def _touch(token_id: int, tenant_id: int) -> None:
    """Record use, at most hourly, in a short transaction of its own (a GET may not write)."""
    from app.tenancy import isolation

    with writing(), db.engine.begin() as conn:
        isolation.configure(conn, tenant_id)
        conn.execute(update(ApiToken).where(ApiToken.id == token_id)
                     .values(last_used_at=utcnow()))


def _well_formed(raw: str) -> bool:
    return bool(raw) and raw.startswith(PREFIX) and len(raw) <= 200


def find(raw: str) -> ApiToken | None:
    if not _well_formed(raw):
        return None
    return db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash(raw)))


def authenticate(raw: str) -> User | None:
    """The active user a valid, unrevoked, unexpired token belongs to.

    One query on every API call: the token with its user, the user's company and memberships
    (what the policy and the language choice read next)."""
    if not _well_formed(raw):
        return None
    found = db.session.execute(
        select(ApiToken, User)
        .join(User, (User.id == ApiToken.user_id) & (User.tenant_id == ApiToken.tenant_id))
        .where(ApiToken.token_hash == _hash(raw))
        .options(joinedload(User.tenant), joinedload(User.memberships))
    ).unique().one_or_none()
    if found is None:
        return None
    token, user = found
    now = utcnow()
    if token.revoked_at is not None or token.expires_at <= now or not user.active:
        return None
    if token.last_used_at is None or now - token.last_used_at > TOUCH_EVERY:
        if wants_write():
            token.last_used_at = now  # committed with the call's own change
        else:
            # a read holds no write lock, so a short write of its own is safe
            _touch(token.id, token.tenant_id)
    return user


def tokens_of(user: User) -> list[ApiToken]:
    return list(db.session.scalars(
        select(ApiToken).where(ApiToken.tenant_id == user.tenant_id, ApiToken.user_id == user.id)
        .order_by(ApiToken.created_at.desc())
    ))


def revoke(token: ApiToken, actor: User | None = None) -> None:
    """Revoke a token; audited when a person (``actor``) does it by itself (a revocation that
    is part of a larger audited change passes none)."""
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        if actor is not None:
            audit.record(token.tenant_id, actor, "api_token.revoked", "api_token", token.id,
                         target_label=token.name, before={"revoked_at": None},
                         after=audit.snapshot(token, AUDITED))
