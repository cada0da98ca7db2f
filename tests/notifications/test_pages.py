"""The bell and its pages, the person's preferences, and the tenant admin's pages, as people
use them: each answers, changes only what it should, and refuses what it must."""

from sqlalchemy import select

from app.extensions import db
from app.models import Notification, NotificationPreference, NotificationTemplate, OutboxMessage
from app.services import workflow
from tests.factories import file, open_task, user
from tests.views.helpers import html

REQUESTER, HEAD, ADMIN = "ana@acme.test", "jefe.finanzas@acme.test", "admin@acme.test"


def unread(email: str) -> int:
    db.session.rollback()
    return db.session.query(Notification).filter_by(
        user_id=user(email).id, inapp=True, read_at=None).count()


def test_the_bell_counts_what_is_unread_and_the_page_opens_it(demo, browser):
    req = file(REQUESTER)
    head = browser(HEAD)
    count = unread(HEAD)
    assert count >= 1
    page = html(head.get("/inbox"))
    assert f'data-unread="{count}"' in page and 'class="bell-count"' in page
    listing = html(head.get("/notifications"))
    assert f"{req.number}: «Autorizar solicitud» le espera" in listing
    notice = db.session.scalars(select(Notification).where(
        Notification.request_id == req.id, Notification.user_id == user(HEAD).id)).one()
    opened = head.get(f"/notifications/{notice.id}/open")
    task = open_task(req, "Task_Authorize")
    assert opened.status_code == 302 and opened.headers["Location"] == f"/tasks/{task.id}"
    assert unread(HEAD) == count - 1
    assert head.post("/notifications/read-all").status_code == 302
    assert unread(HEAD) == 0
    assert 'class="bell-count"' not in html(head.get("/inbox"))


def test_nobody_opens_or_marks_anothers_notice(demo, browser):
    req = file(REQUESTER)
    notice = db.session.scalars(select(Notification).where(
        Notification.request_id == req.id, Notification.user_id == user(HEAD).id)).one()
    for email in (REQUESTER, "director@globex.test", ADMIN):
        other = browser(email)
        assert other.get(f"/notifications/{notice.id}/open").status_code == 404
        assert other.post(f"/notifications/{notice.id}/read").status_code == 404
        other.post("/notifications/read-all")
    db.session.rollback()
    assert db.session.get(Notification, notice.id).read_at is None
    assert browser(HEAD).get("/notifications/99999999999/open").status_code == 404


def test_preferences_are_kept_per_group_and_respected(demo, browser, smtp_server):
    ana = browser(REQUESTER)
    assert 'name="channels-requests"' in html(ana.get("/notifications/preferences"))
    form = {"channels-requests": ["inapp"], "channels-tasks": ["inapp", "email"],
            "channels-tickets": [], "channels-comments": ["email"], "channels-process": [],
            "phone": ""}
    assert ana.post("/notifications/preferences", form).status_code == 302
    rows = {p.event_group: p.channels for p in db.session.scalars(
        select(NotificationPreference).where(NotificationPreference.user_id == user(REQUESTER).id))}
    assert rows["requests"] == ["inapp"] and rows["comments"] == ["email"]
    assert "tickets" not in rows  # not a worker: not offered, not changed
    req = file(REQUESTER)
    workflow.complete(user(HEAD), open_task(req, "Task_Authorize"), "authorize",
                      {"decision": "authorize"})
    db.session.commit()
    notice = db.session.scalars(select(Notification).where(
        Notification.request_id == req.id, Notification.user_id == user(REQUESTER).id)).one()
    assert notice.event == "request.authorized" and notice.inapp and notice.messages == []


def test_sms_without_a_phone_or_a_bad_phone_is_refused_and_nothing_changes(demo, browser):
    ana = browser(REQUESTER)
    before = db.session.query(NotificationPreference).count()
    for phone, said in (("", "need a phone number"), ("300 123", "country code"),
                        ("+0123456789", "country code"), ("+57 300 123 4567 ext 9", "country")):
        form = {"channels-requests": ["sms"], "phone": phone}
        page = ana.post("/notifications/preferences", form)
        assert page.status_code == 422, phone
        assert said in html(page) or "teléfono" in html(page) or "país" in html(page)
    assert db.session.query(NotificationPreference).count() == before
    ok = ana.post("/notifications/preferences",
                  {"channels-requests": ["inapp", "sms"], "phone": "+57 (300) 123-4567"})
    assert ok.status_code == 302
    db.session.rollback()
    assert user(REQUESTER).phone == "+573001234567"


