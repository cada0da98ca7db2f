"""The survey page speaks the requester's language, as their e-mails do (their own language,
else the company's), whoever opens the link and whatever language the visitor chose: the form,
its errors, the thanks and the pages of a used link."""

import pytest

from app.extensions import db
from app.models import Tenant
from app.models.base import utcnow
from app.survey import tokens
from tests.factories import user
from tests.survey.helpers import REQUESTER, finished_request

PAGES = {
    "en": {"form": "How was the service?", "error": "Must be between 1 and 5.",
           "done": "Thank you", "used": "This link cannot be used"},
    "es": {"form": "¿Cómo fue el servicio?", "error": "Debe estar entre 1 y 5.",
           "done": "Gracias", "used": "Este enlace no se puede usar"},
}


def _path(req, task) -> str:
    return "/survey/" + tokens.make(req.tenant_id, req.id, task.id, utcnow())


def _requester_speaks(locale: str | None, company: str = "es") -> None:
    person = user(REQUESTER)
    person.locale = locale
    db.session.get(Tenant, person.tenant_id).locale = company
    db.session.commit()


@pytest.mark.parametrize(("own", "company", "expected"), [
    ("en", "es", "en"), ("es", "en", "es"), (None, "en", "en"), (None, "es", "es")])
def test_the_page_its_errors_and_thanks_are_in_the_requesters_language(
        demo, browser, own, company, expected):
    _requester_speaks(own, company)
    req, task = finished_request()
    path = _path(req, task)
    visitor = browser()
    other = "es" if expected == "en" else "en"
    visitor.post("/language", {"code": other})  # the visitor's own choice does not matter
    page = visitor.get(path).get_data(as_text=True)
    words = PAGES[expected]
    assert words["form"] in page and PAGES[other]["form"] not in page
    assert f'<html lang="{expected}">' in page
    refused = visitor.post(path, {"rating": "9"})
    assert refused.status_code == 422
    assert words["error"] in refused.get_data(as_text=True)
    done = visitor.post(path, {"rating": "5"})
    assert done.status_code == 200 and words["done"] in done.get_data(as_text=True)
    used = visitor.get(path)
    assert used.status_code == 410 and words["used"] in used.get_data(as_text=True)


def test_a_link_we_did_not_make_stays_in_the_default_language(demo, browser):
    _requester_speaks("en")
    page = browser().get("/survey/not-a-token")
    assert page.status_code == 404
    assert PAGES["es"]["used"] in page.get_data(as_text=True)
