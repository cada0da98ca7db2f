"""Two directors approving against one budget at the same moment: the approvals take turns on
the budget, so the second sees the first's commitment (and needs a justification when the two
together go over), and afterwards committed = the sum of the committed requests."""

import threading
from decimal import Decimal

from app.extensions import db
from app.models import Membership, ServiceRequest, User
from app.viability import budgets, ledger
from tests.factories import request_at
from tests.viability.budget_helpers import DIRECTOR, SERVICES, budget_with_left, tenant, unit

D = Decimal
SECOND_DIRECTOR = "subdirector@acme.test"


def second_director() -> None:
    services_id = unit(SERVICES).id  # (the helpers roll back: read before writing)
    acme = tenant()
    other = User(tenant_id=acme.id, email=SECOND_DIRECTOR, name="Subdirectora")
    other.set_password("demo1234")
    db.session.add(other)
    db.session.flush()
    db.session.add(Membership(tenant_id=acme.id, user_id=other.id, role="service_director",
                              unit_id=services_id))
    db.session.commit()


def test_simultaneous_approvals_against_one_budget_take_turns(demo, browser):
    second_director()
    budget = budget_with_left("600")
    used_before = budgets.figures_of(budget).used
    tasks = [request_at("Task_Evaluate"), request_at("Task_Evaluate")]
    task_ids = [task.id for _req, task in tasks]
    request_ids = [req.id for req, _task in tasks]
    clients = [browser(DIRECTOR), browser(SECOND_DIRECTOR)]
    barrier = threading.Barrier(2)
    results = [None, None]

    def approve(index):
        barrier.wait()
        results[index] = clients[index].post(f"/tasks/{task_ids[index]}", {
            "handler": "evaluate", "decision": "approve", "estimated_cost": "350",
            "estimated_hours": "2"})

    threads = [threading.Thread(target=approve, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    codes = sorted(r.status_code for r in results)
    # One fits in the 600 left; the other, seeing it, would go over: asked to justify
    assert codes == [302, 422], codes
    loser = next(r for r in results if r.status_code == 422)
    assert "justific" in loser.get_data(as_text=True).lower()
    db.session.rollback()
    approved = [db.session.get(ServiceRequest, request_id) for request_id in request_ids]
    assert sorted(r.status for r in approved) == ["pending_assignment", "pending_evaluation"]
    figures = budgets.figures_of(db.session.get(budgets.Budget, budget.id))
    assert figures.used == used_before + D("350")
    assert ledger.check(budget.tenant_id) == []
