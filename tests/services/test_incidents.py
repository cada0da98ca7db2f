"""A diagram that fails at run time never fails the person who acts: their action is saved up to
the failing step, the request shows it is stopped, the process owner sees an incident and can
retry it after deploying a fix and moving the request (both databases)."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from app.extensions import db
from app.handlers import registry
from app.models import HumanTask, ProcessIncident
from app.services import background, workflow
from app.services.definitions import default_diagram
from app.sqlite import writing
from tests.factories import assignment_form, file, open_task, user
from tests.incidents import (
    actions,
    authorize,
    deploy_fix,
    failing_after_authorize,
    failing_at_filing,
    state,
    store_version,
)


def test_a_failing_condition_after_a_persons_step_keeps_the_step(demo):
    failing_after_authorize()
    req = file()
    done = authorize(req)
    assert done.stopped
    req, instance, incidents = state(req.id)
    assert instance.status == "incident"
    task = db.session.scalar(select(HumanTask).where(HumanTask.request_id == req.id,
                                                     HumanTask.spec_id == "Task_Authorize"))
    assert task.status == "completed" and task.completed_by_id == user(
        "jefe.finanzas@acme.test").id
    assert actions(req.id)[-2:] == ["authorize", "process_stopped"]
    [incident] = incidents
    assert (incident.element_id, incident.status, incident.occurred_during) == (
        "Gateway_Authorized", "open", "step")
    assert "ZeroDivisionError" in incident.error
    assert incident.actor_id == user("jefe.finanzas@acme.test").id


def test_filing_is_saved_when_the_first_gateway_fails(demo):
    failing_at_filing()
    req = file()
    req, instance, [incident] = state(req.id)
    assert instance.status == "incident"
    assert (incident.element_id, incident.occurred_during) == (
        "Gateway_NeedsAuthorization", "filing")
    assert actions(req.id) == ["filed", "process_stopped"]


def test_retry_without_a_fix_fails_again_and_keeps_the_incident(demo):
    failing_after_authorize()
    req = file()
    authorize(req)
    _, _, [incident] = state(req.id)
    assert workflow.retry_incident(user("admin@acme.test"), incident) is False
    db.session.commit()
    _, instance, [incident] = state(req.id)
    assert (incident.status, incident.attempts, incident.occurred_during) == (
        "open", 2, "retry")
    assert instance.status == "incident"


def test_deploy_a_fix_move_and_retry_goes_on(demo):
    failing_after_authorize()
    req = file()
    authorize(req)
    deploy_fix()
    req, instance, [incident] = state(req.id)
    assert instance.definition.note == "fix"  # moved, still stopped
    assert instance.status == "incident"
    assert workflow.retry_incident(user("admin@acme.test"), incident) is True
    db.session.commit()
    req, instance, [incident] = state(req.id)
    assert (incident.status, incident.resolution) == ("resolved", "retried")
    assert instance.status == "running"
    assert open_task(req, "Task_Evaluate")  # the request goes on to the director
    assert req.status == "pending_evaluation"
    assert actions(req.id)[-2:] == ["migrated", "process_retried"]


def test_a_timer_value_out_of_bounds_is_an_incident_that_ends_when_the_step_is_done(demo):
    tenant = user("ana@acme.test").tenant
    tenant.settings = {"authorization_reminder_after": "P999999999Y"}
    db.session.commit()
    req = file()
    req, instance, [incident] = state(req.id)
    assert incident.element_id == "Timer_AuthorizationReminder"
    assert "longer than 10 years" in incident.error
    assert instance.status == "incident" and instance.next_timer_at is None
    # The head can still authorize: the reminder no longer applies, so the incident ends.
    done = authorize(req)
    assert not done.stopped
    req, instance, [incident] = state(req.id)
    assert (incident.status, incident.resolution) == ("resolved", "gone")
    assert instance.status == "running"


@pytest.mark.parametrize("cycle", ["R/PT0S", "R5/PT0S", "R/PT1S"])
def test_a_zero_length_cycle_read_at_run_time_is_an_incident(demo, cycle):
    xml = default_diagram().replace(
        '<bpmn:timeDuration xsi:type="bpmn:tFormalExpression">authorization_reminder_after'
        "</bpmn:timeDuration>",
        '<bpmn:timeCycle xsi:type="bpmn:tFormalExpression">authorization_reminder_after'
        "</bpmn:timeCycle>", 1)
    store_version(xml)
    tenant = user("ana@acme.test").tenant
    tenant.settings = {"authorization_reminder_after": cycle}
    db.session.commit()
    req = file()
    _, instance, [incident] = state(req.id)
    assert incident.element_id == "Timer_AuthorizationReminder"
    assert "cycle" in incident.error
    assert instance.status == "incident"


def test_a_timer_whose_next_step_fails_becomes_an_incident_not_a_retry_loop(demo, app):
    """The reminder's service task reads a parameter that fails when the timer fires."""
    store_version(default_diagram().replace(
        'value="\'Task_Authorize\'"', 'value="\'Task_\' + str(1 / 0)"', 1))
    req = file()
    with time_machine.travel(datetime.now(UTC) + timedelta(days=3), tick=True):
        assert background.run_due_timers() >= 1
        background.run_due_timers()  # stopped: not tried again at every pass
    req, instance, [incident] = state(req.id)
    assert incident.attempts == 1
    assert (incident.element_id, incident.occurred_during) == ("Service_SendReminder", "timer")
    assert instance.status == "incident"
    assert open_task(req, "Task_Authorize")  # the head can still act


