"""The accounts tests' real SMTP server on loopback, and helpers to read what it took."""

import re

import pytest

from app.accounts import passwords
from app.extensions import db
from app.models import User
from app.services import background
from tests.notifications import smtp_server as smtp

smtp_server = smtp.smtp_server
LINK_RE = re.compile(r"http://mesa\.test(/(?:account/welcome|password/reset)/[A-Za-z0-9_-]{43})")
GOOD = "caballo bateria grapa correcta"  # long, personal to nobody, not common


def english(browser):
    """``browser`` (a conftest Browser) reading the pages in English: the fragments these tests
    look for are the product's English source texts (the pages are Spanish first)."""
    browser.post("/language", {"code": "en", "next": "/login"})
    return browser


def deliver() -> int:
    return background.deliver_messages(limit=100)


def text_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def html_of(message) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def link_in(message) -> str:
    """The path of the one link the e-mail's text carries (the HTML carries the same)."""
    found = set(LINK_RE.findall(text_of(message)))
    assert len(found) == 1, found
    (path,) = found
    assert path in html_of(message)
    return path


def last_mail_to(server, email: str):
    received = server.to(email)
    assert received, f"no e-mail to {email}"
    return received[-1]


@pytest.fixture
def newcomer(demo):
    """A person of acme just created by its admin, without a password yet."""
    admin = demo.user("admin@acme.test")
    person = User(tenant_id=admin.tenant_id, email="nueva@acme.test", name="Marta Nueva",
                  password_hash=passwords.UNUSABLE, locale="es")
    db.session.add(person)
    db.session.commit()
    return person


class ApiClient:
    """A test client for the API (no cookies, no CSRF), each call in a fresh app context as in
    production (its own ``g`` and database session)."""

    def __init__(self, app):
        self.app = app
        self.client = app.test_client()

    def get(self, url, **kwargs):
        with self.app.app_context():
            return self.client.get(url, **kwargs)

    def post(self, url, **kwargs):
        with self.app.app_context():
            return self.client.post(url, **kwargs)


@pytest.fixture
def client(app):
    return ApiClient(app)
