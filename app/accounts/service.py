"""What a person does with their account: change their password, ask for a reset and use it,
accept an invitation, log out everywhere. Functions only flush; the view commits.

Every new password passes ``passwords.problems``; every change of password ends the person's
other sessions (a reset: all of them) and revokes their API tokens."""

from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from app.accounts import links, mail, passwords
from app.accounts.models import AccountLink
from app.extensions import db
from app.models import User
from app.services import sessions
from app.services.login import over_limit


class Refused(Exception):
    """A change that cannot be made; ``errors`` maps a field to its messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors)
        self.errors = errors


def _check_new(user: User, new: str, again: str | None) -> dict[str, list[str]]:
    errors = {}
    found = passwords.problems(new, email=user.email, name=user.name)
    if found:
        errors["new_password"] = found
    elif again is not None and again != new:
        errors["new_password_again"] = [_("The two new passwords are not the same.")]
    return errors


def change_password(user: User, current: str, new: str, again: str | None = None,
                    keep_session: str | None = None) -> int:
    """Change ``user``'s password: the current one must match, the new one meet the rules.
    Their other sessions end (``keep_session``: the raw id of the one to keep) and their API
    tokens are revoked. Returns how many sessions ended; raises Refused."""
    if not user.check_password(str(current or "")):
        raise Refused({"current_password": [_("The current password is not right.")]})
    errors = _check_new(user, new, again)
    if errors:
        raise Refused(errors)
    if user.check_password(new):
        raise Refused({"new_password": [_("The new password is the one you have now.")]})
    user.set_password(new)
    links.end_live(user)
    return sessions.end_sessions(user, "password_changed", keep=keep_session)


def request_reset(email, address: str | None) -> None:
    """"Forgot password" for ``email``: if it is an active person's of an active company, a
    reset link is queued by e-mail; if not, nothing happens, and nothing says which. At most
    PASSWORD_RESET_MAX_REQUESTS requests per e-mail (and 5 times that per address) within
    LOGIN_WINDOW_SECONDS; the ones beyond are dropped as silently."""
    email = str(email or "").strip().lower()[:254]
    limit = current_app.config.get("PASSWORD_RESET_MAX_REQUESTS", 3)
    if not email or "@" not in email or over_limit("reset", email, address, limit):
        return
    user = db.session.scalar(select(User).where(func.lower(User.email) == email))
    if user is None or not user.active or not links.tenant_is_open(user):
        return
    minutes = current_app.config.get("RESET_LINK_MINUTES", 30)
    link, nonce = links.issue(user, "reset", timedelta(minutes=minutes))
    mail.queue(link, nonce, user)


def _user_of(link: AccountLink) -> User:
    return db.session.scalar(select(User).where(User.tenant_id == link.tenant_id,
                                                User.id == link.user_id))


def reset_password(link: AccountLink, new: str, again: str | None = None) -> User:
    """Set the password of the reset ``link``'s person (found usable by ``links.find``): the
    link is used, every session of theirs ends and their API tokens are revoked."""
    user = _user_of(link)
    errors = _check_new(user, new, again)
    if errors:
        raise Refused(errors)
    user.set_password(new)
    links.use(link)
    links.end_live(user)
    sessions.end_sessions(user, "password_reset")
    return user


def accept_invitation(link: AccountLink, new: str, again: str | None = None) -> User:
    """The invited person of ``link`` chooses their password; the link is used. The caller
    logs them in."""
    user = _user_of(link)
    errors = _check_new(user, new, again)
    if errors:
        raise Refused(errors)
    user.set_password(new)
    links.use(link)
    links.end_live(user)
    return user


def logout_everywhere(user: User) -> int:
    """End every session of ``user`` (the current one too) and revoke all their API tokens."""
    return sessions.end_sessions(user, "logout_all")
