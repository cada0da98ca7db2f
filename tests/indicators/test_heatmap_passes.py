"""Element passes are recorded by the engine steps themselves: walked through the real workflow,
each step leaves exactly the passes it opened and closed (hand-listed here)."""

from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import select

from app.extensions import db
from app.models import ElementPass, HumanTask, ServiceRequest
from app.services import workflow
from app.services.background import run_due_timers
from tests.factories import file, open_task, request_at, user

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
H = timedelta(hours=1)
HEAD, DIRECTOR, WORKER = "jefe.finanzas@acme.test", "director@acme.test", "tecnico1@acme.test"


def passes(req) -> list[tuple]:
    """(element, came from, state, entered, left) of every pass of ``req``, as recorded."""
    db.session.rollback()
    rows = db.session.scalars(select(ElementPass).where(ElementPass.request_id == req.id)
                              .order_by(ElementPass.id))
    return [(p.element_id, p.came_from, p.state, p.entered_at, p.left_at) for p in rows]


def complete(req, spec_id, email, handler, form):
    workflow.complete(user(email), open_task(req, spec_id), handler, form)
    db.session.commit()


def test_filing_records_the_start_the_gateway_and_the_waiting_authorization(app, demo):
    with time_machine.travel(T0, tick=False):
        req = file()
    assert passes(req) == [
        ("Start_Filed", None, "completed", T0, T0),
        ("Gateway_NeedsAuthorization", "Start_Filed", "completed", T0, T0),
        ("Task_Authorize", "Gateway_NeedsAuthorization", "waiting", T0, None),
    ]


def test_each_step_closes_what_it_completed_and_opens_what_waits_next(app, demo):
    with time_machine.travel(T0, tick=False) as clock:
        req = file()
        clock.move_to(T0 + 3 * H)
        complete(req, "Task_Authorize", HEAD, "authorize", {"decision": "authorize"})
        clock.move_to(T0 + 5 * H)
        complete(req, "Task_Evaluate", DIRECTOR, "evaluate",
                 {"decision": "approve", "estimated_cost": "100", "estimated_hours": "8",
                  "justification": "Aprobada en una prueba"})
    t3, t5 = T0 + 3 * H, T0 + 5 * H
    assert passes(req) == [
        ("Start_Filed", None, "completed", T0, T0),
        ("Gateway_NeedsAuthorization", "Start_Filed", "completed", T0, T0),
        # the waiting row written at filing, closed by the authorization (same row)
        ("Task_Authorize", "Gateway_NeedsAuthorization", "completed", T0, t3),
        ("Gateway_Authorized", "Task_Authorize", "completed", t3, t3),
        ("Gateway_MergeEvaluate", "Gateway_Authorized", "completed", t3, t3),
        ("Task_Evaluate", "Gateway_MergeEvaluate", "completed", t3, t5),
        ("Gateway_Viability", "Task_Evaluate", "completed", t5, t5),
        ("Gateway_OverBudget", "Gateway_Viability", "completed", t5, t5),
        ("Task_Assign", "Gateway_OverBudget", "waiting", t5, None),
    ]
    # The reminder never fired: no pass at its timer
    db.session.rollback()
    task_ids = set(db.session.scalars(select(HumanTask.task_uuid).where(
        HumanTask.request_id == req.id)))
    user_task_passes = set(db.session.scalars(select(ElementPass.task_uuid).where(
        ElementPass.request_id == req.id, ElementPass.element_id.like("Task_%"))))
    assert user_task_passes == task_ids  # the same engine tasks as the inbox rows


def test_a_loop_records_one_pass_per_turn(app, demo):
    with time_machine.travel(T0, tick=False) as clock:
        req, _ = request_at("Task_Work")          # started at T0, working
        clock.move_to(T0 + 1 * H)
        complete(req, "Task_Work", WORKER, "hold", {"reason": "Falta material"})
        clock.move_to(T0 + 2 * H)
        complete(req, "Task_OnHold", WORKER, "resume", {})
        clock.move_to(T0 + 4 * H)
        complete(req, "Task_Work", WORKER, "hold", {"reason": "Otra vez"})
    work = [p for p in passes(req) if p[0] in ("Task_Work", "Task_OnHold")]
    assert work == [
        ("Task_Work", "Gateway_MergeWork", "completed", T0, T0 + 1 * H),
        ("Task_OnHold", "Gateway_WorkOutcome", "completed", T0 + 1 * H, T0 + 2 * H),
        ("Task_Work", "Gateway_MergeWork", "completed", T0 + 2 * H, T0 + 4 * H),
        ("Task_OnHold", "Gateway_WorkOutcome", "waiting", T0 + 4 * H, None),
    ]
    outcomes = [p for p in passes(req) if p[0] == "Gateway_WorkOutcome"]
    assert len(outcomes) == 2 and all(p[2] == "completed" for p in outcomes)


