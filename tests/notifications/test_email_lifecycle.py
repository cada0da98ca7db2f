"""The whole lifecycle by e-mail through a real SMTP server: each person gets the messages
meant for them, once, in their language, with links that open the page; nothing for a step
that rolled back; a refusing server gets the message once it accepts; a server that takes a
message and then does not answer does not get it twice."""

import threading
from datetime import timedelta

import time_machine
from sqlalchemy import select

from app import policy
from app.extensions import db
from app.models import HumanTask, Notification, OutboxMessage, User
from app.models.base import utcnow
from app.services import background, workflow
from tests.factories import assignment_form, file, open_task, user

REQUESTER, HEAD = "ana@acme.test", "jefe.finanzas@acme.test"
DIRECTOR, WORKER = "director@acme.test", "tecnico1@acme.test"


def deliver() -> int:
    return background.deliver_messages(limit=500)


def step(email, req, spec_id, handler, form):
    workflow.complete(user(email), open_task(req, spec_id), handler, form)
    db.session.commit()


def candidates(task: HumanTask) -> set[str]:
    """Who the inbox rule says the task is for (the policy's own predicate, person by person)."""
    people = db.session.scalars(select(User).where(User.tenant_id == task.tenant_id,
                                                   User.active.is_(True)))
    return {p.email for p in people if policy.is_task_candidate(p, task)}


def received(smtp, since: int) -> list[tuple[str, str]]:
    return sorted((m["To"].addresses[0].addr_spec, str(m["Subject"]))
                  for m in smtp.messages[since:])


def message_of(req, email: str, event: str, channel="email") -> OutboxMessage:
    """The one message of ``event`` about ``req`` for ``email`` on ``channel``, read afresh."""
    db.session.rollback()
    return db.session.scalars(
        select(OutboxMessage).join(Notification, Notification.id == OutboxMessage.notification_id)
        .where(Notification.request_id == req.id, OutboxMessage.event == event,
               OutboxMessage.address == email, OutboxMessage.channel == channel)).one()


def body(message) -> str:
    return message.get_body(("plain",)).get_content()


def test_the_lifecycle_mails_each_person_once_with_links_that_open(demo, smtp_server, browser):
    seen = len(smtp_server.messages)
    req = file(REQUESTER, title="Cambiar bombillo")
    deliver()
    authorize = open_task(req, "Task_Authorize")
    assert received(smtp_server, seen) == sorted(
        (email, f"{req.number}: «Autorizar solicitud» le espera")
        for email in candidates(authorize))
    assert HEAD in candidates(authorize)

    checks = [
        (HEAD, "Task_Authorize", "authorize", {"decision": "authorize", "comment": "Adelante"},
         {(REQUESTER, f"{req.number} fue autorizada")}
         | {(d, f"{req.number}: «Evaluar viabilidad» le espera") for d in [DIRECTOR]}),
        (DIRECTOR, "Task_Evaluate", "evaluate",
         {"decision": "approve", "estimated_cost": "100",
             "estimated_hours": "8", "staff_available": "true"},
         {(REQUESTER, f"{req.number} fue aprobada")}),
        (DIRECTOR, "Task_Assign", "assign", None,
         {(REQUESTER, f"{req.number} fue asignada a Tomás Herrera (Técnico)"),
          (WORKER, "Se le asignó el ticket {ticket}")}),
        (WORKER, "Task_Start", "start", {}, {(REQUESTER, f"Comenzó el trabajo en {req.number}")}),
        (WORKER, "Task_Work", "hold", {"reason": "Falta el repuesto"},
         {(REQUESTER, f"{req.number} está en espera")}),
        (WORKER, "Task_OnHold", "resume", {},
         {(REQUESTER, f"Se reanudó el trabajo en {req.number}")}),
        (WORKER, "Task_Work", "finish",
         {"resolution": "Listo", "hours_spent": "1", "materials_cost": "0"},
         {(REQUESTER, f"{req.number} está terminada: confírmela y califíquela")}),
        (REQUESTER, "Task_Confirm", "confirm", {"rating": "5"}, set()),
    ]
    for email, spec_id, handler, form, expected in checks:
        seen = len(smtp_server.messages)
        step(email, req, spec_id, handler, form if form is not None else assignment_form())
        assert deliver() == len(expected), (spec_id, received(smtp_server, seen))
        db.session.refresh(req)
        ticket = req.ticket.number if req.ticket else ""
        assert set(received(smtp_server, seen)) == {
            (to, subject.format(ticket=ticket)) for to, subject in expected}, spec_id
    assert deliver() == 0  # nothing twice

    # The hold's reason is in the requester's message; the finish links to the confirm task.
    (hold,) = [m for m in smtp_server.to(REQUESTER) if "en espera" in str(m["Subject"])]
    assert "Motivo: Falta el repuesto" in body(hold)
    (finished,) = [m for m in smtp_server.to(REQUESTER) if "terminada" in str(m["Subject"])]
    confirm = db.session.scalar(select(HumanTask).where(HumanTask.request_id == req.id,
                                                        HumanTask.spec_id == "Task_Confirm"))
    assert f"http://mesa.test/tasks/{confirm.id}" in body(finished)
    (assigned,) = smtp_server.to(WORKER)
    start = db.session.scalar(select(HumanTask).where(HumanTask.request_id == req.id,
                                                      HumanTask.spec_id == "Task_Start"))
    assert f"http://mesa.test/tasks/{start.id}" in body(assigned)
    # Every link opens its page for the person it was sent to.
    for message in smtp_server.messages:
        to = message["To"].addresses[0].addr_spec
        # (the finish's survey link works once, without logging in: tests/survey)
        links = [w for w in body(message).split() if w.startswith("http://mesa.test/")
                 and not w.startswith("http://mesa.test/survey/")]
        assert links, message["Subject"]
        page = browser(to).get(links[0].removeprefix("http://mesa.test"))
        assert page.status_code == 200, (to, links[0])


