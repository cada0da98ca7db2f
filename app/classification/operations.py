"""The service operations a diagram calls to classify and assign without a person.

``classify`` (no parameters): the first matching classification rule's actions are applied to
the request, with one history entry naming the rule and what it set; no rule matching changes
nothing (and writes nothing). A new category brings its service unit with it (unless the rule
names one, which then must be that category's: the editor refuses anything else). The request
keeps running the process it was filed under: a diagram is never switched mid-flight, so a rule
that moves a request to a category with another process changes its category (its lists, SLA
targets, skills and reports) but not the steps it follows. Its answers to the first category's
fields stay as they were given.

``auto_assign`` (no parameters; its result variable must be ``assignment``): the least-loaded
worker who may take the request (``app.classification.assignment``), written as the director's
assignment form writes it, so ``create_ticket`` right after it makes the ticket. The history
says it was automatic and why. When nobody may take it, it raises OperationError: the request
stops at that step as an incident the process owner sees (and retries once a worker or a skill
is added), rather than waiting unseen; a diagram that prefers the director to decide puts the
assignment task there instead.

Both check everything before their first write, as every operation must.
"""

from sqlalchemy import select

from app.classification import assignment, rules
from app.extensions import db
from app.handlers.base import OperationContext
from app.handlers.operations import OperationError
from app.models import PRIORITIES, Category, ServiceRequest, Unit
from app.services import history


def _category(tenant_id: int, category_id: int | None) -> Category | None:
    if category_id is None:
        return None
    return db.session.scalar(select(Category).where(
        Category.tenant_id == tenant_id, Category.id == category_id,
        Category.active.is_(True)))


def _service_unit(tenant_id: int, unit_id: int | None) -> Unit | None:
    if unit_id is None:
        return None
    return db.session.scalar(select(Unit).where(
        Unit.tenant_id == tenant_id, Unit.id == unit_id, Unit.is_service_unit.is_(True),
        Unit.archived_at.is_(None)))


def changes_of(req: ServiceRequest, outcome: rules.Outcome) -> dict:
    """What the outcome would change on ``req``: {"category": Category, "service_unit": Unit,
    "priority": str}, only what differs; an action whose category or unit is no longer
    usable (deactivated, archived) is left out."""
    found: dict = {}
    category = _category(req.tenant_id, outcome.category_id)
    if category is not None and category.id != req.category_id:
        found["category"] = category
    unit_id = outcome.service_unit_id or (category.service_unit_id if category else None)
    unit = _service_unit(req.tenant_id, unit_id)
    if unit is not None and unit.id != req.service_unit_id:
        found["service_unit"] = unit
    if outcome.priority in PRIORITIES and outcome.priority != req.priority:
        found["priority"] = outcome.priority
    return found


def classify(ctx: OperationContext, params: dict, data: dict) -> dict:
    req = ctx.request
    outcome = rules.match(req.tenant_id, req.title, req.description, req.unit_id,
                          req.fields or {})
    if outcome is None:
        return {"classified": False, "rule_id": None, "priority": req.priority}
    found = changes_of(req, outcome)
    if not found:
        return {"classified": True, "rule_id": outcome.rule_id, "priority": req.priority}
    described = {"rule": outcome.rule_name}
    if "category" in found:
        req.category = found["category"]
        described["category"] = found["category"].name
    if "service_unit" in found:
        req.service_unit_id = found["service_unit"].id
        described["service_unit"] = found["service_unit"].name
    if "priority" in found:
        req.priority = found["priority"]
        described["priority"] = found["priority"]
    history.record(req, "classified", None, changes=described)
    return {"classified": True, "rule_id": outcome.rule_id, "priority": req.priority}


def auto_assign(ctx: OperationContext, params: dict, data: dict) -> dict:
    req = ctx.request
    if req.ticket is not None:
        raise OperationError(f"auto_assign: request {req.number} already has a ticket")
    turn = assignment.lock_turn(req.tenant_id, req.service_unit_id)
    choice = assignment.pick(req, turn.last_worker_id)
    if choice is None:
        unit = db.session.get(Unit, req.service_unit_id)
        raise OperationError(
            f"auto_assign: no active worker of the service unit "
            f"'{unit.name if unit else req.service_unit_id}' handles the category "
            f"'{req.category.name}'. Add a worker to the unit or the category to a worker's "
            f"skills, then retry the step.")
    start, end = assignment.planned_dates(req)
    turn.last_worker_id = choice.worker.id
    history.record(req, "auto_assigned", None, changes={
        "worker": choice.worker.name, "planned_start": start, "planned_end": end,
        "open_tickets": choice.load.open_tickets,
        "planned_hours": str(choice.load.planned_hours), "tie_turn": choice.tie})
    return {"worker_id": choice.worker.id, "helper_ids": [],
            "planned_start": start.isoformat(), "planned_end": end.isoformat(),
            "automatic": True}  # create_ticket credits the ticket to the System, not a person


OPERATIONS = {"classify": classify, "auto_assign": auto_assign}

RESULT_SAMPLES = {
    "classify": tuple({"classified": classified, "rule_id": 1 if classified else None,
                       "priority": priority}
                      for classified in (True, False) for priority in PRIORITIES),
    "auto_assign": ({"worker_id": 1, "helper_ids": [], "planned_start": "2026-01-05",
                     "planned_end": "2026-01-06", "automatic": True},),
}
