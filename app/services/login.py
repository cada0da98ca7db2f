"""Checking credentials, with failed attempts counted per e-mail and per address.

A password hash of an older scheme (werkzeug's scrypt or pbkdf2) or of a lower argon2 cost is
rewritten with the current one when its owner logs in: the only moment the password is known."""

from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, select, text

from app.accounts import passwords
from app.extensions import db
from app.models import LoginAttempt, User
from app.models.base import utcnow

ADDRESS_FACTOR = 5  # one address may fail this many times more (several people behind a NAT)


class TooManyAttempts(Exception):
    """Too many failed logins lately for this e-mail or address."""


def _too_many_attempts(email: str, address: str, limit: int | None = None) -> bool:
    """Have this e-mail or this address failed ``limit`` times (LOGIN_MAX_ATTEMPTS) lately?
    The "forgot password" form counts its requests the same way, with its own limit."""
    window = utcnow() - timedelta(seconds=current_app.config["LOGIN_WINDOW_SECONDS"])
    limit = limit or current_app.config["LOGIN_MAX_ATTEMPTS"]
    recent = LoginAttempt.created_at >= window
    by_email = db.session.scalar(
        select(func.count(LoginAttempt.id)).where(LoginAttempt.email == email, recent))
    by_address = db.session.scalar(
        select(func.count(LoginAttempt.id)).where(LoginAttempt.address == address, recent))
    return by_email >= limit or by_address >= limit * ADDRESS_FACTOR


def check_credentials(email, password, address) -> User | None:
    """The active user with these credentials, or None (the failure is recorded).

    Raises TooManyAttempts before looking at the password when the limit is reached.
    Flushes only; the caller commits (also on failure, so the attempt is counted).
    """
    email = str(email or "").strip().lower()[:254]
    password = str(password or "")[:1024]
    address = str(address or "")[:64]
    if db.session.get_bind().dialect.name == "postgresql":
        # Serialize attempts on one e-mail, so parallel guesses all see each other's failures.
        # (SQLite already serializes them: a form post starts with BEGIN IMMEDIATE.)
        db.session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                           {"key": f"login:{email}"})
    if _too_many_attempts(email, address):
        raise TooManyAttempts()
    user = db.session.scalar(select(User).where(func.lower(User.email) == email))
    if user is None:
        passwords.verify(passwords.dummy_hash(), password)  # an unknown e-mail costs the same
    # A deactivated person's password is checked too, so their e-mail costs the same hash
    # (refused before it, it would answer at once: who has left, told by timing).
    matches = user is not None and user.check_password(password)
    if user is None or not user.active or not matches:
        db.session.add(LoginAttempt(email=email, address=address))
        db.session.flush()
        return None
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.email == email))
    if passwords.needs_rehash(user.password_hash):
        user.set_password(password)  # argon2id at the current cost, in the login's transaction
        db.session.flush()
    return user


def over_limit(kind: str, email: str, address: str, limit: int) -> bool:
    """Count one request of ``kind`` (e.g. a password reset) for this e-mail and address, as
    failed logins are counted, and say whether they had already reached ``limit`` lately (per
    e-mail; per address ADDRESS_FACTOR times more). Counted apart from logins (their own keys).
    Flushes only."""
    email_key = f"{kind}:{str(email or '').strip().lower()}"[:254]
    address_key = f"{kind}:{str(address or '')}"[:64]
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                           {"key": f"login:{email_key}"})
    if _too_many_attempts(email_key, address_key, limit):
        return True
    db.session.add(LoginAttempt(email=email_key, address=address_key))
    db.session.flush()
    return False
