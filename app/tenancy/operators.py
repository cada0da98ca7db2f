"""What the platform's operators do to a company (``flask tenants ...``): create one ready to
work, suspend and resume it, change its plan, delete it. Each function checks its input first
and raises ``OperatorError`` (a clear message) before changing anything; each writes an audit
entry of the company (``actor_label="operator"``) while the company exists; none commits.

A new company gets (``create``):

- the default process (``processes/service_request.bpmn``), deployed as version 1;
- a service unit ("Servicios Generales") and an operating unit ("Administración");
- default categories, attended by the service unit;
- its first tenant admin, invited by e-mail (``app.accounts.invitations.invite``). Until they
  add people, the admin holds every role a request needs to go through: head of
  Administración (so their requests need no authorization), director of the service unit,
  process owner. They hand those roles over on the People page.
"""

import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from marshmallow import ValidationError
from marshmallow import fields as ma_fields
from sqlalchemy import delete, func, select

from app.admin import audit
from app.extensions import db
from app.models import Category, Membership, ServiceRequest, Tenant, Unit, User
from app.models.base import utcnow
from app.services import definitions
from app.tenancy import access, isolation, quotas
from app.tenancy.plans import DEFAULT_PLAN, PLANS, plan_of

OPERATOR = "operator"
SLUG = re.compile(r"^[a-z][a-z0-9-]{1,38}[a-z0-9]$")
LANGUAGES = ("es", "en")
NAME_MAX, EMAIL_MAX, REASON_MAX = 200, 254, 500
TENANT_FIELDS = ("slug", "name", "plan", "status", "suspended_reason", "locale", "timezone")

# Names of what a new company starts with, per language
STARTER = {
    "es": {"service_unit": "Servicios Generales", "unit": "Administración"},
    "en": {"service_unit": "General Services", "unit": "Administration"},
}
CATEGORIES = [  # names by language, default priority
    ({"es": "Mantenimiento", "en": "Maintenance"}, "normal"),
    ({"es": "Electricidad", "en": "Electricity"}, "high"),
    ({"es": "Plomería", "en": "Plumbing"}, "normal"),
    ({"es": "Limpieza", "en": "Cleaning"}, "low"),
    ({"es": "Soporte TI", "en": "IT support"}, "normal"),
]


class OperatorError(Exception):
    """Bad input for an operator's command: nothing was changed."""


@dataclass
class Created:
    tenant: Tenant
    admin: User
    invitation_url: str


def find(slug: str) -> Tenant:
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == (slug or "").strip()))
    if tenant is None:
        raise OperatorError(f"No company has the slug '{slug}'. See 'flask tenants list'.")
    return tenant


def _check_slug(slug: str) -> str:
    slug = (slug or "").strip()
    if not SLUG.match(slug) or "--" in slug:
        raise OperatorError(
            f"'{slug}' is not a valid slug: 3 to 40 characters, lowercase letters, digits and "
            "single hyphens, starting with a letter and not ending with a hyphen "
            "(e.g. 'acme-norte').")
    if db.session.scalar(select(Tenant.id).where(Tenant.slug == slug)) is not None:
        raise OperatorError(f"The slug '{slug}' is taken by another company.")
    return slug


def _check_plan(plan: str) -> str:
    if plan not in PLANS:
        raise OperatorError(f"Unknown plan '{plan}'. Plans: {', '.join(PLANS)}.")
    return plan


def _check_email(email: str) -> str:
    from app.admin.people import email_taken

    email = (email or "").strip().lower()
    try:
        if not email or len(email) > EMAIL_MAX:
            raise ValidationError("length")
        ma_fields.Email().deserialize(email)
    except ValidationError:
        raise OperatorError(f"'{email}' is not an e-mail address.") from None
    if email_taken(email):
        raise OperatorError(f"The address '{email}' already has an account (e-mail addresses "
                            "are unique across companies). Use another one.")
    return email


def _check_text(value: str, what: str, limit: int) -> str:
    value = " ".join((value or "").split())
    if not value or len(value) > limit:
        raise OperatorError(f"Give the {what} (1 to {limit} characters).")
    return value


