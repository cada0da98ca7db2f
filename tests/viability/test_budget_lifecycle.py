"""Budget arithmetic through the real lifecycle: approvals commit, a finished ticket's actual
cost replaces the commitment, rejection and cancellation release it, re-evaluation and
migration never double count; and after every move the figures summed from the rows equal
those replayed from the history alone (``ledger``)."""

from decimal import Decimal

import pytest
from marshmallow import ValidationError
from sqlalchemy import select

from app.extensions import db
from app.models import Budget, HistoryEvent, ServiceRequest, Unit, User
from app.services import definitions, processes, workflow
from app.tenancy import clock
from app.viability import budgets, ledger
from tests import factories
from tests.factories import assignment_form, file, open_task, user
from tests.viability.budget_helpers import ADMIN, DIRECTOR, HEAD, SERVICES, WORKER, tenant, unit

D = Decimal


BASE = {}  # what the demo's own approvals (filed today) already hold, per budget


def this_month_budget(amount: str = "1000") -> Budget:
    """A budget of the service unit for this month, holding ``amount`` beyond what the demo's
    requests already use; figures below are read net of that (``figures_now``)."""
    acme = tenant()
    start = budgets.period_start("month", clock.today(acme))
    data = budgets.BudgetInput(service_unit_id=unit(SERVICES).id, period="month",
                               starts_on=start, amount=D(0))
    budget = budgets.save(acme.id, data)
    base = budgets.figures_of(budget)
    BASE[budget.id] = base
    data.amount = base.used + D(amount)
    budgets.save(acme.id, data, budget)
    db.session.commit()
    return budget


def step(req, spec_id, handler, form, email):
    workflow.complete(user(email), open_task(req, spec_id), handler, form)
    db.session.commit()


def authorized(title: str) -> ServiceRequest:
    req = file(title=f"Solicitud {title}")
    step(req, "Task_Authorize", "authorize", {"decision": "authorize"}, HEAD)
    return req


def approve(req, cost: str, hours: str = "4", **more):
    form = {"decision": "approve", "estimated_cost": cost, "estimated_hours": hours, **more}
    step(req, "Task_Evaluate", "evaluate", form, DIRECTOR)


def figures_now(budget_id: int) -> budgets.Figures:
    db.session.rollback()
    budget = db.session.get(Budget, budget_id)
    rows = budgets.figures_of(budget)
    assert budgets.figures([budget])[budget.id] == rows  # the list page's way agrees
    replayed = ledger.from_history([budget])[budget.id]
    assert (rows.committed, rows.spent, rows.requests) == (
        replayed.committed, replayed.spent, replayed.requests), \
        "the rows and the history disagree"
    assert ledger.check(budget.tenant_id) == []
    base = BASE.get(budget.id, budgets.Figures(amount=D(0)))
    return budgets.Figures(amount=rows.amount - base.used, committed=rows.committed
                           - base.committed, spent=rows.spent - base.spent,
                           requests=rows.requests - base.requests)


def test_budget_figures_follow_every_move_and_always_equal_a_replay_of_history(demo):
    budget = this_month_budget("1000")
    rates = db.session.get(Unit, unit(SERVICES).id)
    rates.hourly_rate = D("50")
    db.session.commit()

    a = authorized("A")
    approve(a, "300")
    assert figures_now(budget.id).committed == D("300")

    b = authorized("B")
    approve(b, "500")
    fig = figures_now(budget.id)
    assert (fig.committed, fig.spent, fig.left) == (D("800"), D("0"), D("200"))

    # Returned, then re-evaluated twice over: one commitment, never two
    c = authorized("C")
    step(c, "Task_Evaluate", "evaluate", {"decision": "return", "comment": "¿Piso?"}, DIRECTOR)
    assert figures_now(budget.id).committed == D("800")
    step(c, "Task_ProvideInformation", "resubmit", {"comment": "Piso 2"}, "ana@acme.test")
    approve(c, "100")
    assert figures_now(budget.id).committed == D("900")

    # Over budget: refused without a justification, nothing changes
    d = authorized("D")
    with pytest.raises(ValidationError) as refused:
        approve(d, "400")
    db.session.rollback()
    assert "justification" in refused.value.messages
    assert figures_now(budget.id).committed == D("900")
    approve(d, "400", justification="Urgente: riesgo eléctrico")
    fig = figures_now(budget.id)
    assert (fig.committed, fig.left) == (D("1300"), D("-300"))
    event = db.session.scalars(select(HistoryEvent).where(
        HistoryEvent.request_id == d.id, HistoryEvent.action == "evaluate")).one()
    assert event.changes["over_budget"] is True
    assert event.changes["justification"] == "Urgente: riesgo eléctrico"
    assert event.changes["budget_left_after"] == "-300.00"

    # B finished: 2.5 h x 50 + 30 of materials replaces its 500 commitment
    step(b, "Task_Assign", "assign", assignment_form(), DIRECTOR)
    step(b, "Task_Start", "start", {}, WORKER)
    step(b, "Task_Work", "finish", {"resolution": "Hecho", "hours_spent": "2,5",
                                    "materials_cost": "30"}, WORKER)
    db.session.rollback()
    ticket = db.session.get(ServiceRequest, b.id).ticket
    assert (ticket.hourly_rate, ticket.actual_cost) == (D("50.00"), D("155.00"))
    fig = figures_now(budget.id)
    assert (fig.committed, fig.spent, fig.left) == (D("800"), D("155"), D("45"))

    # A withdrawn by its requester before a ticket exists: released
    workflow.cancel_request(user("ana@acme.test"), db.session.get(ServiceRequest, a.id),
                            "Ya no hace falta")
    db.session.commit()
    fig = figures_now(budget.id)
    assert (fig.committed, fig.spent) == (D("500"), D("155"))

    # Rejected outright: never committed
    e = authorized("E")
    step(e, "Task_Evaluate", "evaluate", {"decision": "reject", "comment": "No"}, DIRECTOR)
    assert figures_now(budget.id).committed == D("500")

    # C and D moved to a new version of the process: nothing moves in the budget
    admin = user(ADMIN)
    definition = processes.deploy(admin.tenant_id, definitions.DEFAULT_PROCESS_KEY,
                                  definitions.default_diagram().replace(
                                      'name="Crear ticket"', 'name="Crear el ticket"'),
                                  admin, note="v2")
    db.session.commit()
    results = processes.move_all(user(ADMIN), admin.tenant_id)
    db.session.commit()
    assert {c.request.id for c in results if c.movable} >= {c.id, d.id}
    assert definition.version >= 2
    fig = figures_now(budget.id)
    assert (fig.committed, fig.spent, fig.requests) == (D("500"), D("155"), 3)


