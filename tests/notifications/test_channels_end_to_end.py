"""SMS and WhatsApp end to end: a requester who chose both channels follows their request
through the whole lifecycle, and the local Twilio and WhatsApp Cloud API stand-ins get exactly
the messages meant for them, once each, in the product's wording and the tenant's templates;
a provider's 5xx is tried again later, a 4xx stops with the provider's answer, an answer that
never comes after the message was taken is not sent twice; an event without a WhatsApp
template, and a person without a phone, get nothing sent and a reason kept."""

import functools
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from app.extensions import db
from app.models import HumanTask, Notification, OutboxMessage, Tenant
from app.models.base import utcnow
from app.notifications import service
from app.notifications.channels import sms as sms_channel
from app.notifications.channels import whatsapp as whatsapp_channel
from app.services import background, workflow
from tests.factories import assignment_form, file, open_task, request_at, user

REQUESTER, OTHER_REQUESTER = "ana@acme.test", "luis@acme.test"
HEAD, DIRECTOR, WORKER = "jefe.finanzas@acme.test", "director@acme.test", "tecnico1@acme.test"
PHONE = "+573001234567"
BASE = "http://mesa.test"
NO_TEMPLATE = "No WhatsApp template is set for this event."
NO_PHONE = "No phone number on the person's profile."
BACKOFF = 30  # seconds after a first failed attempt (app.outbox.queue.BACKOFF_BASE_SECONDS)
# The tenant's approved WhatsApp templates, per event (names the stand-in knows). The other
# events of the "requests" group have none on purpose.
TEMPLATES = {
    "request.authorized": {"name": "request_update", "language": "es",
                           "parameters": ["request_number", "request_title"]},
    "ticket.on_hold": {"name": "request_update", "language": "es",
                       "parameters": ["request_number", "comment"]},
    "ticket.finished": {"name": "request_update", "language": "es",
                        "parameters": ["request_number", "link"]},
    "ticket.resumed": {"name": "hello_world", "language": "en_US", "parameters": []},
}


@pytest.fixture
def providers(app, monkeypatch, twilio_server, whatsapp_server):
    """The app's Twilio and WhatsApp settings pointing at the stand-ins, for the test."""
    twilio, meta = twilio_server.settings(), whatsapp_server.settings()
    for name, value in (
            ("TWILIO_BASE_URL", twilio.base_url), ("TWILIO_ACCOUNT_SID", twilio.account_sid),
            ("TWILIO_AUTH_TOKEN", twilio.auth_token), ("TWILIO_FROM", twilio.from_number),
            ("TWILIO_MESSAGING_SERVICE_SID", ""),
            ("WHATSAPP_BASE_URL", meta.base_url),
            ("WHATSAPP_PHONE_NUMBER_ID", meta.phone_number_id),
            ("WHATSAPP_TOKEN", meta.access_token),
            ("PUBLIC_BASE_URL", BASE)):
        monkeypatch.setitem(app.config, name, value)
    return twilio_server, whatsapp_server


def set_templates(templates: dict, slug: str = "acme") -> None:
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == slug))
    tenant.settings = {**(tenant.settings or {}), "whatsapp_templates": templates}
    db.session.commit()


def choose(email: str, channels: list[str], phone: str | None = PHONE) -> None:
    """``email`` gets the "requests" group by ``channels``, at ``phone``."""
    person = user(email)
    service.set_phone(person, phone)
    service.set_preferences(person, {"requests": channels})
    db.session.commit()


def deliver() -> int:
    return background.deliver_messages(limit=500)


def step(email, req, spec_id, handler, form):
    workflow.complete(user(email), open_task(req, spec_id), handler, form)
    db.session.commit()


def rows(req, email: str, channel: str) -> list[OutboxMessage]:
    """The ``channel`` messages about ``req`` for ``email``, oldest first, read afresh."""
    db.session.rollback()
    return list(db.session.scalars(
        select(OutboxMessage).join(Notification, Notification.id == OutboxMessage.notification_id)
        .where(Notification.request_id == req.id, Notification.user_id == user(email).id,
               OutboxMessage.channel == channel)
        .order_by(OutboxMessage.id)))


def only(req, email: str, channel: str, event: str) -> OutboxMessage:
    (row,) = [r for r in rows(req, email, channel) if r.event == event]
    return row


