"""Hashes (argon2id; werkzeug's upgraded at login, by the form and by POST /api/v1/tokens;
UNUSABLE never matches), the rules of a new password, and the secrecy of links: the token is
nowhere in the database, the outbox, the admin's message log and API, nor the request log.
The pages render (200) and refuse a POST without its CSRF token."""

import json
import logging

import pytest
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from app.accounts import invitations, passwords
from app.extensions import db
from app.models import OutboxMessage, User
from tests.accounts.conftest import GOOD, deliver, last_mail_to, link_in

ANA = "ana@acme.test"


def hash_of(email: str) -> str:
    db.session.rollback()
    return db.session.scalar(select(User.password_hash).where(User.email == email))


@pytest.mark.parametrize("method", ["scrypt", "pbkdf2:sha256"])
def test_an_old_werkzeug_hash_is_upgraded_at_login(demo, browser, method):
    ana = demo.user(ANA)
    ana.password_hash = generate_password_hash("demo1234", method=method)
    db.session.commit()
    assert not browser().post("/login", {"email": ANA, "password": "wrong"}).status_code == 302
    assert hash_of(ANA).startswith(method.split(":")[0])              # a failure changes nothing
    browser(ANA)
    upgraded = hash_of(ANA)
    assert upgraded.startswith("$argon2id$")
    browser(ANA)                                                      # it still logs in
    assert hash_of(ANA) == upgraded                                   # and is not rewritten again


def test_the_token_login_upgrades_too_and_a_weaker_argon2_cost_is_raised(demo, client, app,
                                                                          monkeypatch):
    ana = demo.user(ANA)
    ana.password_hash = generate_password_hash("demo1234", method="pbkdf2:sha256")
    db.session.commit()
    assert client.post("/api/v1/tokens", json={"email": ANA, "password": "demo1234"}
                       ).status_code == 201
    first = hash_of(ANA)
    assert first.startswith("$argon2id$") and "m=256,t=1,p=1" in first
    monkeypatch.setitem(app.config, "PASSWORD_HASH_TIME_COST", 2)
    assert client.post("/api/v1/tokens", json={"email": ANA, "password": "demo1234"}
                       ).status_code == 201
    assert "m=256,t=2,p=1" in hash_of(ANA)


def test_hashing_and_the_unusable_hash(app):
    with app.test_request_context():
        stored = passwords.hash_password(GOOD)
        assert stored.startswith("$argon2id$") and stored != passwords.hash_password(GOOD)
        assert passwords.verify(stored, GOOD) and not passwords.verify(stored, GOOD + " ")
        assert not passwords.verify(passwords.UNUSABLE, "")
        assert not passwords.verify(passwords.UNUSABLE, "!")
        assert not passwords.verify("", "")
        assert not passwords.verify("$argon2id$garbage", GOOD)
        assert not passwords.needs_rehash(passwords.UNUSABLE)
        assert passwords.needs_rehash(generate_password_hash("x"))
        assert not passwords.needs_rehash(stored)


def test_an_invited_person_cannot_log_in_before_choosing_a_password(newcomer, browser):
    for password in ("", "!", passwords.UNUSABLE, "demo1234"):
        response = browser().post("/login", {"email": "nueva@acme.test", "password": password})
        assert response.status_code in (400, 401), password


@pytest.mark.parametrize("password, email, name, ok", [
    ("caballo bateria grapa", "a@b.co", "Ana", True),
    ("short", "a@b.co", "Ana", False),
    ("x" * 9, "a@b.co", "Ana", False),
    ("x" * 10, "a@b.co", "Ana", True),
    ("x" * 1024, "a@b.co", "Ana", True),
    ("x" * 1025, "a@b.co", "Ana", False),
    ("1234567890", "a@b.co", "Ana", False),
    ("Password123", "a@b.co", "Ana", False),
    ("dragon2024!!", "a@b.co", "Ana", False),
    ("juliarios@acme.test", "juliarios@acme.test", "Julia", False),
    ("Julia.Rios.1990", "j@acme.test", "Julia Ríos", False),
    ("juliarios1", "juliarios@acme.test", "X", False),
    ("rios y montañas claras", "j@acme.test", "Julia Ríos", True),
])
def test_the_rules_of_a_new_password(app, password, email, name, ok):
    with app.test_request_context():
        assert (passwords.problems(password, email=email, name=name) == []) is ok


