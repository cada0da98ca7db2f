"""The generic ``form`` handler: a task whose form is defined in the diagram, completed through
the workflow service like any other task."""

import pytest
from marshmallow import ValidationError
from SpiffWorkflow.util.task import TaskState

from app.engine.forms import HOST_DATA_NAMES, result_variables
from app.engine.xml import load_bpmn_tree
from app.extensions import db
from app.handlers.base import OperationContext
from app.handlers.form import FormHandler, form_of
from app.handlers.registry import handler_for, handlers_for
from app.models import HistoryEvent, HumanTask, ProcessInstance
from app.services import definitions, workflow
from tests.factories import file, open_task, request_at, user
from tests.form_diagrams import VALID, deploy_for_acme, request_state, with_review

HEAD = "jefe.finanzas@acme.test"


@pytest.fixture
def review(demo):
    """Acme runs the diagram with the review form; a new request waits at it."""
    deploy_for_acme(with_review(), "review form")
    req = file()
    return req, open_task(req, "Task_Review")


def ready_data(req) -> dict:
    """The task data the engine holds at the request's waiting task."""
    db.session.rollback()
    row = db.session.query(ProcessInstance).filter_by(request_id=req.id).one()
    instance = workflow.restore_instance(row, OperationContext(req, None))
    (task,) = instance.workflow.get_tasks(state=TaskState.READY, manual=True)
    return dict(task.data)


def test_the_task_row_offers_the_form_kind(review):
    req, task = review
    assert (task.handlers, task.handler_list, task.role) == ("form", ["form"], "unit_head")
    assert task.name == "Revisar"
    (handler,) = handlers_for(task)
    assert isinstance(handler, FormHandler)
    assert handler.title == "Revisar"
    assert handler.form is form_of(task)
    assert [f.name for f in handler.form.fields][:2] == ["reason", "hours"]
    assert list(handler.schema().fields) == [f.name for f in handler.form.fields]


def test_the_form_comes_from_the_instance_version_not_the_active_one(review):
    req, task = review
    # A later version without the review step does not change the running request's form.
    definitions.deploy(req.tenant_id, definitions.default_diagram(), note="back to default")
    db.session.commit()
    assert form_of(task).field("reason").label == "Motivo"


@pytest.mark.parametrize(
    "changes,field",
    [
        ({"reason": None}, "reason"),
        ({"reason": "   "}, "reason"),
        ({"reason": "ab"}, "reason"),
        ({"reason": "x" * 201}, "reason"),
        ({"hours": None}, "hours"),
        ({"hours": "abc"}, "hours"),
        ({"hours": "-1"}, "hours"),
        ({"hours": "40,5"}, "hours"),
        ({"hours": "NaN"}, "hours"),
        ({"when": "2025-12-31"}, "when"),
        ({"when": "2028-01-01"}, "when"),
        ({"when": "mañana"}, "when"),
        ({"job_kind": None}, "job_kind"),
        ({"job_kind": "c"}, "job_kind"),
        ({"ok": "perhaps"}, "ok"),
        ({"notes": "n" * 4001}, "notes"),
    ],
)
def test_invalid_input_gets_a_field_error_and_changes_nothing(review, changes, field):
    req, task = review
    form = {k: v for k, v in {**VALID, **changes}.items() if v is not None}
    before = request_state(req.id)
    with pytest.raises(ValidationError) as info:
        workflow.complete(user(HEAD), task, "form", form)
    db.session.rollback()
    assert list(info.value.messages) == [field], info.value.messages
    assert all(isinstance(m, str) and m for m in info.value.messages[field])
    assert request_state(req.id) == before


def test_messages_are_in_spanish_and_say_the_limits(review, app):
    req, task = review
    form = {"hours": "41", "reason": "ab", "ok": "quizás"}
    with app.test_request_context(), pytest.raises(ValidationError) as info:
        workflow.complete(user(HEAD), task, "form", form)
    db.session.rollback()
    messages = info.value.messages
    assert messages["job_kind"] == ["Este campo es obligatorio."]
    assert messages["ok"] == ["Responda sí o no."]
    assert "3" in messages["reason"][0]
    assert "0" in messages["hours"][0] and "40" in messages["hours"][0]


