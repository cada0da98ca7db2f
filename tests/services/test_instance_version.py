"""The instance's optimistic version check, on its own: a save whose expected version is no
longer the row's is refused with TaskConflict and writes nothing, so a step taken on an old
state can never overwrite a newer one. The row lock normally keeps two steps apart; these tests
take it out of the way so that the version check is what they see."""

import pytest
from sqlalchemy import update

from app.extensions import db
from app.handlers.base import OperationContext
from app.models import ProcessInstance
from app.services import workflow
from app.sqlite import writing
from tests.factories import request_at, user
from tests.form_diagrams import request_state

DIRECTOR = "director@acme.test"
APPROVE = {"decision": "approve", "estimated_cost": "100",
    "estimated_hours": "8", "staff_available": "true"}


def instance_row(req_id: int) -> ProcessInstance:
    return db.session.query(ProcessInstance).filter_by(request_id=req_id).one()


def test_a_step_taken_on_an_old_state_cannot_overwrite_a_newer_one(demo, browser):
    req, task = request_at("Task_Evaluate")
    row = instance_row(req.id)
    old_version = row.version
    old_state = workflow.restore_instance(row, OperationContext(req, user(DIRECTOR)))
    db.session.rollback()

    # Meanwhile the director evaluates it in another session, which commits.
    done = browser(DIRECTOR).post(f"/tasks/{task.id}", {"handler": "evaluate", **APPROVE})
    assert done.status_code == 302
    after = request_state(req.id)
    assert after[0] == old_version + 1
    assert ("Task_Assign", "open") in after[3]

    with writing(), pytest.raises(workflow.TaskConflict) as conflict:
        workflow._save(instance_row(req.id), old_state, old_version)
    assert conflict.value.reason == "already_completed"
    db.session.rollback()
    assert request_state(req.id) == after  # still evaluated: version and state untouched


def test_a_completion_whose_instance_moved_after_the_read_is_refused(demo, monkeypatch):
    """As if the lock had not been taken: another step commits between the instance's read and
    the save (bumped here behind the ORM's back, in the same transaction)."""
    req, task = request_at("Task_Evaluate")
    before = request_state(req.id)
    lock = workflow._lock_instance

    def read_then_lose_the_race(task_row):
        row = lock(task_row)
        db.session.execute(update(ProcessInstance).where(ProcessInstance.id == row.id)
                           .values(version=ProcessInstance.version + 1)
                           .execution_options(synchronize_session=False))
        return row

    monkeypatch.setattr(workflow, "_lock_instance", read_then_lose_the_race)
    with writing(), pytest.raises(workflow.TaskConflict) as conflict:
        workflow.complete(user(DIRECTOR), task, "evaluate", APPROVE)
    assert conflict.value.reason == "already_completed"
    # The refused save changed nothing: the row holds the bump and the state it had.
    stored = db.session.execute(
        ProcessInstance.__table__.select().where(ProcessInstance.id == instance_row(req.id).id)
    ).one()
    assert (stored.version, stored.state) == (before[0] + 1, before[1])
    db.session.rollback()
    assert request_state(req.id) == before


def test_a_save_with_the_current_version_goes_through(demo):
    req, task = request_at("Task_Evaluate")
    row = instance_row(req.id)
    version = row.version
    instance = workflow.restore_instance(row, OperationContext(req, user(DIRECTOR)))
    with writing():
        workflow._save(row, instance, version)
        db.session.commit()
    assert instance_row(req.id).version == version + 1