def sent_sms(twilio) -> list[tuple[str, str, str]]:
    return [(m["To"], m["From"], m["Body"]) for m in twilio.accepted]


def sent_whatsapp(meta) -> list[tuple[str, str, str, list[str]]]:
    return [(m["to"], m["template"], m["language"], m["parameters"]) for m in meta.accepted]


def quick_providers(monkeypatch, seconds: float = 0.5) -> None:
    """Provider calls give up after ``seconds`` (the product's 10 s would slow the test)."""
    monkeypatch.setattr(sms_channel, "TwilioSettings",
                        functools.partial(sms_channel.TwilioSettings, timeout=seconds))
    monkeypatch.setattr(whatsapp_channel, "WhatsAppSettings",
                        functools.partial(whatsapp_channel.WhatsAppSettings, timeout=seconds))


def test_the_lifecycle_reaches_the_requester_by_sms_and_whatsapp_once_each(demo, providers):
    twilio, meta = providers
    choose(REQUESTER, ["inapp", "sms", "whatsapp"])
    set_templates(TEMPLATES)
    req = file(REQUESTER, title="Cambiar bombillo")
    deliver()
    assert twilio.received == [] and meta.received == []  # filing tells the head, not Ana
    walk = [
        (HEAD, "Task_Authorize", "authorize", {"decision": "authorize"}),
        (DIRECTOR, "Task_Evaluate", "evaluate",
         {"decision": "approve", "estimated_cost": "100",
             "estimated_hours": "8", "staff_available": "true"}),
        (DIRECTOR, "Task_Assign", "assign", None),
        (WORKER, "Task_Start", "start", {}),
        (WORKER, "Task_Work", "hold", {"reason": "Falta el repuesto"}),
        (WORKER, "Task_OnHold", "resume", {}),
        (WORKER, "Task_Work", "finish",
         {"resolution": "Listo", "hours_spent": "1", "materials_cost": "0"}),
        (REQUESTER, "Task_Confirm", "confirm", {"rating": "5"}),
    ]
    for email, spec_id, handler, form in walk:
        step(email, req, spec_id, handler, form if form is not None else assignment_form())
        deliver()
    assert deliver() == 0  # nothing is left, nothing goes twice

    n, page = req.number, f"{BASE}/requests/{req.id}"
    confirm = db.session.scalar(select(HumanTask).where(HumanTask.request_id == req.id,
                                                        HumanTask.spec_id == "Task_Confirm"))
    confirm_page = f"{BASE}/tasks/{confirm.id}"
    sender = twilio.from_number
    assert sent_sms(twilio) == [
        (PHONE, sender, f"{n} fue autorizada. {page}"),
        (PHONE, sender, f"{n} fue aprobada. {page}"),
        (PHONE, sender, f"{n} asignada a Tomás Herrera (Técnico). {page}"),
        (PHONE, sender, f"Comenzó el trabajo en {n}. {page}"),
        (PHONE, sender, f"En espera {n}: {page} Motivo: Falta el repuesto"),
        (PHONE, sender, f"Se reanudó {n}. {page}"),
        (PHONE, sender, f"{n} terminada: confírmela y califíquela. {confirm_page}"),
    ]
    assert sent_whatsapp(meta) == [
        (PHONE, "request_update", "es", [n, "Cambiar bombillo"]),
        (PHONE, "request_update", "es", [n, "Falta el repuesto"]),
        (PHONE, "hello_world", "en_US", []),
        (PHONE, "request_update", "es", [n, confirm_page]),
    ]
    assert len(twilio.received) == 7 and len(meta.received) == 4  # no request went twice

    # Each row says what became of it: the provider's reference, or why nothing was sent.
    texts = {m["sid"] for m in twilio.accepted}
    sms_rows = rows(req, REQUESTER, "sms")
    assert [(r.status, r.attempts, r.response_status) for r in sms_rows] == \
        [("delivered", 1, 201)] * 7
    assert {r.reference for r in sms_rows} == texts and all(r.address == PHONE for r in sms_rows)
    whatsapp_rows = {r.event: r for r in rows(req, REQUESTER, "whatsapp")}
    assert sorted(whatsapp_rows) == sorted([
        "request.authorized", "request.approved", "ticket.assigned", "ticket.started",
        "ticket.on_hold", "ticket.resumed", "ticket.finished"])
    for event, row in whatsapp_rows.items():
        if event in TEMPLATES:
            assert (row.status, row.attempts, row.response_status) == ("delivered", 1, 200)
            assert row.reference in {m["id"] for m in meta.accepted}
        else:
            assert (row.status, row.last_error) == ("unsent", NO_TEMPLATE), event
    # Nobody else chose these channels: no other person has an SMS or WhatsApp row.
    others = db.session.scalars(select(OutboxMessage).join(Notification).where(
        Notification.request_id == req.id, Notification.user_id != user(REQUESTER).id,
        OutboxMessage.channel.in_(("sms", "whatsapp")))).all()
    assert others == []