def test_the_common_list_is_zxcvbns(app):
    with app.test_request_context():
        common = passwords.common_passwords()
        assert len(common) > 20000 and "qwertyuiop" in common and "password" in common


def test_an_admin_never_sees_a_link(newcomer, demo, smtp_server, browser, client, app, caplog,
                                    monkeypatch):
    admin = demo.user("admin@acme.test")
    url = invitations.invite(db.session.get(User, newcomer.id), admin)
    db.session.commit()
    token = url.rsplit("/", 1)[1]
    message = db.session.scalar(select(OutboxMessage).where(
        OutboxMessage.event == "account.invite"))
    stored = json.dumps(message.payload) + (message.address or "") + (message.last_error or "")
    assert token not in stored                                         # not in the outbox
    for row in db.session.execute(select(User.__table__.c.password_hash)):
        assert token not in row[0]
    deliver()
    assert link_in(last_mail_to(smtp_server, "nueva@acme.test")).endswith(token)  # mailed

    admin_page = browser("admin@acme.test")
    for status in ("", "delivered"):
        log = admin_page.get(f"/admin/notifications/log?status={status}")
        assert log.status_code == 200
        body = log.get_data(as_text=True)
        assert "nueva@acme.test" in body and token not in body
    api_token = client.post("/api/v1/tokens", json={"email": "admin@acme.test",
                                                    "password": "demo1234"}).get_json()["token"]
    for path in ("/api/v1/notifications", "/api/v1/me", "/api/v1/admin/people"):
        answer = client.get(path, headers={"Authorization": f"Bearer {api_token}"})
        assert token not in answer.get_data(as_text=True), path

    # opening the link: the JSON request log names the page without the token
    monkeypatch.setitem(app.config, "LOG_FORMAT", "json")
    # (the migrations' logging.config.fileConfig may have disabled the existing loggers)
    monkeypatch.setattr(logging.getLogger("mesa.request"), "disabled", False)
    with caplog.at_level(logging.INFO, logger="mesa.request"):
        assert browser().get(f"/account/welcome/{token}").status_code == 200
    assert "/account/welcome/<token>" in caplog.text and token not in caplog.text


def test_pages_render_and_refuse_posts_without_csrf(newcomer, demo, browser, app):
    url = invitations.invite(db.session.get(User, newcomer.id), demo.user("admin@acme.test"))
    db.session.commit()
    welcome = "/account/welcome/" + url.rsplit("/", 1)[1]
    phone = {"User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Mobile"}
    anonymous = browser()
    for path in ("/login", "/password/forgot", welcome):
        page = anonymous.get(path, headers=phone)
        assert page.status_code == 200, path
        assert 'name="viewport"' in page.get_data(as_text=True)
    ana = browser(ANA)
    for path in ("/account/password", "/account/sessions"):
        assert ana.get(path, headers=phone).status_code == 200, path
    with app.app_context():
        raw = app.test_client()
        assert raw.post("/password/forgot", data={"email": ANA}).status_code == 400
        assert raw.post(welcome, data={"new_password": GOOD,
                                       "new_password_again": GOOD}).status_code == 400
    with app.app_context():
        for path, data in (("/account/password", {"current_password": "demo1234",
                                                  "new_password": GOOD,
                                                  "new_password_again": GOOD}),
                           ("/account/logout-everywhere", {})):
            assert ana.client.post(path, data=data).status_code == 400, path
    assert ana.get("/inbox").status_code == 200                        # nothing happened
    db.session.rollback()
    assert demo.user(ANA).check_password("demo1234")
    assert not invitations.accepted(db.session.get(User, newcomer.id))
