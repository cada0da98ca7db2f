"""The survey link a confirmation notice's e-mail carries (``link_for``, called where the
notice is composed: no step of the lifecycle pays for it)."""

from datetime import datetime

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import HumanTask, Tenant, User
from app.models.base import utcnow
from app.survey import tokens

# The notices whose task may be the requester's confirmation (the finish's, or a diagram's
# confirmation reached another way)
EVENTS_WITH_LINK = ("ticket.finished", "task.waiting")
HANDLER = "confirm"


def path_of(token: str) -> str:
    return f"/survey/{token}"


def is_confirmation(task: HumanTask) -> bool:
    return task.role == "requester" and HANDLER in task.handler_list


def link_for(notification, user: User, tenant: Tenant, now: datetime | None = None) -> str:
    """The survey link an e-mail of ``notification`` to ``user`` carries: its task is the open
    confirmation of a request ``user`` filed; else "" (no link)."""
    task_id = getattr(notification, "task_id", None)
    if getattr(notification, "event", None) not in EVENTS_WITH_LINK or not task_id:
        return ""
    task = db.session.scalar(select(HumanTask).where(
        HumanTask.tenant_id == tenant.id, HumanTask.id == task_id)
        .options(joinedload(HumanTask.request)))
    if (task is None or task.status != "open" or not is_confirmation(task)
            or task.request.requester_id != user.id):
        return ""
    token = tokens.make(tenant.id, task.request_id, task.id, now or utcnow())
    return current_app.config["PUBLIC_BASE_URL"] + path_of(token)
