"""A company's people: listing, inviting, editing, deactivating and reactivating, and the roles
each holds (in a unit where the role is unit-bound).

Every function takes the acting tenant admin, works inside the actor's tenant only, writes an
audit entry for each change (``app.admin.audit``) and only flushes: the view commits. Invalid
input raises ``marshmallow.ValidationError`` with messages by field, before anything changes.
"""

from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError
from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import selectinload

from app.accounts.passwords import UNUSABLE
from app.admin import audit
from app.admin.units import usable_unit
from app.extensions import db
from app.models import ROLES, HumanTask, Membership, Tenant, Unit, User
from app.search.text import fold

LOCALES = ("es", "en")
UNITLESS_ROLES = ("tenant_admin", "process_owner")
UNIT_ROLES = tuple(role for role in ROLES if role not in UNITLESS_ROLES)
STATUSES = ("active", "invited", "inactive")
NAME_MAX, EMAIL_MAX = 200, 254
AUDITED = ("email", "name", "locale", "phone", "active")
# What a list of people shows of each: their roles with the units' names
LIST_LOAD = (selectinload(User.memberships).joinedload(Membership.unit),)

ROLE_LABELS = {
    "requester": _l("Staff (files requests)"),
    "unit_head": _l("Unit head"),
    "service_director": _l("Service director"),
    "worker": _l("Worker"),
    "process_owner": _l("Process owner"),
    "tenant_admin": _l("Company administrator"),
}
STATUS_LABELS = {"active": _l("Active"), "invited": _l("Invited"), "inactive": _l("Inactive")}


# --- reading ---------------------------------------------------------------------------------

def find(tenant_id: int, user_id) -> User | None:
    """The person ``user_id`` of the tenant, or None (another tenant's, or a bad id)."""
    if not isinstance(user_id, int) or not 0 < user_id <= 2**31 - 1:
        return None
    return db.session.scalar(select(User).where(User.tenant_id == tenant_id, User.id == user_id))


def find_by_email(tenant_id: int, email) -> User | None:
    """The tenant's person with this address (any case), or None."""
    email = str(email or "").strip().lower()
    if not email or len(email) > EMAIL_MAX:
        return None
    return db.session.scalar(select(User).where(User.tenant_id == tenant_id,
                                                func.lower(User.email) == email))


def status_of(user: User) -> str:
    """``inactive``, ``invited`` (has not set a password through the invitation yet) or
    ``active``."""
    from app.accounts.invitations import accepted

    if not user.active:
        return "inactive"
    return "active" if accepted(user) else "invited"


def search(tenant_id: int, *, q: str | None = None, unit_id: int | None = None,
           role: str | None = None, status: str | None = None):
    """A SELECT of the tenant's people by name, matching ``q`` in the name or e-mail and the
    filters given (unknown filter values are ignored by the caller, never here)."""
    stmt = select(User).where(User.tenant_id == tenant_id)
    text = fold((q or "").strip()[:100])
    if text:  # accents and case ignored: "tomas" finds Tomás
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%") \
            .replace("_", "\\_") + "%"
        stmt = stmt.where(or_(
            func.lower(func.mesa_unaccent(User.name)).like(pattern, escape="\\"),
            func.lower(User.email).like(pattern, escape="\\")))
    if unit_id is not None or role is not None:
        held = select(Membership.id).where(Membership.tenant_id == tenant_id,
                                           Membership.user_id == User.id)
        if unit_id is not None:
            held = held.where(Membership.unit_id == unit_id)
        if role is not None:
            held = held.where(Membership.role == role)
        stmt = stmt.where(exists(held))
    if status == "inactive":
        stmt = stmt.where(User.active.is_(False))
    elif status == "invited":
        stmt = stmt.where(User.active.is_(True), User.password_hash.startswith(UNUSABLE))
    elif status == "active":
        stmt = stmt.where(User.active.is_(True),
                           ~User.password_hash.startswith(UNUSABLE))
    return stmt.order_by(func.lower(User.name), User.id)


