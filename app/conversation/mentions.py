"""Mentions: ``@`` followed by a colleague's e-mail address in a comment
(``@tecnico2@acme.test``), or chosen from the form's list of people.

Only people of the request's company who may see the request can be mentioned, and in an
internal note only those who may read internal notes; anyone else named is refused with a clear
message (nothing is saved), so a mention never tells someone of what they may not open.
"""

import re

from flask_babel import gettext as _
from marshmallow import ValidationError
from sqlalchemy import select

from app import policy
from app.extensions import db
from app.models import Membership, ServiceRequest, Unit, User

MENTION = re.compile(
    r"(?<![\w@.+-])@([A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})")
MAX_MENTIONS = 20


def addresses(text: str) -> list[str]:
    """The e-mail addresses mentioned in ``text``, lower-cased, first mention first."""
    return list(dict.fromkeys(m.group(1).lower() for m in MENTION.finditer(text or "")))


def _units_up(tenant_id: int, unit_id: int | None) -> set[int]:
    """``unit_id`` and the units above it (their heads see the request)."""
    if unit_id is None:
        return set()
    up = (select(Unit.id, Unit.parent_id).where(Unit.tenant_id == tenant_id, Unit.id == unit_id)
          .cte("mention_units_up", recursive=True))
    up = up.union(select(Unit.id, Unit.parent_id)
                  .where(Unit.tenant_id == tenant_id, Unit.id == up.c.parent_id))
    return set(db.session.scalars(select(up.c.id)))


def mentionable(req: ServiceRequest, internal: bool = False) -> list[User]:
    """The active people of the request's company who may see it (and, for an internal note,
    read internal notes), by name: its requester, the heads above it, its service unit's
    directors, its ticket's people, tenant admins."""
    tenant = req.tenant_id
    heads = _units_up(tenant, req.unit_id)
    holders = (select(Membership.user_id).where(
        Membership.tenant_id == tenant,
        (Membership.role == "tenant_admin")
        | ((Membership.role == "service_director")
           & (Membership.unit_id == req.service_unit_id))
        | ((Membership.role == "unit_head") & Membership.unit_id.in_(sorted(heads) or [-1]))))
    ids = set(db.session.scalars(holders)) | {req.requester_id}
    ticket = req.ticket
    if ticket is not None:
        ids |= {ticket.worker_id, *(h.id for h in ticket.helpers)}
    people = db.session.scalars(select(User).where(
        User.tenant_id == tenant, User.active.is_(True), User.id.in_(sorted(ids)))
        .order_by(User.name, User.id))
    allowed = policy.can_see_internal if internal else policy.can_view_request
    return [person for person in people if allowed(person, req)]


def resolve(author: User, req: ServiceRequest, text: str, chosen_ids=(),
            internal: bool = False) -> list[User]:
    """The people a comment mentions (never its author), or a ValidationError naming those
    who may not be mentioned there."""
    named = addresses(text)
    chosen = {int(i) for i in chosen_ids or () if str(i).isdigit()}
    if not named and not chosen:
        return []
    if len(named) + len(chosen) > MAX_MENTIONS:
        raise ValidationError({"comment": [_("At most %(n)s people may be mentioned.",
                                             n=MAX_MENTIONS)]})
    allowed = mentionable(req, internal)
    by_email = {p.email.lower(): p for p in allowed}
    by_id = {p.id: p for p in allowed}
    refused = [f"@{a}" for a in named if a not in by_email]
    refused += [str(i) for i in sorted(chosen) if i not in by_id]
    if refused:
        message = (_("Only people who may read internal notes on this request can be mentioned "
                     "in one: %(who)s.", who=", ".join(refused)) if internal else
                   _("Only people who may see this request can be mentioned: %(who)s.",
                     who=", ".join(refused)))
        raise ValidationError({"comment": [message]})
    people = [by_email[a] for a in named] + [by_id[i] for i in sorted(chosen)]
    return [p for p in dict.fromkeys(people) if p.id != author.id]

