"""Service operations of the incident template: ``prioritize`` (impact x urgency -> priority by
the tenant's matrix, and the moment the first line's time runs out) and ``escalate`` (the
incident goes to the second line). Registered in ``app.handlers.registry``.

Where impact and urgency come from: the service task's parameters ``impact`` and ``urgency``
when the diagram passes them (e.g. from a triage form of its own), else the request's fields of
those names (the incident category's choice fields high / medium / low, filled in when filing).
With neither, the priority the request was filed with is kept; with only one, the other counts
as medium. The first line's time is counted in business hours (``escalation.deadline``).
"""

from datetime import timedelta

from app.extensions import db
from app.handlers.base import OperationContext
from app.models import Tenant
from app.models.base import utcnow
from app.process_catalog import escalation, matrix, settings
from app.services import history
from app.sla import service as sla


def _levels(params: dict, fields: dict) -> tuple[str | None, str | None, str]:
    impact, urgency = params.get("impact"), params.get("urgency")
    if impact is not None or urgency is not None:
        return matrix.level(impact), matrix.level(urgency), "parameters"
    return matrix.level(fields.get("impact")), matrix.level(fields.get("urgency")), "fields"


def prioritize(ctx: OperationContext, params: dict, data: dict) -> dict:
    req = ctx.request
    tenant = db.session.get(Tenant, req.tenant_id)
    chosen = settings.current(tenant)
    impact, urgency, source = _levels(params, req.fields or {})
    before = req.priority
    if impact is None and urgency is None:
        priority, source = before, "filed"
    else:
        impact, urgency = impact or "medium", urgency or "medium"
        priority = matrix.priority_for(chosen["matrix"], impact, urgency)
    escalate_after = chosen["escalation_after"][priority]
    req.priority = priority  # the SLA target it runs under follows the priority
    escalate_at, basis = escalation.deadline(req.tenant_id, utcnow(), escalate_after,
                                             escalation.calendar_for(req))
    changes = {"priority": priority}
    if source != "filed":
        changes.update(impact=impact, urgency=urgency)
    history.record(req, "prioritized", None, changes=changes)  # the matrix decided: System
    if priority != before:
        sla.follow_priority(req)  # clocks already running take the new priority's terms
    return {"priority": priority, "impact": impact, "urgency": urgency,
            "escalate_after": escalate_after,
            "escalate_at": escalate_at.replace(microsecond=0).isoformat(),
            "escalate_counted_in": basis, "escalated": False}


def escalate(ctx: OperationContext, params: dict, data: dict) -> dict:
    """Record that the incident went to the second line (``team``: the team's key); returns
    the ``prioritize`` result with ``escalated`` true, so a diagram that writes it back into the
    same variable can send a reopened incident back to the second line."""
    from app.teams import service as teams

    req = ctx.request
    key = str(params.get("team") or "")[:40]
    team = teams.get(req.tenant_id, key) if key else None
    triage = data.get("triage")
    history.record(req, "escalated", None, ticket=req.ticket,  # a timer or rule: System
                   changes={"team": team.name if team is not None else key or None})
    result = dict(triage) if isinstance(triage, dict) else {}
    result.update(escalated=True, escalated_at=utcnow().replace(microsecond=0).isoformat())
    return result


OPERATIONS = {"prioritize": prioritize, "escalate": escalate}


def _sample_time(hours: float) -> str:
    return (utcnow() + timedelta(hours=hours)).replace(microsecond=0).isoformat()


# Samples of what each returns, for the deploy-time walk of a diagram's data (times are near
# now: a timer date must lie within the engine's bounds of today).
RESULT_SAMPLES = {
    "prioritize": tuple(
        {"priority": p, "impact": "medium", "urgency": "medium",
         "escalate_after": matrix.DEFAULT_ESCALATION[p], "escalate_at": _sample_time(4),
         "escalate_counted_in": basis, "escalated": False}
        for p in matrix.DEFAULT_ESCALATION for basis in (escalation.BUSINESS,
                                                         escalation.CALENDAR)),
    "escalate": ({"priority": "high", "impact": "high", "urgency": "medium",
                  "escalate_after": "PT4H", "escalate_at": _sample_time(4),
                  "escalate_counted_in": escalation.BUSINESS, "escalated": True,
                  "escalated_at": _sample_time(0)},),
}
