"""A security incident's priority follows the severity its triage set.

The service operation ``prioritize_by_severity`` (processes/security_incident.bpmn runs it
right after *Clasificar el incidente*) writes the request's priority from the severity (the
parameter ``severity``, else the task data's) by one fixed mapping on the product's four
priorities, as the incident template's ``prioritize`` writes the matrix's: the System's
decision, one history entry (``prioritized_by_severity``), and the request's running SLA
clocks take the terms of the targets for the new priority (``app.sla.service.follow_priority``).
"""

from app.checklists.alerts import severity_of
from app.handlers.base import OperationContext
from app.services import history
from app.sla import service as sla

PRIORITY_OF = {"low": "low", "medium": "normal", "high": "high", "critical": "urgent"}


def prioritize_by_severity(ctx: OperationContext, params: dict, data: dict) -> dict:
    req = ctx.request
    severity = severity_of("prioritize_by_severity", params, data)
    before, priority = req.priority, PRIORITY_OF[severity]
    if priority != before:
        req.priority = priority
        history.record(req, "prioritized_by_severity", None,  # the mapping decided: System
                       changes={"priority": priority, "severity": severity})
        sla.follow_priority(req)
    return {"severity": severity, "priority": priority}


OPERATIONS = {"prioritize_by_severity": prioritize_by_severity}
RESULT_SAMPLES = {
    "prioritize_by_severity": tuple({"severity": s, "priority": p}
                                    for s, p in PRIORITY_OF.items()),
}
