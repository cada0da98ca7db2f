"""SLA warnings and breaches from the background runner: each sent exactly once, by one runner
or two (one after the other, or racing), to the right people, as a history event, notices
through the outbox and webhook deliveries. Time is moved by the test, never slept."""

import threading
from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import select

from app.extensions import db
from app.models import (
    HistoryEvent,
    Membership,
    Notification,
    NotificationPreference,
    OutboxMessage,
    ServiceRequest,
    SlaClock,
    Tenant,
    Unit,
    User,
    WebhookEndpoint,
)
from app.notifications.compose import compose
from app.services import background, workflow
from app.sla import service, signals
from app.sqlite import writing
from app.tenancy import isolation
from tests import factories
from tests.sla import sla_helpers

# Monday 2026-12-07 09:00 in Bogotá (UTC-5); the calendar works 08:00-18:00 Monday to Friday.
MONDAY_9 = datetime(2026, 12, 7, 14, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)
# The decision target (4 business hours) of a request filed then warns at 12:00 and is due at
# 13:00 (Bogotá).
WARN, DUE = MONDAY_9 + 3 * HOUR, MONDAY_9 + 4 * HOUR
HEAD, DIRECTOR, REQUESTER, WORKER = ("jefe.finanzas@acme.test", "director@acme.test",
                                     "ana@acme.test", "tecnico1@acme.test")


# -- helpers ----------------------------------------------------------------------------
def file_at(at=MONDAY_9, requester=REQUESTER) -> ServiceRequest:
    with time_machine.travel(at, tick=False):
        return factories.file(requester)


def step(req, spec_id, email, handler, form, at) -> None:
    with time_machine.travel(at, tick=False), writing():
        workflow.complete(factories.user(email), factories.open_task(req, spec_id), handler,
                          form)
        db.session.commit()


def run_at(at, **kwargs) -> int:
    db.session.rollback()
    with time_machine.travel(at, tick=False):
        return signals.run(**kwargs)


def clock_of(req, kind) -> SlaClock:
    db.session.rollback()
    return db.session.scalar(select(SlaClock).where(SlaClock.request_id == req.id,
                                                    SlaClock.kind == kind))


def history(req, action) -> list[HistoryEvent]:
    db.session.rollback()
    return list(db.session.scalars(select(HistoryEvent).where(
        HistoryEvent.request_id == req.id, HistoryEvent.action == action)))


def told(req, event) -> list[str]:
    """Who got a notice of ``event`` about ``req`` (e-mails, one per notice, sorted)."""
    db.session.rollback()
    return sorted(db.session.scalars(
        select(User.email).join(Notification, Notification.user_id == User.id)
        .where(Notification.request_id == req.id, Notification.event == event)))


def messages(req, event) -> list[tuple[str, str]]:
    """(person, channel) of the outbox messages of ``event`` about ``req``."""
    db.session.rollback()
    return sorted(db.session.execute(
        select(User.email, OutboxMessage.channel)
        .join(Notification, Notification.id == OutboxMessage.notification_id)
        .join(User, User.id == Notification.user_id)
        .where(Notification.request_id == req.id, OutboxMessage.event == event)).all())


def deliveries(event) -> list[OutboxMessage]:
    db.session.rollback()
    return list(db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.channel == "webhook", OutboxMessage.event == event)
        .order_by(OutboxMessage.endpoint_id)))


def endpoint(events, url="https://hooks.example.com/sla") -> int:
    row = WebhookEndpoint(tenant_id=sla_helpers.tenant().id, url=url, secret="s",
                          events=list(events), active=True)
    db.session.add(row)
    db.session.commit()
    return row.id


def race(app, at, work) -> list:
    """``work()`` in two threads at once (each with its own session), at ``at``."""
    db.session.rollback()
    barrier = threading.Barrier(2)
    results = [None, None]
    errors = []

    def run(index):
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                results[index] = work()
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    with time_machine.travel(at, tick=False):
        threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert not errors, errors
    return results


