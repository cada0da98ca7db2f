"""Single-use links (an invitation, a password reset): issuing, finding, using.

A link's token is never stored, not even in the outbox: it is an HMAC of a random nonce under
the application's SECRET_KEY. The link row keeps the token's SHA-256 (to find it when it comes
back); the outbox message keeps the link's id and the nonce, from which only the sender, which
knows SECRET_KEY, makes the token again when it writes the e-mail. So whoever reads the
database (or the tenant admin's message log) can neither open a link nor derive one.
Functions here only flush; the view commits.
"""

import base64
import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update

from app.accounts.models import AccountLink
from app.extensions import db
from app.models import User
from app.models.base import utcnow

TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")  # 32 bytes, base64url without padding
# Why a link cannot be used; each has its own page wording.
USED, EXPIRED, SUPERSEDED, UNKNOWN = "used", "expired", "superseded", "unknown"


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode("ascii")).hexdigest()


def token_of(nonce: str) -> str:
    """The link's token made from its nonce (only with this application's SECRET_KEY)."""
    key = current_app.config["SECRET_KEY"]
    key = key.encode("utf-8") if isinstance(key, str) else key
    digest = hmac.new(key, b"mesa-account-link\x00" + nonce.encode("ascii"),
                      hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def path_of(purpose: str, token: str) -> str:
    if purpose == "invite":
        return f"/account/welcome/{token}"
    return f"/password/reset/{token}"


def url_of(purpose: str, token: str) -> str:
    return current_app.config["PUBLIC_BASE_URL"] + path_of(purpose, token)


def issue(user: User, purpose: str, lifetime: timedelta,
          created_by: User | None = None) -> tuple[AccountLink, str]:
    """A new link for ``user``; its older unused links of the same purpose end now.
    Returns the row and the nonce the outbox message carries."""
    now = utcnow()
    db.session.execute(
        update(AccountLink)
        .where(AccountLink.tenant_id == user.tenant_id, AccountLink.user_id == user.id,
               AccountLink.purpose == purpose, AccountLink.used_at.is_(None),
               AccountLink.expires_at > now)
        .values(expires_at=now)
        .execution_options(synchronize_session=False))
    nonce = secrets.token_urlsafe(24)
    link = AccountLink(tenant_id=user.tenant_id, user_id=user.id, purpose=purpose,
                       token_hash=_hash(token_of(nonce)),
                       created_by_id=created_by.id if created_by else None,
                       created_at=now, expires_at=now + lifetime)
    db.session.add(link)
    db.session.flush()
    return link, nonce


def end_live(user: User) -> None:
    """Every usable link of the person, of any purpose, ends now: once they have a new
    password, neither a reset asked before it nor an invitation still open may set another."""
    now = utcnow()
    db.session.execute(
        update(AccountLink)
        .where(AccountLink.tenant_id == user.tenant_id, AccountLink.user_id == user.id,
               AccountLink.used_at.is_(None), AccountLink.expires_at > now)
        .values(expires_at=now)
        .execution_options(synchronize_session=False))


def _newer_exists(link: AccountLink) -> bool:
    return db.session.scalar(
        select(AccountLink.id).where(
            AccountLink.tenant_id == link.tenant_id, AccountLink.user_id == link.user_id,
            AccountLink.purpose == link.purpose, AccountLink.id > link.id).limit(1)) is not None


def why_not_usable(link: AccountLink, now: datetime | None = None) -> str | None:
    """None if the link may be used now, else USED, SUPERSEDED or EXPIRED."""
    now = now or utcnow()
    if link.used_at is not None:
        return USED
    if _newer_exists(link):
        return SUPERSEDED
    if link.expires_at <= now:
        return EXPIRED
    return None


def find(raw, purpose: str, lock: bool = False) -> tuple[AccountLink | None, str | None]:
    """(the link, None) if ``raw`` is a usable link of ``purpose`` for an active person of an
    active tenant; else (the link or None, why not). ``lock``: hold the row (a form post that
    will use it), so two posts of one link cannot both use it."""
    if not isinstance(raw, str) or not TOKEN_RE.match(raw):
        return None, UNKNOWN
    query = select(AccountLink).where(AccountLink.token_hash == _hash(raw),
                                      AccountLink.purpose == purpose)
    if lock:
        query = query.with_for_update()
    link = db.session.scalar(query)
    if link is None:
        return None, UNKNOWN
    user = db.session.scalar(select(User).where(User.tenant_id == link.tenant_id,
                                                User.id == link.user_id))
    if user is None or not user.active or not tenant_is_open(user):
        return None, UNKNOWN
    return link, why_not_usable(link)


def tenant_is_open(user: User) -> bool:
    """The person's company may be used (not suspended)."""
    return getattr(user.tenant, "status", "active") in (None, "active")


def use(link: AccountLink) -> None:
    link.used_at = utcnow()
    db.session.flush()


def live_link_count(user: User, purpose: str) -> int:
    """How many usable links of ``purpose`` the person has (0 or 1)."""
    now = utcnow()
    return len(list(db.session.scalars(select(AccountLink.id).where(
        AccountLink.tenant_id == user.tenant_id, AccountLink.user_id == user.id,
        AccountLink.purpose == purpose, AccountLink.used_at.is_(None),
        AccountLink.expires_at > now))))
