"""The live diagram's data: path taken, current step, who did each step and when, per stage."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import event

from app.extensions import db
from app.models import ServiceRequest
from app.services import workflow
from app.services.background import run_due_timers
from app.services.trail import trail_of
from tests.factories import file, open_task, request_at, user

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HEAD, DIRECTOR, WORKER = "jefe.finanzas@acme.test", "director@acme.test", "tecnico1@acme.test"

FILED = {"Start_Filed", "Gateway_NeedsAuthorization"}
AUTHORIZED = FILED | {"Task_Authorize", "Gateway_Authorized", "Gateway_MergeEvaluate"}
APPROVED = AUTHORIZED | {"Task_Evaluate", "Gateway_Viability", "Gateway_OverBudget"}
TICKET = APPROVED | {"Task_Assign", "Service_CreateTicket"}
STARTED = TICKET | {"Task_Start", "Gateway_MergeWork"}
HELD = STARTED | {"Task_Work", "Gateway_WorkOutcome"}
FINISHED = HELD | {"Task_OnHold"}

FLOWS_AUTHORIZED = {"Flow_Start", "Flow_ToAuthorize", "Flow_AuthorizeToDecision",
                    "Flow_Authorized", "Flow_ToEvaluate"}
FLOWS_TICKET = FLOWS_AUTHORIZED | {"Flow_EvaluateToDecision", "Flow_Approve",
                                   "Flow_WithinBudget", "Flow_ToCreateTicket", "Flow_ToStart"}
FLOWS_LOOP = FLOWS_TICKET | {"Flow_StartToWork", "Flow_ToWork", "Flow_WorkToOutcome",
                             "Flow_Hold", "Flow_Resume"}


def trail(req):
    db.session.rollback()  # a fresh snapshot, as the next page load would see
    return trail_of(db.session.get(ServiceRequest, req.id))


def complete(req, spec_id, email, handler, form):
    workflow.complete(user(email), open_task(req, spec_id), handler, form)
    db.session.commit()


def name(email):
    return user(email).name


def test_just_filed_waits_for_the_head_with_the_path_to_it(app, demo):
    req = file()
    found = trail(req)
    assert "<bpmn:definitions" in found.xml and found.version == 1
    assert found.completed == ["Start_Filed", "Gateway_NeedsAuthorization"]
    assert found.flows == ["Flow_Start", "Flow_ToAuthorize"]
    assert [(c.element_id, c.waiting_on) for c in found.current] == [
        ("Task_Authorize", [name(HEAD)])]
    assert found.steps == {} and found.stopped == []


def test_after_authorization_the_path_reaches_the_evaluation(app, demo):
    with time_machine.travel(T0, tick=False) as clock:
        req = file()
        clock.move_to(T0 + timedelta(hours=3))
        complete(req, "Task_Authorize", HEAD, "authorize", {"decision": "authorize"})
        found = trail(req)
    assert set(found.completed) == AUTHORIZED
    assert found.completed.index("Task_Authorize") < found.completed.index("Gateway_Authorized")
    assert set(found.flows) == FLOWS_AUTHORIZED
    # The roads not taken: no skip, no rejection, and the reminder timer never fired.
    assert "Timer_AuthorizationReminder" not in found.completed
    assert [c.element_id for c in found.current] == ["Task_Evaluate"]
    assert found.current[0].waiting_on == [name(DIRECTOR)]
    (done,) = found.steps["Task_Authorize"]
    assert (done.by, done.at) == (name(HEAD), T0 + timedelta(hours=3))


def test_on_hold_again_after_a_hold_and_resume_loop(app, demo):
    with time_machine.travel(T0, tick=False) as clock:
        req, _ = request_at("Task_OnHold")           # started, then put on hold once
        clock.move_to(T0 + timedelta(hours=1))
        complete(req, "Task_OnHold", WORKER, "resume", {})
        clock.move_to(T0 + timedelta(hours=2))
        complete(req, "Task_Work", WORKER, "hold", {"reason": "Otra vez sin repuesto"})
        found = trail(req)
    assert set(found.completed) == FINISHED
    assert set(found.flows) == FLOWS_LOOP
    assert "Flow_Finished" not in found.flows
    assert [c.element_id for c in found.current] == ["Task_OnHold"]
    assert found.current[0].waiting_on == [name(WORKER)]
    assert [(d.by, d.at) for d in found.steps["Task_Work"]] == [
        (name(WORKER), T0), (name(WORKER), T0 + timedelta(hours=2))]
    assert [(d.by, d.at) for d in found.steps["Task_OnHold"]] == [
        (name(WORKER), T0 + timedelta(hours=1))]
    assert [d.by for d in found.steps["Task_Authorize"]] == [name(HEAD)]
    assert [d.by for d in found.steps["Task_Evaluate"]] == [name(DIRECTOR)]
    assert [d.by for d in found.steps["Task_Assign"]] == [name(DIRECTOR)]
    assert found.stopped == []


def test_confirmed_and_closed_shows_the_whole_path_and_nothing_current(app, demo):
    req, _ = request_at("Task_Confirm")
    complete(req, "Task_Confirm", "ana@acme.test", "confirm", {"rating": "5"})
    found = trail(req)
    closing = {"Task_Confirm", "Gateway_Solved", "Service_Close", "End_Completed"}
    assert set(found.completed) == FINISHED | closing
    assert found.completed[-4:] == ["Task_Confirm", "Gateway_Solved", "Service_Close",
                                    "End_Completed"]
    assert {"Flow_Finished", "Flow_ToClose", "Flow_Completed"} <= set(found.flows)
    assert not {"Timer_AutoClose", "Service_AutoClose"} & set(found.completed)
    assert "Flow_AutoCloseTimer" not in found.flows
    assert found.current == [] and found.stopped == []
    assert [d.by for d in found.steps["Task_Confirm"]] == [name("ana@acme.test")]
    assert len(found.steps["Task_Work"]) == 2  # held once, then finished


def test_closed_by_the_timer_takes_the_interrupting_path(app, demo):
    with time_machine.travel(T0, tick=False) as clock:
        req, _ = request_at("Task_Confirm")
        clock.move_to(T0 + timedelta(days=7, minutes=5))
        assert run_due_timers() == 1
        found = trail(req)
    assert {"Timer_AutoClose", "Service_AutoClose", "End_AutoClosed"} <= set(found.completed)
    assert "Task_Confirm" not in found.completed
    assert {"Flow_Finished", "Flow_AutoCloseTimer", "Flow_AutoClosed"} <= set(found.flows)
    assert "Flow_ToClose" not in found.flows
    assert found.stopped == ["Task_Confirm"]  # it was waiting there when the timer cut in
    assert found.current == []
    assert "Task_Confirm" not in found.steps


def test_a_reminder_is_a_side_path_while_the_authorization_still_waits(app, demo):
    with time_machine.travel(T0, tick=False) as clock:
        req = file()
        clock.move_to(T0 + timedelta(hours=49))
        assert run_due_timers() == 1
        found = trail(req)
    assert {"Timer_AuthorizationReminder", "Service_SendReminder",
            "End_ReminderSent"} <= set(found.completed)
    assert {"Flow_ReminderTimer", "Flow_ReminderSent"} <= set(found.flows)
    assert "Task_Authorize" not in found.completed
    assert [c.element_id for c in found.current] == ["Task_Authorize"]


def test_cancelled_shows_the_path_up_to_where_it_was_withdrawn(app, demo):
    req = file()
    complete(req, "Task_Authorize", HEAD, "authorize", {"decision": "authorize"})
    workflow.cancel_request(user("ana@acme.test"), db.session.get(ServiceRequest, req.id),
                            "Ya no hace falta")
    db.session.commit()
    found = trail(req)
    assert set(found.completed) == AUTHORIZED
    assert set(found.flows) == FLOWS_AUTHORIZED   # including the flow into the evaluation
    assert found.stopped == ["Task_Evaluate"]
    assert found.current == []
    assert [d.by for d in found.steps["Task_Authorize"]] == [name(HEAD)]


def test_returned_and_resubmitted_loops_back_to_the_evaluation(app, demo):
    req, _ = request_at("Task_Evaluate")
    complete(req, "Task_Evaluate", DIRECTOR, "evaluate",
             {"decision": "return", "comment": "¿Qué piso?"})
    complete(req, "Task_ProvideInformation", "ana@acme.test", "resubmit",
             {"title": "Cambiar bombillo", "description": "Piso 3, oficina 301",
              "comment": "Es el piso 3"})
    found = trail(req)
    assert {"Flow_Return", "Flow_Resubmitted"} <= set(found.flows)
    assert "Flow_Approve" not in found.flows
    assert [c.element_id for c in found.current] == ["Task_Evaluate"]
    assert [d.by for d in found.steps["Task_Evaluate"]] == [name(DIRECTOR)]
    assert [d.by for d in found.steps["Task_ProvideInformation"]] == [name("ana@acme.test")]


def test_rejected_by_the_head_ends_on_the_rejection_path(app, demo):
    req = file()
    complete(req, "Task_Authorize", HEAD, "authorize",
             {"decision": "reject", "comment": "No hay presupuesto"})
    found = trail(req)
    assert {"Gateway_MergeRejected", "Service_MarkRejected", "End_Rejected"} <= set(
        found.completed)
    assert {"Flow_AuthorizationRejected", "Flow_ToMarkRejected", "Flow_Rejected"} <= set(
        found.flows)
    assert "Flow_Authorized" not in found.flows and "Task_Evaluate" not in found.completed
    assert found.current == []


def test_the_request_keeps_the_diagram_of_its_own_version(app, demo):
    from app.services import definitions

    req = file()
    old = trail(req)
    tenant_id = req.tenant_id
    renamed = old.xml.replace('name="Evaluar viabilidad"', 'name="Revisar costo"')
    definitions.deploy(tenant_id, renamed, note="renombrar evaluación")
    db.session.commit()
    newer = file(title="Otra")
    assert 'name="Evaluar viabilidad"' in trail(req).xml and trail(req).version == 1
    assert 'name="Revisar costo"' in trail(newer).xml and trail(newer).version == 2


def count_queries():
    statements = []

    def listen(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", listen)
    return statements, lambda: event.remove(db.engine, "before_cursor_execute", listen)


@pytest.mark.parametrize("loops", [1, 4])
def test_queries_do_not_grow_with_the_history(app, demo, loops):
    req, _ = request_at("Task_OnHold")
    for _ in range(loops):
        complete(req, "Task_OnHold", WORKER, "resume", {})
        complete(req, "Task_Work", WORKER, "hold", {"reason": "Sin repuesto"})
    db.session.rollback()
    loaded = db.session.get(ServiceRequest, req.id)
    statements, stop = count_queries()
    try:
        found = trail_of(loaded)
    finally:
        stop()
    assert len(found.steps["Task_Work"]) == loops + 1
    assert len(statements) <= 6, statements


def test_an_instance_that_cannot_be_restored_still_gives_the_steps_on_record(
        app, demo, monkeypatch):
    req, _ = request_at("Task_Evaluate")

    def broken(row, ctx):
        raise workflow.WorkflowError("the diagram no longer compiles")

    monkeypatch.setattr(workflow, "restore_instance", broken)
    found = trail(req)
    assert found.xml and found.completed == [] and found.flows == []
    assert [c.element_id for c in found.current] == ["Task_Evaluate"]
    assert [d.by for d in found.steps["Task_Authorize"]] == [name(HEAD)]


PARALLEL = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
  id="Definitions_Parallel" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="parallel" isExecutable="true">
    <bpmn:laneSet id="LaneSet_1">
      <bpmn:lane id="Lane_Worker" name="Worker">
        <bpmn:flowNodeRef>Start_P</bpmn:flowNodeRef><bpmn:flowNodeRef>Split</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Task_A</bpmn:flowNodeRef><bpmn:flowNodeRef>Task_B</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Join</bpmn:flowNodeRef><bpmn:flowNodeRef>End_P</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="Start_P" />
    <bpmn:parallelGateway id="Split" />
    <bpmn:userTask id="Task_A" name="A"><bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="handlers" value="start" />
    </spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>
    <bpmn:userTask id="Task_B" name="B"><bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="handlers" value="start" />
    </spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>
    <bpmn:parallelGateway id="Join" />
    <bpmn:endEvent id="End_P" />
    <bpmn:sequenceFlow id="F1" sourceRef="Start_P" targetRef="Split" />
    <bpmn:sequenceFlow id="F2" sourceRef="Split" targetRef="Task_A" />
    <bpmn:sequenceFlow id="F3" sourceRef="Split" targetRef="Task_B" />
    <bpmn:sequenceFlow id="F4" sourceRef="Task_A" targetRef="Join" />
    <bpmn:sequenceFlow id="F5" sourceRef="Task_B" targetRef="Join" />
    <bpmn:sequenceFlow id="F6" sourceRef="Join" targetRef="End_P" />
  </bpmn:process>
</bpmn:definitions>
"""


def test_the_engine_trail_of_parallel_branches_counts_both_arrivals_at_the_join(app):
    from app.engine.runner import Instance
    from app.services.definitions import compile_xml

    instance = Instance.start(compile_xml(PARALLEL), {}, lambda *args: {})
    (first, _) = instance.ready_tasks()
    instance.complete(first.uuid, {})
    halfway = {(e, came_from, state) for e, came_from, state, _ in instance.trail()}
    assert ("Join", first.spec_id, "waiting") in halfway  # one branch waits at the join
    (second,) = instance.ready_tasks()
    instance.complete(second.uuid, {})
    entries = [(e, came_from, state) for e, came_from, state, _ in instance.trail()]
    assert ("Join", first.spec_id, "merged") in entries
    assert ("Join", second.spec_id, "completed") in entries
    assert ("End_P", "Join", "completed") in entries
    assert instance.is_completed