def nest_finance_under_management() -> User:
    """Finanzas inside a new unit Gerencia, headed by gerente@acme.test."""
    tenant = sla_helpers.tenant()
    management = Unit(tenant_id=tenant.id, name="Gerencia")
    db.session.add(management)
    db.session.flush()
    manager = User(tenant_id=tenant.id, email="gerente@acme.test", name="Gerardo Gerente",
                   password_hash="x")
    db.session.add(manager)
    db.session.flush()
    db.session.add(Membership(tenant_id=tenant.id, user_id=manager.id, role="unit_head",
                              unit_id=management.id))
    finance = db.session.scalar(select(Unit).where(Unit.tenant_id == tenant.id,
                                                   Unit.name == "Finanzas"))
    finance.parent_id = management.id
    db.session.commit()
    return manager


def authorize_and_approve(req, at) -> None:
    step(req, "Task_Authorize", HEAD, "authorize", {"decision": "authorize"}, at)
    step(req, "Task_Evaluate", DIRECTOR, "evaluate",
         {"decision": "approve", "estimated_cost": "100", "estimated_hours": "8",
          "justification": "Prueba"}, at)


# -- the warning and the breach, once each ----------------------------------------------
def test_the_warning_at_75_percent_and_the_breach_go_out_once_each(demo):
    sla_helpers.targets(decision=240, start=480, resolution=2400)
    both = endpoint(["sla.warning", "sla.breached"])
    breaches_only = endpoint(["sla.breached"], url="https://hooks.example.com/breaches")
    req = file_at()

    assert run_at(WARN - MINUTE) == 0
    assert clock_of(req, "decision").warning_sent_at is None
    assert run_at(WARN) == 1
    assert run_at(WARN) == 0 and run_at(WARN + 30 * MINUTE) == 0   # the next passes
    assert clock_of(req, "decision").warning_sent_at == WARN
    (event,) = history(req, "sla_warning")
    assert event.actor_id is None
    assert event.changes == {"target": "decision", "due_at": DUE.isoformat(),
                             "elapsed_seconds": 3 * 3600, "recipients": 1}
    # the request waits on its unit head's authorization: they are told, by their task
    assert told(req, "sla.warning") == [HEAD]
    assert messages(req, "sla.warning") == [(HEAD, "email")]
    db.session.rollback()
    notice = db.session.scalar(select(Notification).where(Notification.event == "sla.warning"))
    assert notice.task_id == factories.open_task(req, "Task_Authorize").id
    assert notice.key == f"sla.warning:{clock_of(req, 'decision').id}:u{notice.user_id}"
    assert notice.params["sla_target"] == "decision"
    assert notice.params["sla_due"] == "2026-12-07 13:00 (America/Bogota)"
    (delivery,) = deliveries("sla.warning")
    assert delivery.endpoint_id == both
    assert delivery.payload["event"] == "sla.warning" and delivery.payload["actor"] is None
    assert delivery.payload["request"]["id"] == req.id
    assert delivery.payload["sla"] == {
        "target": "decision", "state": "warning", "due_at": DUE.isoformat(),
        "elapsed_seconds": 3 * 3600, "target_seconds": 240 * 60, "recipients": 1}

    assert run_at(DUE) == 0                        # due, not yet over
    assert run_at(DUE + MINUTE) == 1
    assert run_at(DUE + MINUTE) == 0 and run_at(DUE + 5 * HOUR) == 0
    assert clock_of(req, "decision").breach_sent_at == DUE + MINUTE
    (event,) = history(req, "sla_breached")
    assert event.changes == {"target": "decision", "due_at": DUE.isoformat(),
                             "elapsed_seconds": 4 * 3600 + 60, "recipients": 1}
    assert told(req, "sla.breached") == [DIRECTOR]
    assert messages(req, "sla.breached") == [(DIRECTOR, "email")]
    assert [d.endpoint_id for d in deliveries("sla.breached")] == [both, breaches_only]
    assert deliveries("sla.breached")[0].payload["sla"]["state"] == "breached"
    assert len(history(req, "sla_warning")) == 1 and told(req, "sla.warning") == [HEAD]


