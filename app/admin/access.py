"""Who may open the administration: one check for every administration blueprint."""

from flask import abort
from flask_login import current_user

from app import policy
from app.extensions import login_manager


def tenant_admins_only():
    """``before_request`` of each administration page blueprint: log in first; anyone but a
    tenant admin finds nothing there (404, as for another company's ids)."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not policy.can_administer_tenant(current_user):
        abort(404)
    return None
