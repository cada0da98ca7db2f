"""Two automatic assignments at the same moment in one service unit whose workers tie: the
turn's row is locked while a worker is chosen, so the second waits, then sees the first's ticket
and the moved turn, and the two requests go to two different workers (PostgreSQL; SQLite
writes one transaction at a time, so the race cannot happen there)."""

import threading

import pytest
from sqlalchemy import select

from app.classification import assignment, operations
from app.classification.models import AssignmentTurn
from app.extensions import db
from app.handlers import operations as host_operations
from app.handlers.base import OperationContext
from app.models import ServiceRequest
from tests.classification.helpers import file_in, help_desk


@pytest.fixture
def desk(demo):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the race needs two concurrent writers (PostgreSQL)")
    return help_desk(process_key=None)  # requests wait at authorization, with no ticket


def test_two_simultaneous_auto_assignments_take_turns(app, desk, monkeypatch):
    redes = desk["categories"]["Redes"]
    ids = [file_in(redes).id, file_in(redes, requester="luis@acme.test").id]
    # The unit's turn exists already (a first insert of it would serialize the two anyway)
    db.session.add(AssignmentTurn(tenant_id=redes.tenant_id, service_unit_id=desk["desk"].id))
    db.session.commit()
    both_inside = threading.Barrier(2, timeout=20)
    original = assignment.lock_turn

    def lock_turn_together(tenant_id, service_unit_id):
        both_inside.wait()  # both transactions have read their request: now race for the turn
        return original(tenant_id, service_unit_id)

    monkeypatch.setattr(assignment, "lock_turn", lock_turn_together)
    errors = []

    def assign(request_id):
        try:
            with app.app_context():
                req = db.session.get(ServiceRequest, request_id)
                ctx = OperationContext(req, None)
                chosen = operations.auto_assign(ctx, {}, {})
                host_operations.create_ticket(ctx, {}, {"assignment": chosen})
                db.session.commit()
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=assign, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    db.session.rollback()
    workers = sorted(req.ticket.worker.email for req in db.session.scalars(
        select(ServiceRequest).where(ServiceRequest.id.in_(ids))))
    assert workers == ["w1@acme.test", "w2@acme.test"]
