"""Timers through the database: due work fires exactly once, even with several runners."""

import threading
from datetime import UTC, datetime, timedelta

import time_machine

from app.extensions import db
from app.models import HistoryEvent, HumanTask, Notification, ProcessInstance
from app.services.background import run_due_timers
from tests.factories import request_at

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def run_in_parallel(app, runners=3) -> list[int]:
    barrier = threading.Barrier(runners)
    fired = [0] * runners

    def work(index):
        with app.app_context():
            barrier.wait()
            fired[index] = run_due_timers()
            db.session.remove()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(runners)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return fired


def test_authorization_reminder_fires_once_with_several_runners(app, demo):
    with time_machine.travel(T0, tick=False) as clock:
        req, task = request_at("Task_Authorize")
        instance = db.session.query(ProcessInstance).filter_by(request_id=req.id).one()
        assert instance.next_timer_at == T0 + timedelta(hours=48)
        assert run_due_timers() == 0          # nothing is due yet
        clock.move_to(T0 + timedelta(hours=49))
        fired = run_in_parallel(app)
        assert sum(fired) == 1
        assert run_due_timers() == 0          # and never again
        db.session.rollback()
        reminders = db.session.query(HistoryEvent).filter_by(request_id=req.id,
                                                             action="reminder_sent").count()
        assert reminders == 1
        (notice,) = db.session.query(Notification).filter_by(request_id=req.id,
                                                             event="task.reminder").all()
        assert notice.user.email == "jefe.finanzas@acme.test" and notice.task_id == task.id
        assert [(m.channel, m.address) for m in notice.messages] == [
            ("email", "jefe.finanzas@acme.test")]  # one e-mail, however many runners
        still_open = db.session.query(HumanTask).filter_by(request_id=req.id, status="open")
        assert [t.spec_id for t in still_open] == ["Task_Authorize"]
        instance = db.session.query(ProcessInstance).filter_by(request_id=req.id).one()
        assert instance.next_timer_at is None


def test_unconfirmed_service_closes_itself(app, demo):
    with time_machine.travel(T0, tick=False) as clock:
        req, task = request_at("Task_Confirm")
        assert (req.status, req.ticket.status) == ("completed", "finished")
        clock.move_to(T0 + timedelta(days=7, minutes=5))
        assert sum(run_in_parallel(app, runners=2)) == 1
        db.session.rollback()
        db.session.refresh(req)
        assert (req.status, req.ticket.status) == ("completed", "closed")
        assert req.rating is None
        assert db.session.query(HistoryEvent).filter_by(request_id=req.id,
                                                        action="auto_closed").count() == 1
        confirm = db.session.query(HumanTask).filter_by(request_id=req.id,
                                                        spec_id="Task_Confirm").one()
        assert confirm.status == "cancelled"
        assert req.instance.status == "completed"


def test_a_failing_instance_is_postponed_and_does_not_block_others(app, demo, monkeypatch):
    from app.handlers import registry

    with time_machine.travel(T0, tick=False) as clock:
        broken, _ = request_at("Task_Authorize")
        healthy, _ = request_at("Task_Authorize")
        clock.move_to(T0 + timedelta(hours=49))
        original = registry.OPERATIONS["send_reminder"]

        def flaky(ctx, params, data):
            if ctx.request.id == broken.id:
                raise RuntimeError("mail relay down")
            return original(ctx, params, data)

        monkeypatch.setitem(registry.OPERATIONS, "send_reminder", flaky)
        assert run_due_timers() == 1
        db.session.rollback()
        postponed = db.session.query(ProcessInstance).filter_by(request_id=broken.id).one()
        assert postponed.next_timer_at == T0 + timedelta(hours=49, seconds=600)
        assert db.session.query(HistoryEvent).filter_by(
            request_id=healthy.id, action="reminder_sent").count() == 1
        monkeypatch.setitem(registry.OPERATIONS, "send_reminder", original)
        clock.move_to(T0 + timedelta(hours=50))
        assert run_due_timers() == 1
        db.session.rollback()
        assert db.session.query(HistoryEvent).filter_by(
            request_id=broken.id, action="reminder_sent").count() == 1
