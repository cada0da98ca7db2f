"""``ledger.replay``: what one request holds against its budget, from its history alone."""

from datetime import UTC, date, datetime
from decimal import Decimal
from types import SimpleNamespace

from app.viability.ledger import replay

D = Decimal
WHEN = datetime(2026, 12, 4, 23, 30, tzinfo=UTC)


def ev(action, to_status=None, **changes):
    return SimpleNamespace(action=action, to_status=to_status, changes=changes, created_at=WHEN)


APPROVE = ev("evaluate", "pending_assignment", decision="approve", estimated_cost="300.00",
             committed_on="2026-12-03")


def test_an_approval_commits_on_its_recorded_date():
    held = replay([ev("filed", "pending_authorization"), APPROVE])
    assert (held.committed_on, held.committed, held.spent) == (date(2026, 12, 3), D("300"), 0)


def test_returned_then_approved_again_holds_the_last_estimate_once():
    held = replay([APPROVE, ev("evaluate", "returned", decision="return"),
                   ev("resubmit", "pending_evaluation"),
                   ev("evaluate", "pending_assignment", decision="approve",
                      estimated_cost="120.50", committed_on="2026-12-09")])
    assert (held.committed_on, held.committed) == (date(2026, 12, 9), D("120.50"))


def test_a_return_or_rejection_takes_the_commitment_back():
    assert replay([APPROVE, ev("evaluate", "returned", decision="return")]).committed == 0
    assert replay([ev("evaluate", "rejected", decision="reject")]).committed_on is None


def test_the_actual_cost_replaces_the_commitment_and_stays_spent():
    held = replay([APPROVE, ev("finish", None, hours_spent="2.00", materials_cost="30.00",
                               hourly_rate="50.00", actual_cost="130.00")])
    assert (held.committed, held.spent) == (0, D("130.00"))
    # Finished before rates existed (no actual cost recorded): its materials
    old = replay([APPROVE, ev("finish", None, hours_spent="2.00", materials_cost="30.00")])
    assert old.spent == D("30.00")


def test_cancelled_or_rejected_later_releases_what_is_committed():
    assert replay([APPROVE, ev("cancelled", "cancelled")]).committed == 0
    assert replay([APPROVE, ev("approve_over_budget", "rejected",
                               budget_decision="reject")]).committed == 0


def test_a_finish_without_an_approval_takes_its_own_date():
    held = replay([ev("finish", None, hours_spent="1", materials_cost="0", actual_cost="40",
                      committed_on="2026-12-10")])
    assert (held.committed_on, held.spent) == (date(2026, 12, 10), D("40.00"))


def test_history_from_before_budgets_stands_for_its_utc_date():
    legacy = replay([ev("evaluate", "pending_assignment", decision="approve",
                        estimated_cost="10.00")])
    assert legacy.committed_on == date(2026, 12, 4) and legacy.committed == D("10.00")
