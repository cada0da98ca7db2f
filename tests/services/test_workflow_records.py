"""What each workflow step writes besides moving the engine: the history entry of a withdrawal,
a claim and a release (who, which step, what status before and after, the reason), the closing
time, the tasks it cancels, and the reason a refused step gives. Found by the mutation run of
``app/services/workflow.py``: the lifecycle tests only looked at statuses."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from app.extensions import db
from app.models import (
    Category,
    HistoryEvent,
    HumanTask,
    OutboxMessage,
    ProcessInstance,
    ServiceRequest,
    WebhookEndpoint,
)
from app.models.base import utcnow
from app.services import definitions, requests, workflow
from app.services.definitions import default_diagram
from tests.factories import file, open_task, request_at, user
from tests.incidents import (
    actions,
    authorize,
    deploy_fix,
    failing_after_authorize,
    state,
    store_version,
)

WEBHOOKS = OutboxMessage.channel == "webhook"  # the outbox rows that are webhook deliveries

REQUESTER, HEAD = "ana@acme.test", "jefe.finanzas@acme.test"


def last_event(req_id: int) -> HistoryEvent:
    db.session.rollback()
    return db.session.scalars(select(HistoryEvent).where(HistoryEvent.request_id == req_id)
                              .order_by(HistoryEvent.id.desc()).limit(1)).one()


def tasks_of(req_id: int) -> list[HumanTask]:
    db.session.rollback()
    return list(db.session.scalars(select(HumanTask).where(HumanTask.request_id == req_id)
                                   .order_by(HumanTask.id)))


@pytest.mark.parametrize("step", ["Task_Authorize", "Task_Evaluate"])
def test_a_withdrawal_is_recorded_with_who_why_and_the_status_it_left(demo, step):
    req, task = request_at(step)
    before = req.status
    workflow.cancel_request(user(REQUESTER), req, "Ya no hace falta")
    db.session.commit()
    event = last_event(req.id)
    assert (event.action, event.actor_id, event.comment) == (
        "cancelled", user(REQUESTER).id, "Ya no hace falta")
    assert (event.from_status, event.to_status) == (before, "cancelled")
    req = db.session.get(ServiceRequest, req.id)
    assert req.status == "cancelled" and req.closed_at is not None
    withdrawn = db.session.get(HumanTask, task.id)
    assert withdrawn.status == "cancelled" and withdrawn.completed_at is not None
    assert withdrawn.completed_by_id is None


def test_a_second_withdrawal_is_told_the_request_has_ended(demo):
    req = file()
    workflow.cancel_request(user(REQUESTER), req, "Primera vez")
    db.session.commit()
    with pytest.raises(workflow.TaskConflict) as refused:
        workflow.cancel_request(user(REQUESTER), db.session.get(ServiceRequest, req.id), "Otra")
    assert refused.value.reason == "already_completed" == str(refused.value)
    db.session.rollback()
    assert last_event(req.id).comment == "Primera vez"


def test_a_claim_and_a_release_name_the_person_and_the_step(demo):
    req, task = request_at("Task_Authorize")
    head = user(HEAD)
    workflow.claim(head, task)
    db.session.commit()
    claimed = last_event(req.id)
    assert (claimed.action, claimed.actor_id, claimed.step) == ("claimed", head.id, task.name)
    workflow.release(head, db.session.get(HumanTask, task.id))
    db.session.commit()
    released = last_event(req.id)
    assert (released.action, released.actor_id, released.step) == (
        "released", head.id, task.name)
    assert released.id > claimed.id


def test_a_claim_of_a_done_task_says_it_is_done_and_of_a_taken_one_says_taken(demo):
    req, task = request_at("Task_Authorize")
    workflow.complete(user(HEAD), task, "authorize", {"decision": "authorize"})
    db.session.commit()
    with pytest.raises(workflow.TaskConflict) as done:
        workflow.claim(user(HEAD), db.session.get(HumanTask, task.id))
    assert done.value.reason == "already_completed" == str(done.value)
    db.session.rollback()

    req, task = request_at("Task_Evaluate")
    task = db.session.get(HumanTask, task.id)
    task.claimed_by_id = user("admin@acme.test").id  # as if another director had taken it
    db.session.commit()
    with pytest.raises(workflow.TaskConflict) as taken:
        workflow.claim(user("director@acme.test"), db.session.get(HumanTask, task.id))
    assert taken.value.reason == "claimed" == str(taken.value)


def authorize_task(spec_id: str, then: str) -> str:
    return f"""<bpmn:userTask id="{spec_id}" name="Paso {spec_id[-1]}">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="handlers" value="authorize" />
      </spiffworkflow:properties></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="Flow_{spec_id}" sourceRef="{spec_id}" targetRef="{then}" />"""


def parallel(leads_on: str, other: str) -> str:
    """A split to A and B; ``leads_on`` leads to C; ``other`` and C join. All the head's."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
  id="Definitions_Parallel" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="service_request" isExecutable="true">
    <bpmn:laneSet id="LaneSet_1">
      <bpmn:lane id="Lane_UnitHead" name="UnitHead">
        <bpmn:flowNodeRef>Start_P</bpmn:flowNodeRef><bpmn:flowNodeRef>Split</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Task_A</bpmn:flowNodeRef><bpmn:flowNodeRef>Task_B</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Task_C</bpmn:flowNodeRef><bpmn:flowNodeRef>Join</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>End_P</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="Start_P" />
    <bpmn:sequenceFlow id="Flow_Start" sourceRef="Start_P" targetRef="Split" />
    <bpmn:parallelGateway id="Split" />
    <bpmn:sequenceFlow id="Flow_SplitA" sourceRef="Split" targetRef="Task_A" />
    <bpmn:sequenceFlow id="Flow_SplitB" sourceRef="Split" targetRef="Task_B" />
    {authorize_task(leads_on, "Task_C")}
    {authorize_task(other, "Join")}
    {authorize_task("Task_C", "Join")}
    <bpmn:parallelGateway id="Join" />
    <bpmn:sequenceFlow id="Flow_End" sourceRef="Join" targetRef="End_P" />
    <bpmn:endEvent id="End_P" />
  </bpmn:process>
