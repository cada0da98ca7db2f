"""Finding what a survey link answers, and answering it as the requester.

A link is usable while its task is the request's open confirmation (a requester's task
offering ``confirm``) and the tenant's ``survey_link_days`` have not passed since it was made.
Answering goes through ``workflow.complete`` as the requester, like the task page: the task
is locked, a second answer (the same link twice, two posts at once, or the requester answering
in the app first) finds it done. Only flushes; the view commits.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import HumanTask, ServiceRequest, Tenant, User
from app.models.base import utcnow
from app.services import workflow
from app.survey import link_days, links, tokens
from app.tenancy.access import SUSPENDED

# Why a link cannot be used; each has its own page wording (and status)
USED, EXPIRED, UNKNOWN = "used", "expired", "unknown"
HANDLER = links.HANDLER
# Issued a little after the clock reads (another node's clock): still accepted
CLOCK_SKEW = timedelta(minutes=5)


class Dead(Exception):
    """The link cannot be used; ``reason``: USED, EXPIRED or UNKNOWN."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class Found:
    task: HumanTask
    request: ServiceRequest
    requester: User


def find(claim: tokens.Claim, now: datetime | None = None) -> Found:
    """What ``claim`` answers (the caller works in its tenant's scope); raises Dead."""
    now = now or utcnow()
    tenant = db.session.get(Tenant, claim.tenant_id)
    if tenant is None or tenant.status == SUSPENDED or claim.issued_at > now + CLOCK_SKEW:
        raise Dead(UNKNOWN)
    task = db.session.scalar(select(HumanTask).where(
        HumanTask.tenant_id == claim.tenant_id, HumanTask.id == claim.task_id)
        .options(joinedload(HumanTask.request).joinedload(ServiceRequest.requester)))
    if task is None or task.request_id != claim.request_id or not links.is_confirmation(task):
        raise Dead(UNKNOWN)
    if task.status != "open":
        raise Dead(USED)
    if now - claim.issued_at > timedelta(days=link_days(tenant)):
        raise Dead(EXPIRED)
    requester = task.request.requester
    if requester is None or not requester.active:
        raise Dead(UNKNOWN)
    return Found(task, task.request, requester)


def language_of(claim: tokens.Claim) -> str | None:
    """The language the link's pages speak: the requester's, chosen as their e-mails are
    (``notifications.compose.locale_of``: theirs, else the company's); None when the claim
    names no request of an active company (the product's default then)."""
    from app.notifications.compose import locale_of

    row = db.session.execute(
        select(User, Tenant)
        .join(ServiceRequest, ServiceRequest.requester_id == User.id)
        .join(Tenant, Tenant.id == ServiceRequest.tenant_id)
        .where(ServiceRequest.tenant_id == claim.tenant_id,
               ServiceRequest.id == claim.request_id, User.tenant_id == claim.tenant_id,
               Tenant.status != SUSPENDED)).first()
    return locale_of(*row) if row is not None else None


def answer(found: Found, form: dict) -> None:
    """Confirm and rate as the requester (raises ValidationError for a bad rating or comment,
    Dead(USED) when the task was answered meanwhile). Only the rating and comment are read."""
    values = {"rating": form.get("rating"), "comment": form.get("comment") or ""}
    try:
        workflow.complete(found.requester, found.task, HANDLER, values)
    except workflow.TaskConflict:
        raise Dead(USED) from None
    except workflow.NotAllowed:
        raise Dead(UNKNOWN) from None
