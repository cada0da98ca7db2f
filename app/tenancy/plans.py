"""The plans a company can be on, and their limits: defined here and nowhere else.

A limit of ``None`` is unlimited. ``api_access`` is a yes/no limit (the REST API and personal
tokens). ``storage_mb`` is for attachments (counted by the attachments work when it lands).
"""

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class Plan:
    key: str
    label: object  # a lazy translated string
    active_users: int | None
    requests_per_month: int | None
    custom_processes: int | None
    storage_mb: int | None
    api_access: bool


PLANS = {
    plan.key: plan for plan in (
        Plan("basico", _l("Basic"), active_users=25, requests_per_month=300,
             custom_processes=0, storage_mb=1024, api_access=False),
        Plan("profesional", _l("Professional"), active_users=250, requests_per_month=5000,
             custom_processes=5, storage_mb=20 * 1024, api_access=True),
        Plan("empresa", _l("Enterprise"), active_users=None, requests_per_month=None,
             custom_processes=None, storage_mb=200 * 1024, api_access=True),
    )
}
DEFAULT_PLAN = "profesional"
COUNTED_LIMITS = ("active_users", "requests_per_month", "custom_processes", "storage_mb")


def plan_of(tenant) -> Plan:
    return PLANS.get(tenant.plan) or PLANS[DEFAULT_PLAN]
