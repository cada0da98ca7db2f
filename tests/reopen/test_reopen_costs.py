"""A reopened ticket finished again: each finish adds its hours and materials to the ticket's,
the actual cost is total hours x rate + total materials (exact), the history entry of each
finish records that round's figures and the totals, and the budget's spent amount, the API and
the export read the totals. Figures computed by hand below."""

from datetime import timedelta
from decimal import Decimal

import pytest
from marshmallow import ValidationError
from sqlalchemy import select

from app.extensions import db
from app.models import HistoryEvent, Unit, User
from app.services import workflow
from app.tenancy import clock
from app.viability import budgets, ledger
from tests.api.conftest import ApiClient
from tests.factories import open_task, request_at, user
from tests.indicators.exports_helpers import csv_dicts, download
from tests.reopen.test_reopen import reload, reopen, step
from tests.viability.budget_helpers import SERVICES, tenant, unit
from tests.views.helpers import html

D = Decimal
WORKER, ADMIN = "tecnico1@acme.test", "admin@acme.test"


def set_rates(service_unit=None, worker=None):
    db.session.get(Unit, unit(SERVICES).id).hourly_rate = service_unit
    db.session.get(User, user(WORKER).id).hourly_rate = worker
    db.session.commit()


def month_budget() -> int:
    acme = tenant()
    start = budgets.period_start("month", clock.today(acme))
    budget = budgets.save(acme.id, budgets.BudgetInput(
        service_unit_id=unit(SERVICES).id, period="month", starts_on=start,
        amount=D("100000000")))
    db.session.commit()
    return budget.id


def spent(budget_id: int) -> Decimal:
    """The budget's spent amount, as its rows give it and as a replay of the history does."""
    db.session.rollback()
    budget = db.session.get(budgets.Budget, budget_id)
    rows = budgets.figures_of(budget)
    assert ledger.from_history([budget])[budget.id].spent == rows.spent
    assert ledger.check(budget.tenant_id) == []
    return rows.spent


def finish(req, hours: str, materials: str):
    db.session.rollback()  # a fresh snapshot: a page read since may have written
    step(req, "Task_Work", WORKER, "finish",
         {"resolution": "Cambiado", "hours_spent": hours, "materials_cost": materials})


def finishes(req) -> list[dict]:
    return [e.changes for e in db.session.scalars(select(HistoryEvent).where(
        HistoryEvent.request_id == req.id, HistoryEvent.action == "finish")
        .order_by(HistoryEvent.id))]


def test_two_rounds_add_up_on_the_ticket_its_history_and_the_budget(demo):
    set_rates(service_unit=D("35000"))
    budget_id = month_budget()
    before = spent(budget_id)
    req, _ = request_at("Task_Work")
    finish(req, "5,5", "80000")  # 5.5 x 35,000 + 80,000
    ticket = reload(req).ticket
    assert (ticket.hours_spent, ticket.materials_cost, ticket.hourly_rate,
            ticket.actual_cost) == (D("5.50"), D("80000.00"), D("35000.00"), D("272500.00"))
    assert spent(budget_id) - before == D("272500.00")

    reopen(req)  # open again: what was spent stays spent
    ticket = reload(req).ticket
    assert (ticket.hours_spent, ticket.actual_cost) == (D("5.50"), D("272500.00"))
    assert spent(budget_id) - before == D("272500.00")

    finish(req, "2", "20000")  # (5.5 + 2) x 35,000 + (80,000 + 20,000)
    ticket = reload(req).ticket
    assert (ticket.hours_spent, ticket.materials_cost, ticket.actual_cost) == (
        D("7.50"), D("100000.00"), D("362500.00"))
    assert spent(budget_id) - before == D("362500.00")

    first, second = finishes(req)
    assert "total_hours_spent" not in first  # one round: its figures are the totals
    assert (first["hours_spent"], first["materials_cost"], first["actual_cost"]) == (
        "5.50", "80000.00", "272500.00")
    assert (second["hours_spent"], second["materials_cost"], second["total_hours_spent"],
            second["total_materials_cost"], second["hourly_rate"], second["actual_cost"]) == (
        "2.00", "20000.00", "7.50", "100000.00", "35000.00", "362500.00")

    reopen(req, "Otra vez")  # a third round: 0.25 h and no materials
    finish(req, "0,25", "0")  # 7.75 x 35,000 + 100,000 = 371,250
    ticket = reload(req).ticket
    assert (ticket.hours_spent, ticket.materials_cost, ticket.actual_cost) == (
        D("7.75"), D("100000.00"), D("371250.00"))
    assert spent(budget_id) - before == D("371250.00")


