"""Every bad form gets a clear field error, and nothing changes."""

from datetime import date, timedelta

import pytest
from marshmallow import ValidationError

from app.extensions import db
from app.models import HistoryEvent
from app.services import workflow
from tests.factories import assignment_form, request_at, user
from tests.form_diagrams import request_state


def expect_error(step, actor, handler, form, field):
    req, task = request_at(step)
    before = request_state(req.id)
    with pytest.raises(ValidationError) as info:
        workflow.complete(user(actor), task, handler, form)
    db.session.rollback()
    assert field in info.value.messages, info.value.messages
    assert all(info.value.messages[field]), "each error has a message"
    assert request_state(req.id) == before


HEAD, DIRECTOR, WORKER, REQUESTER = (
    "jefe.finanzas@acme.test", "director@acme.test", "tecnico1@acme.test", "ana@acme.test")


@pytest.mark.parametrize("form,field", [
    ({}, "decision"),
    ({"decision": "maybe"}, "decision"),
    ({"decision": "reject"}, "comment"),
    ({"decision": "reject", "comment": "   "}, "comment"),
])
def test_authorize(demo, form, field):
    expect_error("Task_Authorize", HEAD, "authorize", form, field)


@pytest.mark.parametrize("form,field", [
    ({}, "decision"),
    ({"decision": "approve", "estimated_hours": "8"}, "estimated_cost"),
    ({"decision": "approve", "estimated_cost": "abc", "estimated_hours": "8"}, "estimated_cost"),
    ({"decision": "approve", "estimated_cost": "-5", "estimated_hours": "8"}, "estimated_cost"),
    ({"decision": "approve", "estimated_cost": "10"}, "estimated_hours"),
    ({"decision": "approve", "estimated_cost": "10", "estimated_hours": "-1"}, "estimated_hours"),
    ({"decision": "approve", "estimated_cost": "10", "estimated_hours": "10001"},
     "estimated_hours"),
    ({"decision": "approve", "estimated_cost": "10", "estimated_hours": "8",
      "staff_available": "perhaps"},
     "staff_available"),
    ({"decision": "reject"}, "comment"),
    ({"decision": "return"}, "comment"),
])
def test_evaluate(demo, form, field):
    expect_error("Task_Evaluate", DIRECTOR, "evaluate", form, field)


def days_from_today(days: int) -> str:
    return (date.today() + timedelta(days=days)).isoformat()


def _assign(**changes):
    form = assignment_form()
    form.update(changes)
    return {k: v for k, v in form.items() if v is not None}


@pytest.mark.parametrize("changes,field", [
    ({"worker_id": None}, "worker_id"),
    ({"worker_id": "abc"}, "worker_id"),
    ({"planned_start": None}, "planned_start"),
    ({"planned_end": "tomorrow"}, "planned_end"),
    # Both in the future, so only the end-before-start rule can refuse it, whatever today is.
    ({"planned_start": days_from_today(10), "planned_end": days_from_today(9)}, "planned_end"),
])
def test_assign_form(demo, changes, field):
    expect_error("Task_Assign", DIRECTOR, "assign", _assign(**changes), field)


@pytest.mark.parametrize("who,field", [
    ("tecnico@globex.test", "worker_id"),      # a worker of another tenant
    ("ana@acme.test", "worker_id"),            # same tenant, not a worker of the unit
    ("jefe.produccion@acme.test", "worker_id"),
])
def test_assign_worker_outside_the_service_unit(demo, who, field):
    expect_error("Task_Assign", DIRECTOR, "assign", _assign(worker_id=str(user(who).id)), field)


def test_assign_helpers_must_be_workers_of_the_unit(demo):
    other = str(user("tecnico@globex.test").id)
    expect_error("Task_Assign", DIRECTOR, "assign", _assign(helper_ids=[other]), "helper_ids")
    same = str(user("tecnico1@acme.test").id)
    expect_error("Task_Assign", DIRECTOR, "assign", _assign(helper_ids=[same]), "helper_ids")


def test_hold_needs_a_reason(demo):
    expect_error("Task_Work", WORKER, "hold", {}, "reason")


@pytest.mark.parametrize("form,field", [
    ({"hours_spent": "1", "materials_cost": "0"}, "resolution"),
    ({"resolution": "ok", "hours_spent": "abc", "materials_cost": "0"}, "hours_spent"),
    ({"resolution": "ok", "hours_spent": "1", "materials_cost": "-1"}, "materials_cost"),
    ({"resolution": "ok", "hours_spent": "1"}, "materials_cost"),
])
def test_finish(demo, form, field):
    expect_error("Task_Work", WORKER, "finish", form, field)


