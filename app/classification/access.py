"""Who may edit classification rules and workers' skills: this capability's predicates, built
on ``app.policy``'s (the pages, the API and the menus ask here)."""

from app import policy
from app.models import User


def can_manage_classification(user: User) -> bool:
    """Classification rules are the tenant admin's."""
    return policy.can_administer_tenant(user)


def can_manage_skills(user: User, service_unit_id: int | None = None) -> bool:
    """Workers' skills: tenant admins for every service unit, directors for the units they
    direct (``service_unit_id`` None: for any unit they direct)."""
    if not (user.is_authenticated and user.active):
        return False
    if policy.is_tenant_admin(user):
        return True
    directed = policy.directed_unit_ids(user)
    return bool(directed) if service_unit_id is None else service_unit_id in directed
