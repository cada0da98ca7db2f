"""A request whose finished work waits for the requester's rating never reads as closed: not in
the requester's task list, not in the history line of the finish (nor of the confirmation or a
"not solved"), and the API says so in a read-only field while ``status`` stays ``completed``
(clients filter on it)."""

import re
from types import SimpleNamespace

import pytest

from app.labels import event_states
from tests.api.conftest import ApiClient
from tests.factories import request_at
from tests.views.helpers import html, open_task, reload

REQUESTER, DIRECTOR, WORKER = "ana@acme.test", "director@acme.test", "tecnico1@acme.test"


def transitions(page: str) -> list[str]:
    """The history's "Estado: ..." lines, oldest first as the page lists them."""
    found = re.findall(r'<div class="transition">(.*?)</div>', page, re.S)
    return [" ".join(line.split()) for line in found]


@pytest.fixture
def api_as(app):
    def make(email: str) -> ApiClient:
        client = ApiClient(app)
        response = client.post("/api/v1/tokens", {"email": email, "password": "demo1234"})
        assert response.status_code == 201, response.json
        client.token = response.json["token"]
        return client

    return make


def row_of(page: str, number: str) -> str:
    start = page.index(number)
    return page[page.rindex("<tr", 0, start):page.index("</tr>", start)]


def test_the_requesters_task_list_says_it_waits_for_her_confirmation(demo, browser):
    req, task = request_at("Task_Confirm")
    ana = browser(REQUESTER)
    row = row_of(html(ana.get("/inbox")), req.number)
    # The demo people read Spanish (the catalog is compiled by make test)
    assert "st-awaiting_confirmation" in row and "Pendiente de su confirmación" in row
    assert "Completada" not in row
    assert ana.post(f"/tasks/{task.id}", {"rating": "5"},
                    follow_redirects=False).status_code in (302, 303)
    assert req.number not in html(ana.get("/inbox"))  # confirmed: no task left


def test_history_lines_lead_to_and_from_waiting_for_confirmation(demo, browser):
    req, task = request_at("Task_Confirm")
    director = browser(DIRECTOR)
    lines = transitions(html(director.get(f"/requests/{req.id}")))
    assert lines[-1] == "Estado: En atención → Pendiente de confirmación"  # the finish
    assert not any(line.endswith("→ Completada") for line in lines)

    ana = browser(REQUESTER)
    assert ana.post(f"/tasks/{task.id}", {"handler": "reopen", "reason": "Sigue fallando"},
                    follow_redirects=False).status_code in (302, 303)
    lines = transitions(html(director.get(f"/requests/{req.id}")))
    assert lines[-1] == "Estado: Pendiente de confirmación → En atención"

    worker = browser(WORKER)
    work = open_task(req.id, "Task_Work")
    assert worker.post(f"/tasks/{work.id}", {
        "handler": "finish", "resolution": "Cambiado", "hours_spent": "1",
        "materials_cost": "0"}, follow_redirects=False).status_code in (302, 303)
    confirm = open_task(req.id, "Task_Confirm")
    assert ana.post(f"/tasks/{confirm.id}", {"rating": "4"},
                    follow_redirects=False).status_code in (302, 303)
    assert reload(req.id).status == "completed"
    lines = transitions(html(director.get(f"/requests/{req.id}")))
    assert lines[-2:] == ["Estado: En atención → Pendiente de confirmación",
                          "Estado: Pendiente de confirmación → Completada"]


def test_event_states_read_the_tickets_change():
    def entry(before, after, ticket=None):
        changes = {"ticket_status": ticket} if ticket else {}
        return SimpleNamespace(from_status=before, to_status=after, changes=changes)

    finish = entry("in_service", "completed", ["in_progress", "finished"])
    assert event_states(finish) == ("in_service", "awaiting_confirmation")
    confirm = entry("completed", "completed", ["finished", "closed"])
    assert event_states(confirm) == ("awaiting_confirmation", "completed")
    reopen = entry("completed", "in_service", ["finished", "in_progress"])
    assert event_states(reopen) == ("awaiting_confirmation", "in_service")
    # a comment while it waits, a request completed with no ticket: the stored statuses
    assert event_states(entry("completed", "completed")) == ("completed", "completed")
    assert event_states(entry("pending_assignment", "completed")) == (
        "pending_assignment", "completed")
    assert event_states(SimpleNamespace(from_status=None, to_status="pending_authorization",
                                        changes=None)) == (None, "pending_authorization")


def test_the_api_says_it_waits_for_confirmation_and_keeps_the_stored_status(demo, api_as):
    req, task = request_at("Task_Confirm")
    client = api_as(REQUESTER)
    one = client.get(f"/api/v1/requests/{req.id}").json
    assert (one["status"], one["awaiting_confirmation"]) == ("completed", True)
    listed = {r["id"]: r for r in client.get("/api/v1/requests?status=completed").json["items"]}
    assert listed[req.id]["awaiting_confirmation"] is True
    assert client.post(f"/api/v1/tasks/{task.id}/complete", {"rating": 5}).status_code == 200
    one = client.get(f"/api/v1/requests/{req.id}").json
    assert (one["status"], one["awaiting_confirmation"]) == ("completed", False)
    working, _ = request_at("Task_Work")
    assert client.get(f"/api/v1/requests/{working.id}").json["awaiting_confirmation"] is False
    doc = client.get("/api/v1/openapi.json").json
    prop = doc["components"]["schemas"]["RequestDetail"]["properties"]["awaiting_confirmation"]
    assert prop["type"] == "boolean" and prop["readOnly"] is True