def test_a_clock_first_seen_breached_sends_only_the_breach(demo):
    sla_helpers.targets(decision=240)
    endpoint(["sla.warning", "sla.breached"])
    req = file_at()
    assert run_at(DUE + 2 * HOUR) == 1
    assert run_at(DUE + 3 * HOUR) == 0
    clock = clock_of(req, "decision")
    assert clock.warning_sent_at == clock.breach_sent_at == DUE + 2 * HOUR
    assert history(req, "sla_warning") == [] and len(history(req, "sla_breached")) == 1
    assert told(req, "sla.warning") == [] and told(req, "sla.breached") == [DIRECTOR]
    assert deliveries("sla.warning") == [] and len(deliveries("sla.breached")) == 1


def test_the_notice_reads_in_the_persons_language(demo):
    sla_helpers.targets(decision=240)
    req = file_at()
    run_at(DUE + MINUTE)
    db.session.rollback()
    notice = db.session.scalar(select(Notification).where(Notification.event == "sla.breached"))
    person = db.session.get(User, notice.user_id)
    tenant = db.session.get(Tenant, notice.tenant_id)
    spanish = compose(notice, person, tenant)
    assert spanish.subject.startswith(f"{req.number} superó su plazo")
    assert "que vencía el 2026-12-07 13:00 (America/Bogota)" in spanish.text
    person.locale = "en"
    english = compose(notice, person, tenant)
    assert english.subject == f"{req.number} is past its due time (Time to decision)"
    assert "due 2026-12-07 13:00 (America/Bogota)" in english.text
    assert english.sms.startswith(f"{req.number} is past its due time (2026-12-07 13:00")
    db.session.rollback()


def test_one_outbox_message_per_person_and_channel(demo):
    sla_helpers.targets(decision=240)
    director = factories.user(DIRECTOR)
    director.phone = "+573001234567"
    db.session.add(NotificationPreference(tenant_id=director.tenant_id, user_id=director.id,
                                          event_group="tasks",
                                          channels=["inapp", "email", "sms"]))
    db.session.commit()
    req = file_at()
    run_at(DUE + MINUTE)
    run_at(DUE + 2 * MINUTE)
    assert messages(req, "sla.breached") == [(DIRECTOR, "email"), (DIRECTOR, "sms")]
    assert told(req, "sla.breached") == [DIRECTOR]


# -- two runners ------------------------------------------------------------------------
def test_two_runners_racing_send_each_once(app, demo):
    sla_helpers.targets(decision=240)
    endpoint(["sla.warning", "sla.breached"])
    req = file_at()
    assert sorted(race(app, WARN + MINUTE, signals.run)) == [0, 1]
    assert sorted(race(app, DUE + MINUTE, signals.run)) == [0, 1]
    assert len(history(req, "sla_warning")) == 1 and len(history(req, "sla_breached")) == 1
    assert told(req, "sla.warning") == [HEAD] and told(req, "sla.breached") == [DIRECTOR]
    assert len(messages(req, "sla.warning")) == 1 and len(messages(req, "sla.breached")) == 1
    assert len(deliveries("sla.warning")) == 1 and len(deliveries("sla.breached")) == 1


def test_two_runners_racing_on_one_clock_send_it_once(app, demo):
    sla_helpers.targets(decision=240)
    req = file_at()
    clock = clock_of(req, "decision")
    ids = (clock.id, clock.tenant_id)
    sent = race(app, DUE + MINUTE, lambda: signals.signal_clock(*ids))
    assert sorted(sent, key=str) == [None, "breach"]
    assert len(history(req, "sla_breached")) == 1 and told(req, "sla.breached") == [DIRECTOR]


def test_of_two_claims_one_wins_even_when_both_decided_first(app, demo):
    """The conditional UPDATE alone: the second claim, made while the first's transaction is
    open, waits for it (PostgreSQL's row lock, SQLite's write lock) and matches no row."""
    sla_helpers.targets(decision=240)
    req = file_at()
    clock = clock_of(req, "decision")
    clock_id, tenant_id = clock.id, clock.tenant_id
    db.session.rollback()
    first_claimed = threading.Event()
    results = {}

    def first():
        with app.app_context(), isolation.tenant(tenant_id), writing():
            row = db.session.get(SlaClock, clock_id)
            results["first"] = signals.claim(row, signals.WARNING, WARN)
            first_claimed.set()
            second_thread.join(timeout=0.5)   # the second is waiting on the lock, or not yet
            db.session.commit()
            db.session.remove()

    def second():
        first_claimed.wait(timeout=30)
        with app.app_context(), isolation.tenant(tenant_id), writing():
            row = db.session.get(SlaClock, clock_id)
            results["second"] = signals.claim(row, signals.WARNING, WARN + MINUTE)
            db.session.commit()
            db.session.remove()

    second_thread = threading.Thread(target=second)
    first_thread = threading.Thread(target=first)
    second_thread.start()   # waits for the first's claim
    first_thread.start()
    first_thread.join(timeout=60)
    second_thread.join(timeout=60)
    assert results == {"first": True, "second": False}
    assert clock_of(req, "decision").warning_sent_at == WARN