def test_withdrawing_a_stopped_request_ends_its_incident(demo):
    failing_at_filing()
    req = file()
    workflow.cancel_request(user("ana@acme.test"), req, "Ya no hace falta")
    db.session.commit()
    req, instance, [incident] = state(req.id)
    assert req.status == "cancelled"
    assert (incident.status, incident.resolution) == ("resolved", "cancelled")


def test_two_retries_at_once_run_the_step_once(demo, app):
    failing_after_authorize()
    req = file()
    authorize(req)
    deploy_fix()
    _, _, [incident] = state(req.id)
    incident_id = incident.id
    results, barrier = [], threading.Barrier(2)

    def retry():
        with app.app_context(), writing():  # as a form post: SQLite's BEGIN IMMEDIATE
            barrier.wait()
            try:
                found = db.session.get(ProcessIncident, incident_id)
                results.append(workflow.retry_incident(user("admin@acme.test"), found))
                db.session.commit()
            except workflow.TaskConflict:
                db.session.rollback()
                results.append("conflict")
            except Exception as exc:
                db.session.rollback()
                results.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=retry) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(map(str, results)) == ["True", "conflict"]
    req, _, _ = state(req.id)
    assert len([a for a in actions(req.id) if a == "process_retried"]) == 1
    assert db.session.query(HumanTask).filter_by(request_id=req.id, spec_id="Task_Evaluate",
                                                 status="open").count() == 1


def test_only_the_tenants_process_owners_may_retry(demo):
    failing_after_authorize()
    req = file()
    authorize(req)
    _, _, [incident] = state(req.id)
    for email in ("director@acme.test", "jefe.finanzas@acme.test", "ana@acme.test"):
        with pytest.raises(workflow.NotAllowed):
            workflow.retry_incident(user(email), incident)
        db.session.rollback()
    _, instance, [incident] = state(req.id)
    assert incident.attempts == 1 and instance.status == "incident"


@pytest.mark.parametrize("error", [
    RuntimeError("mail relay down"),
    OperationalError("INSERT ...", {}, Exception("server closed the connection")),
])
def test_an_operation_failing_for_the_hosts_own_reasons_is_not_an_incident(demo, monkeypatch,
                                                                            error):
    """Not the diagram's doing: the step is rolled back whole (a database that went away
    answers 503 to the person), nothing is recorded as an incident."""
    req = file()
    authorize(req)
    director = user("director@acme.test")
    workflow.complete(director, open_task(req, "Task_Evaluate"), "evaluate",
                      {"decision": "approve", "estimated_cost": "100",
                       "estimated_hours": "8", "staff_available": "true"})
    db.session.commit()

    def failing(ctx, params, data):
        raise error

    monkeypatch.setitem(registry.OPERATIONS, "create_ticket", failing)
    task = open_task(req, "Task_Assign")
    with pytest.raises(type(error)):
        workflow.complete(director, task, "assign", assignment_form())
    db.session.rollback()
    req, instance, incidents = state(req.id)
    assert incidents == [] and instance.status == "running"
    assert open_task(req, "Task_Assign").id == task.id and req.ticket is None