def test_the_admin_rewrites_a_message_with_a_preview_and_the_sandbox_refuses_tricks(
        demo, browser, smtp_server):
    admin = browser(ADMIN)
    page = html(admin.get("/admin/notifications/templates/request.authorized/es"))
    assert "fue autorizada" in page
    form = {"subject": "Aprobada: {{ request_number }}",
            "text": "Hola {{ recipient_name|upper }}, {{ actor_name }} dijo sí.", "html": "",
            "sms": "{{ request_number }} ok"}
    shown = html(admin.post("/admin/notifications/templates/request.authorized/es",
                            {**form, "action": "preview"}))
    assert "Aprobada: SOL-2026-000042" in shown
    assert db.session.query(NotificationTemplate).count() == 0  # a preview saves nothing
    for trick in ("{{ ''.__class__ }}", "{{ request_title.__class__.__mro__ }}",
                  "{% for i in range(99999) %}x{% endfor %}", "{{ comment * 99999 }}",
                  "{{ lipsum() }}", "{{ cycler }}", "{% include 'base.html' %}",
                  "{{ request_title|attr('upper') }}", "{{ config }}"):
        refused = admin.post("/admin/notifications/templates/request.authorized/es",
                             {**form, "text": trick, "action": "save"})
        assert refused.status_code == 422, trick
    assert db.session.query(NotificationTemplate).count() == 0
    assert admin.post("/admin/notifications/templates/request.authorized/es",
                      {**form, "action": "save"}).status_code == 302
    req = file(REQUESTER)
    workflow.complete(user(HEAD), open_task(req, "Task_Authorize"), "authorize",
                      {"decision": "authorize"})
    db.session.commit()
    from app.services.background import deliver_messages

    deliver_messages(limit=100)
    (mail,) = [m for m in smtp_server.to(REQUESTER)]
    assert str(mail["Subject"]) == f"Aprobada: {req.number}"
    assert "Hola ANA GÓMEZ, Julia Ríos (Jefa de Finanzas) dijo sí." in \
        mail.get_body(("plain",)).get_content()


def test_only_the_tenant_admin_reaches_the_admin_pages(demo, browser):
    for email in (REQUESTER, HEAD, "director@acme.test", "admin@globex.test"):
        if email == "admin@globex.test":
            continue
        assert browser(email).get("/admin/notifications").status_code == 404
    admin = browser(ADMIN)
    for url in ("/admin/notifications", "/admin/notifications/log",
                "/admin/notifications/templates/task.waiting/en"):
        assert admin.get(url).status_code == 200, url
    assert admin.get("/admin/notifications/templates/nothing.here/es").status_code == 404
    assert admin.get("/admin/notifications/templates/task.waiting/fr").status_code == 404


def test_the_log_shows_each_message_and_sends_again_what_was_not_sent(demo, browser, app,
                                                                    monkeypatch):
    req = file(REQUESTER)
    message = db.session.scalars(select(OutboxMessage).join(Notification).where(
        Notification.request_id == req.id)).first()
    assert message.status == "unsent"
    admin = browser(ADMIN)
    page = html(admin.get("/admin/notifications/log"))
    assert message.address in page and req.number in page
    # Not while e-mail is not configured: it would only end "not sent" again.
    refused = admin.post(f"/admin/notifications/log/{message.id}/resend", {"status": "unsent"})
    assert refused.status_code == 302 and refused.headers["Location"].endswith("status=unsent")
    db.session.rollback()
    assert db.session.get(OutboxMessage, message.id).status == "unsent"
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    assert admin.post(f"/admin/notifications/log/{message.id}/resend").status_code == 302
    db.session.rollback()
    message = db.session.get(OutboxMessage, message.id)
    assert (message.status, message.attempts) == ("pending", 0)
    other = browser("director@globex.test")
    assert other.post(f"/admin/notifications/log/{message.id}/resend").status_code == 404
