"""Every kind of user task and every service operation a diagram may name."""

from app.handlers import assign, authorize, confirm, evaluate, operations, resubmit, work
from app.handlers.base import TaskHandler

TASK_HANDLERS: dict[str, TaskHandler] = {
    h.name: h
    for h in (
        authorize.AuthorizeHandler(),
        evaluate.EvaluateHandler(),
        resubmit.ResubmitHandler(),
        assign.AssignHandler(),
        work.StartHandler(),
        work.HoldHandler(),
        work.ResumeHandler(),
        work.FinishHandler(),
        confirm.ConfirmHandler(),
    )
}

OPERATIONS = operations.OPERATIONS


def handler(name: str) -> TaskHandler:
    return TASK_HANDLERS[name]