def test_valid_input_completes_the_task_and_stores_the_values(review):
    req, task = review
    done = workflow.complete(user(HEAD), task, "form", dict(VALID))
    db.session.commit()
    assert done.request.id == req.id
    data = ready_data(req)
    assert {k: data[k] for k in VALID} == {
        "reason": "Revisión del tablero",
        "hours": 10,
        "when": "2026-05-04",
        "job_kind": "b",
        "ok": True,
        "notes": "Llevar escalera",
    }
    # 10 hours > 8: the gateway after the form sends it on to the authorization.
    assert open_task(req, "Task_Authorize").handler_list == ["authorize"]
    closed = db.session.get(HumanTask, task.id)
    assert (closed.status, closed.completed_by_id) == ("completed", user(HEAD).id)
    event = db.session.query(HistoryEvent).filter_by(request_id=req.id, action="form").one()
    assert (event.step, event.actor_id, event.comment) == ("Revisar", user(HEAD).id, None)
    assert event.changes["form"] == [
        {"name": "reason", "label": "Motivo", "type": "text", "value": "Revisión del tablero"},
        {"name": "hours", "label": "Horas", "type": "number", "value": 10},
        {"name": "when", "label": "Fecha", "type": "date", "value": "2026-05-04"},
        {"name": "job_kind", "label": "Tipo", "type": "choice", "value": "b", "text": "Opción B"},
        {"name": "ok", "label": "¿Conforme?", "type": "boolean", "value": True},
        {
            "name": "notes",
            "label": "Notas <b>internas</b>",
            "type": "longtext",
            "value": "Llevar escalera",
        },
    ]


def test_a_small_job_skips_the_authorization(review):
    req, task = review
    form = {"reason": "Cambio menor", "hours": "2,5", "job_kind": "a", "ok": "false"}
    workflow.complete(user(HEAD), task, "form", form)
    db.session.commit()
    data = ready_data(req)
    assert (data["hours"], data["ok"]) == (2.5, False)
    # Unanswered optional fields are set to None, so a condition naming them never fails.
    assert data["when"] is None and data["notes"] is None
    assert open_task(req, "Task_Evaluate")
    assert db.session.get(type(req), req.id).status == "pending_evaluation"
    event = db.session.query(HistoryEvent).filter_by(request_id=req.id, action="form").one()
    assert [a["name"] for a in event.changes["form"]] == ["reason", "hours", "job_kind", "ok"]
    assert event.to_status == "pending_evaluation"


def test_only_the_tasks_kinds_are_accepted(review):
    req, task = review
    with pytest.raises(workflow.NotAllowed):
        workflow.complete(user(HEAD), task, "authorize", {"decision": "authorize"})
    db.session.rollback()
    with pytest.raises(KeyError):
        handler_for(task, "nonsense")


def test_a_form_task_of_a_missing_form_fails_cleanly(review):
    req, task = review
    task.spec_id = "Task_Nowhere"  # a row that disagrees with its diagram
    db.session.flush()
    with pytest.raises(workflow.WorkflowError):
        workflow.complete(user(HEAD), task, "form", dict(VALID))
    db.session.rollback()


def test_another_tenant_keeps_its_own_diagram(review):
    req = file(requester="pedro@globex.test")
    assert open_task(req, "Task_Authorize").handler_list == ["authorize"]
    assert (
        db.session.query(HumanTask)
        .filter_by(tenant_id=req.tenant_id, spec_id="Task_Review")
        .count()
        == 0
    )


def test_every_name_the_host_puts_in_task_data_is_reserved(demo):
    """Walk the default lifecycle through the services and look at every task's data."""
    req, task = request_at("Task_Confirm")
    workflow.complete(user("ana@acme.test"), task, "confirm", {"rating": "5"})
    db.session.commit()
    row = db.session.query(ProcessInstance).filter_by(request_id=req.id).one()
    instance = workflow.restore_instance(row, OperationContext(req, None))
    names = set()
    for t in instance.workflow.get_tasks():
        names |= set(t.data)
    diagram = result_variables(load_bpmn_tree(definitions.default_diagram()))
    assert names - diagram <= HOST_DATA_NAMES, names - diagram - HOST_DATA_NAMES
    assert "decision" in names and "rating" in names  # the walk did reach the handlers