def roles_of(user: User) -> list[str]:
    """The person's roles as audit text: ``role`` or ``role @ unit name``, sorted."""
    return sorted(m.role + (f" @ {m.unit.name}" if m.unit is not None else "")
                  for m in user.memberships)


def _snapshot(user: User) -> dict:
    return {**audit.snapshot(user, AUDITED), "roles": roles_of(user)}


# --- validating ------------------------------------------------------------------------------

def _clean_name(value) -> str:
    name = " ".join(str(value or "").split())
    if not name:
        raise ValidationError({"name": [str(_l("Write the person's name."))]})
    if len(name) > NAME_MAX or not name.isprintable():
        raise ValidationError({"name": [str(_l("At most %(n)s characters, on one line.",
                                              n=NAME_MAX))]})
    return name


def _clean_email(value) -> str:
    from marshmallow import fields

    email = str(value or "").strip().lower()
    if not email:
        raise ValidationError({"email": [str(_l("Write the e-mail address."))]})
    if len(email) > EMAIL_MAX:
        raise ValidationError({"email": [str(_l("At most %(n)s characters.", n=EMAIL_MAX))]})
    try:
        fields.Email().deserialize(email)
    except ValidationError:
        raise ValidationError({"email": [str(_l("This is not an e-mail address."))]}) from None
    return email


def _clean_locale(value) -> str | None:
    locale = str(value or "").strip()
    if not locale:
        return None
    if locale not in LOCALES:
        raise ValidationError({"locale": [str(_l("Choose Spanish or English."))]})
    return locale


def _clean_phone(value) -> str | None:
    from app.notifications.service import clean_phone

    try:
        return clean_phone(value)
    except ValidationError as exc:
        raise ValidationError({"phone": exc.messages}) from None


def email_taken(email: str) -> bool:
    """Whether any account of any company has this address (logins are by e-mail alone).
    Looks across tenants on purpose; it answers only yes or no, never whose it is."""
    try:
        from app.tenancy.isolation import platform
    except ImportError:  # isolation by construction not installed: queries are not filtered
        from contextlib import nullcontext as platform
    with platform():
        return db.session.scalar(
            select(User.id).where(func.lower(User.email) == email.lower()).limit(1)) is not None


SERVICE_ROLES = ("service_director", "worker")  # held in a service unit only


def _clean_membership(tenant_id: int, role, unit_id,
                      field: str = "role") -> tuple[str, Unit | None]:
    """(role, unit) once checked: a known role; a unit of this tenant, not archived, where the
    role is unit-bound; no unit where it is not."""
    if role not in ROLES:
        raise ValidationError({field: [str(_l("Unknown role."))]})
    if role in UNITLESS_ROLES:
        if unit_id not in (None, ""):
            raise ValidationError({"unit_id": [str(_l(
                "This role is for the whole company: choose no unit."))]})
        return role, None
    if unit_id in (None, ""):
        raise ValidationError({"unit_id": [str(_l("This role is held in a unit: choose one."))]})
    unit = usable_unit(tenant_id, unit_id)
    if role in SERVICE_ROLES and not unit.is_service_unit:
        raise ValidationError({"unit_id": [str(_l(
            "Service directors and workers belong to a service unit: %(unit)s is not one.",
            unit=unit.name))]})
    return role, unit


# --- changing --------------------------------------------------------------------------------