</bpmn:definitions>
"""


@pytest.mark.parametrize("leads_on,other", [("Task_A", "Task_B"), ("Task_B", "Task_A")])
def test_parallel_steps_each_stay_open_until_done(demo, leads_on, other):
    """Every open step of the request is kept in step with the engine: the one done is
    completed, the others stay open with no end time, a step that became ready is added, and
    the completion lists all the steps the request now waits on."""
    store_version(parallel(leads_on, other))
    req = file()
    assert [(t.spec_id, t.status, t.lane) for t in tasks_of(req.id)] == [
        ("Task_A", "open", "UnitHead"), ("Task_B", "open", "UnitHead")]
    assert instance_row(req).version == 1  # each step adds one: see test_instance_version.py
    head = user(HEAD)
    done = workflow.complete(head, open_task(req, leads_on), "authorize",
                             {"decision": "authorize"})
    assert sorted(t.spec_id for t in done.open_tasks) == sorted([other, "Task_C"])
    db.session.commit()
    rows = {t.spec_id: t for t in tasks_of(req.id)}
    assert rows[leads_on].status == "completed" and rows[leads_on].completed_at is not None
    for spec_id in (other, "Task_C"):
        assert (rows[spec_id].status, rows[spec_id].completed_at) == ("open", None)
    done = workflow.complete(head, open_task(req, "Task_C"), "authorize",
                             {"decision": "authorize"})
    assert [t.spec_id for t in done.open_tasks] == [other]


def test_a_move_to_another_version_is_recorded_with_who_and_which_versions(demo):
    req = file()
    old_version = req.instance.definition.version
    deploy_fix()  # deploys a new version and moves every request, this one too
    event = last_event(req.id)
    req = db.session.get(ServiceRequest, req.id)
    assert (event.action, event.actor_id) == ("migrated", user("admin@acme.test").id)
    assert (event.from_status, event.to_status) == (req.status, req.status) != (None, None)
    assert event.changes == {"from_version": old_version,
                             "to_version": req.instance.definition.version}


@pytest.mark.parametrize("where", ["another process", "another tenant", "no such version"])
def test_a_request_moves_only_to_a_version_of_its_own_process_and_tenant(demo, where):
    req = file()
    if where == "another process":  # the tenant's other process has a version 2
        admin = user("admin@acme.test")
        for _ in range(2):
            definitions.deploy(admin.tenant_id, default_diagram(), process_key="compras",
                               user=admin, note="otro")
    elif where == "another tenant":  # the other tenant's process of the same key has one
        globex = user("jefe@globex.test")
        for _ in range(2):
            definitions.deploy(globex.tenant_id, default_diagram(), user=globex, note="otra")
    db.session.commit()
    with pytest.raises(workflow.WorkflowError, match="^nothing to move$"):
        workflow.migrate_instance(user("admin@acme.test"), req, 2)
    db.session.rollback()
    assert db.session.get(ServiceRequest, req.id).instance.definition.version == 1


def test_a_finished_request_is_not_moved(demo):
    req = file()
    workflow.cancel_request(user(REQUESTER), req, "Ya no")
    db.session.commit()
    deploy_fix()
    with pytest.raises(workflow.WorkflowError, match="^nothing to move$"):
        workflow.migrate_instance(user("admin@acme.test"), req, 2)


def test_a_retry_is_recorded_with_who_which_step_and_the_statuses(demo):
    failing_after_authorize()
    req = file()
    authorize(req)
    deploy_fix()
    req, _, [incident] = state(req.id)
    stopped_at = req.status
    admin = user("admin@acme.test")
    assert workflow.retry_incident(admin, incident) is True
    db.session.commit()
    event = last_event(req.id)
    req, _, [incident] = state(req.id)
    assert (event.action, event.actor_id, event.step) == (
        "process_retried", admin.id, incident.element_name)
    assert (event.from_status, event.to_status) == (stopped_at, req.status)
    assert req.status == "pending_evaluation" != stopped_at
    assert (incident.resolution, incident.resolved_by_id) == ("retried", admin.id)


def test_a_resolved_incident_is_not_retried_while_another_holds_the_request(demo):
    failing_after_authorize()
    req = file()
    authorize(req)
    _, instance, [incident] = state(req.id)
    incident.status = "resolved"  # resolved meanwhile; the request is still stopped
    db.session.commit()
    with pytest.raises(workflow.TaskConflict) as refused:
        workflow.retry_incident(user("admin@acme.test"), incident)
    assert refused.value.reason == "already_completed"


T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DUE = T0 + timedelta(hours=48)  # the head's reminder in the default diagram


def instance_row(req) -> ProcessInstance:
    db.session.rollback()
    return db.session.scalars(select(ProcessInstance)
                              .where(ProcessInstance.request_id == req.id)).one()


def test_a_timer_is_claimed_at_the_very_moment_it_is_due_and_the_lease_changes_nothing(demo):
    with time_machine.travel(T0, tick=False) as clock:
        req, _ = request_at("Task_Authorize")
        before = instance_row(req)
        assert before.next_timer_at == DUE
        last_change = before.updated_at
        clock.move_to(DUE)
        (claim,) = workflow.claim_due_timers(120, limit=10)
        db.session.commit()
        after = instance_row(req)
        assert claim.instance_id == after.id and claim.version == after.version
        assert after.next_timer_at == DUE + timedelta(seconds=120)
        assert after.updated_at == last_change  # a lease is not a change of the request


def test_claims_go_by_due_time_not_by_age(demo):
    with time_machine.travel(T0, tick=False) as clock:
        older, _ = request_at("Task_Authorize")
        newer, _ = request_at("Task_Authorize")
        instance_row(older).next_timer_at = DUE + timedelta(minutes=5)
        db.session.commit()
        clock.move_to(DUE + timedelta(hours=1))
        (claim,) = workflow.claim_due_timers(120, limit=1)
        assert claim.instance_id == instance_row(newer).id


def test_the_timers_of_a_stopped_request_are_not_claimed(demo):
    failing_after_authorize()
    req = file()
    authorize(req)
    row = instance_row(req)
    assert row.status == "incident"
    row.next_timer_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    assert workflow.claim_due_timers(120, limit=10) == []


def test_a_stale_claim_does_not_postpone_a_timer(demo):
    with time_machine.travel(T0, tick=False) as clock:
        req, task = request_at("Task_Authorize")
        clock.move_to(DUE + timedelta(seconds=5))
        (claim,) = workflow.claim_due_timers(120, limit=10)
        db.session.commit()
        workflow.complete(user(HEAD), db.session.get(HumanTask, task.id), "authorize",
                          {"decision": "authorize"})
        db.session.commit()
        moved_on = instance_row(req).next_timer_at
        workflow.postpone_timers(claim, 600)
        db.session.commit()
        assert instance_row(req).next_timer_at == moved_on



def test_a_claim_the_request_has_moved_past_fires_nothing_and_is_no_error(demo):
    """Someone took a step between the claim and its firing: the claim is stale, the timer is
    not fired on the new state, and the runner is told "nothing to do" (not a failure that it
    would log and postpone)."""
    with time_machine.travel(T0, tick=False) as clock:
        req, task = request_at("Task_Authorize")
        clock.move_to(DUE + timedelta(seconds=5))
        (claim,) = workflow.claim_due_timers(120, limit=10)
        db.session.commit()
        workflow.complete(user(HEAD), db.session.get(HumanTask, task.id), "authorize",
                          {"decision": "authorize"})
        db.session.commit()
        row = instance_row(req)
        before = (row.version, row.state, row.next_timer_at, actions(req.id))
        assert workflow.fire_timers(claim) is False
        db.session.commit()
        row = instance_row(req)
        assert (row.version, row.state, row.next_timer_at, actions(req.id)) == before


WORKER_FIRST = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
  id="Definitions_WorkerFirst" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="service_request" isExecutable="true">
    <bpmn:laneSet id="LaneSet_1">
      <bpmn:lane id="Lane_Worker" name="Worker">
        <bpmn:flowNodeRef>Start_W</bpmn:flowNodeRef><bpmn:flowNodeRef>Task_W</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>End_W</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="Start_W" />
    <bpmn:sequenceFlow id="Flow_1" sourceRef="Start_W" targetRef="Task_W" />
    <bpmn:userTask id="Task_W" name="Revisar">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="handlers" value="authorize" />
      </spiffworkflow:properties></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_W" targetRef="End_W" />
    <bpmn:endEvent id="End_W" />
  </bpmn:process>
</bpmn:definitions>
"""


