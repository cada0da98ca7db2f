"""The satisfaction survey link: the finish's e-mail carries it; without logging in it shows
only the request's number and title, and its answer confirms and rates the service as the
requester through the normal completion path (history, SLA, the indicators' satisfaction).
It cannot be used twice (one after the other, or two posts at once), for another request or
task, after it expired, altered, or once the requester answered in the app: a clear page, and
nothing changed."""

import threading
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from app.extensions import db
from app.models import HistoryEvent, Tenant
from app.models.base import utcnow
from app.services import workflow
from app.survey import tokens
from tests.factories import user
from tests.survey.helpers import (
    REQUESTER,
    finished_request,
    reload,
    survey_path,
    task_of,
)

ADMIN = "admin@acme.test"


def _answer(browser, path, rating="4", comment="Muy bien, gracias"):
    """An anonymous visitor opens the link (a session with its CSRF token) and answers."""
    visitor = browser()
    page = visitor.get(path)
    return page, visitor.post(path, {"rating": rating, "comment": comment})


def test_the_emailed_link_confirms_and_rates_as_the_requester(demo, smtp_server, browser, api):
    req, task = finished_request()
    path = survey_path(smtp_server, req)
    visitor = browser()
    page = visitor.get(path)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert req.number in html and req.title in html
    for secret in (req.description, "Tomás Herrera", "Listo", req.requester.name):
        assert secret not in html  # only the number and the title
    assert html.count('type="radio" name="rating"') == 5
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    done = visitor.post(path, {"rating": "4", "comment": "Muy bien, gracias"})
    assert done.status_code == 200, done.get_data(as_text=True)
    assert req.number in done.get_data(as_text=True)
    stored = reload(req.id)
    assert (stored.rating, stored.rating_comment) == (4, "Muy bien, gracias")
    assert stored.confirmed_at is not None and stored.closed_at is not None
    confirm = task_of(req.id)
    assert confirm.status == "completed"
    assert confirm.completed_by_id == user(REQUESTER).id
    event = db.session.scalar(select(HistoryEvent).where(
        HistoryEvent.request_id == req.id, HistoryEvent.action == "confirm"))
    assert event.actor_id == user(REQUESTER).id
    assert event.changes["rating"] == 4 and event.comment == "Muy bien, gracias"
    # the indicators' satisfaction counts it
    satisfaction = api(ADMIN).get("/api/v1/indicators").json["satisfaction"]
    assert satisfaction["rated"] >= 1
    assert {"number": req.number, "rating": 4} in [
        {"number": c["number"], "rating": c["rating"]} for c in satisfaction["comments"]]
    # used once: the second time (the same visitor, or anyone) a clear page, nothing changed
    again = visitor.post(path, {"rating": "1", "comment": "otra vez"})
    assert again.status_code == 410
    assert browser().get(path).status_code == 410
    assert reload(req.id).rating == 4


def test_the_form_keeps_csrf_and_refuses_a_bad_rating(demo, smtp_server, browser):
    req, _task = finished_request()
    path = survey_path(smtp_server, req)
    visitor = browser()
    visitor.get(path)
    with visitor.app.app_context():
        no_token = visitor.client.post(path, data={"rating": "5"})
    assert no_token.status_code == 400
    bad = visitor.post(path, {"rating": "9"})
    assert bad.status_code == 422
    assert 'aria-invalid' in bad.get_data(as_text=True) or "rating" in bad.get_data(as_text=True)
    assert task_of(req.id).status == "open" and reload(req.id).rating is None
    assert visitor.post(path, {"rating": "5"}).status_code == 200


def test_two_answers_at_once_complete_the_task_once(app, demo, smtp_server, browser):
    req, _task = finished_request()
    path = survey_path(smtp_server, req)
    visitors = [browser(), browser()]
    for v in visitors:
        v.get(path)
    barrier, codes = threading.Barrier(2), [None, None]

    def answer(index, rating):
        barrier.wait()
        codes[index] = visitors[index].post(path, {"rating": rating}).status_code

    threads = [threading.Thread(target=answer, args=(i, str(i + 2))) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(codes) == [200, 410]
    stored = reload(req.id)
    assert stored.rating in (2, 3)
    confirms = db.session.scalars(select(HistoryEvent).where(
        HistoryEvent.request_id == req.id, HistoryEvent.action == "confirm")).all()
    assert len(confirms) == 1


def test_answered_in_the_app_first_the_link_is_used(demo, smtp_server, browser):
    req, task = finished_request()
    path = survey_path(smtp_server, req)
    workflow.complete(user(REQUESTER), task_of(req.id), "confirm", {"rating": "5"})
    db.session.commit()
    page, answer = _answer(browser, path, rating="1")
    assert page.status_code == 410 and answer.status_code == 410
    assert req.number not in page.get_data(as_text=True)
    assert reload(req.id).rating == 5


def test_not_solved_in_the_app_ends_the_link_too(demo, smtp_server, browser):
    req, task = finished_request()
    path = survey_path(smtp_server, req)
    workflow.complete(user(REQUESTER), task_of(req.id), "reopen", {"reason": "Sigue fallando"})
    db.session.commit()
    assert browser().get(path).status_code == 410


def test_the_link_expires_after_the_companys_days(demo, smtp_server, browser):
    req, _task = finished_request()
    path = survey_path(smtp_server, req)
    later = utcnow() + timedelta(days=7, minutes=1)
    with time_machine.travel(later, tick=False):
        page, answer = _answer(browser, path)
        assert page.status_code == 410 and answer.status_code == 410
        assert req.number not in page.get_data(as_text=True)
    assert task_of(req.id).status == "open" and reload(req.id).rating is None
    # a company that gives its links 30 days: the same link works then
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == "acme"))
    tenant.settings = {**(tenant.settings or {}), "survey_link_days": 30}
    db.session.commit()
    with time_machine.travel(later, tick=False):
        page, answer = _answer(browser, path)
        assert (page.status_code, answer.status_code) == (200, 200)
    assert reload(req.id).rating == 4