def invite(actor: User, *, email, name, locale=None, phone=None, memberships=()) -> User:
    """Create a person of the actor's company who has no password yet, with their roles, and
    send them an invitation (a single-use link to set their password). ``memberships``:
    ``(role, unit_id or None)`` pairs. Raises ValidationError (by field) or QuotaExceeded
    before changing anything. Flushes only."""
    from app.accounts import invitations
    from app.tenancy import quotas

    tenant_id = actor.tenant_id
    errors: dict = {}
    clean = {}
    for key, cleaner, value in (("email", _clean_email, email), ("name", _clean_name, name),
                                ("locale", _clean_locale, locale),
                                ("phone", _clean_phone, phone)):
        try:
            clean[key] = cleaner(value)
        except ValidationError as exc:
            errors.update(exc.messages)
    if "email" in clean and email_taken(clean["email"]):
        errors["email"] = [str(_l("This address already has an account, so it cannot be "
                                  "invited again. Use another address."))]
    roles: dict[tuple[str, int | None], Unit | None] = {}
    for pair in memberships or ():
        try:
            role, unit_id = pair
            role, unit = _clean_membership(tenant_id, role, unit_id)
        except (TypeError, ValueError):
            errors.setdefault("memberships", []).append(str(_l("Give a role and a unit.")))
            continue
        except ValidationError as exc:
            for key, messages in exc.messages.items():
                errors.setdefault("memberships" if key in ("role", "unit_id") else key,
                                  []).extend(messages)
            continue
        roles[(role, unit.id if unit else None)] = unit
    if errors:
        raise ValidationError(errors)
    quotas.require(tenant_id, "active_users", adding=1)
    user = User(tenant_id=tenant_id, email=clean["email"], name=clean["name"],
                locale=clean["locale"], phone=clean["phone"], password_hash=UNUSABLE,
                active=True)
    for (role, unit_id), unit in roles.items():
        user.memberships.append(Membership(tenant_id=tenant_id, role=role, unit_id=unit_id,
                                           unit=unit))
    db.session.add(user)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except Exception as exc:  # the address was taken meanwhile (unique index)
        from sqlalchemy.exc import IntegrityError

        if not isinstance(exc, IntegrityError):
            raise
        raise ValidationError({"email": [str(_l(
            "This address already has an account, so it cannot be invited again. Use "
            "another address."))]}) from None
    invitations.invite(user, actor)
    audit.record(tenant_id, actor, "user.invited", "user", user.id, target_label=user.email,
                 after=_snapshot(user))
    db.session.flush()
    return user


def resend_invitation(actor: User, user: User) -> None:
    """A new invitation link (the older one stops working) for a person who has not set a
    password yet."""
    from app.accounts import invitations

    if status_of(user) != "invited":
        raise ValidationError({"_schema": [str(_l(
            "Only an active person who has not accepted the invitation can get it again."))]})
    invitations.invite(user, actor)
    audit.record(user.tenant_id, actor, "user.invitation_resent", "user", user.id,
                 target_label=user.email)
    db.session.flush()


def update(actor: User, user: User, data: dict) -> bool:
    """Change the name, phone or language given in ``data`` (keys absent stay). Returns
    whether anything changed."""
    errors, clean = {}, {}
    for key, cleaner in (("name", _clean_name), ("locale", _clean_locale),
                         ("phone", _clean_phone)):
        if key in data:
            try:
                clean[key] = cleaner(data[key])
            except ValidationError as exc:
                errors.update(exc.messages)
    unknown = set(data) - {"name", "locale", "phone"}
    for key in unknown:
        errors[key] = [str(_l("This cannot be changed here."))]
    if errors:
        raise ValidationError(errors)
    changed = {key: value for key, value in clean.items() if getattr(user, key) != value}
    if not changed:
        return False
    before = {key: getattr(user, key) for key in changed}
    for key, value in changed.items():
        setattr(user, key, value)
    audit.record(user.tenant_id, actor, "user.updated", "user", user.id,
                 target_label=user.email, before=before, after=changed)
    db.session.flush()
    return True


def _lock_tenant(tenant_id: int) -> None:
    """Serialize the changes that could leave a company without an active admin (two admins
    removing each other at once): the tenant's row is locked on PostgreSQL; SQLite's form
    posts already take the write lock first."""
    db.session.execute(select(Tenant.id).where(Tenant.id == tenant_id).with_for_update())


def _other_active_admins(tenant_id: int, user_id: int) -> int:
    """The company's other administrators who can log in now: active, with a password (an
    invited one who never chose a password, perhaps at a mistyped address, is not yet one)."""
    return db.session.scalar(
        select(func.count(func.distinct(User.id)))
        .join(Membership, (Membership.user_id == User.id) & (Membership.tenant_id == tenant_id))
        .where(User.tenant_id == tenant_id, User.active.is_(True), User.id != user_id,
               ~User.password_hash.startswith(UNUSABLE),
               Membership.role == "tenant_admin")) or 0


