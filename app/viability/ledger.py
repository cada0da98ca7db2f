"""Budget figures recomputed from scratch: from the requests' history alone.

Each request's history says what it holds against a budget: an evaluation that approves
commits its estimated cost on the company's date of that day (``committed_on``, recorded with
the decision), one that rejects or returns it takes the commitment back, a finished ticket's
actual cost replaces it, and a request that ends rejected or cancelled releases what is still
committed. ``replay`` reads one request's events (pure: no database); ``from_history`` does it
for every request of a company and allots the results to its budgets exactly as
``budgets.figures`` does with the rows, so the two must always agree (``check``).
"""

from dataclasses import dataclass
from datetime import UTC, date
from decimal import Decimal

from sqlalchemy import select

from app.extensions import db
from app.models import HistoryEvent, ServiceRequest
from app.viability.budgets import RELEASED, ZERO, Budget, Figures, Position, figures


@dataclass
class Holding:
    """What one request holds, as its history tells it."""

    committed_on: date | None = None
    estimate: Decimal | None = None
    actual: Decimal | None = None
    released: bool = False

    @property
    def committed(self) -> Decimal:
        if self.committed_on is None or self.released or self.actual is not None:
            return ZERO
        return self.estimate or ZERO

    @property
    def spent(self) -> Decimal:
        return self.actual if self.committed_on is not None and self.actual is not None else ZERO


def _amount(value) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.01"))


def replay(events) -> Holding:
    """The holding left by ``events`` (objects with ``action``, ``changes``, ``to_status``,
    ``created_at``), oldest first."""
    held = Holding()
    for event in events:
        changes = event.changes or {}
        if event.action == "evaluate" and "decision" in changes:
            if changes["decision"] == "approve":
                held.committed_on = _day(changes.get("committed_on"), event)
                held.estimate = _amount(changes.get("estimated_cost"))
            else:  # rejected or returned: nothing is committed until approved again
                held.committed_on, held.estimate = None, None
        if event.action == "finish" and "materials_cost" in changes:
            # Tickets finished before rates existed cost their materials (migration 0010)
            held.actual = _amount(changes.get("actual_cost", changes["materials_cost"]))
            if held.committed_on is None:
                held.committed_on = _day(changes.get("committed_on"), event)
        if event.to_status:
            held.released = event.to_status in RELEASED
    return held


def _day(recorded: str | None, event) -> date:
    """The budget date an event recorded; events from before budgets existed carry none and
    stand for their own (UTC) date, as migration 0010 filled in the rows."""
    return date.fromisoformat(recorded) if recorded else event.created_at.astimezone(UTC).date()


def positions_from_history(tenant_id: int, service_unit_id: int | None = None,
                           starts: date | None = None, ends: date | None = None) -> list[Position]:
    """One position per request of the company (of one service unit) that holds anything
    (with a budget date in ``starts``..``ends`` when given)."""
    requests = select(ServiceRequest.id, ServiceRequest.category_id, ServiceRequest.unit_id,
                      ServiceRequest.service_unit_id).where(
        ServiceRequest.tenant_id == tenant_id)
    if service_unit_id is not None:
        requests = requests.where(ServiceRequest.service_unit_id == service_unit_id)
    scope = {row.id: row for row in db.session.execute(requests)}
    events: dict[int, list] = {}
    for event in db.session.scalars(
            select(HistoryEvent).where(HistoryEvent.tenant_id == tenant_id)
            .order_by(HistoryEvent.request_id, HistoryEvent.id)
            .execution_options(yield_per=1000)):
        if event.request_id in scope:
            events.setdefault(event.request_id, []).append(event)
    out = []
    for request_id, own in events.items():
        held = replay(own)
        if held.committed_on is None or not (
                (starts or held.committed_on) <= held.committed_on <= (ends or held.committed_on)):
            continue
        row = scope[request_id]
        holds = not held.released or held.actual is not None
        out.append(Position(held.committed_on, row.category_id, row.unit_id, held.committed,
                            held.spent, int(holds)))
    return out


def from_history(budgets: list[Budget]) -> dict[int, Figures]:
    """The figures of ``budgets``, recomputed from the history of every request and allotted
    exactly as ``budgets.figures`` allots the rows."""
    return figures(budgets, read=positions_from_history)


@dataclass(frozen=True)
class Mismatch:
    budget_id: int
    rows: Figures
    history: Figures


def check(tenant_id: int) -> list[Mismatch]:
    """Budgets whose figures from the rows differ from those replayed from the history."""
    budgets = list(db.session.scalars(select(Budget).where(Budget.tenant_id == tenant_id)
                                      .order_by(Budget.id)))
    rows, history = figures(budgets), from_history(budgets)
    return [Mismatch(b.id, rows[b.id], history[b.id]) for b in budgets
            if (rows[b.id].committed, rows[b.id].spent, rows[b.id].requests)
            != (history[b.id].committed, history[b.id].spent, history[b.id].requests)]