def test_a_workers_step_before_any_ticket_goes_to_the_service_unit(demo):
    """A company's diagram may give the workers a step before a ticket exists: it is the
    service unit's, assigned to nobody yet (not an error for want of a ticket)."""
    store_version(WORKER_FIRST)
    req = file()
    (task,) = tasks_of(req.id)
    req = db.session.get(ServiceRequest, req.id)
    assert req.ticket is None
    assert (task.spec_id, task.role, task.unit_id, task.assigned_user_id) == (
        "Task_W", "worker", req.service_unit_id, None)


URGENT_REJECTED = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
  id="Definitions_Urgent" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="service_request" isExecutable="true">
    <bpmn:laneSet id="LaneSet_1">
      <bpmn:lane id="Lane_UnitHead" name="UnitHead">
        <bpmn:flowNodeRef>Start_U</bpmn:flowNodeRef><bpmn:flowNodeRef>Gateway_U</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Service_U</bpmn:flowNodeRef><bpmn:flowNodeRef>End_U</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Task_H</bpmn:flowNodeRef><bpmn:flowNodeRef>End_H</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="Start_U" />
    <bpmn:sequenceFlow id="Flow_1" sourceRef="Start_U" targetRef="Gateway_U" />
    <bpmn:exclusiveGateway id="Gateway_U" default="Flow_Normal" />
    <bpmn:sequenceFlow id="Flow_Urgent" sourceRef="Gateway_U" targetRef="Service_U">
      <bpmn:conditionExpression>priority == 'urgent'</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="Flow_Normal" sourceRef="Gateway_U" targetRef="Task_H" />
    <bpmn:serviceTask id="Service_U" name="Rechazar">
      <bpmn:extensionElements>
        <spiffworkflow:serviceTaskOperator id="set_status" resultVariable="status_result">
          <spiffworkflow:parameters>
            <spiffworkflow:parameter id="request_status" type="str" value="'rejected'" />
          </spiffworkflow:parameters>
        </spiffworkflow:serviceTaskOperator>
      </bpmn:extensionElements>
    </bpmn:serviceTask>
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Service_U" targetRef="End_U" />
    <bpmn:endEvent id="End_U" />
    <bpmn:userTask id="Task_H" name="Autorizar">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="handlers" value="authorize" />
      </spiffworkflow:properties></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="Flow_3" sourceRef="Task_H" targetRef="End_H" />
    <bpmn:endEvent id="End_H" />
  </bpmn:process>