def _keeps_an_admin(user: User) -> None:
    """Refuse a change that would leave the company without an active administrator."""
    _lock_tenant(user.tenant_id)
    if _other_active_admins(user.tenant_id, user.id) == 0:
        raise ValidationError({"_schema": [str(_l(
            "The company needs at least one active administrator: make someone else an "
            "administrator first."))]})


def deactivate(actor: User, user: User) -> dict:
    """The person can no longer log in: their sessions end, their API tokens are revoked and
    the tasks they had claimed go back to their group (each release is in the request's
    history). Their history stays. Returns what was done: sessions ended, claims released."""
    from app.services import sessions, workflow
    from app.teams import board

    if not user.active:
        raise ValidationError({"_schema": [str(_l("This person is already inactive."))]})
    if user.has_role("tenant_admin"):
        _keeps_an_admin(user)
    claimed = list(db.session.scalars(select(HumanTask).where(
        HumanTask.tenant_id == user.tenant_id, HumanTask.claimed_by_id == user.id,
        HumanTask.status == "open").order_by(HumanTask.id)))
    user.active = False
    ended = sessions.end_sessions(user, "deactivated")
    released = []
    for task in claimed:
        workflow.release(actor, task)
        released.append(task.id)
    # their open change-board votes are skipped: the others' votes decide (app.teams.board)
    board.withdraw_member(user.tenant_id, user.id, actor)
    audit.record(user.tenant_id, actor, "user.deactivated", "user", user.id,
                 target_label=user.email, before={"active": True},
                 after={"active": False, "sessions_ended": ended, "claims_released": released})
    db.session.flush()
    return {"sessions_ended": ended, "claims_released": released}


def reactivate(actor: User, user: User) -> None:
    """The person may log in again (with their password; their old tokens stay revoked).
    Counts against the plan's active users."""
    from app.tenancy import quotas

    if user.active:
        raise ValidationError({"_schema": [str(_l("This person is already active."))]})
    quotas.require(user.tenant_id, "active_users", adding=1)
    user.active = True
    audit.record(user.tenant_id, actor, "user.reactivated", "user", user.id,
                 target_label=user.email, before={"active": False}, after={"active": True})
    db.session.flush()


def add_membership(actor: User, user: User, role, unit_id) -> Membership:
    """Give ``user`` (of the actor's tenant) ``role``, in ``unit_id`` where it is unit-bound."""
    if user.tenant_id != actor.tenant_id:
        raise ValidationError({"user_id": [str(_l("Unknown person."))]})
    role, unit = _clean_membership(actor.tenant_id, role, unit_id)
    if any(m.role == role and m.unit_id == (unit.id if unit else None)
           for m in user.memberships):
        raise ValidationError({"role": [str(_l("The person already has this role here."))]})
    before = roles_of(user)
    membership = Membership(tenant_id=user.tenant_id, role=role,
                            unit_id=unit.id if unit else None, unit=unit)
    user.memberships.append(membership)
    db.session.flush()
    audit.record(user.tenant_id, actor, "membership.added", "user", user.id,
                 target_label=user.email, before={"roles": before},
                 after={"roles": roles_of(user)})
    return membership


def find_membership(user: User, membership_id) -> Membership | None:
    return next((m for m in user.memberships if m.id == membership_id), None)


def remove_membership(actor: User, user: User, membership: Membership) -> None:
    """Take a role away. The last active administrator's admin role cannot be removed."""
    if membership.user_id != user.id or membership.tenant_id != actor.tenant_id:
        raise ValidationError({"_schema": [str(_l("Unknown role."))]})
    if membership.role == "tenant_admin" and user.active:
        _keeps_an_admin(user)
    before = roles_of(user)
    user.memberships.remove(membership)
    db.session.flush()
    audit.record(user.tenant_id, actor, "membership.removed", "user", user.id,
                 target_label=user.email, before={"roles": before},
                 after={"roles": roles_of(user)})
