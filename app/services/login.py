"""Checking credentials, with failed attempts counted per e-mail and per address."""

from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, select, text
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from app.models import LoginAttempt, User
from app.models.base import utcnow

ADDRESS_FACTOR = 5  # one address may fail this many times more (several people behind a NAT)
# Checked against when the e-mail is unknown, so both cases cost one password hash.
_DUMMY_HASH = generate_password_hash("not a password")


class TooManyAttempts(Exception):
    """Too many failed logins lately for this e-mail or address."""


def _too_many_attempts(email: str, address: str) -> bool:
    window = utcnow() - timedelta(seconds=current_app.config["LOGIN_WINDOW_SECONDS"])
    limit = current_app.config["LOGIN_MAX_ATTEMPTS"]
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
        check_password_hash(_DUMMY_HASH, password)
    if user is None or not user.active or not user.check_password(password):
        db.session.add(LoginAttempt(email=email, address=address))
        db.session.flush()
        return None
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.email == email))
    return user
