"""The request page's live diagram: the JSON behind it, who may read it, and the page's hooks."""

import json
import re
from datetime import UTC, datetime

import pytest
import time_machine

from app.extensions import db
from app.services import workflow
from tests.factories import file, open_task, request_at, user, work_in_both_tenants
from tests.views.helpers import html

CONFIG_RE = re.compile(
    r'<script type="application/json" id="viewer-config">(.*?)</script>', re.S)


def diagram(client, req_id):
    response = client.get(f"/requests/{req_id}/diagram.json")
    assert response.status_code == 200, response.status_code
    assert response.headers["Cache-Control"] == "no-store"
    return response.get_json()


def test_the_json_has_the_version_path_current_step_and_who_did_what(demo, browser):
    req, _ = request_at("Task_Assign")
    body = diagram(browser("ana@acme.test"), req.id)
    assert set(body) == {"xml", "version", "completed", "flows", "stopped", "current", "steps"}
    assert body["xml"].startswith("<?xml") and 'id="Task_Assign"' in body["xml"]
    assert body["version"] == 1
    assert body["completed"][:2] == ["Start_Filed", "Gateway_NeedsAuthorization"]
    assert {"Task_Authorize", "Task_Evaluate"} <= set(body["completed"])
    assert {"Flow_Authorized", "Flow_Approve"} <= set(body["flows"])
    assert body["stopped"] == []
    (current,) = body["current"]
    assert current["name"] in ("Asignar trabajador", "Assign worker")  # in the viewer's language
    assert current == {"id": "Task_Assign", "name": current["name"],
                       "waiting_on": [user("director@acme.test").name], "taken_by": None}
    (authorized,) = body["steps"]["Task_Authorize"]
    assert authorized["by"] == user("jefe.finanzas@acme.test").name
    assert datetime.fromisoformat(authorized["at"]).tzinfo is not None
    assert authorized["when"] and authorized["when"] != authorized["at"]


def test_a_step_several_people_share_says_who_took_it(demo, browser):
    req = file()
    task = open_task(req, "Task_Authorize")
    workflow.claim(user("jefe.finanzas@acme.test"), task)
    db.session.commit()
    (step,) = diagram(browser("ana@acme.test"), req.id)["current"]
    assert step["taken_by"] == user("jefe.finanzas@acme.test").name


def test_dates_follow_the_viewers_language(demo, browser):
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), tick=False):
        req, _ = request_at("Task_Evaluate")
    client = browser("ana@acme.test")
    client.post("/language", {"code": "en", "next": "/"})
    (english,) = diagram(client, req.id)["steps"]["Task_Authorize"]
    client.post("/language", {"code": "es", "next": "/"})
    (spanish,) = diagram(client, req.id)["steps"]["Task_Authorize"]
    assert english["at"] == spanish["at"] == "2026-03-02T09:00:00+00:00"
    # In the company's time zone (acme: America/Bogota, UTC-5), as every page shows times
    assert (english["when"], spanish["when"]) == ("2 Mar 2026, 04:00", "2 mar 2026, 04:00")


@pytest.mark.parametrize("email", ["ana@acme.test", "jefe.finanzas@acme.test",
                                   "director@acme.test", "tecnico1@acme.test"])
def test_everyone_who_sees_the_request_sees_its_diagram(demo, browser, email):
    req, _ = request_at("Task_Work")
    assert diagram(browser(email), req.id)["current"][0]["id"] == "Task_Work"


OUTSIDERS = [
    ("ana@acme.test", "globex"),            # another tenant
    ("director@globex.test", "acme"),
    ("maria@acme.test", "acme"),             # a requester of another unit
    ("jefe.produccion@acme.test", "acme"),   # the head of another unit
    ("luis@acme.test", "acme"),              # same unit, not his request
]


@pytest.mark.parametrize("email,tenant", OUTSIDERS)
def test_outsiders_get_404(demo, browser, email, tenant):
    targets = work_in_both_tenants()
    client = browser(email)
    response = client.get(f"/requests/{targets[tenant]['req']}/diagram.json")
    assert response.status_code == 404
    assert b"<bpmn" not in response.data


def test_unknown_ids_and_anonymous_visitors(demo, browser):
    req = file()
    assert browser("ana@acme.test").get("/requests/999999/diagram.json").status_code == 404
    assert browser("ana@acme.test").get(
        "/requests/99999999999/diagram.json").status_code == 404
    anonymous = browser().get(f"/requests/{req.id}/diagram.json")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_the_page_carries_the_viewer_its_labels_and_the_script(demo, browser):
    req = file()
    response = browser("ana@acme.test").get(f"/requests/{req.id}")
    page = html(response)
    assert f'data-url="/requests/{req.id}/diagram.json"' in page
    assert 'id="diagram-viewer"' in page
    assert 'src="/static/dist/viewer.js"' in page
    for sheet in ("dist/diagram-js.css", "dist/bpmn-js.css", "viewer.css"):
        assert f'href="/static/{sheet}"' in page
    config = json.loads(CONFIG_RE.search(page).group(1))
    labels = config["labels"]
    assert set(labels) == {"waitingFor", "takenBy", "stopped", "earlier", "loadError",
                           "tools", "zoomIn", "zoomOut", "fit", "fullScreen", "close"}
    assert "%(name)s" in labels["takenBy"] and "%(count)s" in labels["earlier"]
    # The page opts in to its own scripts; nothing inline runs.
    csp = response.headers["Content-Security-Policy"]
    script_src = re.search(r"script-src ([^;]*)", csp).group(1)
    assert script_src.split() == ["'self'"]
    # Without scripts the page still says where the request stands and shows its history.
    assert "<noscript>" in page and 'id="history"' in page


def test_other_pages_keep_scripts_off(demo, browser):
    response = browser("ana@acme.test").get("/requests")
    assert "script-src 'none'" in response.headers["Content-Security-Policy"]
