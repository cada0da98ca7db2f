"""The live diagram of a request that looped many times through the services: the saved
instance no longer holds the completed tasks, its folded history gives the same path."""

from datetime import UTC, datetime, timedelta

import time_machine

from app.extensions import db
from app.models import ProcessInstance, ServiceRequest
from app.services import workflow
from app.services.trail import trail_of
from tests.factories import open_task, request_at, user

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WORKER = "tecnico1@acme.test"
HELD = {"Start_Filed", "Gateway_NeedsAuthorization", "Task_Authorize", "Gateway_Authorized",
        "Gateway_MergeEvaluate", "Task_Evaluate", "Gateway_Viability", "Gateway_OverBudget",
        "Task_Assign",
        "Service_CreateTicket", "Task_Start", "Gateway_MergeWork", "Task_Work",
        "Gateway_WorkOutcome", "Task_OnHold"}
LOOP_FLOWS = {"Flow_Start", "Flow_ToAuthorize", "Flow_AuthorizeToDecision", "Flow_Authorized",
              "Flow_ToEvaluate", "Flow_EvaluateToDecision", "Flow_Approve", "Flow_WithinBudget",
              "Flow_ToCreateTicket",
              "Flow_ToStart", "Flow_StartToWork", "Flow_ToWork", "Flow_WorkToOutcome",
              "Flow_Hold", "Flow_Resume"}


def complete(req, spec_id, handler, form, email=WORKER):
    workflow.complete(user(email), open_task(req, spec_id), handler, form)
    db.session.commit()


def saved_size(req) -> int:
    return len(db.session.query(ProcessInstance.state).filter_by(request_id=req.id).scalar())


def trail(req):
    db.session.rollback()
    return trail_of(db.session.get(ServiceRequest, req.id))


def test_after_many_loops_the_path_and_the_steps_are_all_there(app, demo):
    with time_machine.travel(T0, tick=True) as clock:
        req, _ = request_at("Task_OnHold")  # held once already
        complete(req, "Task_OnHold", "resume", {})
        complete(req, "Task_Work", "hold", {"reason": "Sin repuesto"})
        size = saved_size(req)
        for _ in range(24):
            clock.shift(timedelta(minutes=5))
            complete(req, "Task_OnHold", "resume", {})
            complete(req, "Task_Work", "hold", {"reason": "Sin repuesto"})
            assert saved_size(req) <= size + 256
        found = trail(req)
    assert set(found.completed) == HELD
    assert found.completed.index("Task_Authorize") < found.completed.index("Task_Evaluate") \
        < found.completed.index("Task_Work") < found.completed.index("Task_OnHold")
    assert set(found.flows) == LOOP_FLOWS
    assert [c.element_id for c in found.current] == ["Task_OnHold"]
    assert len(found.steps["Task_Work"]) == 26 and len(found.steps["Task_OnHold"]) == 25
    assert found.stopped == []


def test_finished_after_many_loops_then_closed_by_the_requester(app, demo):
    req, _ = request_at("Task_OnHold")
    for _ in range(15):
        complete(req, "Task_OnHold", "resume", {})
        complete(req, "Task_Work", "hold", {"reason": "Sin repuesto"})
    complete(req, "Task_OnHold", "resume", {})
    complete(req, "Task_Work", "finish",
             {"resolution": "Listo", "hours_spent": "1", "materials_cost": "0"})
    complete(req, "Task_Confirm", "confirm", {"rating": "5"}, email="ana@acme.test")
    found = trail(req)
    closing = ["Task_Confirm", "Gateway_Solved", "Service_Close", "End_Completed"]
    assert found.completed[-4:] == closing
    assert set(found.completed) == HELD | set(closing)
    assert {"Flow_Finished", "Flow_ToClose", "Flow_Completed"} <= set(found.flows)
    assert found.current == [] and found.stopped == []
    assert db.session.get(ServiceRequest, req.id).status == "completed"