def test_each_message_is_well_formed_and_in_the_persons_language(demo, smtp_server):
    ana = user(REQUESTER)
    ana.locale = "en"
    db.session.commit()
    req = file(REQUESTER)
    step(HEAD, req, "Task_Authorize", "authorize", {"decision": "reject",
                                                    "comment": "Sin presupuesto <b>"})
    deliver()
    (message,) = smtp_server.to(REQUESTER)
    assert str(message["Subject"]) == f"{req.number} was rejected"
    assert message["From"].addresses[0].display_name == "Acme Industrial S.A."
    assert message["From"].addresses[0].addr_spec == "mesa@servicios.test"
    assert message["Message-ID"].endswith("@servicios.test>")
    assert message["List-Unsubscribe"] == "<http://mesa.test/notifications/preferences>"
    assert message["Auto-Submitted"] == "auto-generated"
    assert "Reason: Sin presupuesto <b>" in body(message)
    html = message.get_body(("html",)).get_content()
    assert "Sin presupuesto &lt;b&gt;" in html and "<b>" not in html.replace("<body", "")
    assert 'href="http://mesa.test/notifications/preferences"' in html
    row = message_of(req, REQUESTER, "request.rejected")
    assert (row.status, row.attempts, row.response_status) == ("delivered", 1, 250)
    assert row.reference == message["Message-ID"]


def test_a_step_that_rolls_back_leaves_no_notice_and_sends_nothing(demo, smtp_server):
    req = file(REQUESTER)
    deliver()
    seen, notices = len(smtp_server.messages), db.session.query(Notification).count()
    workflow.complete(user(HEAD), open_task(req, "Task_Authorize"), "authorize",
                      {"decision": "authorize"})
    db.session.rollback()
    assert db.session.query(Notification).count() == notices
    assert deliver() == 0 and len(smtp_server.messages) == seen


def test_a_refusing_server_gets_the_message_once_it_accepts(demo, smtp_server):
    req = file(REQUESTER)
    deliver()
    smtp_server.refuse_next("451 4.3.0 Mailbox busy, try later", to=REQUESTER)
    step(HEAD, req, "Task_Authorize", "authorize", {"decision": "authorize"})
    seen = len(smtp_server.to(REQUESTER))
    deliver()
    row = message_of(req, REQUESTER, "request.authorized")
    assert (row.status, row.attempts, row.response_status) == ("pending", 1, 451)
    assert row.last_error == "SMTP 451: 4.3.0 Mailbox busy, try later"
    assert deliver() == 0  # not before its time
    with time_machine.travel(utcnow() + timedelta(seconds=31)):
        deliver()
    db.session.refresh(row)
    assert (row.status, row.attempts) == ("delivered", 2)
    assert len(smtp_server.to(REQUESTER)) == seen + 1


def test_a_permanent_refusal_stops_and_says_why(demo, smtp_server):
    req = file(REQUESTER)
    deliver()
    smtp_server.refuse_next("550 5.1.1 No such user here", to=REQUESTER)
    step(HEAD, req, "Task_Authorize", "authorize", {"decision": "authorize"})
    deliver()
    row = message_of(req, REQUESTER, "request.authorized")
    assert (row.status, row.attempts, row.last_error) == (
        "failed", 1, "SMTP 550: 5.1.1 No such user here")


def test_a_server_that_takes_a_message_and_goes_silent_does_not_get_it_twice(demo, smtp_server):
    req = file(REQUESTER)
    deliver()
    smtp_server.hang_next(to=REQUESTER)
    step(HEAD, req, "Task_Authorize", "authorize", {"decision": "authorize"})
    seen = len(smtp_server.to(REQUESTER))
    deliver()
    row = message_of(req, REQUESTER, "request.authorized")
    assert row.status == "failed" and "may have been delivered" in row.last_error
    with time_machine.travel(utcnow() + timedelta(hours=7)):
        assert deliver() == 0
    assert len(smtp_server.to(REQUESTER)) == seen + 1


def test_several_runners_send_each_message_once(app, demo, smtp_server):
    for n in range(6):
        file(REQUESTER, title=f"Pedido {n}")
    due = db.session.query(OutboxMessage).filter_by(channel="email", status="pending").count()
    assert due >= 6  # the head's "waits for you" of each
    barrier, sent = threading.Barrier(3), [0, 0, 0]

    def run(index):
        with app.app_context():
            barrier.wait()
            sent[index] = deliver()
            db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sum(sent) == due
    ids = [m["Message-ID"] for m in smtp_server.messages]
    assert len(ids) == len(set(ids)) == due


def test_without_smtp_settings_messages_are_kept_as_not_sent(demo):
    req = file(REQUESTER)
    step(HEAD, req, "Task_Authorize", "authorize", {"decision": "authorize"})
    assert deliver() == 0
    row = message_of(req, REQUESTER, "request.authorized")
    assert (row.status, row.last_error) == ("unsent", "E-mail is not configured (SMTP_HOST).")
    notice = db.session.get(Notification, row.notification_id)
    assert notice.user.email == REQUESTER and notice.inapp