@pytest.mark.parametrize("rating", [None, "0", "6", "five"])
def test_confirm_rating(demo, rating):
    form = {"comment": "ok"} if rating is None else {"rating": rating}
    expect_error("Task_Confirm", REQUESTER, "confirm", form, "rating")


def test_bad_form_through_the_page_answers_422_and_shows_the_error(demo, browser):
    req, task = request_at("Task_Authorize")
    before = request_state(req.id)
    head = browser(HEAD)
    response = head.post(f"/tasks/{task.id}", {"handler": "authorize", "decision": "reject"})
    assert response.status_code == 422
    assert 'class="field-error"' in response.get_data(as_text=True)
    assert request_state(req.id) == before


def test_a_handler_the_task_does_not_offer_is_refused(demo):
    req, task = request_at("Task_Authorize")
    before = request_state(req.id)
    with pytest.raises(workflow.NotAllowed):
        workflow.complete(user(HEAD), task, "finish",
                          {"resolution": "x", "hours_spent": "1", "materials_cost": "1"})
    db.session.rollback()
    assert request_state(req.id) == before


def test_every_message_is_a_list_of_strings(demo, app):
    req, task = request_at("Task_Work")
    with app.test_request_context(headers={"Accept-Language": "es"}):
        with pytest.raises(ValidationError) as info:
            workflow.complete(user(WORKER), task, "finish", {"hours_spent": "x"})
    db.session.rollback()
    messages = info.value.messages
    assert set(messages) == {"resolution", "hours_spent", "materials_cost"}
    for field, errors in messages.items():
        assert isinstance(errors, list) and all(isinstance(e, str) and len(e) > 3
                                                for e in errors), (field, errors)


@pytest.mark.parametrize("typed,stored", [
    ("150,50", "150.50"), ("150.50", "150.50"), ("1.500.000", "1500000.00"),
    ("1.500,50", "1500.50"), ("1,500.50", "1500.50"), ("$ 2 000", "2000.00"),
    ("35.000", "35000.00"), ("120.000", "120000.00"), ("2,5", "2.50"), ("1.5", "1.50"),
    ("1.5000", "1.50"), ("0.250", "0.25"),
])
def test_amounts_as_people_type_them(demo, typed, stored):
    req, task = request_at("Task_Evaluate")
    workflow.complete(user(DIRECTOR), task, "evaluate",
                      {"decision": "approve", "estimated_cost": typed, "estimated_hours": "8",
                       "staff_available": "true"})
    db.session.commit()
    assert str(req.estimated_cost) == stored


@pytest.mark.parametrize("language,typed,stored", [
    ("es", "35.000", "35000.00"), ("es", "1,500", "1.50"), ("en", "35,000", "35000.00"),
    ("en", "35.000", "35.00"), ("en", "2,5", "2.50"), ("es", "-1.000", "-1000.00"),
])
def test_a_lone_mark_before_three_digits_is_read_as_the_page_language_writes_it(
        app, language, typed, stored):
    from decimal import Decimal

    from app.handlers.base import Amount

    with app.test_request_context("/", headers={"Accept-Language": language}):
        from flask import session
        from flask_babel import refresh

        session["locale"] = language
        refresh()  # the language is remembered by the app context, shared with other tests
        assert Amount().deserialize(typed) == Decimal(stored)
        session.pop("locale")
        refresh()


def test_a_plan_that_already_ended_is_refused(demo):
    expect_error("Task_Assign", DIRECTOR, "assign",
                 _assign(planned_start="2020-01-01", planned_end="2020-01-02"), "planned_end")


def test_cost_typed_when_returning_is_not_recorded(demo):
    req, task = request_at("Task_Evaluate")
    workflow.complete(user(DIRECTOR), task, "evaluate", {
        "decision": "return", "comment": "¿Qué piso?", "estimated_cost": "10",
        "estimated_hours": "8", "staff_available": "true"})
    db.session.commit()
    event = db.session.query(HistoryEvent).filter_by(request_id=req.id,
                                                     action="evaluate").one()
    assert event.changes == {"decision": "return"}
    assert req.estimated_cost is None


@pytest.mark.parametrize("typed", [
    "1,5,5", "1e9", "1E3", "NaN", "Infinity", "1.2.3", "12.34.5", "1_000", "1,500.5.0",
    "1.5,2,3", "1.50.000", "12,3456,789", "0x10", "١٢٣",
])
def test_amounts_that_could_be_misread_are_refused_not_guessed(app, typed):
    """A mistyped figure gets an error on its field; the form never stores a guess."""
    from app.handlers.base import Amount

    with app.test_request_context("/"), pytest.raises(ValidationError) as refused:
        Amount().deserialize(typed)
    text = str(refused.value.messages)
    assert "número" in text or "number" in text, (typed, text)
