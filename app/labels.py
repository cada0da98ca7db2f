"""Human labels for codes shown in pages (statuses, roles, history actions), translatable."""

from datetime import date, datetime
from decimal import Decimal

from flask_babel import format_date, format_datetime, format_decimal
from flask_babel import lazy_gettext as _l

from app.checklists.defaults import LABELS as security_template_labels
from app.process_catalog.labels import steps as catalog_steps

STATUS = {
    "pending_authorization": _l("Pending authorization"),
    "pending_evaluation": _l("Pending evaluation"),
    "returned": _l("Returned for information"),
    "pending_assignment": _l("Pending assignment"),
    "in_service": _l("In service"),
    "completed": _l("Completed"),
    "rejected": _l("Rejected"),
    "cancelled": _l("Cancelled"),
    "pending": _l("Pending"),
    "in_progress": _l("In progress"),
    "on_hold": _l("On hold"),
    "finished": _l("Finished"),
    "closed": _l("Closed"),
    # not a status of its own: a completed request whose ticket waits for the requester's
    # confirmation and rating (request_state), so that it does not read as closed
    "awaiting_confirmation": _l("Waiting for confirmation"),
}

ROLE = {
    "requester": _l("Requester"),
    "unit_head": _l("Unit head"),
    "service_director": _l("Services director"),
    "worker": _l("Worker"),
    "process_owner": _l("Process owner"),
    "tenant_admin": _l("Tenant administrator"),
    "team": _l("Team"),  # a Team lane's task (app.teams)
}

ACTION = {
    "filed": _l("Filed the request"),
    "authorize": _l("Authorization decision"),
    "evaluate": _l("Viability evaluation"),
    "approve_over_budget": _l("Second approval over budget"),
    "resubmit": _l("Provided more information"),
    "assign": _l("Assigned a worker"),
    "schedule_window": _l("Scheduled the implementation window"),
    "ticket_created": _l("Ticket created"),
    "start": _l("Started the work"),
    "hold": _l("Put the work on hold"),
    "resume": _l("Resumed the work"),
    "finish": _l("Finished the work"),
    "confirm": _l("Confirmed and rated"),
    "reopen": _l("Not solved: sent back to the worker"),
    "reassigned": _l("Gave the ticket to another worker"),
    "replanned": _l("Changed the planned dates"),
    "closed": _l("Request closed"),
    "auto_closed": _l("Closed automatically"),
    "reminder_sent": _l("Reminder sent"),
    "status_changed": _l("Status changed"),
    "claimed": _l("Took the task"),
    "released": _l("Released the task"),
    "cancelled": _l("Withdrew the request"),
    "commented": _l("Commented"),
    "attached": _l("Attached files"),
    "attachment_deleted": _l("Deleted an attached file"),
    "migrated": _l("Moved to a new process version"),
    "process_stopped": _l("Stopped by a process error"),
    "process_retried": _l("Step retried after a process error"),
    "form": _l("Filled in the form"),
    "sla_warning": _l("Service-level warning sent"),
    "sla_breached": _l("Service level breached: escalated"),
    "sla_terms_changed": _l("Service-level target applied to this request"),
    # app.checklists: a step's instructions ticked one by one; the severity's alert
    "checklist_ticked": _l("Ticked a checklist item"),
    "checklist_unticked": _l("Unticked a checklist item"),
    "severity_alert": _l("Alerted by severity"),
    "prioritized_by_severity": _l("Prioritized by severity"),
    # app.teams: the change board's vote
    "vote_opened": _l("Change board vote opened"),
    "vote_withdrawn": _l("Approver withdrawn from the vote (skipped)"),
    "board_decided": _l("Change board decision"),
    "classified": _l("Classified by a rule"),
    "auto_assigned": _l("Assigned automatically (least load)"),
    "prioritized": _l("Prioritized by impact and urgency"),
    "escalated": _l("Escalated to the second line"),
}

PRIORITY = {
    "low": _l("Low"), "normal": _l("Normal"), "high": _l("High"), "urgent": _l("Urgent"),
}

# Kinds of work (app.kinds.KINDS): what a request's process handles
KIND = {
    "request": _l("Service request"),
    "incident": _l("Incident"),
    "change": _l("Change"),
    "security_incident": _l("Security incident"),
}

DECISION = {
    "authorize": _l("Authorized"), "reject": _l("Rejected"), "approve": _l("Approved"),
    "return": _l("Returned"),
    # a change board's outcome (app.teams.board, history "board_decided")
    "approved": _l("Approved"), "rejected": _l("Rejected"),
}