# -- pauses and stops -------------------------------------------------------------------
def test_a_paused_clock_does_not_warn_until_it_runs_again(demo):
    sla_helpers.targets(decision=240)
    req = file_at()
    step(req, "Task_Authorize", HEAD, "authorize", {"decision": "authorize"}, MONDAY_9 + HOUR)
    step(req, "Task_Evaluate", DIRECTOR, "evaluate",
         {"decision": "return", "comment": "¿Qué piso?"}, MONDAY_9 + 2 * HOUR)
    # returned after 2 business hours: paused short of its warning (3 h), for two days
    assert run_at(MONDAY_9 + 2 * HOUR) == 0
    assert run_at(MONDAY_9 + timedelta(days=2)) == 0
    assert clock_of(req, "decision").state == "paused"
    wednesday = MONDAY_9 + timedelta(days=2)
    step(req, "Task_ProvideInformation", REQUESTER, "resubmit", {"comment": "Piso 3"},
         wednesday)
    assert run_at(wednesday + HOUR - MINUTE) == 0
    assert run_at(wednesday + HOUR) == 1          # the third business hour ends
    assert history(req, "sla_warning")[0].changes["elapsed_seconds"] == 3 * 3600
    assert told(req, "sla.warning") == [DIRECTOR]  # the evaluation waits on the director


def test_a_warning_crossed_before_a_pause_is_still_sent(demo):
    sla_helpers.targets(decision=240)
    req = file_at()
    step(req, "Task_Authorize", HEAD, "authorize", {"decision": "authorize"}, MONDAY_9 + HOUR)
    step(req, "Task_Evaluate", DIRECTOR, "evaluate",
         {"decision": "return", "comment": "¿Qué piso?"}, WARN + 10 * MINUTE)
    assert run_at(WARN + HOUR) == 1               # no runner passed between: it warns now
    assert run_at(WARN + 2 * HOUR) == 0
    assert clock_of(req, "decision").state == "paused"
    # paused, it waits on the requester (their task, and they are whom a returned one waits on)
    assert told(req, "sla.warning") == [REQUESTER]


def test_stopped_clocks_send_nothing(demo):
    sla_helpers.targets(decision=240, start=480)
    on_time = file_at()
    late = file_at(requester="luis@acme.test")
    authorize_and_approve(on_time, WARN + 30 * MINUTE)   # past the warning, before a pass
    authorize_and_approve(late, DUE + 30 * MINUTE)       # over its target, before a pass
    assert clock_of(on_time, "decision").state == "met"
    late_decision = clock_of(late, "decision")
    assert late_decision.state == "breached" and late_decision.stopped_at is not None
    assert run_at(DUE + HOUR) == 0
    # even looked at directly: a stopped clock is not due
    assert signals.signal_clock(late_decision.id, late_decision.tenant_id, DUE + HOUR) is None
    assert history(late, "sla_breached") == [] and told(late, "sla.breached") == []
    assert history(on_time, "sla_warning") == []


# -- who is told ------------------------------------------------------------------------
def test_a_decision_breach_reaches_the_head_above_the_unit_head(demo):
    nest_finance_under_management()
    sla_helpers.targets(decision=240, start=480)
    req = file_at()
    assert run_at(WARN) == 1
    # the authorization is the task of the heads of Finanzas and of the units above it
    assert told(req, "sla.warning") == ["gerente@acme.test", HEAD]
    assert run_at(DUE + MINUTE) == 1
    assert told(req, "sla.breached") == [DIRECTOR, "gerente@acme.test"]
    assert history(req, "sla_breached")[0].changes["recipients"] == 2
    # a start target's breach is the service unit's alone
    authorize_and_approve(req, DUE + HOUR)
    start_due = clock_of(req, "start").due_at
    assert run_at(start_due + MINUTE) == 1
    db.session.rollback()
    start_breach = [n for n in db.session.scalars(select(Notification).where(
        Notification.event == "sla.breached")) if n.params["sla_target"] == "start"]
    assert [n.user_id for n in start_breach] == [factories.user(DIRECTOR).id]


