"""Invite -> e-mail through a real SMTP server -> follow its link -> choose a password ->
logged in; then log in with it. The invitation's wording in the person's language; the link
works once; an older invitation ends with a newer one."""

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from sqlalchemy import select

from app.accounts import invitations, links
from app.accounts.models import AccountLink
from app.extensions import db
from app.models import OutboxMessage, User, UserSession
from app.models.base import utcnow
from tests.accounts.conftest import GOOD, deliver, english, html_of, last_mail_to, link_in, text_of


def path_of(url: str) -> str:
    return urlsplit(url).path


def invite(person_email: str, by: str = "admin@acme.test", **kwargs) -> str:
    person = db.session.scalar(select(User).where(User.email == person_email))
    admin = db.session.scalar(select(User).where(User.email == by))
    url = invitations.invite(person, admin, **kwargs)
    db.session.commit()
    return url


def test_invite_by_email_then_set_password_then_log_in(newcomer, smtp_server, browser):
    assert not invitations.accepted(newcomer)
    url = invite("nueva@acme.test")
    assert url.startswith("http://mesa.test/account/welcome/")
    assert deliver() == 1
    message = last_mail_to(smtp_server, "nueva@acme.test")
    assert "le invita a Acme" in str(message["Subject"])
    body = text_of(message)
    assert "Hola Marta Nueva" in body and "Adrián Vela" in body      # who invited, in Spanish
    assert "Elegir mi contraseña" in html_of(message)
    path = link_in(message)
    assert url.endswith(path)

    person = browser()
    assert person.get("/login").status_code == 200
    page = person.get(path)
    assert page.status_code == 200 and "Marta Nueva" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    weak = person.post(path, {"new_password": "12345", "new_password_again": "12345"})
    assert weak.status_code == 422
    mismatch = person.post(path, {"new_password": GOOD, "new_password_again": GOOD + "x"})
    assert mismatch.status_code == 422
    done = person.post(path, {"new_password": GOOD, "new_password_again": GOOD})
    assert done.status_code == 302
    assert person.get("/inbox").status_code == 200            # logged in, by a server session
    db.session.expire_all()
    newcomer = db.session.scalar(select(User).where(User.email == "nueva@acme.test"))
    assert invitations.accepted(newcomer)
    assert newcomer.password_hash.startswith("$argon2id$")
    assert db.session.scalar(select(UserSession).where(UserSession.user_id == newcomer.id))

    again = english(browser()).get(path)                                 # the link worked once
    assert again.status_code == 410 and "used" in again.get_data(as_text=True)
    browser().login("nueva@acme.test", GOOD)                   # the password logs in


def test_english_invitation_names_the_operators_when_no_one_of_the_tenant_invited(
        newcomer, smtp_server):
    newcomer.locale = "en"
    db.session.commit()
    person = db.session.get(User, newcomer.id)
    invitations.invite(person, None, actor_label="The platform operators")
    db.session.commit()
    deliver()
    message = last_mail_to(smtp_server, "nueva@acme.test")
    assert str(message["Subject"]) == "The platform operators invites you to Acme Industrial S.A."
    assert "Hello Marta Nueva" in text_of(message)


def test_a_new_invitation_ends_the_older_one_and_an_accepted_person_is_not_invited(
        newcomer, smtp_server, browser):
    first = invite("nueva@acme.test")
    second = invite("nueva@acme.test")
    old_path, new_path = path_of(first), path_of(second)
    page = english(browser()).get(old_path)
    assert page.status_code == 410 and "newer link" in page.get_data(as_text=True)
    assert deliver() >= 2
    # the superseded invitation's e-mail is not sent with a dead link
    statuses = db.session.scalars(select(OutboxMessage.status).where(
        OutboxMessage.event == "account.invite").order_by(OutboxMessage.id)).all()
    assert statuses == ["unsent", "delivered"]
    assert new_path in text_of(last_mail_to(smtp_server, "nueva@acme.test"))
    db.session.rollback()  # the pages write next: end this test's read
    assert browser().post(new_path, {"new_password": GOOD, "new_password_again": GOOD}
                          ).status_code == 302
    db.session.rollback()
    person = db.session.scalar(select(User).where(User.email == "nueva@acme.test"))
    with pytest.raises(invitations.AlreadyAccepted):
        invitations.invite(person, db.session.scalar(
            select(User).where(User.email == "admin@acme.test")))


def test_an_expired_invitation_is_refused(newcomer, browser, app):
    path = path_of(invite("nueva@acme.test"))
    hours = app.config["INVITE_LINK_HOURS"]
    with time_machine.travel(utcnow() + timedelta(hours=hours, minutes=1), tick=False):
        page = english(browser()).get(path)
        assert page.status_code == 410 and "expired" in page.get_data(as_text=True)
        refused = browser().post(path, {"new_password": GOOD, "new_password_again": GOOD})
        assert refused.status_code == 410
    with time_machine.travel(utcnow() + timedelta(hours=hours - 1), tick=False):
        assert english(browser()).get(path).status_code == 200


def test_unknown_malformed_and_other_purposes_links(newcomer, browser):
    path = path_of(invite("nueva@acme.test"))
    token = path.rsplit("/", 1)[1]
    client = browser()
    assert client.get("/account/welcome/" + "A" * 43).status_code == 404       # unknown
    assert client.get("/account/welcome/short").status_code == 404            # malformed
    assert client.get("/account/welcome/" + token + "x").status_code == 404
    assert client.get("/password/reset/" + token).status_code == 404           # not a reset
    # the token is kept only as its SHA-256
    stored = db.session.scalar(select(AccountLink))
    assert token not in stored.token_hash and len(stored.token_hash) == 64


def test_a_deactivated_persons_invitation_does_not_open(newcomer, browser, smtp_server):
    path = path_of(invite("nueva@acme.test"))
    person = db.session.get(User, newcomer.id)
    person.active = False
    db.session.commit()
    assert english(browser()).get(path).status_code == 404
    assert deliver() == 1
    assert smtp_server.to("nueva@acme.test") == []                # not sent to them either


def test_an_invitation_crosses_no_tenant(newcomer, demo):
    other_admin = demo.user("director@globex.test")
    with pytest.raises(ValueError):
        invitations.invite(db.session.get(User, newcomer.id), other_admin)


def test_invitation_links_are_found_by_their_own_purpose_only(newcomer, app):
    url = invite("nueva@acme.test")
    token = url.rsplit("/", 1)[1]
    with app.test_request_context():
        link, why = links.find(token, "invite")
        assert why is None and link.user_id == newcomer.id
        assert links.find(token, "reset") == (None, links.UNKNOWN)
