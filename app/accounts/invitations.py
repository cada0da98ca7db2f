"""Inviting a person: a single-use link, e-mailed through the outbox, where they choose their
first password (``/account/welcome/<token>``).

The People page (tenant administration) and the operators' ``flask tenants create`` call
``invite`` for a person they just created with ``password_hash = passwords.UNUSABLE``, and
``accepted`` for the list's "invited / active" status. Both only flush: the caller commits.
"""

from datetime import timedelta

from flask import current_app

from app.accounts import links, mail, passwords
from app.models import User


class AlreadyAccepted(Exception):
    """The person already has a password: an invitation would let its link's holder set
    another one (they use "forgot password" instead)."""


def accepted(user: User) -> bool:
    """The person has a usable password (they accepted their invitation, or never needed one)."""
    return passwords.is_usable(user.password_hash)


def invite(user: User, invited_by: User | None, *, actor_label: str | None = None) -> str:
    """Invite ``user`` (of ``invited_by``'s tenant) to choose their password: a new link valid
    INVITE_LINK_HOURS (their older unused invitations end), its e-mail queued in the outbox
    (the tenant's name, who invited, the link), and the link's URL returned.

    ``actor_label`` names the inviter when no person of the tenant did (e.g. "Platform
    operators"). The URL is a secret for the invited person only: show it to nobody but a
    platform operator who has to pass it on (e-mail not configured). Flushes only.
    Raises AlreadyAccepted if the person already has a password.
    """
    if invited_by is not None and invited_by.tenant_id != user.tenant_id:
        raise ValueError("a person can only be invited by someone of their own tenant")
    if accepted(user):
        raise AlreadyAccepted()
    hours = current_app.config.get("INVITE_LINK_HOURS", 72)
    link, nonce = links.issue(user, "invite", timedelta(hours=hours), created_by=invited_by)
    mail.queue(link, nonce, user, actor_label=actor_label)
    return links.url_of("invite", links.token_of(nonce))
