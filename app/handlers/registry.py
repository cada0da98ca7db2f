"""Every kind of user task and every service operation a diagram may name."""

import itertools

from app.checklists import alerts as checklist_alerts
from app.checklists import severity as checklist_severity
from app.classification import operations as classification
from app.engine.forms import FORM_KIND
from app.engine.pathdata import HostData
from app.engine.vocabulary import ANY, Vocabulary
from app.handlers import (
    assign,
    authorize,
    confirm,
    evaluate,
    form,
    operations,
    over_budget,
    resubmit,
    work,
)
from app.handlers.base import TaskHandler
from app.models import PRIORITIES, HumanTask
from app.models.tenant import DEFAULT_SETTINGS
from app.process_catalog import operations as catalog_operations
from app.teams import board as team_board
from app.teams import window as change_window

TASK_HANDLERS: dict[str, TaskHandler] = {
    h.name: h
    for h in (
        authorize.AuthorizeHandler(),
        evaluate.EvaluateHandler(),
        over_budget.OverBudgetApprovalHandler(),
        resubmit.ResubmitHandler(),
        assign.AssignHandler(),
        work.StartHandler(),
        work.HoldHandler(),
        work.ResumeHandler(),
        work.FinishHandler(),
        confirm.ConfirmHandler(),
        confirm.ReopenHandler(),
        change_window.ScheduleWindowHandler(),
    )
}

# The core operations' own dict, extended in place by each capability's: one dict, so a test
# (or a tool) that patches ``operations.OPERATIONS`` patches what the dispatcher calls.
OPERATIONS = operations.OPERATIONS
for _capability in (classification, checklist_alerts, checklist_severity, catalog_operations,
                    team_board):
    OPERATIONS.update(_capability.OPERATIONS)

# What the service desk itself writes into task data, for diagrams' conditions and timers:
# ``workflow.start`` (who filed, priority, the company's timer settings) and the handlers'
# ``apply``. Values where they are a known set. Keep in step with forms.HOST_DATA_NAMES.
DATA_VOCABULARY = Vocabulary({
    "requester_is_head": (True, False),
    "priority": PRIORITIES,
    "authorization_reminder_after": ANY,
    "auto_close_after": ANY,
    "decision": tuple(dict.fromkeys(
        d for d, _ in (*authorize.DECISIONS, *evaluate.DECISIONS))),
    "estimated_cost": ANY,
    "estimated_hours": ANY,
    "staff_available": (True, False),
    "over_budget": (True, False),
    "earliest_start": ANY,
    "over_budget_approval": (True, False),
    "budget_decision": tuple(d for d, _ in over_budget.DECISIONS),
    "action": ("hold", "finish"),
    "rating": ANY,
    "solved": (True, False),
    "assignment": ANY,
    **dict.fromkeys(change_window.DATA_NAMES, ANY),
})

# The same, as samples of whole task data (``services.workflow.start`` writes the first four),
# walked through a new diagram at deploy to find expressions that would fail at run time.
HOST_DATA = HostData(
    start=tuple(
        {"requester_is_head": head, "priority": priority,
         "authorization_reminder_after": DEFAULT_SETTINGS["authorization_reminder_after"],
         "auto_close_after": DEFAULT_SETTINGS["auto_close_after"],
         "over_budget": False, "over_budget_approval": approval}
        for head, priority, approval in itertools.product((False, True), PRIORITIES,
                                                          (False, True))),
    handlers={name: handler.samples for name, handler in TASK_HANDLERS.items()},
    operations={**operations.RESULT_SAMPLES, **classification.RESULT_SAMPLES,
                **checklist_alerts.RESULT_SAMPLES, **checklist_severity.RESULT_SAMPLES,
                **catalog_operations.RESULT_SAMPLES,
                **team_board.RESULT_SAMPLES},
)


def handler(name: str) -> TaskHandler:
    return TASK_HANDLERS[name]


def handler_for(task: HumanTask, name: str) -> TaskHandler:
    """The handler that completes ``task`` as ``name``: a registered one, or, for the ``form``
    kind, one bound to the form the task's diagram defines. Raises KeyError for an unknown
    name and ``form.FormNotFound`` if the diagram has no form for the task."""
    if name == FORM_KIND:
        return form.handler_for_task(task)
    return TASK_HANDLERS[name]


def handlers_for(task: HumanTask) -> list[TaskHandler]:
    """The handlers of every kind the task offers, in the diagram's order."""
    return [handler_for(task, name) for name in task.handler_list]