def test_a_new_rate_prices_only_the_rounds_after_it(demo):
    set_rates(service_unit=D("35000"))
    req, _ = request_at("Task_Work")
    finish(req, "5,5", "80000")  # 192,500 of labour + 80,000
    reopen(req)
    set_rates(service_unit=D("35000"), worker=D("50000"))  # the worker's own rate, now
    finish(req, "2", "20000")  # 192,500 + 2 x 50,000 + 100,000 of materials
    ticket = reload(req).ticket
    assert (ticket.hours_spent, ticket.materials_cost, ticket.hourly_rate,
            ticket.actual_cost) == (D("7.50"), D("100000.00"), D("50000.00"), D("392500.00"))


def test_a_round_that_would_overflow_the_hours_is_refused(demo):
    req, _ = request_at("Task_Work")
    ticket = reload(req).ticket
    ticket.hours_spent, ticket.materials_cost = D("995000"), D("0")  # earlier rounds
    db.session.commit()
    with pytest.raises(ValidationError) as refused:
        workflow.complete(user(WORKER), open_task(reload(req), "Task_Work"), "finish",
                          {"resolution": "x", "hours_spent": "9000", "materials_cost": "0"})
    db.session.rollback()
    assert "hours_spent" in refused.value.messages
    assert reload(req).ticket.hours_spent == D("995000.00")


def test_the_pages_the_api_and_the_export_read_the_totals(demo, browser, app):
    set_rates(service_unit=D("35000"))
    req, _ = request_at("Task_Work")
    worker = browser(WORKER)
    first_form = html(worker.get(f"/tasks/{open_task(reload(req), 'Task_Work').id}"))
    assert "ya registradas" not in first_form  # the first round: nothing to add to
    finish(req, "5,5", "80000")
    db.session.rollback()
    reopen(req)
    # The demo people read Spanish (the catalog is compiled by make test)
    form = html(worker.get(f"/tasks/{open_task(reload(req), 'Task_Work').id}"))
    assert "Horas de esta vuelta (ya registradas: 5,5 h)" in form
    assert "Costo de materiales de esta vuelta (ya registrado: 80.000,00" in form
    assert "se suman a las ya registradas" in form
    finish(req, "2", "20000")
    ticket_id = reload(req).ticket.id

    page = html(worker.get(f"/tickets/{ticket_id}"))
    assert "7,5" in page and "100.000,00" in page and "362.500,00" in page
    history = html(browser("director@acme.test").get(f"/requests/{req.id}"))
    assert "Horas trabajadas, todas las vueltas" in history

    client = ApiClient(app)
    client.token = client.post("/api/v1/tokens", {"email": WORKER, "password": "demo1234"}
                               ).json["token"]
    body = client.get(f"/api/v1/tickets/{ticket_id}").json
    assert (body["hours_spent"], body["materials_cost"]) == ("7.50", "100000.00")

    today = clock.today(tenant())
    period = f"from={(today - timedelta(days=1)).isoformat()}&to={today.isoformat()}"
    admin = browser(ADMIN)
    admin.post("/language", {"code": "en", "next": "/login"})
    rows = csv_dicts(download(admin, f"/indicators/export/tickets.csv?{period}"))
    (row,) = [r for r in rows if r["Request"] == reload(req).number]
    hours = next(v for k, v in row.items() if k.startswith("Hours spent"))
    actual = next(v for k, v in row.items() if k.startswith("Actual cost"))
    materials = next(v for k, v in row.items() if k.startswith("Materials cost"))
    assert (hours, materials, actual) == ("7.50", "100000.00", "362500.00")