def _check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise OperatorError(f"Unknown time zone '{name}' (e.g. 'America/Bogota').") from None
    return name


def create(slug: str, *, name: str, admin_email: str, admin_name: str,
           plan: str = DEFAULT_PLAN, language: str = "es",
           timezone: str = "America/Bogota") -> Created:
    """A new company, ready to work (see the module's docstring); the admin's invitation link
    is returned (it is e-mailed too, when e-mail is configured)."""
    from app.accounts import invitations
    from app.accounts.passwords import UNUSABLE

    slug = _check_slug(slug)
    name = _check_text(name, "company's name", NAME_MAX)
    admin_name = _check_text(admin_name, "admin's name", NAME_MAX)
    admin_email = _check_email(admin_email)
    plan = _check_plan(plan)
    if language not in LANGUAGES:
        raise OperatorError(f"Unknown language '{language}'. Languages: {', '.join(LANGUAGES)}.")
    timezone = _check_timezone(timezone)

    tenant = Tenant(slug=slug, name=name, plan=plan, status="active", locale=language,
                    timezone=timezone, settings={})
    db.session.add(tenant)
    db.session.flush()
    words = STARTER[language]
    service_unit = Unit(tenant_id=tenant.id, name=words["service_unit"], is_service_unit=True)
    home = Unit(tenant_id=tenant.id, name=words["unit"])
    db.session.add_all([service_unit, home])
    db.session.flush()
    for names, priority in CATEGORIES:
        db.session.add(Category(tenant_id=tenant.id, name=names[language], names=dict(names),
                                service_unit_id=service_unit.id, default_priority=priority,
                                description=""))
    definitions.deploy(tenant.id, definitions.default_diagram(), note="default diagram")
    admin = User(tenant_id=tenant.id, email=admin_email, name=admin_name,
                 password_hash=UNUSABLE, locale=language, active=True)
    for role, unit in (("tenant_admin", None), ("process_owner", None),
                       ("unit_head", home), ("service_director", service_unit)):
        admin.memberships.append(Membership(tenant_id=tenant.id, role=role,
                                            unit_id=unit.id if unit else None))
    db.session.add(admin)
    db.session.flush()
    url = invitations.invite(admin, None)  # signed "the service desk team", in their language
    audit.record(tenant.id, None, "tenant.created", "tenant", tenant.id, target_label=slug,
                 after={**audit.snapshot(tenant, TENANT_FIELDS), "admin": admin_email},
                 actor_label=OPERATOR)
    db.session.flush()
    return Created(tenant, admin, url)


def suspend(slug: str, reason: str) -> Tenant:
    """Suspend a company: its people see the suspension page and its API answers 403; its
    data stays, its background work waits (``app.tenancy.access``)."""
    tenant = find(slug)
    reason = _check_text(reason, "reason (people of the company will read it)", REASON_MAX)
    if access.is_suspended(tenant):
        raise OperatorError(f"'{tenant.slug}' is suspended already (since "
                            f"{tenant.suspended_at:%Y-%m-%d %H:%M} UTC: "
                            f"{tenant.suspended_reason}).")
    before = audit.snapshot(tenant, ("status", "suspended_reason"))
    tenant.status, tenant.suspended_reason, tenant.suspended_at = access.SUSPENDED, reason, utcnow()
    audit.record(tenant.id, None, "tenant.suspended", "tenant", tenant.id,
                 target_label=tenant.slug, before=before,
                 after=audit.snapshot(tenant, ("status", "suspended_reason", "suspended_at")),
                 actor_label=OPERATOR)
    db.session.flush()
    return tenant


def resume(slug: str) -> Tenant:
    tenant = find(slug)
    if not access.is_suspended(tenant):
        raise OperatorError(f"'{tenant.slug}' is not suspended.")
    before = audit.snapshot(tenant, ("status", "suspended_reason", "suspended_at"))
    tenant.status, tenant.suspended_reason, tenant.suspended_at = "active", None, None
    audit.record(tenant.id, None, "tenant.resumed", "tenant", tenant.id,
                 target_label=tenant.slug, before=before, after={"status": "active"},
                 actor_label=OPERATOR)
    db.session.flush()
    return tenant


