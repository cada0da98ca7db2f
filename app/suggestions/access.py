"""Who may do what with the learned suggestion: the product's predicates (app.policy)."""

from app import policy
from app.models import User


def can_manage(user: User) -> bool:
    """Its page, settings and training: the company's tenant admins."""
    return policy.can_administer_tenant(user)


def can_ask(user: User) -> bool:
    """A suggestion while writing a request: whoever may file one."""
    return user.is_authenticated and user.active and policy.can_file_request(user)