</bpmn:definitions>
"""


def file_with(priority: str) -> ServiceRequest:
    db.session.rollback()
    person = user(REQUESTER)
    category = db.session.scalars(select(Category).where(Category.tenant_id == person.tenant_id)
                                  .order_by(Category.name)).first()
    req = requests.file_request(person, {
        "title": "Fuga de agua", "description": "En el baño", "category_id": category.id,
        "location": "Piso 1", "priority": priority})
    db.session.commit()
    return req


@pytest.mark.parametrize("priority", ["urgent", "normal"])
def test_filing_hands_the_diagram_the_priority_and_runs_its_operations_for_the_request(
        demo, priority):
    """The first steps run as the requester's filing: an operation there changes this request,
    and, being part of a person's step, adds no status change of its own to the history."""
    store_version(URGENT_REJECTED)
    req = file_with(priority)
    req = db.session.get(ServiceRequest, req.id)
    assert req.priority == priority
    if priority == "urgent":
        assert req.status == "rejected" and req.closed_at is not None
        assert tasks_of(req.id) == []
        assert instance_row(req).status == "completed"  # ended at filing
    else:
        assert [t.spec_id for t in tasks_of(req.id)] == ["Task_H"]
    assert "status_changed" not in actions(req.id)


def test_a_request_follows_the_process_its_category_names(demo):
    admin = user("admin@acme.test")
    definitions.deploy(admin.tenant_id, WORKER_FIRST, process_key="trabajos", user=admin)
    category = db.session.scalars(select(Category).where(Category.tenant_id == admin.tenant_id)
                                  .order_by(Category.name)).first()
    category.process_key = "trabajos"
    db.session.commit()
    req = file()
    assert [t.spec_id for t in tasks_of(req.id)] == ["Task_W"]
    assert db.session.get(ServiceRequest, req.id).instance.definition.process_key == "trabajos"


