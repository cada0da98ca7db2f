"""A tick sent by the task page's script (dist/checklist.js): the same POST with ``Accept:
application/json``, answered with the checklist to swap in (no reload, so the step's form keeps
what was typed), refusals as JSON messages to show beside the box; recorded in the history
exactly as a tick posted without a script. The page loads the script only for who may tick."""

import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import HistoryEvent, HumanTask
from tests.checklists.conftest import REPORTER, RESPONDERS, do, open_task, report_incident
from tests.factories import user

JSON = {"Accept": "application/json"}


def _tick(b, task_id, position, ticked="1", **extra):
    return b.post(f"/tasks/{task_id}/checklist/{position}", {"ticked": ticked, **extra},
                  headers=JSON)


def _history(req):
    db.session.rollback()
    return [(e.action, e.actor_id, e.step, e.changes) for e in db.session.scalars(
        select(HistoryEvent).where(HistoryEvent.request_id == req.id,
                                   HistoryEvent.action.like("checklist_%"))
        .order_by(HistoryEvent.id))]


def test_a_tick_sent_by_the_script_answers_the_checklist_to_swap_in(security, browser):
    req = report_incident(security)
    task = open_task(req, "Task_Triage")
    b = browser(RESPONDERS[0])
    answer = _tick(b, task.id, 2)
    assert answer.status_code == 200 and answer.is_json
    body = answer.json
    assert (body["position"], body["ticked"], body["progress"]) == (
        2, True, {"ticked": 1, "total": 4})
    item = re.search(r'<li id="item-2" class="(\w+)">(.*?)</li>', body["html"], re.S)
    assert item.group(1) == "ticked" and "Marcado por Tomás Herrera" in item.group(2)
    assert 'name="ticked" value="0"' in item.group(2)  # the next press unticks it
    assert "1 de 4 marcado." in body["html"]
    assert 'id="item-1" class="unticked"' in body["html"]
    untick = _tick(b, task.id, 2, ticked="0").json
    assert (untick["ticked"], untick["progress"]["ticked"]) == (False, 0)
    assert "0 de 4 marcados." in untick["html"]
    me = user(RESPONDERS[0]).id
    # the history says it exactly as for a tick posted without a script
    assert [(a, actor, changes["position"]) for a, actor, _step, changes in _history(req)] == [
        ("checklist_ticked", me, 2), ("checklist_unticked", me, 2)]
    plain = b.post(f"/tasks/{task.id}/checklist/3", {"ticked": "1"})  # no script: a page
    assert plain.status_code == 303 and plain.headers["Location"].endswith("#item-3")
    assert [a for a, *_ in _history(req)][-1] == "checklist_ticked"


def test_a_refused_tick_says_why_as_json(security, browser):
    req = report_incident(security)
    task = open_task(req, "Task_Triage")
    b = browser(RESPONDERS[0])
    b.get(f"/tasks/{task.id}")  # the page's token
    # someone else took the step meanwhile: not this person's to tick any more
    db.session.rollback()
    db.session.get(HumanTask, task.id).claimed_by_id = user(RESPONDERS[1]).id
    db.session.commit()
    refused = _tick(b, task.id, 1)
    assert refused.status_code == 403 and "otra persona" in refused.json["error"]
    db.session.rollback()
    db.session.get(HumanTask, task.id).claimed_by_id = None
    db.session.commit()
    missing = _tick(b, task.id, 9)
    assert missing.status_code == 404 and "ya no existe" in missing.json["error"]
    expired = _tick(b, task.id, 1, csrf_token="not-the-token")
    assert expired.status_code == 400 and "token de seguridad" in expired.json["error"]
    assert _history(req) == []
    do(req, "Task_Triage", {"severity": "low", "false_positive": "false"})
    closed = _tick(b, task.id, 1, ticked="0")
    assert closed.status_code == 409 and "cerrada" in closed.json["error"]
    assert [a for a, *_ in _history(req)] == ["checklist_ticked"] * 4  # the helper's, only


@pytest.mark.parametrize("position", [5, 31, 2**40])
def test_no_such_item_is_a_json_404(security, browser, position):
    req = report_incident(security)
    task = open_task(req, "Task_Triage")
    answer = _tick(browser(RESPONDERS[0]), task.id, position)
    assert answer.status_code == 404 and answer.json["error"]


def test_the_page_runs_the_script_only_for_who_may_tick(security, browser):
    req = report_incident(security)
    task = open_task(req, "Task_Triage")
    page = browser(RESPONDERS[0]).get(f"/tasks/{task.id}")
    html = page.get_data(as_text=True)
    assert '<script src="/static/dist/checklist.js" defer></script>' in html
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert "<noscript>" in html  # without a script: tick before filling in the form
    assert "onclick" not in html and "<script>" not in html  # nothing inline
    other = browser(REPORTER).get(f"/tasks/{task.id}")
    if other.status_code == 200:  # the reporter sees the step, but does not tick it
        assert "checklist.js" not in other.get_data(as_text=True)
        assert "script-src 'none'" in other.headers["Content-Security-Policy"]
