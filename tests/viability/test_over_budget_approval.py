"""The default diagram's optional second approval: a request its director approves over budget
goes to a tenant admin when the company's ``over_budget_approval`` setting is on."""

from decimal import Decimal

import pytest

from app.extensions import db
from app.models import HumanTask, Notification, OutboxMessage, Tenant
from app.services import inbox, workflow
from app.viability import budgets, ledger
from tests.accounts.conftest import english
from tests.engine.test_walks import ASSIGNMENT, Walk, compiled  # noqa: F401 (fixture)
from tests.factories import open_task, request_at, user
from tests.viability.budget_helpers import ADMIN, DIRECTOR, budget_with_left, tenant

D = Decimal
APPROVED = {"decision": "approve", "estimated_cost": 500.0, "estimated_hours": 4.0,
            "staff_available": True, "earliest_start": "2026-01-05"}


def evaluated(compiled, over_budget: bool, setting: bool) -> Walk:  # noqa: F811
    w = Walk(compiled, requester_is_head=False, over_budget_approval=setting)
    w.do("Task_Authorize", decision="authorize")
    w.do("Task_Evaluate", **APPROVED, over_budget=over_budget, over_budget_approval=setting)
    return w


def test_over_budget_with_the_setting_waits_on_a_tenant_admin_then_goes_on(compiled):  # noqa: F811
    w = evaluated(compiled, over_budget=True, setting=True)
    assert w.waiting() == [("Task_ApproveOverBudget", "TenantAdmin")]
    w.do("Task_ApproveOverBudget", budget_decision="approve")
    assert w.waiting() == [("Task_Assign", "ServiceDirector")]
    w.do("Task_Assign", **ASSIGNMENT)
    assert w.waiting() == [("Task_Start", "Worker")]
    assert "create_ticket" in w.ops()


def test_over_budget_rejected_by_the_tenant_admin_ends_rejected(compiled):  # noqa: F811
    w = evaluated(compiled, over_budget=True, setting=True)
    w.do("Task_ApproveOverBudget", budget_decision="reject")
    assert w.completed and w.ops()[-1] == "set_status"
    assert ("set_status", {"request_status": "rejected"}) in w.calls


@pytest.mark.parametrize("over_budget,setting", [(True, False), (False, True), (False, False)])
def test_otherwise_the_approval_goes_straight_to_assignment(compiled, over_budget, setting):  # noqa: F811
    w = evaluated(compiled, over_budget=over_budget, setting=setting)
    assert w.waiting() == [("Task_Assign", "ServiceDirector")]


def small_budget(left: str) -> budgets.Budget:
    """A budget with ``left`` to spare, and the company's over-budget approval on."""
    budget = budget_with_left(left)
    acme = tenant()
    db.session.get(Tenant, acme.id).settings = {**(acme.settings or {}),
                                                "over_budget_approval": True}
    db.session.commit()
    return budget


def approve_over(req, task):
    workflow.complete(user(DIRECTOR), task, "evaluate", {
        "decision": "approve", "estimated_cost": "800", "estimated_hours": "4",
        "justification": "Urgente"})
    db.session.commit()


@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_the_tenant_admin_decides_and_the_budget_follows(demo, decision):
    budget = small_budget("100")
    used_before = budgets.figures_of(budget).used
    req, task = request_at("Task_Evaluate")
    approve_over(req, task)
    db.session.rollback()
    second = open_task(req, "Task_ApproveOverBudget")
    assert (second.role, second.unit_id, req.status) == ("tenant_admin", None,
                                                         "pending_evaluation")
    # In the admins' inbox (and told by e-mail), not in the director's
    admin, director = user(ADMIN), user(DIRECTOR)
    assert second in inbox.my_tasks(admin) and second not in inbox.my_tasks(director)
    told = db.session.query(Notification).filter_by(task_id=second.id).all()
    assert {n.user_id for n in told} == {admin.id}
    assert db.session.query(OutboxMessage).filter(
        OutboxMessage.notification_id.in_([n.id for n in told]),
        OutboxMessage.channel == "email").count() == 1
    with pytest.raises(workflow.NotAllowed):
        workflow.complete(director, second, "approve_over_budget", {"budget_decision": "approve"})
    db.session.rollback()
    # Committed while the second approval is pending
    assert budgets.figures_of(budget).used == used_before + D("800")
    form = {"budget_decision": decision}
    if decision == "reject":
        form["comment"] = "No hay fondos este mes"
    workflow.complete(user(ADMIN), open_task(req, "Task_ApproveOverBudget"),
                      "approve_over_budget", form)
    db.session.commit()
    db.session.rollback()
    req = db.session.merge(req)
    if decision == "approve":
        assert req.status == "pending_assignment" and open_task(req, "Task_Assign")
        assert budgets.figures_of(budget).used == used_before + D("800")
    else:
        assert req.status == "rejected" and req.committed_on is None
        assert budgets.figures_of(budget).used == used_before
    assert ledger.check(req.tenant_id) == []


def test_a_rejection_needs_a_comment(demo):
    small_budget("100")
    req, task = request_at("Task_Evaluate")
    approve_over(req, task)
    from marshmallow import ValidationError

    with pytest.raises(ValidationError) as refused:
        workflow.complete(user(ADMIN), open_task(req, "Task_ApproveOverBudget"),
                          "approve_over_budget", {"budget_decision": "reject"})
    assert "comment" in refused.value.messages
    db.session.rollback()
    assert db.session.query(HumanTask).filter_by(
        request_id=req.id, spec_id="Task_ApproveOverBudget", status="open").count() == 1


def test_the_admin_reads_the_directors_justification_on_the_task_page(demo, browser):
    small_budget("100")
    req, task = request_at("Task_Evaluate")
    director = english(browser(DIRECTOR))
    page = director.get(f"/tasks/{task.id}/viability?estimated_cost=800&estimated_hours=4")
    assert "Then a tenant admin approves it or rejects it." in page.get_data(as_text=True)
    db.session.rollback()  # a fresh snapshot: SQLite refuses a write from an older one
    approve_over(req, task)
    db.session.rollback()
    second = open_task(req, "Task_ApproveOverBudget")
    shown = english(browser(ADMIN)).get(f"/tasks/{second.id}").get_data(as_text=True)
    assert "approved it over budget on" in shown and "Urgente" in shown
    assert "a justification is required" not in shown