def urgent_rejected(status: str = "rejected", then_fail: bool = False) -> str:
    """URGENT_REJECTED with another status for its operation, or a failing gateway after it."""
    xml = URGENT_REJECTED.replace("'rejected'", f"'{status}'")
    if then_fail:
        xml = xml.replace(
            '<bpmn:sequenceFlow id="Flow_2" sourceRef="Service_U" targetRef="End_U" />',
            '<bpmn:sequenceFlow id="Flow_2" sourceRef="Service_U" targetRef="Gateway_X" />'
            '<bpmn:exclusiveGateway id="Gateway_X" name="Falla" default="Flow_X2" />'
            '<bpmn:sequenceFlow id="Flow_X1" sourceRef="Gateway_X" targetRef="End_U">'
            "<bpmn:conditionExpression>1 / 0 &gt; 0</bpmn:conditionExpression>"
            "</bpmn:sequenceFlow>"
            '<bpmn:sequenceFlow id="Flow_X2" sourceRef="Gateway_X" targetRef="End_U" />')
        xml = xml.replace("<bpmn:flowNodeRef>End_U</bpmn:flowNodeRef>",
                          "<bpmn:flowNodeRef>End_U</bpmn:flowNodeRef>"
                          "<bpmn:flowNodeRef>Gateway_X</bpmn:flowNodeRef>")
    return xml


