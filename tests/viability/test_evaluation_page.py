"""The director's evaluation page and the viability API: everything before the decision, the
justification it takes, and who may see any of it."""

from decimal import Decimal

from app.extensions import db
from app.models import HistoryEvent, ServiceRequest, Ticket, User
from tests.accounts.conftest import english
from tests.factories import request_at, user
from tests.viability.budget_helpers import (
    ADMIN,
    DIRECTOR,
    HEAD,
    REQUESTER,
    WORKER,
    api_as,
    budget_with_left,
)
from tests.views.helpers import html, open_task, reload

D = Decimal


def finished_similar(req_id: int, cost: str, hours: str) -> None:
    """Give the request (the same category as the one evaluated) a finished ticket's cost."""
    db.session.rollback()
    ticket = db.session.get(ServiceRequest, req_id).ticket
    ticket.actual_cost, ticket.hours_spent = D(cost), D(hours)
    db.session.commit()


def test_the_page_shows_budget_similar_requests_and_staff_before_the_decision(demo, browser):
    done, _ = request_at("Task_Confirm")
    finished_similar(done.id, "420", "6")
    budget_with_left("1000")
    req, task = request_at("Task_Evaluate")
    director = english(browser(DIRECTOR))
    page = html(director.get(f"/tasks/{task.id}"))
    for fragment in ("Viability", "Budget", "Committed", "Left after it", "Similar requests",
                     "median cost", "Staff", "Open tickets", "Free hours, next two weeks",
                     'id="viability-panel"', "dist/viability.js", done.number):
        assert fragment in page, fragment
    # The staff answer comes filled in with the computed fact
    assert 'name="staff_available" value="true"\n            checked' in page \
        or 'value="true"\n            checked' in page
    # As the director types, the panel follows: over budget in red, and who could do it
    panel = html(director.get(f"/tasks/{task.id}/viability?estimated_cost=1500&"
                              "estimated_hours=12"))
    assert "over budget" in panel and 'class="negative"' in panel
    assert 'data-over-budget="true"' in panel and "Earliest:" in panel
    within = html(director.get(f"/tasks/{task.id}/viability?estimated_cost=999,5"))
    assert 'data-over-budget="false"' in within
    # Half-typed or absurd figures show what can be shown, never an error
    for typed in ("abc", "-5", "1e400", "9" * 40, "NaN", ""):
        response = director.get(f"/tasks/{task.id}/viability?estimated_cost={typed}"
                                f"&estimated_hours={typed}")
        assert response.status_code == 200, typed
        assert response.headers["Cache-Control"] == "no-store"


def test_nobody_else_sees_the_panel_or_its_figures(demo, browser):
    budget_with_left("1000")
    _req, task = request_at("Task_Evaluate")
    for email in (REQUESTER, HEAD, WORKER, "director@globex.test"):
        other = browser(email)
        assert other.get(f"/tasks/{task.id}/viability?estimated_cost=1").status_code == 404
        assert "viability-panel" not in html(other.get(f"/tasks/{task.id}"))
    # A tenant admin sees it (the whole company's budgets are theirs)
    assert browser(ADMIN).get(f"/tasks/{task.id}/viability").status_code == 200


def test_approving_over_budget_or_without_staff_needs_a_justification(demo, browser):
    budget_with_left("100")
    req, task = request_at("Task_Evaluate")
    director = english(browser(DIRECTOR))
    cases = [
        ({"estimated_cost": "500", "estimated_hours": "4"}, "it goes over the budget"),
        ({"estimated_cost": "10", "estimated_hours": "9000"}, "no staff is available"),
        ({"estimated_cost": "10", "estimated_hours": "4", "staff_available": "false"},
         "it overrides the computed staff availability"),
    ]
    for form, reason in cases:
        response = director.post(f"/tasks/{task.id}", {"handler": "evaluate",
                                                       "decision": "approve", **form})
        assert response.status_code == 422 and reason in html(response), reason
        assert reload(req.id).status == "pending_evaluation"
    response = director.post(f"/tasks/{task.id}", {
        "handler": "evaluate", "decision": "approve", "estimated_cost": "500",
        "estimated_hours": "4", "justification": "Riesgo eléctrico en la bodega"})
    assert response.status_code == 302
    req = reload(req.id)
    assert (req.status, req.estimated_cost, req.estimated_hours) == (
        "pending_assignment", D("500.00"), D("4.00"))
    event = db.session.query(HistoryEvent).filter_by(request_id=req.id,
                                                     action="evaluate").one()
    assert event.changes["justification"] == "Riesgo eléctrico en la bodega"
    assert event.changes["over_budget"] is True and event.changes["staff_available"] is True
    # The request's page shows it in its history, as money
    detail = html(director.get(f"/requests/{req.id}"))
    assert "Justification" in detail and "Riesgo eléctrico en la bodega" in detail


def test_within_budget_with_staff_no_justification_is_kept(demo, browser):
    budget_with_left("1000")
    req, task = request_at("Task_Evaluate")
    director = browser(DIRECTOR)
    assert director.post(f"/tasks/{task.id}", {
        "handler": "evaluate", "decision": "approve", "estimated_cost": "100",
        "estimated_hours": "2", "justification": "por si acaso"}).status_code == 302
    db.session.rollback()
    event = db.session.query(HistoryEvent).filter_by(request_id=req.id,
                                                     action="evaluate").one()
    assert "justification" not in event.changes and event.changes["over_budget"] is False