def test_a_providers_5xx_is_tried_again_after_the_backoff_and_sent_once(demo, providers):
    twilio, meta = providers
    choose(REQUESTER, ["sms", "whatsapp"])
    set_templates(TEMPLATES)
    req, _ = request_at("Task_Authorize")
    twilio.fail_next(503)
    meta.fail_next(500)
    step(HEAD, req, "Task_Authorize", "authorize", {"decision": "authorize"})
    assert deliver() == 2
    text = only(req, REQUESTER, "sms", "request.authorized")
    chat = only(req, REQUESTER, "whatsapp", "request.authorized")
    assert (text.status, text.attempts, text.response_status, text.last_error) == (
        "pending", 1, 503, "Twilio 20503: Service Unavailable")
    assert (chat.status, chat.attempts, chat.response_status, chat.last_error) == (
        "pending", 1, 500, "WhatsApp 131000: Something went wrong")
    assert deliver() == 0  # not before its time
    with time_machine.travel(utcnow() + timedelta(seconds=BACKOFF + 1)):
        assert deliver() == 2
    text = only(req, REQUESTER, "sms", "request.authorized")
    chat = only(req, REQUESTER, "whatsapp", "request.authorized")
    assert (text.status, text.attempts, text.response_status) == ("delivered", 2, 201)
    assert (chat.status, chat.attempts, chat.response_status) == ("delivered", 2, 200)
    assert len(twilio.accepted) == 1 and len(twilio.received) == 2
    assert len(meta.accepted) == 1 and len(meta.received) == 2
    with time_machine.travel(utcnow() + timedelta(hours=7)):
        assert deliver() == 0
    assert len(twilio.received) == 2 and len(meta.received) == 2


def test_a_providers_4xx_stops_and_shows_the_providers_answer(demo, providers):
    twilio, meta = providers
    choose(REQUESTER, ["sms", "whatsapp"], phone="+15005550001")  # Twilio: not a valid number
    set_templates({"request.authorized": {"name": "no_such_template", "language": "es",
                                          "parameters": []}})
    req, _ = request_at("Task_Authorize")
    step(HEAD, req, "Task_Authorize", "authorize", {"decision": "authorize"})
    assert deliver() == 2
    text = only(req, REQUESTER, "sms", "request.authorized")
    chat = only(req, REQUESTER, "whatsapp", "request.authorized")
    assert (text.status, text.attempts, text.response_status) == ("failed", 1, 400)
    assert text.last_error == \
        "Twilio 21211: The 'To' number +15005550001 is not a valid phone number."
    assert (chat.status, chat.attempts, chat.response_status) == ("failed", 1, 404)
    assert chat.last_error.startswith("WhatsApp 132001: Template name does not exist")
    assert "no_such_template" in chat.last_error
    assert twilio.accepted == [] and meta.accepted == []
    with time_machine.travel(utcnow() + timedelta(hours=7)):
        assert deliver() == 0  # given up for good
    assert len(twilio.received) == 1 and len(meta.received) == 1