def stopped_at_the_operation() -> ServiceRequest:
    """An urgent request stopped at its first operation (a status the service desk lacks)."""
    store_version(urgent_rejected("nope"))
    req = file_with("urgent")
    req, instance, [incident] = state(req.id)
    assert (instance.status, incident.element_id) == ("incident", "Service_U")
    assert "unknown request status 'nope'" in incident.error
    assert (incident.occurred_during, incident.actor_id) == ("filing", user(REQUESTER).id)
    return req


def test_a_retried_operation_runs_for_the_request_as_the_owners_step(demo):
    req = stopped_at_the_operation()
    fixed = store_version(urgent_rejected())
    admin = user("admin@acme.test")
    workflow.migrate_instance(admin, req, fixed.version)
    db.session.commit()
    _, _, [incident] = state(req.id)
    assert workflow.retry_incident(admin, incident) is True
    db.session.commit()
    req, instance, [incident] = state(req.id)
    assert (req.status, instance.status, incident.resolution) == (
        "rejected", "completed", "retried")
    assert "status_changed" not in actions(req.id)  # the retry's own entry says it


def test_a_retry_that_fails_further_on_opens_an_incident_there(demo):
    req = stopped_at_the_operation()
    further = store_version(urgent_rejected(then_fail=True))
    admin = user("admin@acme.test")
    workflow.migrate_instance(admin, req, further.version)
    db.session.commit()
    _, _, [incident] = state(req.id)
    assert workflow.retry_incident(admin, incident) is False
    db.session.commit()
    req, instance, [first, second] = state(req.id)
    assert (first.status, first.resolution, first.resolved_by_id) == (
        "resolved", "retried", admin.id)
    assert (second.status, second.element_id, second.request_id, second.actor_id) == (
        "open", "Gateway_X", req.id, admin.id)
    assert second.occurred_during == "retry" and "ZeroDivisionError" in second.error
    assert instance.status == "incident"


def test_withdrawing_a_stopped_request_resolves_its_incident_in_the_requesters_name(demo):
    req = stopped_at_the_operation()
    req = db.session.get(ServiceRequest, req.id)
    workflow.cancel_request(user(REQUESTER), req, "Ya no")
    db.session.commit()
    _, _, [incident] = state(req.id)
    assert (incident.resolution, incident.resolved_by_id) == ("cancelled", user(REQUESTER).id)


def test_a_move_the_engine_refuses_says_why(demo):
    req, _ = request_at("Task_Evaluate")
    other = store_version(WORKER_FIRST)  # no director's evaluation in it
    with pytest.raises(workflow.WorkflowError) as refused:
        workflow.migrate_instance(user("admin@acme.test"), req, other.version)
    assert "'Evaluar viabilidad'" in str(refused.value)


def test_an_instance_that_cannot_be_restored_says_which(demo):
    req = file()
    row = instance_row(req)
    row.state = '{"broken": true}'
    db.session.commit()
    with pytest.raises(workflow.WorkflowError) as refused:
        workflow.cancel_request(user(REQUESTER), db.session.get(ServiceRequest, req.id), "x")
    assert f"instance {row.id} cannot be restored" in str(refused.value)


