"""A company's usage against its plan's limits (``app.tenancy.plans``), and the one check every
action that adds something counted calls before it changes anything:

    quotas.require(tenant_id, "active_users", adding=3)   # raises QuotaExceeded

Limits and how each is counted:

- ``active_users``: the tenant's people whose account is active;
- ``requests_per_month``: requests filed since the first day of the current month at midnight in
  the tenant's time zone;
- ``custom_processes``: the tenant's process keys other than the product's built-in ones (the
  diagrams in ``processes/``, e.g. ``service_request``); a new version of a key already
  deployed adds nothing;
- ``storage_mb``: the bytes of the tenant's attachments (``app.attachments``), in MB rounded
  up; an upload checks its bytes with ``require_storage(tenant_id, adding_bytes)``;
- ``api_access``: yes/no; ``require(tenant_id, "api_access")`` raises when the plan has none.

``QuotaExceeded`` is answered by the handlers ``app.tenancy.errors`` registers: the transaction
rolls back; under ``/api/`` a 403 ``application/problem+json`` with ``type`` = ``PROBLEM_TYPE``
and ``limit``, ``allowed``, ``used``; on pages, the message flashed and the previous page.
"""

import math
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.extensions import db
from app.models import Attachment, ProcessDefinition, ServiceRequest, Tenant, User
from app.models.base import utcnow
from app.tenancy import clock
from app.tenancy.plans import COUNTED_LIMITS, plan_of

PROBLEM_TYPE = "https://mesa-de-servicios.org/problems/plan-limit"
MB = 1024 * 1024
LIMITS = (*COUNTED_LIMITS, "api_access")

LIMIT_LABELS = {
    "active_users": _l("Active users"),
    "requests_per_month": _l("Requests this month"),
    "custom_processes": _l("Custom processes"),
    "storage_mb": _l("Attachment storage (MB)"),
    "api_access": _l("API access"),
}


class QuotaExceeded(Exception):
    """An action would take the tenant past its plan's ``limit``: ``allowed`` (None for a
    yes/no limit the plan lacks), ``used`` now (before the action)."""

    type = PROBLEM_TYPE

    def __init__(self, limit: str, allowed, used):
        self.limit, self.allowed, self.used = limit, allowed, used
        super().__init__(f"plan limit {limit}: allowed {allowed}, used {used}")

    @property
    def message(self) -> str:
        """What to tell the person, in their language."""
        text = {
            "api_access": _l("Your company's plan does not include API access."),
            "active_users": _l("Your company's plan allows %(allowed)s active people and "
                               "%(used)s are active already."),
            "requests_per_month": _l("Your company's plan allows %(allowed)s requests a month "
                                     "and %(used)s were filed this month."),
            "custom_processes": _l("Your company's plan allows %(allowed)s processes of its "
                                   "own and it has %(used)s."),
            "storage_mb": _l("Your company's plan allows %(allowed)s MB of attachments and "
                             "%(used)s MB are used."),
        }[self.limit]
        return " ".join((str(text) % {"allowed": self.allowed, "used": self.used},
                         str(_l("Nothing was changed. To go further, the company needs "
                                "another plan: ask the service's operators."))))

    def problem_body(self) -> dict:
        return {"type": PROBLEM_TYPE, "title": "Plan limit reached", "status": 403,
                "detail": self.message, "limit": self.limit, "allowed": self.allowed,
                "used": self.used}


def builtin_process_keys() -> set[str]:
    """The product's own diagrams (``processes/*.bpmn``): every tenant gets them, free."""
    from app.services.definitions import PROCESSES_DIR

    return {path.stem for path in PROCESSES_DIR.glob("*.bpmn")}


def month_start(tenant: Tenant, now: datetime | None = None) -> datetime:
    """Midnight of the first day of the current month in the tenant's time zone (aware)."""
    local = (now or utcnow()).astimezone(clock.zone(tenant))
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def count(tenant: Tenant, limit: str) -> int:
    """How much of ``limit`` the tenant uses now."""
    if limit == "active_users":
        return db.session.scalar(select(func.count(User.id)).where(
            User.tenant_id == tenant.id, User.active.is_(True))) or 0
    if limit == "requests_per_month":
        return db.session.scalar(select(func.count(ServiceRequest.id)).where(
            ServiceRequest.tenant_id == tenant.id,
            ServiceRequest.created_at >= month_start(tenant))) or 0
    if limit == "custom_processes":
        return len(custom_process_keys(tenant.id))
    if limit == "storage_mb":
        return math.ceil(storage_bytes(tenant.id) / MB)
    raise KeyError(limit)


