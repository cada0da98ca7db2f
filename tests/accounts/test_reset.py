"""Forgot password -> e-mail through a real SMTP server -> reset page -> new password; every
session ends and every token is revoked. Old links refused (used, expired, superseded,
unknown, malformed); the same answer, status and time whether or not an address exists;
requests beyond the limit dropped as silently; the API's twin endpoints."""

import time
from datetime import timedelta

import time_machine
from sqlalchemy import select

from app.accounts.models import AccountLink
from app.api import tokens_service
from app.extensions import db
from app.models import ApiToken, OutboxMessage, User, UserSession
from app.models.base import utcnow
from tests.accounts.conftest import GOOD, deliver, english, last_mail_to, link_in, text_of

ANA = "ana@acme.test"
SAID = ("If the address is an account's, a link to choose a new password is on its way "
        "there.")


def ask(client, email: str):
    client.get("/password/forgot")
    return client.post("/password/forgot", {"email": email})


def reset_link(browser, smtp_server, email=ANA) -> str:
    response = ask(browser(), email)
    assert response.status_code == 200
    deliver()
    return link_in(last_mail_to(smtp_server, email))


def test_reset_by_email_end_to_end(demo, smtp_server, browser):
    logged_in = browser(ANA)
    token_raw, _ = tokens_service.issue(demo.user(ANA), "script", 24)
    db.session.commit()
    login_page = browser().get("/login").get_data(as_text=True)
    assert "/password/forgot" in login_page

    path = reset_link(browser, smtp_server)
    message = last_mail_to(smtp_server, ANA)
    assert "Restablecer su contraseña" in str(message["Subject"])
    assert "Hola Ana Gómez" in text_of(message)

    person = browser()
    page = person.get(path)
    assert page.status_code == 200 and ANA in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    assert person.post(path, {"new_password": "corta", "new_password_again": "corta"}
                       ).status_code == 422
    done = person.post(path, {"new_password": GOOD, "new_password_again": GOOD})
    assert done.status_code == 302 and done.headers["Location"].endswith("/login")

    assert logged_in.get("/inbox").status_code == 302                 # every session ended
    db.session.rollback()
    assert db.session.scalar(select(UserSession).where(UserSession.ended_at.is_(None),
                                                       UserSession.user_id == demo.user(ANA).id)
                             ) is None
    assert tokens_service.authenticate(token_raw) is None              # tokens revoked
    browser().login(ANA, GOOD)
    again = english(browser()).get(path)                                        # used once
    assert again.status_code == 410 and "used already" in again.get_data(as_text=True)
    assert "/password/forgot" in again.get_data(as_text=True)          # offers a new one


def test_expired_superseded_unknown_and_malformed_links(demo, smtp_server, browser, app):
    first = reset_link(browser, smtp_server)
    minutes = app.config["RESET_LINK_MINUTES"]
    with time_machine.travel(utcnow() + timedelta(minutes=minutes + 1), tick=False):
        page = english(browser()).get(first)
        assert page.status_code == 410 and "expired" in page.get_data(as_text=True)
    assert english(browser()).get(first).status_code == 200  # still within its time
    second = reset_link(browser, smtp_server)
    assert second != first
    page = english(browser()).get(first)
    assert page.status_code == 410 and "newer link" in page.get_data(as_text=True)
    refused = browser().post(first, {"new_password": GOOD, "new_password_again": GOOD})
    assert refused.status_code == 410
    assert english(browser()).get(second).status_code == 200
    for bad in ("/password/reset/" + "x" * 43, "/password/reset/short",
                "/password/reset/" + "%00" * 10, "/password/reset/" + "a" * 300):
        response = english(browser()).get(bad)
        assert response.status_code in (400, 404), bad
    db.session.rollback()
    assert demo.user(ANA).check_password("demo1234")                   # nothing changed


def test_no_enumeration_same_answer_status_and_time(demo, smtp_server, browser):
    answers = {}
    for email in (ANA, "nadie@acme.test"):
        client = browser()
        client.get("/password/forgot")
        started = time.perf_counter()
        response = client.post("/password/forgot", {"email": email})
        answers[email] = (response.status_code, time.perf_counter() - started,
                          response.get_data(as_text=True).replace(email, "EMAIL"))
    (known_status, known_time, known_body), (unknown_status, unknown_time, unknown_body) = (
        answers[ANA], answers["nadie@acme.test"])
    assert known_status == unknown_status == 200
    assert _without_csrf(known_body) == _without_csrf(unknown_body)
    assert known_time >= 0.05 and unknown_time >= 0.05                  # the floor applies
    deliver()
    assert len(smtp_server.to(ANA)) == 1 and smtp_server.to("nadie@acme.test") == []


def _without_csrf(body: str) -> str:
    import re

    return re.sub(r'value="[^"]*"', "", body)


def test_a_deactivated_person_or_unknown_address_gets_no_mail_and_throttling_is_silent(
        demo, smtp_server, browser):
    luis = demo.user("luis@acme.test")
    luis.active = False
    db.session.commit()
    assert ask(browser(), "luis@acme.test").status_code == 200
    for _ in range(5):                                                 # 3 per e-mail allowed
        assert ask(browser(), ANA).status_code == 200
    deliver()
    assert smtp_server.to("luis@acme.test") == []
    db.session.rollback()
    issued = db.session.scalars(select(AccountLink).where(
        AccountLink.user_id == demo.user(ANA).id)).all()
    assert len(issued) == 3                       # the 4th and 5th requests were dropped
    assert len(smtp_server.to(ANA)) == 1          # and only the newest link is mailed
    db.session.rollback()
    assert db.session.scalar(select(OutboxMessage).where(
        OutboxMessage.address == "luis@acme.test", OutboxMessage.event == "account.reset")
    ) is None


def test_api_reset_request_and_confirm(demo, smtp_server, client):
    for email in (ANA, "nadie@acme.test", "not an address"):
        response = client.post("/api/v1/password-resets", json={"email": email})
        assert response.status_code == 202
        assert response.get_json() == {"detail": SAID}
    assert client.post("/api/v1/password-resets", json={}).status_code == 422
    deliver()
    token = link_in(last_mail_to(smtp_server, ANA)).rsplit("/", 1)[1]
    weak = client.post("/api/v1/password-resets/confirm",
                       json={"token": token, "new_password": "password123"})
    assert weak.status_code == 422 and "new_password" in weak.get_json()["errors"]
    ok = client.post("/api/v1/password-resets/confirm", json={"token": token,
                                                              "new_password": GOOD})
    assert ok.status_code == 204
    used = client.post("/api/v1/password-resets/confirm", json={"token": token,
                                                                "new_password": GOOD})
    assert used.status_code == 410 and "used" in used.get_json()["detail"]
    unknown = client.post("/api/v1/password-resets/confirm",
                          json={"token": "A" * 43, "new_password": GOOD})
    assert unknown.status_code == 404
    malformed = client.post("/api/v1/password-resets/confirm",
                            json={"token": "../../etc", "new_password": GOOD})
    assert malformed.status_code == 404
    login = client.post("/api/v1/tokens", json={"email": ANA, "password": GOOD})
    assert login.status_code == 201
    db.session.rollback()
    assert db.session.scalar(select(User.password_hash).where(User.email == ANA)
                             ).startswith("$argon2id$")
    assert db.session.query(ApiToken).count() == 1