def test_a_provider_that_takes_the_message_and_never_answers_does_not_get_it_twice(
        demo, providers, monkeypatch):
    twilio, meta = providers
    quick_providers(monkeypatch)
    choose(REQUESTER, ["sms", "whatsapp"])
    set_templates(TEMPLATES)
    req, _ = request_at("Task_Authorize")
    twilio.hang_next()
    meta.hang_next()
    step(HEAD, req, "Task_Authorize", "authorize", {"decision": "authorize"})
    deliver()
    for channel in ("sms", "whatsapp"):
        row = only(req, REQUESTER, channel, "request.authorized")
        assert (row.status, row.attempts) == ("failed", 1), channel
        assert "it may have been delivered, so it is not sent again" in row.last_error
    assert len(twilio.accepted) == 1 and len(meta.accepted) == 1
    with time_machine.travel(utcnow() + timedelta(hours=7)):
        assert deliver() == 0
    assert len(twilio.received) == 1 and len(meta.received) == 1


def test_without_a_template_for_the_event_whatsapp_keeps_the_message_unsent_with_why(
        demo, providers):
    twilio, meta = providers
    choose(REQUESTER, ["whatsapp"])
    set_templates({})  # the tenant mapped no event
    req, _ = request_at("Task_Authorize")
    step(HEAD, req, "Task_Authorize", "authorize", {"decision": "authorize"})
    assert deliver() == 1  # tried once: nothing to send with
    row = only(req, REQUESTER, "whatsapp", "request.authorized")
    assert (row.status, row.last_error) == ("unsent", NO_TEMPLATE)
    assert meta.received == [] and twilio.received == []
    assert deliver() == 0


def test_a_person_without_a_phone_gets_no_sms_or_whatsapp(demo, providers):
    """The tenant's default sends the "requests" group by SMS and WhatsApp: Ana (with a phone)
    gets them, Luis (without one) gets nothing sent, and his rows say why."""
    twilio, meta = providers
    set_templates(TEMPLATES)
    acme = db.session.scalar(select(Tenant).where(Tenant.slug == "acme"))
    service.set_tenant_defaults(acme, {"requests": ["inapp", "sms", "whatsapp"]})
    service.set_phone(user(REQUESTER), PHONE)
    db.session.commit()
    assert user(OTHER_REQUESTER).phone is None
    mine, _ = request_at("Task_Authorize", requester=REQUESTER)
    his, _ = request_at("Task_Authorize", requester=OTHER_REQUESTER)
    for req in (mine, his):
        step(HEAD, req, "Task_Authorize", "authorize", {"decision": "authorize"})
    deliver()
    for channel in ("sms", "whatsapp"):
        row = only(his, OTHER_REQUESTER, channel, "request.authorized")
        assert (row.status, row.attempts, row.last_error) == ("unsent", 0, NO_PHONE), channel
        assert only(mine, REQUESTER, channel, "request.authorized").status == "delivered"
    assert [m["To"] for m in twilio.accepted] == [PHONE]
    assert [m["to"] for m in meta.accepted] == [PHONE]


def test_a_phone_removed_after_the_step_sends_nothing(demo, providers):
    twilio, meta = providers
    choose(REQUESTER, ["sms", "whatsapp"])
    set_templates(TEMPLATES)
    req, _ = request_at("Task_Authorize")
    step(HEAD, req, "Task_Authorize", "authorize", {"decision": "authorize"})
    assert only(req, REQUESTER, "sms", "request.authorized").status == "pending"
    service.set_phone(user(REQUESTER), None)
    db.session.commit()
    deliver()
    for channel in ("sms", "whatsapp"):
        row = only(req, REQUESTER, channel, "request.authorized")
        assert (row.status, row.last_error) == ("unsent", NO_PHONE), channel
    assert twilio.received == [] and meta.received == []


def test_a_phone_changed_after_the_step_gets_it_and_the_log_says_where_it_went(demo, providers):
    twilio, meta = providers
    choose(REQUESTER, ["sms", "whatsapp"])
    set_templates(TEMPLATES)
    req, _ = request_at("Task_Authorize")
    step(HEAD, req, "Task_Authorize", "authorize", {"decision": "authorize"})
    service.set_phone(user(REQUESTER), "+34 600 111 222")
    db.session.commit()
    deliver()
    for channel in ("sms", "whatsapp"):
        row = only(req, REQUESTER, channel, "request.authorized")
        assert (row.status, row.address) == ("delivered", "+34600111222"), channel
    assert [to for to, *_ in sent_sms(twilio)] == ["+34600111222"]
    assert [to for to, *_ in sent_whatsapp(meta)] == ["+34600111222"]