# A change board's approval rule (app.teams.tally.RULES), as its decision names it
APPROVAL_RULE = {
    "all": _l("Everyone must approve"), "any": _l("One approval is enough"),
    "majority": _l("Majority"),
}

FIELD = {
    "impact": _l("Impact"), "urgency": _l("Urgency"), "team": _l("Team"),
    "window_opens": _l("The window opens"), "window_end": _l("Last day of the window"),
    "time_zone": _l("Time zone"),
    "decision": _l("Decision"), "estimated_cost": _l("Estimated cost"),
    "staff_available": _l("Staff available"), "worker_id": _l("Worker"),
    "planned_start": _l("Planned start"), "planned_end": _l("Planned end"),
    "helper_ids": _l("Helpers"), "reason": _l("Reason"), "resolution": _l("Resolution"),
    "hours_spent": _l("Hours spent"), "materials_cost": _l("Materials cost"),
    # a reopened ticket's later finish: the rounds added up (hours_spent: this round's)
    "total_hours_spent": _l("Hours spent, every round"),
    "total_materials_cost": _l("Materials cost, every round"),
    "rating": _l("Rating"), "title": _l("Title"), "description": _l("Description"),
    "location": _l("Location"), "category": _l("Category"), "priority": _l("Priority"),
    "attachments": _l("Files"), "attachment": _l("File"),
    "ticket": _l("Ticket"), "worker": _l("Worker"), "recipients": _l("Recipients"),
    "helpers": _l("Helpers"), "from_version": _l("From version"),
    "to_version": _l("To version"), "ticket_status": _l("Ticket status"), "step": _l("Step"),
    "estimated_hours": _l("Estimated hours"), "justification": _l("Justification"),
    "staff_computed": _l("Staff available (computed)"), "over_budget": _l("Over budget"),
    "earliest_start": _l("Earliest start"), "committed_on": _l("Budget date"),
    "budget_left_after": _l("Budget left after it"), "budget_decision": _l("Decision"),
    "hourly_rate": _l("Hourly rate"), "actual_cost": _l("Actual cost"),
    "target": _l("Service-level target"), "due_at": _l("Due"),
    "elapsed_seconds": _l("Business time elapsed"), "minutes": _l("Target length"),
    "item": _l("Item"), "position": _l("Number"), "checklist": _l("Checklist"),
    "severity": _l("Severity"),
    "rule": _l("Rule"), "service_unit": _l("Service unit"),
    "open_tickets": _l("Open tickets"), "planned_hours": _l("Planned hours"),
    "tie_turn": _l("Tie broken by turn"),
    # a change board's vote (history "vote_opened", "board_decided")
    "members": _l("Members"), "outcome": _l("Outcome"), "approvals": _l("Approvals"),
    "rejections": _l("Rejections"), "withdrawn": _l("Withdrawn"), "pending": _l("Not voted"),
}

# The targets of a service level (app.sla), as notices name them
SLA_TARGET = {
    "decision": _l("Time to decision"),
    "start": _l("Time to start"),
    "resolution": _l("Time to resolution"),
}


# Names of the default diagram's steps, so they follow the interface language. A step a
# tenant renamed in its own diagram is shown as the tenant wrote it.
STEP = {
    "Autorizar solicitud": _l("Authorize request"),
    "Evaluar viabilidad": _l("Evaluate viability"),
    "Aprobar sobre el presupuesto": _l("Approve over budget"),
    "Completar información": _l("Provide more information"),
    "Asignar trabajador": _l("Assign worker"),
    "Iniciar trabajo": _l("Start work"),
    "Ejecutar el trabajo": _l("Carry out the work"),
    "Reanudar trabajo": _l("Resume work"),
    "Confirmar y calificar": _l("Confirm and rate"),
    "Enviar recordatorio": _l("Send reminder"),
    **catalog_steps(),  # the catalog templates' steps (app.process_catalog.labels)
}
STEP.update(security_template_labels)  # processes/security_incident.bpmn

# Incidents (services.incidents): what the failing step followed, and how one ended.
INCIDENT_DURING = {
    "filing": _l("when the request was filed"),
    "step": _l("after a person's step"),
    "timer": _l("when a timer fired"),
    "retry": _l("when retried"),
    "migration": _l("when moved to a new version"),
}
INCIDENT_RESOLUTION = {
    "retried": _l("the step went through when retried"),
    "gone": _l("the request left that step"),
    "cancelled": _l("the request was withdrawn"),
}

# An outbox message's status (a webhook delivery, an e-mail, an SMS, a WhatsApp message)
OUTBOX_STATUS = {
    "pending": _l("Queued"), "delivered": _l("Sent"), "failed": _l("Failed"),
    "unsent": _l("Not sent"),
}
OUTBOX_BADGE = {"pending": "pending", "delivered": "completed", "failed": "rejected",
                "unsent": "cancelled"}


