"""A worker's load counts the open tickets they work on as the worker or as a helper, and the
hours still planned on them (estimated minus already recorded, never below 0): hand-computed
on a fixture of workers, helpers and partly worked tickets. auto_assign and the assignment
form's suggestion read the same loads."""

from datetime import UTC, datetime

import pytest
import time_machine
from sqlalchemy import event, select

from app.classification import assignment
from app.extensions import db
from tests.classification.helpers import file_in, give_load, help_desk

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


@pytest.fixture
def desk(demo):
    with time_machine.travel(T0, tick=False):
        yield help_desk()


def _as_pairs(found):
    return {k: (v.open_tickets, str(v.planned_hours)) for k, v in found.items()}


def _workers_and_helpers(desk):
    w1, w2, w3 = desk["workers"]
    give_load(w1, "10", spent="4", helpers=(w2,))   # 6 h left, for w1 and for w2
    give_load(w1, "3", spent="5")                    # worked past its estimate: 0 left
    give_load(w1, "20", status="closed", helpers=(w3,))  # closed: nobody's load
    give_load(w2, "2.5")                             # nothing recorded yet: 2.5 h
    give_load(w3, "1", helpers=(w3,))                # w3 both worker and helper: once
    give_load(w3, None, status="finished", spent="2")  # finished: not open
    return w1, w2, w3


def test_helping_counts_and_hours_already_recorded_are_taken_off(desk):
    w1, w2, w3 = _workers_and_helpers(desk)
    found = assignment.loads(w1.tenant_id, [w1.id, w2.id, w3.id])
    assert _as_pairs(found) == {
        w1.id: (2, "6.00"),   # 10-4 + max(3-5, 0)
        w2.id: (2, "8.50"),   # helps on 10-4, works on 2.5
        w3.id: (1, "1.00"),   # one ticket though listed twice; closed help ignored
    }


def test_auto_assign_and_the_suggestion_pick_the_least_loaded_by_that_count(desk):
    w1, w2, w3 = _workers_and_helpers(desk)
    give_load(w3, "9", spent="8.25")                 # w3: 2 tickets, 1 + 0.75 h
    redes = desk["categories"]["Redes"]
    expected = {w1.id: (2, "6.00"), w2.id: (2, "8.50"), w3.id: (2, "1.75")}
    assert _as_pairs(assignment.loads(w1.tenant_id, [w1.id, w2.id, w3.id])) == expected
    probe = file_in(redes, title="Sonda")            # auto-assigned: w3, the least hours
    assert probe.ticket.worker_id == w3.id
    choice = assignment.suggestion(probe)            # now w3 has 3 tickets: w1 has least
    assert (choice.worker.id, choice.load) == (w1.id, assignment.loads(
        w1.tenant_id, [w1.id])[w1.id])
    assert (choice.load.open_tickets, str(choice.load.planned_hours)) == (2, "6.00")


def test_one_statement_reads_every_workers_load(desk):
    tenant_id, ids = desk["desk"].tenant_id, [w.id for w in _workers_and_helpers(desk)]
    db.session.rollback()  # a transaction of its own, begun before counting
    db.session.execute(select(1))
    statements = []
    engine = db.session.get_bind()

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        assert len(assignment.loads(tenant_id, ids)) == 3
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(statements) == 1, statements
