"""Satisfaction survey by link: the confirmation notice's e-mail carries a signed link with
which the requester confirms and rates the service without logging in.

The link (``tokens``) names the tenant, the request and the confirmation task, and when it was
made; it is signed with the app's SECRET_KEY. It works while that task is open and the tenant's
``survey_link_days`` (default 7) have not passed: answering completes the task through the normal
completion path (``app.services.workflow.complete``, as the requester), so the history, the SLA
clocks and the indicators' satisfaction figures count it, and a second use finds the task done.
"""

SETTING = "survey_link_days"
DEFAULT_DAYS = 7
MAX_DAYS = 90


def link_days(tenant) -> int:
    """How many days a tenant's survey links work."""
    value = (tenant.settings or {}).get(SETTING)
    return value if isinstance(value, int) and 1 <= value <= MAX_DAYS else DEFAULT_DAYS


def init_app(app) -> None:
    from app.survey.views import bp

    app.register_blueprint(bp)


def init_api(api) -> None:
    """No API: an API client answers the confirmation with ``POST /tasks/{id}/complete``."""