def test_a_ticket_in_progress_warns_its_worker(demo):
    sla_helpers.targets(decision=240, start=480, resolution=2400)
    with time_machine.travel(MONDAY_9, tick=False):
        req, _task = factories.request_at("Task_Work")
    warn_at = clock_of(req, "resolution").warn_at
    # 30 of 40 business hours from Monday 09:00: Thursday 09:00 (Bogotá)
    assert warn_at == datetime(2026, 12, 10, 14, 0, tzinfo=UTC)
    assert run_at(warn_at) == 1
    assert told(req, "sla.warning") == [WORKER]
    (event,) = history(req, "sla_warning")
    assert event.changes["target"] == "resolution"


def test_nobody_to_tell_still_leaves_the_history_and_the_webhook(demo):
    sla_helpers.targets(decision=240)
    endpoint(["sla.breached"])
    req = file_at()
    director = factories.user(DIRECTOR)
    director.active = False
    db.session.commit()
    assert run_at(DUE + MINUTE) == 1
    (event,) = history(req, "sla_breached")
    assert event.changes["recipients"] == 0
    assert told(req, "sla.breached") == [] and len(deliveries("sla.breached")) == 1


# -- tenants, admins' edits, the runner's wiring ----------------------------------------
def test_a_clock_is_looked_at_in_its_own_tenants_scope_only(demo):
    sla_helpers.targets(decision=240)
    sla_helpers.targets("globex", decision=240)
    acme_req = file_at()
    globex_req = file_at(requester="pedro@globex.test")
    clock = clock_of(acme_req, "decision")
    globex_id = sla_helpers.tenant("globex").id
    assert signals.signal_clock(clock.id, globex_id, DUE + MINUTE) is None
    assert history(acme_req, "sla_breached") == []
    assert run_at(DUE + MINUTE) == 2
    assert told(acme_req, "sla.breached") == [DIRECTOR]
    assert told(globex_req, "sla.breached") == ["director@globex.test"]


def test_a_target_applied_to_open_requests_is_recomputed_before_signals(demo):
    made = sla_helpers.targets(decision=240)
    req = file_at()
    target = made["decision"]
    target.minutes = 60
    service.mark_target_applied(target)
    db.session.commit()
    # 45 minutes in: 75% of the new hour (of the old four hours: not yet). The demo's open
    # requests, filed long before, are flagged too: they get clocks, long breached.
    assert run_at(MONDAY_9 + 45 * MINUTE) >= 1
    assert len(history(req, "sla_warning")) == 1
    clock = clock_of(req, "decision")
    assert clock.minutes == 60 and clock.warning_sent_at == MONDAY_9 + 45 * MINUTE
    assert db.session.get(ServiceRequest, req.id).sla_rematch is None


def test_the_embedded_runner_runs_the_sla_pass_in_its_own_thread(demo):
    assert background._jobs()["background-sla"] is background.run_sla_signals
    sla_helpers.targets(decision=240)
    req = file_at()
    with time_machine.travel(WARN, tick=False):
        background.run_pass()
        background.run_pass()
    assert len(history(req, "sla_warning")) == 1


def test_flask_sla_signals_sends_what_is_due(app, demo):
    sla_helpers.targets(decision=240)
    req = file_at()
    db.session.rollback()
    with time_machine.travel(WARN, tick=False):
        first = app.test_cli_runner().invoke(args=["sla", "signals"])
        again = app.test_cli_runner().invoke(args=["sla", "signals"])
    assert first.exit_code == 0 and "sent 1 SLA" in first.output, first.output
    assert again.exit_code == 0 and "sent 0 SLA" in again.output
    assert len(history(req, "sla_warning")) == 1