def set_plan(slug: str, plan_key: str, *, force: bool = False) -> tuple[Tenant, list, bool]:
    """Move a company to another plan. When its usage already passes the new plan's limits,
    refuse (listing them) unless ``force``: then the change is made, nothing is removed, and
    the limits stop only new additions. Returns the company, what is over
    (``(limit, allowed, used)``) and whether it loses API access (its tokens stop working)."""
    tenant = find(slug)
    plan = PLANS[_check_plan(plan_key)]
    if tenant.plan == plan.key:
        raise OperatorError(f"'{tenant.slug}' is on the plan '{plan.key}' already.")
    over = quotas.over_limits(tenant, plan)
    losing_api = plan_of(tenant).api_access and not plan.api_access
    if over and not force:
        raise OperatorError(
            f"'{tenant.slug}' already uses more than the plan '{plan.key}' allows: "
            + "; ".join(f"{limit} {used} (allowed {allowed})" for limit, allowed, used in over)
            + ". Nothing was changed. Add --force to change the plan anyway (nothing is "
              "removed; only new additions are refused).")
    before = {"plan": tenant.plan}
    tenant.plan = plan.key
    audit.record(tenant.id, None, "tenant.plan_changed", "tenant", tenant.id,
                 target_label=tenant.slug, before=before,
                 after={"plan": plan.key,
                        "over_limits": {limit: {"allowed": allowed, "used": used}
                                        for limit, allowed, used in over}},
                 actor_label=OPERATOR)
    db.session.flush()
    return tenant, over, losing_api


def summary(tenant: Tenant) -> dict:
    """People and requests of a company (for ``list``)."""
    users = db.session.scalar(select(func.count(User.id)).where(
        User.tenant_id == tenant.id, User.active.is_(True))) or 0
    requests = db.session.scalar(select(func.count(ServiceRequest.id)).where(
        ServiceRequest.tenant_id == tenant.id)) or 0
    return {"users": users, "requests": requests}


def purge(tenant_id: int, session) -> dict:
    """Delete every row of a company, then the company: ``{table: rows deleted}``.

    Table by table, children first (the metadata's dependency order): rows with the
    company's ``tenant_id``, and rows of tables without one that point at those rows. Request
    history and the audit are append-only for the app's database role on PostgreSQL (a
    trigger refuses DELETE), so run this with the tables' owner's rights: ``session`` is a
    connection (or session) of the database URL's user, as ``delete_tenant`` opens. The
    caller commits."""
    counts = {}
    tables = [t for t in reversed(db.metadata.sorted_tables) if t.name != "tenants"]
    for table in tables:
        condition = _rows_of(table, tenant_id)
        if condition is None:
            continue
        result = session.execute(delete(table).where(condition))
        if result.rowcount:
            counts[table.name] = result.rowcount
    tenants = db.metadata.tables["tenants"]
    counts["tenants"] = session.execute(delete(tenants).where(tenants.c.id == tenant_id)).rowcount
    return counts


def _rows_of(table, tenant_id: int):
    """The condition picking the company's rows of ``table`` (None: none of it is theirs)."""
    if "tenant_id" in table.c:
        return table.c.tenant_id == tenant_id
    for fk in table.foreign_keys:
        parent = fk.column.table
        if parent.name == "tenants":
            return fk.parent == tenant_id
        if "tenant_id" in parent.c:
            return fk.parent.in_(select(fk.column).where(parent.c.tenant_id == tenant_id))
    return None


def delete_tenant(slug: str) -> dict:
    """``purge`` a company by slug, in a transaction of its own on a connection outside the
    app's session: as the database URL's user (the tables' owner), not as
    ``DATABASE_APP_ROLE``, whose rights stop at appending to history and the audit. Nothing
    of the company stays, its audit included (so no entry is written: the operator's
    terminal and the server's log keep the record)."""
    tenant_id = find(slug).id
    db.session.rollback()
    with db.engine.begin() as connection:
        isolation.configure(connection, isolation.OWNER)  # every row, history included
        counts = purge(tenant_id, connection)
    from app.attachments import storage

    storage.current().remove_tenant(tenant_id)  # its files, once no row names them
    return counts