def test_a_link_for_another_request_or_task_or_company_finds_nothing(demo, smtp_server,
                                                                     browser):
    req, confirm = finished_request()
    other, other_task = finished_request()
    acme = req.tenant_id
    globex = db.session.scalar(select(Tenant.id).where(Tenant.slug == "globex"))
    now = utcnow()
    with browser().app.test_request_context():
        forged = [
            tokens.make(acme, other.id, confirm.id, now),  # this task, another request
            tokens.make(acme, req.id, other_task.id, now),  # another request's task
            tokens.make(globex, req.id, confirm.id, now),  # another company
            tokens.make(acme, req.id, task_of(req.id, "Task_Authorize").id, now),  # not a confirm
            tokens.make(acme, req.id, 999999, now),
            tokens.make(acme, req.id, confirm.id, now + timedelta(days=1)),  # from the future
        ]
    for token in forged:
        page, answer = _answer(browser, f"/survey/{token}")
        assert (page.status_code, answer.status_code) == (404, 404), token
        text = page.get_data(as_text=True)
        assert req.number not in text and other.number not in text
    assert task_of(req.id).status == "open" and task_of(other.id).status == "open"


@pytest.mark.parametrize("mangle", [
    lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # the signature altered
    lambda t: t.replace(".", "x", 1),
    lambda t: t[:10],
    lambda t: "x" * 400,
    lambda t: "..",
    lambda t: t + "%00",
])
def test_an_altered_link_finds_nothing_and_changes_nothing(demo, smtp_server, browser, mangle):
    req, _task = finished_request()
    path = survey_path(smtp_server, req)
    token = path.removeprefix("/survey/")
    page, answer = _answer(browser, f"/survey/{mangle(token)}")
    assert page.status_code in (404, 400) and answer.status_code in (404, 400)
    assert req.number not in page.get_data(as_text=True)
    assert task_of(req.id).status == "open"


def test_another_companys_secret_does_not_sign_a_link(app, demo, smtp_server, browser,
                                                      monkeypatch):
    req, confirm = finished_request()
    with app.test_request_context():
        monkeypatch.setitem(app.config, "SECRET_KEY", "someone-else")
        token = tokens.make(req.tenant_id, req.id, confirm.id, utcnow())
        monkeypatch.setitem(app.config, "SECRET_KEY", "test-secret")
    assert browser().get(f"/survey/{token}").status_code == 404


def test_posts_are_bounded(demo, smtp_server, browser):
    req, _task = finished_request()
    path = survey_path(smtp_server, req)
    visitor = browser()
    visitor.get(path)
    codes = [visitor.post(path, {"rating": "0"}).status_code for _ in range(11)]
    assert codes[:10] == [422] * 10 and codes[10] == 429
    assert task_of(req.id).status == "open"


def test_only_the_confirmation_email_of_the_requester_has_a_link(demo, smtp_server):
    from app.services import background

    req, _task = finished_request()
    survey_path(smtp_server, req)  # the finish's has one (checked there)
    background.deliver_messages(limit=500)
    others = [m for m in smtp_server.messages if "terminada" not in str(m["Subject"])]
    assert others
    for message in others:
        assert "/survey/" not in message.get_body(("plain",)).get_content()


def test_the_company_sets_the_days_on_its_settings_page_and_api(demo, browser, api):
    admin = browser(ADMIN)
    page = admin.get("/admin/settings").get_data(as_text=True)
    assert 'name="survey_link_days"' in page and 'value="7"' in page
    client = api(ADMIN)
    assert client.get("/api/v1/admin/settings").json["survey_link_days"] == 7
    for bad in (0, 91, "siete", True, 3.5):
        refused = client.put("/api/v1/admin/settings", {"survey_link_days": bad})
        assert refused.status_code == 422, bad
    saved = client.put("/api/v1/admin/settings", {"survey_link_days": 14})
    assert saved.status_code == 200 and saved.json["survey_link_days"] == 14
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == "acme"))
    db.session.refresh(tenant)
    assert tenant.settings["survey_link_days"] == 14
    spec = client.get("/api/v1/openapi.json").json
    assert "survey_link_days" in spec["components"]["schemas"]["SettingsOut"]["properties"]
