"""The clocks kept with a request through its real lifecycle: opened at filing, refreshed by
each step in its transaction, paused on hold and while returned."""

from datetime import UTC, datetime, timedelta

import time_machine

from app.extensions import db
from app.models import ServiceRequest
from app.services import workflow
from tests import factories
from tests.sla import sla_helpers

# Monday 2026-12-07 09:00 in Bogotá (UTC-5, no daylight saving)
MONDAY_9 = datetime(2026, 12, 7, 14, 0, tzinfo=UTC)


def clocks(req: ServiceRequest) -> dict:
    db.session.expire_all()
    req = db.session.get(ServiceRequest, req.id)
    return {c.kind: c for c in req.sla_clocks}


def step(req, spec_id, email, handler, form, at):
    with time_machine.travel(at, tick=False):
        workflow.complete(factories.user(email), factories.open_task(req, spec_id), handler,
                          form)
        db.session.commit()


def test_no_targets_no_clocks(demo):
    req = factories.file()
    assert req.sla_clocks == [] and req.sla_state is None


def test_a_request_walks_its_clocks(demo):
    sla_helpers.targets(decision=240, start=480, resolution=2400)
    with time_machine.travel(MONDAY_9, tick=False):
        req = factories.file()
    found = clocks(req)
    assert set(found) == {"decision", "start", "resolution"}
    assert found["decision"].state == "running"
    assert found["decision"].due_at == MONDAY_9 + timedelta(hours=4)
    assert found["start"].state == "not_started" and found["start"].due_at is None
    assert req.sla_due_at == MONDAY_9 + timedelta(hours=4) and req.sla_state == "running"

    step(req, "Task_Authorize", "jefe.finanzas@acme.test", "authorize",
         {"decision": "authorize"}, MONDAY_9 + timedelta(hours=1))
    step(req, "Task_Evaluate", "director@acme.test", "evaluate",
         {"decision": "approve", "estimated_cost": "100", "estimated_hours": "8",
          "justification": "Prueba"}, MONDAY_9 + timedelta(hours=3, minutes=30))
    found = clocks(req)
    assert found["decision"].state == "met" and found["decision"].elapsed_seconds == 3.5 * 3600
    assert found["start"].state == "running"
    # approved Monday 12:30: 5.5 h that day, 2.5 h on Tuesday from 08:00 (Bogotá)
    assert found["start"].due_at == datetime(2026, 12, 8, 15, 30, tzinfo=UTC)
    assignment = {"worker_id": str(factories.user("tecnico1@acme.test").id),
                  "planned_start": "2026-12-07", "planned_end": "2026-12-09"}
    step(req, "Task_Assign", "director@acme.test", "assign", assignment,
         MONDAY_9 + timedelta(hours=4))
    step(req, "Task_Start", "tecnico1@acme.test", "start", {}, MONDAY_9 + timedelta(hours=5))
    found = clocks(req)
    assert found["start"].state == "met"
    assert found["resolution"].state == "running"
    resolution_due = found["resolution"].due_at
    # A hold of 3 business hours (Monday 15:00 to 18:00 Bogotá) moves the due time by 3 h.
    step(req, "Task_Work", "tecnico1@acme.test", "hold", {"reason": "Falta material"},
         MONDAY_9 + timedelta(hours=6))
    found = clocks(req)
    assert found["resolution"].state == "paused"
    assert found["resolution"].paused_since == MONDAY_9 + timedelta(hours=6)
    assert found["resolution"].due_at is None
    assert db.session.get(ServiceRequest, req.id).sla_state == "paused"
    step(req, "Task_OnHold", "tecnico1@acme.test", "resume", {},
         MONDAY_9 + timedelta(hours=9))
    found = clocks(req)
    assert found["resolution"].state == "running"
    # 40 working hours from Monday 09:00 were due Friday 09:00; the hold covered 3 of them
    assert resolution_due == datetime(2026, 12, 11, 14, 0, tzinfo=UTC)
    assert found["resolution"].due_at == resolution_due + timedelta(hours=3)
    step(req, "Task_Work", "tecnico1@acme.test", "finish",
         {"resolution": "Listo", "hours_spent": "1", "materials_cost": "0"},
         MONDAY_9 + timedelta(days=1))
    found = clocks(req)
    assert found["resolution"].state == "met"
    req = db.session.get(ServiceRequest, req.id)
    assert req.sla_state == "met" and req.sla_due_at is None