def test_the_api_gives_the_same_figures_to_whom_the_page_gives_them(demo, app):
    budget = budget_with_left("1000")
    req, _ = request_at("Task_Evaluate")
    director = api_as(app, DIRECTOR)
    body = director.get(f"/api/v1/requests/{req.id}/viability?estimated_cost=1200.50"
                        "&estimated_hours=10").json
    assert body["currency"] == "COP" and body["budget"]["id"] == budget.id
    assert D(body["budget"]["left"]) == D("1000.00")
    assert body["budget"]["left_after"] == "-200.50" and body["budget"]["over_budget"] is True
    assert body["estimated_hours"] == "10"
    staff = body["staff"]
    assert staff["horizon_working_days"] == 10 and staff["workers"]
    assert staff["available"] is True and staff["earliest"]["hours"] == "10"
    assert all(len(w["days"]) == 10 for w in staff["workers"])
    assert set(body["similar"]) == {"count", "median_cost", "median_hours", "latest"}
    # Without an estimate: the request's own (none yet), the budget as it stands
    bare = director.get(f"/api/v1/requests/{req.id}/viability").json
    assert bare["budget"]["left_after"] is None and bare["estimated_cost"] is None
    # Bad input: a clear 422
    for query in ("estimated_cost=-1", "estimated_cost=abc", "estimated_hours=10001",
                  "start=2026-13-01", "start=1900-01-01", "estimated_cost=NaN"):
        response = director.get(f"/api/v1/requests/{req.id}/viability?{query}")
        assert response.status_code == 422, query
    # Who may: the request's requester and head see the request, not its budget (403);
    # another company's director finds nothing (404)
    assert api_as(app, REQUESTER).get(f"/api/v1/requests/{req.id}/viability").status_code \
        == 403
    assert api_as(app, HEAD).get(f"/api/v1/requests/{req.id}/viability").status_code == 403
    assert api_as(app, "director@globex.test").get(
        f"/api/v1/requests/{req.id}/viability").status_code == 404
    assert api_as(app, ADMIN).get(f"/api/v1/requests/{req.id}/viability").status_code == 200


def test_costs_show_on_the_ticket_and_request_pages(demo, browser):
    req, task = request_at("Task_Work")
    worker = browser(WORKER)
    assert worker.post(f"/tasks/{task.id}", {
        "handler": "finish", "resolution": "Cambiado", "hours_spent": "2",
        "materials_cost": "35.000"}).status_code == 302
    db.session.rollback()
    ticket = db.session.query(Ticket).filter_by(request_id=req.id).one()
    assert ticket.actual_cost == D("35000.00")
    director = browser(DIRECTOR)
    for url in (f"/tickets/{ticket.id}", f"/requests/{req.id}"):
        page = html(director.get(url))
        assert "35.000,00" in page, url
    assert open_task(req.id, "Task_Confirm") is not None


def test_why_and_what_it_cost_stay_with_those_who_see_budgets(demo, browser, app):
    """Over budget, the justification, the budget date and the worker's hourly rate are in the
    history for the directors and admins; the requester, heads and workers do not read them."""
    budget_with_left("50")
    req, task = request_at("Task_Evaluate")
    db.session.rollback()
    assert browser(DIRECTOR).post(f"/tasks/{task.id}", {
        "handler": "evaluate", "decision": "approve", "estimated_cost": "80",
        "estimated_hours": "2", "justification": "Secreto de gerencia"}).status_code == 302
    db.session.rollback()
    hidden = {"over_budget", "justification", "committed_on", "budget_left_after"}
    for email in (REQUESTER, HEAD):
        items = api_as(app, email).get(f"/api/v1/requests/{req.id}/history").json["items"]
        evaluation = next(e for e in items if e["action"] == "evaluate")
        assert not hidden & set(evaluation["changes"]), email
        assert "Secreto de gerencia" not in html(browser(email).get(f"/requests/{req.id}"))
    items = api_as(app, DIRECTOR).get(f"/api/v1/requests/{req.id}/history").json["items"]
    assert hidden <= set(next(e for e in items if e["action"] == "evaluate")["changes"])
    assert "Secreto de gerencia" in html(browser(DIRECTOR).get(f"/requests/{req.id}"))


def test_the_workers_rate_is_on_the_ticket_only_for_those_who_see_budgets(demo, browser):
    db.session.rollback()
    db.session.get(User, user(WORKER).id).hourly_rate = D("41000")
    db.session.commit()
    req, task = request_at("Task_Work")
    assert browser(WORKER).post(f"/tasks/{task.id}", {
        "handler": "finish", "resolution": "Listo", "hours_spent": "1",
        "materials_cost": "500"}).status_code == 302
    db.session.rollback()
    ticket_id = db.session.query(Ticket).filter_by(request_id=req.id).one().id
    for email, sees_rate in ((DIRECTOR, True), (ADMIN, True), (WORKER, False),
                             (REQUESTER, False)):
        page = html(browser(email).get(f"/tickets/{ticket_id}"))
        assert "41.500,00" in page, email  # the actual cost: everyone who sees the ticket
        assert ("41.000,00" in page) is sees_rate, email  # the rate: budget managers only