def label(table: dict, code):
    return table.get(code, code) if code is not None else ""


def transition(old, new) -> str:
    """A change of status as a history line says it: "Pending -> In progress", or only the
    status it came to when it had none before (a ticket just created), or only the one it left;
    never an arrow with an empty side."""
    old_text, new_text = label(STATUS, old), label(STATUS, new)
    if old and new and old != new:
        return f"{old_text} \u2192 {new_text}"
    if new:
        return str(new_text)
    if old:
        return str(_l("no longer %(status)s", status=old_text))
    return ""


def number_as_entered(value) -> str:
    """A number typed in a form, in the reader's way of writing numbers, with the decimals it
    was given ("1250.50" -> "1.250,50", never "1.250,5"); exact, never through a float."""
    try:
        number = Decimal(str(value).strip())
    except ArithmeticError:
        return str(value)
    if not number.is_finite():
        return str(value)
    places = max(0, -number.as_tuple().exponent)
    return format_decimal(number, format="#,##0" + ("." + "0" * places if places else ""))


def request_state(req) -> str:
    """What a request's badge says: its status, except that a completed request whose ticket
    is finished but not yet confirmed (and rated) by the requester is waiting for that."""
    ticket = req.ticket
    if req.status == "completed" and ticket is not None and ticket.status == "finished":
        return "awaiting_confirmation"
    return req.status


def _event_side(status, ticket_status) -> str:
    if status == "completed" and ticket_status == "finished":
        return "awaiting_confirmation"
    return status


def event_states(event) -> tuple:
    """The request's state before and after a history entry, as its badge said them
    (``request_state``): the finish leads to "waiting for confirmation", not to "completed",
    and the confirmation (or a "not solved") leaves it. An entry records the ticket's status
    only when it changed; unchanged, it was the request's own."""
    ticket = (event.changes or {}).get("ticket_status")
    before, after = (ticket if isinstance(ticket, list) and len(ticket) == 2
                     else (None, None))
    return _event_side(event.from_status, before), _event_side(event.to_status, after)


def request_state_label(req) -> str:
    """The words of a request's badge; the requester reads that it waits for them."""
    from flask_login import current_user

    state = request_state(req)
    if state == "awaiting_confirmation" and getattr(current_user, "id", None) == req.requester_id:
        return str(_l("Waiting for your confirmation"))
    return str(label(STATUS, state))


# The rating's five stars, as the confirmation form labels them
RATING = {
    1: _l("1 star \u2013 Very poor"),
    2: _l("2 stars \u2013 Poor"),
    3: _l("3 stars \u2013 Fair"),
    4: _l("4 stars \u2013 Good"),
    5: _l("5 stars \u2013 Excellent"),
}


def rating_label(value) -> str:
    try:
        return str(RATING.get(int(value), value))
    except (TypeError, ValueError):
        return str(value)


def when(value) -> str:
    return format_datetime(value, "d MMM y, HH:mm") if value else ""


def day(value) -> str:
    return format_date(value, "d MMM y") if value else ""


def _business_minutes(value) -> str:
    """A length of business time in words ("4 h 30 min") from minutes."""
    from app.sla.calendars import duration_text

    return duration_text(int(value)) if value is not None else ""


def register(app) -> None:
    app.jinja_env.filters.update(when=when, day=day)
    app.jinja_env.globals.update(
        parse_date=date.fromisoformat,
        parse_decimal=lambda v: Decimal(str(v)),
        status_label=lambda c: label(STATUS, c),
        status_transition=transition,
        event_states=event_states,
        request_state=request_state,
        request_state_label=request_state_label,
        rating_label=rating_label,
        number_as_entered=number_as_entered,
        role_label=lambda c: label(ROLE, c),
        action_label=lambda c: label(ACTION, c),
        priority_label=lambda c: label(PRIORITY, c),
        kind_label=lambda c: label(KIND, c),
        decision_label=lambda c: label(DECISION, c),
        approval_rule_label=lambda c: label(APPROVAL_RULE, c),
        field_label=lambda c: label(FIELD, c),
        incident_during=lambda c: label(INCIDENT_DURING, c),
        incident_resolution=lambda c: label(INCIDENT_RESOLUTION, c),
        step_label=lambda c: label(STEP, c),
        sla_target_label=lambda c: label(SLA_TARGET, c),
        parse_datetime=datetime.fromisoformat,
        business_minutes=_business_minutes,
        outbox_status=lambda c: label(OUTBOX_STATUS, c),
        outbox_badge=lambda c: OUTBOX_BADGE.get(c, ""),
    )