def test_a_finish_without_a_rate_costs_its_materials_and_a_worker_rate_wins(demo):
    this_month_budget("1000")
    db.session.get(Unit, unit(SERVICES).id).hourly_rate = D("40")
    db.session.get(User, user(WORKER).id).hourly_rate = D("70.50")
    db.session.commit()
    req, _ = factories.request_at("Task_Work")
    step(req, "Task_Work", "finish", {"resolution": "Ok", "hours_spent": "3",
                                      "materials_cost": "10,25"}, WORKER)
    db.session.rollback()
    ticket = db.session.get(ServiceRequest, req.id).ticket
    assert (ticket.hourly_rate, ticket.actual_cost) == (D("70.50"), D("221.75"))


def test_two_approvals_against_one_budget_both_count_exactly_once(demo):
    """Approvals take turns on the budget's row; afterwards committed = the sum of the
    committed requests (the concurrent version on PostgreSQL is in test_budget_race)."""
    budget = this_month_budget("600")
    first, second = authorized("1"), authorized("2")
    approve(first, "350")
    with pytest.raises(ValidationError):  # 350 + 350 > 600: the second sees the first
        approve(second, "350")
    db.session.rollback()
    approve(second, "350", justification="Prioridad de gerencia")
    fig = figures_now(budget.id)
    assert (fig.committed, fig.left, fig.requests) == (D("700"), D("-100"), 2)


def test_the_most_specific_budget_takes_the_request(demo):
    acme = tenant()
    start = budgets.period_start("month", clock.today(acme))
    general = this_month_budget("5000")
    req = authorized("Eléctrico")
    data = budgets.BudgetInput(service_unit_id=unit(SERVICES).id, period="quarter",
                               starts_on=budgets.period_start("quarter", start), amount=D(0),
                               category_id=req.category_id)
    per_category = budgets.save(acme.id, data)
    BASE[per_category.id] = budgets.figures_of(per_category)  # the demo's of that category
    data.amount = BASE[per_category.id].used + D("200")
    budgets.save(acme.id, data, per_category)
    db.session.commit()
    general_before = figures_now(general.id)
    with pytest.raises(ValidationError):  # 300 > the category's 200, though the unit's is 5000
        approve(req, "300")
    db.session.rollback()
    approve(req, "150")
    assert figures_now(per_category.id).committed == D("150")
    assert figures_now(general.id) == general_before  # the category's budget took it


def test_the_check_command_replays_the_history_and_finds_a_tampered_row(demo, app):
    budget = this_month_budget("1000")
    approve(authorized("Tampered"), "300")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["budgets", "check", "--tenant", "acme"])
    assert result.exit_code == 0 and "Every budget adds up" in result.output
    db.session.rollback()
    req = db.session.scalars(select(ServiceRequest).where(
        ServiceRequest.title == "Solicitud Tampered")).one()
    req.estimated_cost = D("999")  # a row changed behind the history's back
    db.session.commit()
    result = runner.invoke(args=["budgets", "check"])
    assert result.exit_code == 1
    assert f"acme: budget {budget.id}: rows committed" in result.output
    assert runner.invoke(args=["budgets", "check", "--tenant", "nadie"]).exit_code == 1
