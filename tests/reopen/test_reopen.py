""""Not solved" at the confirmation: the work goes back to the worker, through the engine,
with the instance saved and restored from the database between every step."""

import pytest
from marshmallow import ValidationError
from sqlalchemy import select

from app.engine import validation
from app.engine.xml import DiagramError
from app.extensions import db
from app.handlers.registry import TASK_HANDLERS
from app.models import HistoryEvent, HumanTask, ProcessDefinition, ServiceRequest
from app.services import definitions, trail, workflow
from tests.factories import open_task, request_at, user
from tests.reopen.helpers import diagram_before_reopen, notices_of

REQUESTER, WORKER = "ana@acme.test", "tecnico1@acme.test"
FINISH = {"resolution": "Cambiado otra vez", "hours_spent": "2", "materials_cost": "5000"}


def reload(req) -> ServiceRequest:
    db.session.expire_all()
    return db.session.get(ServiceRequest, req.id)


def step(req, spec_id, email, kind, form):
    """One person's step, committed: the next one restores the instance from its row."""
    result = workflow.complete(user(email), open_task(reload(req), spec_id), kind, form)
    db.session.commit()
    return result


def reopen(req, reason="La lámpara sigue parpadeando"):
    return step(req, "Task_Confirm", REQUESTER, "reopen", {"reason": reason})


def test_not_solved_sends_the_ticket_back_then_it_is_confirmed(demo):
    req, task = request_at("Task_Confirm")
    assert task.handler_list == ["confirm", "reopen"]
    first_finish = reload(req).finished_at
    result = reopen(req)
    req = reload(req)
    assert (req.status, req.ticket.status) == ("in_service", "in_progress")
    assert result.to_status == "in_service"
    (work,) = result.open_tasks
    assert (work.spec_id, work.assigned_user_id) == ("Task_Work", user(WORKER).id)
    entry = db.session.scalars(select(HistoryEvent).where(
        HistoryEvent.request_id == req.id, HistoryEvent.action == "reopen")).one()
    assert entry.comment == "La lámpara sigue parpadeando"
    assert entry.changes["ticket_status"] == ["finished", "in_progress"]
    assert (entry.from_status, entry.to_status) == ("completed", "in_service")
    assert notices_of(req, "ticket.reopened") == [WORKER]
    # the indicators count it; nothing is confirmed yet
    assert (req.reopens, req.confirmed_at, req.rating) == (1, None, None)
    assert req.ticket.actual_end is None and req.closed_at is None

    step(req, "Task_Work", WORKER, "finish", FINISH)
    assert reload(req).finished_at >= first_finish
    step(req, "Task_Confirm", REQUESTER, "confirm", {"rating": "4"})
    req = reload(req)
    assert (req.status, req.ticket.status, req.rating) == ("completed", "closed", 4)
    assert req.reopens == 1 and req.confirmed_at is not None
    assert req.confirmed_at >= req.finished_at
    assert req.ticket.resolution == "Cambiado otra vez"
    found = trail.trail_of(req)
    assert "Flow_NotSolved" in found.flows and found.current == []
    assert found.completed[-4:] == ["Task_Confirm", "Gateway_Solved", "Service_Close",
                                    "End_Completed"]
    assert len(found.steps["Task_Confirm"]) == 2


def test_reopened_twice_counts_twice_and_the_timer_waits_again(demo):
    req, _ = request_at("Task_Confirm")
    for time in range(2):
        reopen(req, f"Vez {time + 1}")
        step(req, "Task_Work", WORKER, "finish", FINISH)
    req = reload(req)
    assert (req.reopens, req.status, req.ticket.status) == (2, "completed", "finished")
    assert req.instance.next_timer_at is not None  # the automatic close is armed again
    step(req, "Task_Confirm", REQUESTER, "confirm", {"rating": "5"})
    assert reload(req).reopens == 2
    assert [e.comment for e in db.session.scalars(select(HistoryEvent).where(
        HistoryEvent.request_id == req.id, HistoryEvent.action == "reopen")
        .order_by(HistoryEvent.id))] == ["Vez 1", "Vez 2"]


def test_a_reason_is_required_and_a_rating_is_not(app, demo):
    with app.test_request_context():
        with pytest.raises(ValidationError) as refused:
            TASK_HANDLERS["reopen"].schema().load({"rating": "5"})
        assert set(refused.value.messages) == {"reason"}
        assert TASK_HANDLERS["reopen"].schema().load({"reason": " No "}) == {"reason": "No"}
    req, task = request_at("Task_Confirm")
    with pytest.raises(ValidationError):
        workflow.complete(user(REQUESTER), task, "reopen", {"reason": "  "})
    db.session.rollback()
    assert reload(req).ticket.status == "finished"


def _use(tenant_id: int, xml: str) -> ProcessDefinition:
    """Make ``xml`` the company's active version, as a deploy long ago left it (no check of
    today's rules: versions already deployed are compiled without them)."""
    db.session.query(ProcessDefinition).filter_by(tenant_id=tenant_id).update(
        {"is_active": False})
    last = max(d.version for d in db.session.query(ProcessDefinition).filter_by(
        tenant_id=tenant_id))
    definition = ProcessDefinition(
        tenant_id=tenant_id, process_key="service_request", version=last + 1,
        bpmn_process_id="service_request", bpmn_xml=xml,
        checksum=definitions.checksum_of(xml), is_active=True)
    db.session.add(definition)
    db.session.commit()
    return definition


def test_a_version_without_the_gateway_never_offers_not_solved(demo, browser):
    _use(user(REQUESTER).tenant_id, diagram_before_reopen())
    req, task = request_at("Task_Confirm")
    assert task.handler_list == ["confirm"]
    page = browser(REQUESTER).get(f"/tasks/{task.id}").get_data(as_text=True)
    assert 'value="confirm"' in page and 'value="reopen"' not in page
    with pytest.raises(workflow.NotAllowed):
        workflow.complete(user(REQUESTER), task, "reopen", {"reason": "No sirve"})
    db.session.rollback()
    step(req, "Task_Confirm", REQUESTER, "confirm", {"rating": "3"})
    assert reload(req).status == "completed"


def test_a_version_offering_it_without_routing_it_refuses_it_instead_of_closing(demo):
    _use(user(REQUESTER).tenant_id, diagram_before_reopen(keep_reopen_handler=True))
    req, task = request_at("Task_Confirm")
    assert task.handler_list == ["confirm", "reopen"]
    with pytest.raises(ValidationError) as refused:
        workflow.complete(user(REQUESTER), task, "reopen", {"reason": "No sirve"})
    assert "_schema" in refused.value.messages
    db.session.rollback()
    req = reload(req)
    assert (req.status, req.ticket.status) == ("completed", "finished")
    assert db.session.get(HumanTask, task.id).status == "open"


def test_deploy_refuses_not_solved_without_a_gateway_that_reads_it(app):
    with app.app_context():
        with pytest.raises(DiagramError) as refused:
            definitions.compile_xml(diagram_before_reopen(keep_reopen_handler=True))
        assert any("reopen" in message and "solved" in message
                   for _, message in refused.value.problems)
        assert definitions.compile_xml(diagram_before_reopen()) is not None
        assert "solved" in validation.ROUTED_HANDLERS.values()