def storage_bytes(tenant_id: int) -> int:
    """The bytes of the tenant's attachments (their files as uploaded; thumbnails aside)."""
    return db.session.scalar(select(func.coalesce(func.sum(Attachment.size), 0)).where(
        Attachment.tenant_id == tenant_id)) or 0


# The key of the transaction lock uploads of one company take turns on (PostgreSQL)
STORAGE_LOCK = 0x4D455341


def require_storage(tenant_id: int, adding_bytes: int) -> None:
    """Raise QuotaExceeded ("storage_mb") when ``adding_bytes`` more would pass the plan's
    storage, counted in bytes (``used`` in the error is in MB, rounded up). On PostgreSQL
    the company's uploads take turns from here to their commit (a transaction advisory lock),
    so two at once cannot both count the storage without the other's files."""
    allowed = plan_of(_tenant(tenant_id)).storage_mb
    if allowed is None or adding_bytes <= 0:
        return
    if db.engine.dialect.name == "postgresql":
        db.session.execute(select(func.pg_advisory_xact_lock(STORAGE_LOCK, tenant_id)))
    used = storage_bytes(tenant_id)
    if used + adding_bytes > allowed * MB:
        raise QuotaExceeded("storage_mb", allowed, math.ceil(used / MB))


def custom_process_keys(tenant_id: int) -> set[str]:
    keys = set(db.session.scalars(select(ProcessDefinition.process_key).distinct().where(
        ProcessDefinition.tenant_id == tenant_id)))
    return keys - builtin_process_keys()


def _tenant(tenant_id: int) -> Tenant:
    tenant = db.session.get(Tenant, tenant_id)
    if tenant is None:
        raise LookupError(f"no tenant {tenant_id}")
    return tenant


def require(tenant_id: int, limit: str, adding: int = 1) -> None:
    """Raise QuotaExceeded when adding ``adding`` of ``limit`` would pass the tenant's plan
    (``used + adding > allowed``); for ``api_access``, when the plan has no API access.
    Reads only; call it before changing anything."""
    if limit not in LIMITS:
        raise KeyError(limit)
    tenant = _tenant(tenant_id)
    plan = plan_of(tenant)
    if limit == "api_access":
        if not plan.api_access:
            raise QuotaExceeded("api_access", False, None)
        return
    allowed = getattr(plan, limit)
    if allowed is None or adding <= 0:
        return
    used = count(tenant, limit)
    if used + adding > allowed:
        raise QuotaExceeded(limit, allowed, used)


def require_new_process_key(tenant_id: int, process_key: str) -> None:
    """Deploying ``process_key``: a new custom key counts against ``custom_processes``; a new
    version of a key the tenant has, or a built-in key, adds nothing."""
    if process_key in builtin_process_keys() or process_key in custom_process_keys(tenant_id):
        return
    require(tenant_id, "custom_processes")


def usage(tenant: Tenant) -> dict:
    """``{limit: {"used", "allowed", "over"}}`` for every limit of the tenant's plan (allowed
    None = unlimited; ``api_access``: used is None, allowed is True/False)."""
    plan = plan_of(tenant)
    result = {}
    for limit in COUNTED_LIMITS:
        used, allowed = count(tenant, limit), getattr(plan, limit)
        result[limit] = {"used": used, "allowed": allowed,
                         "over": allowed is not None and used > allowed}
    result["api_access"] = {"used": None, "allowed": plan.api_access, "over": False}
    return result


def over_limits(tenant: Tenant, plan) -> list[tuple[str, int, int]]:
    """``(limit, allowed, used)`` of each counted limit the tenant's usage already passes on
    ``plan`` (for changing plans)."""
    over = []
    for limit in COUNTED_LIMITS:
        allowed = getattr(plan, limit)
        if allowed is None:
            continue
        used = count(tenant, limit)
        if used > allowed:
            over.append((limit, allowed, used))
    return over