def test_a_step_records_the_statuses_it_moved_the_request_and_the_ticket_between(demo):
    req, task = request_at("Task_Start")
    before = db.session.get(ServiceRequest, req.id)
    request_from, ticket_from = before.status, before.ticket.status
    done = workflow.complete(user("tecnico1@acme.test"), task, "start", {})
    db.session.commit()
    event = db.session.scalars(select(HistoryEvent).where(
        HistoryEvent.request_id == req.id, HistoryEvent.action == "start")).one()
    req = db.session.get(ServiceRequest, req.id)
    assert (done.from_status, done.to_status) == (request_from, req.status)
    assert (event.from_status, event.to_status) == (request_from, req.status)
    assert event.changes["ticket_status"] == [ticket_from, req.ticket.status]
    assert ticket_from != req.ticket.status
    worker = user("tecnico1@acme.test")
    assert (event.actor_id, event.step, event.ticket_id) == (worker.id, task.name, req.ticket.id)
    task = db.session.get(HumanTask, task.id)
    assert (task.status, task.completed_by_id) == ("completed", worker.id)
    assert task.completed_at is not None


def test_a_rejection_runs_the_diagrams_operations_as_the_heads_step_and_is_announced(demo):
    """The operations after a person's step are part of it: the status they set is in that
    step's history entry (no separate "status changed" by nobody), and the step's lifecycle
    event is queued for the tenant's webhooks."""
    head = user(HEAD)
    db.session.add(WebhookEndpoint(tenant_id=head.tenant_id, url="https://hooks.example.com/x",
                                   secret="s" * 32, events=["request.rejected"]))
    db.session.commit()
    req, task = request_at("Task_Authorize")
    workflow.complete(head, task, "authorize", {"decision": "reject", "comment": "No procede"})
    db.session.commit()
    req = db.session.get(ServiceRequest, req.id)
    assert req.status == "rejected"
    assert "status_changed" not in actions(req.id)
    (delivery,) = db.session.scalars(select(OutboxMessage).where(WEBHOOKS)).all()
    assert delivery.event == "request.rejected"
    assert delivery.payload["actor"]["id"] == head.id


def test_a_step_that_names_no_ticket_status_leaves_the_ticket_as_it_is(demo):
    """A company's diagram may leave out a step's ticket_status: the ticket keeps its own."""
    line = '<spiffworkflow:property name="ticket_status" value="pending" />'
    assert default_diagram().count(line) == 1
    store_version(default_diagram().replace(line, ""))
    req, _ = request_at("Task_Start")
    req = db.session.get(ServiceRequest, req.id)
    assert req.ticket.status == "pending"


def test_a_step_the_engine_no_longer_waits_for_is_a_conflict_that_changes_nothing(demo, browser):
    """The task's row says open but the engine has moved past it (a row restored by hand, a
    lost update): the person is told someone was first, as for a done task, never a 500."""
    req, task = request_at("Task_Authorize")
    authorize(req)
    row = db.session.get(HumanTask, task.id)
    row.status, row.completed_at, row.completed_by_id = "open", None, None
    db.session.commit()

    def unchanged():
        now, instance, incidents = state(req.id)
        return actions(req.id), now.status, instance.version, instance.state, len(incidents)

    before = unchanged()
    with pytest.raises(workflow.TaskConflict) as refused:
        workflow.complete(user(HEAD), db.session.get(HumanTask, task.id), "authorize",
                          {"decision": "authorize", "comment": "Otra vez"})
    assert refused.value.reason == "already_completed"
    db.session.rollback()
    assert unchanged() == before
    page = browser(HEAD).post(f"/tasks/{task.id}",
                              {"handler": "authorize", "decision": "authorize", "comment": "Otra"})
    assert page.status_code == 409
    assert "Otra persona ya completó esta tarea" in page.get_data(as_text=True)
    assert unchanged() == before