def test_a_timer_pass_lasts_from_its_start_to_when_it_fired(app, demo):
    with time_machine.travel(T0, tick=False) as clock:
        req = file()
        clock.move_to(T0 + 49 * H)
        assert run_due_timers() == 1
    fired = T0 + 49 * H
    assert passes(req)[3:] == [
        ("Timer_AuthorizationReminder", "Gateway_NeedsAuthorization", "completed", T0, fired),
        ("Service_SendReminder", "Timer_AuthorizationReminder", "completed", fired, fired),
        ("End_ReminderSent", "Service_SendReminder", "completed", fired, fired),
    ]
    assert passes(req)[2] == ("Task_Authorize", "Gateway_NeedsAuthorization", "waiting", T0,
                              None)


def test_an_interrupting_timer_cuts_the_confirmation_short(app, demo):
    with time_machine.travel(T0, tick=False) as clock:
        req, _ = request_at("Task_Confirm")
        clock.move_to(T0 + timedelta(days=7, minutes=5))
        assert run_due_timers() == 1
    closed = T0 + timedelta(days=7, minutes=5)
    found = {p[0]: p for p in passes(req)}
    assert found["Task_Confirm"] == ("Task_Confirm", "Gateway_WorkOutcome", "cancelled", T0,
                                     closed)
    assert found["Timer_AutoClose"][2:] == ("completed", T0, closed)
    assert found["End_AutoClosed"][1:3] == ("Service_AutoClose", "completed")


def test_a_withdrawal_cuts_the_waiting_step_short(app, demo):
    with time_machine.travel(T0, tick=False) as clock:
        req = file()
        clock.move_to(T0 + 2 * H)
        workflow.cancel_request(user("ana@acme.test"), db.session.get(ServiceRequest, req.id),
                                "Ya no hace falta")
        db.session.commit()
    assert passes(req)[-1] == ("Task_Authorize", "Gateway_NeedsAuthorization", "cancelled",
                               T0, T0 + 2 * H)
    assert len(passes(req)) == 3


def test_a_move_to_another_version_cuts_the_waiting_pass_short_and_begins_it_anew(app, demo):
    from app.services import definitions

    with time_machine.travel(T0, tick=False) as clock:
        req = file()
        admin = user("admin@acme.test")
        xml = definitions.active_definition(req.tenant_id, "service_request").bpmn_xml
        new = definitions.deploy(req.tenant_id, xml.replace(
            'name="Autorizar solicitud"', 'name="Aprobar el pedido"'), user=admin, note="otra")
        db.session.commit()
        clock.move_to(T0 + 1 * H)
        workflow.migrate_instance(admin, db.session.get(ServiceRequest, req.id), new.version)
        db.session.commit()
        clock.move_to(T0 + 2 * H)
        complete(req, "Task_Authorize", HEAD, "authorize", {"decision": "authorize"})
    db.session.rollback()
    rows = db.session.execute(select(ElementPass.element_id, ElementPass.definition_id,
                                     ElementPass.state, ElementPass.entered_at,
                                     ElementPass.left_at)
                              .where(ElementPass.request_id == req.id)
                              .order_by(ElementPass.id)).all()
    old = rows[0].definition_id
    # The engine kept the task it waits at: on the old version its pass is cut short at the
    # move (under a key of its own); on the new one it begins at the move, from no element,
    # so the new version counts no flow it never took
    assert [tuple(r) for r in rows[:5]] == [
        ("Start_Filed", old, "completed", T0, T0),
        ("Gateway_NeedsAuthorization", old, "completed", T0, T0),
        ("Task_Authorize", new.id, "completed", T0 + 1 * H, T0 + 2 * H),
        ("Task_Authorize", old, "moved", T0, T0 + 1 * H),
        ("Gateway_Authorized", new.id, "completed", T0 + 2 * H, T0 + 2 * H),
    ]
    assert old != new.id
    came = dict(db.session.execute(
        select(ElementPass.definition_id, ElementPass.came_from)
        .where(ElementPass.request_id == req.id, ElementPass.element_id == "Task_Authorize")
    ).all())
    assert came == {old: "Gateway_NeedsAuthorization", new.id: None}
