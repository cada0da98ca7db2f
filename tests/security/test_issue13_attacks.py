"""Attacks on issue 13's new code (budgets, hourly rates, costs, the viability panel and API,
the over-budget second approval): each test is one class of attempt, with its variants; it
passes when every attempt is refused cleanly (a clear 4xx, nothing changed, no figure seen by
whoever may not see it) and the budget figures still equal their replay from the history."""

import os
import threading
import time
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    Budget,
    Category,
    HistoryEvent,
    HumanTask,
    Membership,
    Tenant,
    Unit,
    User,
)
from app.tenancy import clock
from app.viability import budgets, ledger
from tests.factories import request_at, user
from tests.viability.budget_helpers import (
    ADMIN,
    DIRECTOR,
    GLOBEX_DIRECTOR,
    HEAD,
    IT,
    REQUESTER,
    SERVICES,
    WORKER,
    add_budget,
    api_as,
    budget_form,
    budget_rows,
    entries,
    make_other_unit,
    rate_rows,
    tenant,
    unit,
)
from tests.views.helpers import html, open_task, reload

D = Decimal
IT_DIRECTOR = "director.ti@acme.test"
GLOBEX_ADMIN = "admin@globex.test"
MAX_ID = 2**31 - 1
SCRIPT = '<script>alert("x")</script>'
IMG = '"><img src=x onerror=alert(1)>'


# --- people and fixtures ---------------------------------------------------------------------

def person(email: str, slug: str, role: str, unit_id: int | None = None) -> None:
    """A new person of company ``slug`` holding ``role`` (in ``unit_id``)."""
    company = tenant(slug)
    someone = User(tenant_id=company.id, email=email, name=email.split("@")[0])
    someone.set_password("demo1234")
    db.session.add(someone)
    db.session.flush()
    db.session.add(Membership(tenant_id=company.id, user_id=someone.id, role=role,
                              unit_id=unit_id))
    db.session.commit()


@pytest.fixture
def outsiders(demo):
    """acme's second service unit with its own director, and a tenant admin of globex."""
    it = make_other_unit()
    person(IT_DIRECTOR, "acme", "service_director", it.id)
    person(GLOBEX_ADMIN, "globex", "tenant_admin")
    return it


def this_month_budget(left: str) -> Budget:
    """This month's budget of acme's service unit with ``left`` still free."""
    acme = tenant()
    data = budgets.BudgetInput(service_unit_id=unit(SERVICES).id, period="month",
                               starts_on=budgets.period_start("month", clock.today(acme)),
                               amount=D(0))
    budget = budgets.save(acme.id, data)
    data.amount = budgets.figures_of(budget).used + D(left)
    budgets.save(acme.id, data, budget)
    db.session.commit()
    return budget


def leave(budget: Budget, left: str) -> None:
    """Set ``budget``'s amount so that ``left`` is still free in it."""
    db.session.rollback()
    budget = db.session.get(Budget, budget.id)
    budget.amount = budgets.figures_of(budget).used + D(left)
    db.session.commit()


def audit_trail() -> list:
    """The audit entries of budgets and rates, as plain values."""
    return [(e.action, e.target_id) for e in entries("budget.")] + \
        [(e.action, e.target_id) for e in entries() if e.action.endswith("rate_changed")]


def second_approval_on() -> None:
    acme = tenant()
    acme.settings = {**(acme.settings or {}), "over_budget_approval": True}
    db.session.commit()


def consistent(slug: str = "acme") -> None:
    """The figures from the rows equal those replayed from the history, for every budget."""
    db.session.rollback()
    assert ledger.check(tenant(slug).id) == []


def approve(client, task_id: int, **form):
    values = {"handler": "evaluate", "decision": "approve", "estimated_cost": "100",
              "estimated_hours": "2", **form}
    return client.post(f"/tasks/{task_id}", values)


def counts() -> tuple:
    db.session.rollback()
    return tuple(db.session.scalar(select(func.count()).select_from(model))
                 for model in (Budget, HistoryEvent, HumanTask))


# --- cross-company and cross-unit ------------------------------------------------------------

def test_budgets_of_another_unit_or_company_are_not_found_on_pages_or_api(app, browser,
                                                                          outsiders):
    mine = add_budget()
    theirs = add_budget(IT)
    globex = add_budget("Mantenimiento", slug="globex")
    before, audited = budget_rows(), audit_trail()
    # The other unit's director and another company's admin: each finds nothing of the other
    for email, hidden in ((IT_DIRECTOR, mine), (GLOBEX_ADMIN, mine), (GLOBEX_ADMIN, theirs),
                          (DIRECTOR, theirs), (DIRECTOR, globex), (ADMIN, globex)):
        page = browser(email)
        for path in (f"/budgets/{hidden.id}", f"/budgets/{hidden.id}/edit",
                     f"/budgets/{hidden.id}/delete"):
            assert page.get(path).status_code == 404, (email, path)
        assert page.post(f"/budgets/{hidden.id}/edit", budget_form()).status_code == 404
        assert page.post(f"/budgets/{hidden.id}/delete").status_code == 404
        listing = html(page.get(f"/budgets?unit={hidden.service_unit_id}"))
        assert f"/budgets/{hidden.id}\"" not in listing
        api = api_as(app, email)
        url = f"/api/v1/admin/budgets/{hidden.id}"
        assert api.get(url).status_code == 404, (email, url)
        assert api.put(url, {"service_unit_id": hidden.service_unit_id, "period": "month",
                             "starts_on": "2027-05-01", "amount": "1"}).status_code == 404
        assert api.patch(url, {"amount": "1"}).status_code == 404
        assert api.delete(url).status_code == 404
        listed = api.get(f"/api/v1/admin/budgets?service_unit_id={hidden.service_unit_id}")
        assert hidden.id not in [b["id"] for b in listed.json["items"]]
    # A budget split for the head's own unit is still not theirs to see (nor the requester's)
    split = add_budget(requesting_unit="Finanzas", starts_on=date(2027, 1, 1))
    for email in (HEAD, REQUESTER):
        assert browser(email).get(f"/budgets/{split.id}").status_code == 404
        assert api_as(app, email).get(f"/api/v1/admin/budgets/{split.id}").status_code == 403
        assert api_as(app, email).get("/api/v1/admin/budgets").status_code == 403
    before = budget_rows()
    # Giving a budget to a unit one does not manage, or moving one there
    services, it = unit(SERVICES).id, outsiders.id
    for email, target, own in ((IT_DIRECTOR, services, theirs),
                               (DIRECTOR, it, mine), (GLOBEX_ADMIN, services, globex)):
        page, api = browser(email), api_as(app, email)
        assert page.post("/budgets/new", budget_form(service_unit_id=str(target),
                                                     starts_on="2027-02")).status_code == 422
        assert api.post("/api/v1/admin/budgets", {
            "service_unit_id": target, "period": "month", "starts_on": "2027-02-01",
            "amount": "1"}).status_code == 422
        if email != GLOBEX_ADMIN:
            assert page.post(f"/budgets/{own.id}/edit", budget_form(
                service_unit_id=str(target), starts_on="2027-02")).status_code == 422
            assert api.patch(f"/api/v1/admin/budgets/{own.id}",
                             {"service_unit_id": target}).status_code == 422
    # Another company's category or requesting unit on one's own budget
    foreign_category = db.session.scalar(select(Category.id).where(
        Category.tenant_id == tenant("globex").id).limit(1))
    foreign_unit = unit("Operaciones", "globex").id
    api = api_as(app, ADMIN)
    for change in ({"category_id": foreign_category}, {"requesting_unit_id": foreign_unit}):
        assert api.patch(f"/api/v1/admin/budgets/{mine.id}", change).status_code == 422
    # Hourly rates are the tenant admin's own company's only
    globex_worker = user("tecnico@globex.test").id
    rates = browser(GLOBEX_ADMIN)
    rated_before = rate_rows()
    assert rates.post("/budgets/rates", {f"workers.{user(WORKER).id}": "1",
                                         f"service_units.{services}": "1"}).status_code == 422
    assert api.put("/api/v1/admin/hourly-rates", {
        "workers": [{"id": globex_worker, "hourly_rate": "1"}]}).status_code == 422
    for email in (IT_DIRECTOR, DIRECTOR):
        assert browser(email).get("/budgets/rates").status_code == 403
        assert api_as(app, email).put("/api/v1/admin/hourly-rates", {
            "workers": [{"id": user(WORKER).id, "hourly_rate": "1"}]}).status_code == 403
    assert rate_rows() == rated_before
    assert budget_rows() == before and audit_trail() == audited


def test_the_viability_panel_and_api_stay_with_the_directors_and_admins(app, browser,
                                                                        outsiders):
    budget = this_month_budget("1000")
    req, task = request_at("Task_Evaluate")
    working, _ = request_at("Task_Work")  # the worker sees this one: its ticket is theirs
    for email, status in ((REQUESTER, 403), (HEAD, 403), (IT_DIRECTOR, 404),
                          (GLOBEX_ADMIN, 404), (GLOBEX_DIRECTOR, 404), (WORKER, 404)):
        api = api_as(app, email)
        response = api.get(f"/api/v1/requests/{req.id}/viability?estimated_cost=1")
        assert response.status_code == status, email
        assert "left" not in response.get_data(as_text=True)
        page = browser(email)
        assert page.get(f"/tasks/{task.id}/viability?estimated_cost=1").status_code == 404
        assert "viability-panel" not in html(page.get(f"/tasks/{task.id}"))
    worker = api_as(app, WORKER)
    assert worker.get(f"/api/v1/requests/{working.id}/viability").status_code == 403
    # The tenant admin's second approval shows the panel to admins and directors only
    second_approval_on()
    leave(budget, "0")
    over, evaluation = request_at("Task_Evaluate")
    assert approve(browser(DIRECTOR), evaluation.id, estimated_cost="500",
                   justification="Urgente").status_code == 302
    second = open_task(over.id, "Task_ApproveOverBudget")
    for email in (REQUESTER, HEAD):
        page = browser(email)
        shown = page.get(f"/tasks/{second.id}")
        assert shown.status_code == 200 and "viability-panel" not in html(shown)
        assert page.get(f"/tasks/{second.id}/viability").status_code == 404
    for email in (IT_DIRECTOR, GLOBEX_ADMIN):
        assert browser(email).get(f"/tasks/{second.id}").status_code == 404
        assert browser(email).get(f"/tasks/{second.id}/viability").status_code == 404
    assert "viability-panel" in html(browser(ADMIN).get(f"/tasks/{second.id}"))
    # Ids out of range or unknown: not found, never an error
    director = api_as(app, DIRECTOR)
    for bad in (0, MAX_ID, MAX_ID + 1, 10**30):
        assert director.get(f"/api/v1/requests/{bad}/viability").status_code == 404, bad
        assert browser(DIRECTOR).get(f"/tasks/{bad}/viability").status_code == 404, bad


def test_budget_figures_never_reach_requesters_heads_or_workers_through_the_history(
        app, browser, demo):
    this_month_budget("1000")
    req, task = request_at("Task_Start")  # approved for 100: the budget keeps 900
    db.session.rollback()
    event = db.session.scalar(select(HistoryEvent).where(
        HistoryEvent.request_id == req.id, HistoryEvent.action == "evaluate"))
    assert D(event.changes["budget_left_after"]) == D("900")
    ticket_id = reload(req.id).ticket.id
    for email in (REQUESTER, HEAD, WORKER):
        history = api_as(app, email).get(f"/api/v1/requests/{req.id}/history")
        assert history.status_code == 200
        evaluations = [e for e in history.json["items"] if e["action"] == "evaluate"]
        assert evaluations and "budget_left_after" not in evaluations[0]["changes"], email
        assert evaluations[0]["changes"]["estimated_cost"] == "100.00"  # their own estimate
        page = browser(email)
        for url in (f"/requests/{req.id}", f"/tickets/{ticket_id}"):
            shown = page.get(url)
            if shown.status_code == 404:
                continue  # the head does not see the ticket's page
            assert "900,00" not in html(shown), (email, url)
    for email in (DIRECTOR, ADMIN):
        history = api_as(app, email).get(f"/api/v1/requests/{req.id}/history").json
        evaluation = next(e for e in history["items"] if e["action"] == "evaluate")
        assert evaluation["changes"]["budget_left_after"] == "900.00"
        assert "900,00" in html(browser(email).get(f"/requests/{req.id}"))


# --- bad input -------------------------------------------------------------------------------

BAD_AMOUNTS = ["NaN", "nan", "sNaN", "Infinity", "-Infinity", "inf", "1e400", "-1e400",
               "9" * 5000, "1" + "0" * 15, "-1", "-0,01", "0x10", "1/2", "١٢٣٫٥", "\u00a0",
               "12 34 56 78 90 12 34", "--5", "5-", "1,2,3.4.5", "e5", "\x00"]


def refusal(typed: str) -> int:
    """A NUL character is refused before any form is read (400); the rest by field (422)."""
    return 400 if "\x00" in typed else 422


def test_unreadable_or_absurd_amounts_change_nothing(app, browser, demo):
    budget = add_budget()
    admin, api = browser(ADMIN), api_as(app, ADMIN)
    before, audited = budget_rows(), audit_trail()
    for amount in BAD_AMOUNTS:
        for url in ("/budgets/new", f"/budgets/{budget.id}/edit"):
            response = admin.post(url, budget_form(amount=amount, starts_on="2027-04"))
            assert response.status_code == refusal(amount), (amount, url)
        for value in (amount, [amount], {"v": amount}):
            response = api.patch(f"/api/v1/admin/budgets/{budget.id}", {"amount": value})
            assert response.status_code == refusal(amount), (amount, value)
    for value in (True, None, 1e308, -1e-9, 10**13, 0.001, "1.005", 1e16):
        assert api.patch(f"/api/v1/admin/budgets/{budget.id}",
                         {"amount": value}).status_code == 422, value
    # Rates: the same, by field
    rates_before = rate_rows()
    services = unit(SERVICES).id
    for amount in [a for a in BAD_AMOUNTS if a.strip()] + ["10000000000"]:
        assert admin.post("/budgets/rates", {f"service_units.{services}": amount}) \
            .status_code == refusal(amount), amount
    for value in ("NaN", "Infinity", "-1", 1e300, True, "10000000000", "0.001"):
        assert api.put("/api/v1/admin/hourly-rates", {"service_units": [
            {"id": services, "hourly_rate": value}]}).status_code == 422, value
    assert budget_rows() == before and rate_rows() == rates_before
    assert audit_trail() == audited


def test_every_budget_form_post_needs_its_csrf_token(app, browser, demo):
    budget = add_budget()
    admin = browser(ADMIN)
    before, rates, audited = budget_rows(), rate_rows(), audit_trail()
    services = unit(SERVICES).id
    posts = (("/budgets/new", budget_form(starts_on="2027-06")),
             (f"/budgets/{budget.id}/edit", budget_form(amount="1")),
             (f"/budgets/{budget.id}/delete", {}),
             ("/budgets/rates", {f"service_units.{services}": "99"}))
    for url, form in posts:
        for token in ("", "forged", admin.token[:-2] + "xx"):
            response = admin.post(url, {**form, "csrf_token": token})
            assert response.status_code == 400, (url, token)
        with app.app_context():
            missing = admin.client.post(url, data=form)
        assert missing.status_code == 400, url
    assert (budget_rows(), rate_rows(), audit_trail()) == (before, rates, audited)


@pytest.mark.parametrize("start,period,accepted", [
    ("0001-01", "year", True), ("0001-01", "month", True), ("9999-12", "month", True),
    ("9999-10", "quarter", True), ("9999-01", "year", True), ("9999-11", "quarter", False),
    ("10000-01", "month", False), ("0000-01", "month", False), ("2027-02-29", "month", False),
    ("2027-02-01", "month", True), ("2027-02-02", "month", False), ("2027-1", "month", False),
    (" 2027-03 ", "month", True), ("2027-03\n", "month", True), ("2027\u201303", "month", False),
    ("-2027-03", "month", False), ("2027-03-01T00:00", "month", False), ("", "month", False),
])
def test_period_starts_at_the_edges_of_the_calendar(browser, demo, start, period, accepted):
    admin = browser(ADMIN)
    response = admin.post("/budgets/new", budget_form(starts_on=start, period=period))
    assert response.status_code == (302 if accepted else 422), response.status_code
    assert len(budget_rows()) == int(accepted)
    if accepted:  # the pages that show it and the figures around it still work
        budget_id = int(response.headers["Location"].rsplit("/", 1)[1])
        for url in ("/budgets", f"/budgets/{budget_id}", f"/budgets/{budget_id}/edit",
                    f"/budgets/{budget_id}/delete", "/budgets?year=9999", "/budgets?year=1"):
            assert admin.get(url).status_code == 200, url
        consistent()


def test_ids_and_numbers_out_of_range_are_not_found_or_refused(app, browser, demo):
    add_budget()
    admin, api = browser(ADMIN), api_as(app, ADMIN)
    before, rates = budget_rows(), rate_rows()
    for bad in (0, MAX_ID, MAX_ID + 1, 2**63, 10**40):
        for url in (f"/budgets/{bad}", f"/budgets/{bad}/edit", f"/budgets/{bad}/delete"):
            assert admin.get(url).status_code == 404, url
        assert admin.post(f"/budgets/{bad}/delete").status_code == 404
        assert api.get(f"/api/v1/admin/budgets/{bad}").status_code == 404
        assert api.delete(f"/api/v1/admin/budgets/{bad}").status_code == 404
    for field in ("service_unit_id", "category_id", "requesting_unit_id"):
        for bad in ("0", "-1", str(MAX_ID + 1), "9" * 30, "1.5", "1e3", "x", "1 2"):
            assert admin.post("/budgets/new", budget_form(**{field: bad}, starts_on="2027-07")) \
                .status_code == 422, (field, bad)
            assert api.post("/api/v1/admin/budgets", {
                "service_unit_id": unit(SERVICES).id, "period": "month",
                "starts_on": "2027-07-01", "amount": "1", field: bad}).status_code == 422
    # Query strings: ignored when out of range, never an error
    for query in ("unit=99999999999", "year=0", "year=99999", "page=999999999999",
                  "period=<b>", "unit=-1", "page=-3"):
        assert admin.get(f"/budgets?{query}").status_code == 200, query
    for query in ("service_unit_id=99999999999", "year=0", "page=0", "per_page=100000"):
        assert api.get(f"/api/v1/admin/budgets?{query}").status_code == 422, query
    # Rates keyed by an id no database column holds
    for name in (f"service_units.{MAX_ID + 1}", "workers.9999999999", "workers.0",
                 f"service_units.{MAX_ID}"):
        assert admin.post("/budgets/rates", {name: "5"}).status_code == 422, name
    for kind in ("service_units", "workers"):
        for bad in (MAX_ID + 1, 0, -1, "x", None, [1]):
            assert api.put("/api/v1/admin/hourly-rates", {kind: [
                {"id": bad, "hourly_rate": "5"}]}).status_code == 422, (kind, bad)
    assert budget_rows() == before and rate_rows() == rates


def test_the_viability_api_refuses_bad_estimates_and_starts_and_stays_bounded(app, browser,
                                                                              demo):
    this_month_budget("1000")
    req, task = request_at("Task_Evaluate")
    director = api_as(app, DIRECTOR)
    url = f"/api/v1/requests/{req.id}/viability"
    today = date.today()
    for query in ("estimated_cost=NaN", "estimated_cost=Infinity", "estimated_cost=1e400",
                  "estimated_cost=-0.01", "estimated_cost=" + "9" * 400,
                  "estimated_hours=NaN", "estimated_hours=-1", "estimated_hours=1e9",
                  "estimated_hours=10000.01", "start=9999-12-31", "start=0001-01-01",
                  f"start={today + timedelta(days=400)}", f"start={today - timedelta(days=400)}",
                  "start=2026-02-30", "start=today", "start=", "estimated_cost=",
                  "start=%2B10000-01-01", "estimated_cost=0.001", "estimated_cost=1.005",
                  "estimated_hours=1e-999999999", "estimated_cost=1e-999999999"):
        response = director.get(f"{url}?{query}")
        assert response.status_code == 422, (query, response.status_code)
    # Read as the forms read them: in cents, whatever the notation
    echoed = director.get(f"{url}?estimated_cost=0E-1000&estimated_hours=0E%2B1000").json
    assert (echoed["estimated_cost"], echoed["estimated_hours"]) == ("0.00", "0.00")
    assert echoed["budget"]["left_after"] == "1000.00"
    # The farthest start with the most hours: the staff walk is bounded
    far = today + timedelta(days=360)
    started = time.monotonic()
    response = director.get(f"{url}?estimated_hours=10000&estimated_cost=1&start={far}")
    assert response.status_code == 200 and time.monotonic() - started < 10
    assert response.json["staff"]["available"] is False
    started = time.monotonic()
    panel = browser(DIRECTOR).get(f"/tasks/{task.id}/viability?estimated_hours=10000&"
                                  f"estimated_cost=999999999999&start=9999-12-31")
    assert panel.status_code == 200 and time.monotonic() - started < 10
    # Half-typed or absurd figures in the panel: what can be shown, never an error
    page = browser(DIRECTOR)
    for typed in ("1e400", "-0", "NaN", "Infinity", "9" * 5000, "\u0661", " ", "1,2,3.4"):
        assert page.get(f"/tasks/{task.id}/viability?estimated_cost={typed}"
                        f"&estimated_hours={typed}").status_code == 200, typed


def test_amounts_no_column_holds_are_refused_at_evaluation_and_finish(app, browser, demo):
    this_month_budget("1000")
    req, task = request_at("Task_Evaluate")
    director = browser(DIRECTOR)
    before = counts()
    for cost in ("1000000000000", "999999999999999", "1e12", "NaN", "Infinity", "-1",
                 "9" * 5000):
        response = approve(director, task.id, estimated_cost=cost, justification="Urgente")
        assert response.status_code == 422, cost
    for hours in ("10000.01", "1e400", "NaN", "-0.5", "Infinity"):
        response = approve(director, task.id, estimated_hours=hours, justification="Urgente")
        assert response.status_code == 422, hours
    api = api_as(app, DIRECTOR)
    for cost in (1e12, 1e308, "1000000000000", True, [1]):
        assert api.post(f"/api/v1/tasks/{task.id}/complete", {
            "kind": "evaluate", "decision": "approve", "estimated_cost": cost,
            "estimated_hours": 1, "justification": "Urgente"}).status_code == 422, cost
    assert counts() == before and reload(req.id).status == "pending_evaluation"
    # The largest estimate a request holds is accepted (and over budget, justified)
    assert approve(director, task.id, estimated_cost="999999999999,99",
                   justification="Obra mayor").status_code == 302
    assert reload(req.id).estimated_cost == D("999999999999.99")
    consistent()
    # Finishing: materials a column cannot hold, or hours x rate beyond any amount
    working, work = request_at("Task_Work")
    db.session.rollback()
    db.session.get(Unit, working.service_unit_id).hourly_rate = D("9999999999.99")
    db.session.commit()
    worker = browser(WORKER)
    before = counts()
    for hours, materials in (("1", "1000000000000"), ("10000", "0"), ("100", "1"),
                             ("1", "999999999999,99"), ("1", "NaN"), ("Infinity", "0")):
        response = worker.post(f"/tasks/{work.id}", {
            "handler": "finish", "resolution": "Listo", "hours_spent": hours,
            "materials_cost": materials})
        assert response.status_code == 422, (hours, materials)
    assert counts() == before and reload(working.id).ticket.actual_cost is None
    assert worker.post(f"/tasks/{work.id}", {
        "handler": "finish", "resolution": "Listo", "hours_spent": "99",
        "materials_cost": "0"}).status_code == 302
    assert reload(working.id).ticket.actual_cost == D("989999999999.01")
    consistent()


def test_minus_zero_typed_at_evaluation_and_finish_is_recorded_as_zero(app, browser, demo):
    req, task = request_at("Task_Evaluate")
    assert approve(browser(DIRECTOR), task.id, estimated_cost="-0",
                   estimated_hours="-0,00").status_code == 302
    working, work = request_at("Task_Work")
    assert api_as(app, WORKER).post(f"/api/v1/tasks/{work.id}/complete", {
        "kind": "finish", "resolution": "Listo", "hours_spent": "-0",
        "materials_cost": "-0.00"}).status_code == 200
    db.session.rollback()
    for request_id, action, names in ((req.id, "evaluate", ("estimated_cost", "estimated_hours")),
                                      (working.id, "finish", ("hours_spent", "materials_cost",
                                                              "actual_cost"))):
        event = db.session.scalar(select(HistoryEvent).where(
            HistoryEvent.request_id == request_id, HistoryEvent.action == action))
        assert [event.changes[name] for name in names] == ["0.00"] * len(names), action
    page = html(browser(DIRECTOR).get(f"/requests/{req.id}"))
    assert "-$0" not in page and "-0,00" not in page and "-0 h" not in page
    consistent()


# --- the justification rule ------------------------------------------------------------------

SPOOFED = {"over_budget": False, "staff_computed": True, "budget_left_after": "999999",
           "committed_on": "2001-01-01", "earliest_start": "2001-01-01",
           "actual_cost": "0", "hourly_rate": "0"}


def test_the_justification_cannot_be_bypassed(app, browser, demo):
    this_month_budget("100")
    req, task = request_at("Task_Evaluate")
    api = api_as(app, DIRECTOR)
    complete = f"/api/v1/tasks/{task.id}/complete"
    before = counts()
    attempts = [
        # Over budget, with the computed figures spoofed in the payload
        {"estimated_cost": "500", "estimated_hours": "2", **SPOOFED},
        {"estimated_cost": "500", "estimated_hours": "2", "justification": "   "},
        {"estimated_cost": "500", "estimated_hours": "2", "justification": "\t\n "},
        # No staff for 9000 hours: staff_available omitted, null, or claimed true
        {"estimated_cost": "1", "estimated_hours": "9000"},
        {"estimated_cost": "1", "estimated_hours": "9000", "staff_available": None},
        {"estimated_cost": "1", "estimated_hours": "9000", "staff_available": True},
        {"estimated_cost": "1", "estimated_hours": "9000", "staff_available": "yes"},
        # Staff there, but answered no (overriding the computed fact)
        {"estimated_cost": "1", "estimated_hours": "2", "staff_available": False},
        {"estimated_cost": "1", "estimated_hours": "2", "staff_available": "false"},
    ]
    for body in attempts:
        response = api.post(complete, {"kind": "evaluate", "decision": "approve", **body})
        assert response.status_code == 422, body
        assert {"justification", "staff_available"} & set(response.json["errors"]), body
    # The page's form, the same
    director = browser(DIRECTOR)
    for form in ({"estimated_cost": "500", **{k: str(v) for k, v in SPOOFED.items()}},
                 {"estimated_cost": "1", "estimated_hours": "9000", "staff_available": "true"}):
        assert approve(director, task.id, **form).status_code == 422, form
    assert counts() == before
    # A form read while the budget had room, sent after another approval took it
    other, other_task = request_at("Task_Evaluate")
    stale = html(director.get(f"/tasks/{task.id}/viability?estimated_cost=60"))
    assert 'data-over-budget="false"' in stale
    assert approve(director, other_task.id, estimated_cost="60").status_code == 302
    assert approve(director, task.id, estimated_cost="60").status_code == 422
    # Justified, it goes through; nothing spoofed is kept
    response = api.post(complete, {"kind": "evaluate", "decision": "approve",
                                   "estimated_cost": "60", "estimated_hours": "2",
                                   "justification": "Riesgo eléctrico", **SPOOFED})
    assert response.status_code == 200, response.json
    db.session.rollback()
    event = db.session.scalar(select(HistoryEvent).where(
        HistoryEvent.request_id == req.id, HistoryEvent.action == "evaluate"))
    today = clock.today(tenant())
    assert event.changes["over_budget"] is True
    assert event.changes["committed_on"] == today.isoformat()
    assert D(event.changes["budget_left_after"]) == D("-20")
    assert "actual_cost" not in event.changes and "hourly_rate" not in event.changes
    assert reload(req.id).committed_on == today
    consistent()


def test_a_worker_cannot_set_their_own_actual_cost_or_budget_date(app, browser, demo):
    req, task = request_at("Task_Work")
    db.session.rollback()
    db.session.get(Unit, req.service_unit_id).hourly_rate = D("35000")
    db.session.commit()
    api = api_as(app, WORKER)
    response = api.post(f"/api/v1/tasks/{task.id}/complete", {
        "kind": "finish", "resolution": "Listo", "hours_spent": "2", "materials_cost": "1000",
        "actual_cost": "0", "hourly_rate": "1", "committed_on": "2001-01-01",
        "ticket": {"actual_cost": "0"}})
    assert response.status_code == 200, response.json
    done = reload(req.id)
    assert (done.ticket.hourly_rate, done.ticket.actual_cost) == (D("35000"), D("71000"))
    assert done.committed_on != date(2001, 1, 1)
    # A worker cannot approve, nor touch budgets or rates
    other, evaluation = request_at("Task_Evaluate")
    assert api.post(f"/api/v1/tasks/{evaluation.id}/complete", {
        "kind": "evaluate", "decision": "approve", "estimated_cost": "1",
        "estimated_hours": "1"}).status_code == 404
    assert api.put("/api/v1/admin/hourly-rates", {"workers": [
        {"id": user(WORKER).id, "hourly_rate": "999999"}]}).status_code == 403
    assert api.post("/api/v1/admin/budgets", {
        "service_unit_id": req.service_unit_id, "period": "month", "starts_on": "2027-01-01",
        "amount": "1"}).status_code == 403
    consistent()


def test_only_a_tenant_admin_sees_and_completes_the_second_approval(app, browser, outsiders):
    second_approval_on()
    this_month_budget("0")
    req, task = request_at("Task_Evaluate")
    assert approve(browser(DIRECTOR), task.id, estimated_cost="500",
                   justification="Urgente").status_code == 302
    second = open_task(req.id, "Task_ApproveOverBudget")
    before = counts()
    # Directors, requesters, heads, workers, another company's admin: not theirs
    for email, status in ((DIRECTOR, 403), (REQUESTER, 403), (HEAD, 403),
                          (IT_DIRECTOR, 404), (GLOBEX_ADMIN, 404), (WORKER, 404)):
        api = api_as(app, email)
        inbox = api.get("/api/v1/tasks").json["items"]
        assert second.id not in [t["id"] for t in inbox], email
        for kind in ("approve_over_budget", "evaluate", None):
            body = {"budget_decision": "approve"}
            if kind:
                body["kind"] = kind
            response = api.post(f"/api/v1/tasks/{second.id}/complete", body)
            assert response.status_code in (status, 422), (email, kind)
        assert api.post(f"/api/v1/tasks/{second.id}/claim").status_code in (403, 404)
        page = browser(email)
        posted = page.post(f"/tasks/{second.id}", {"handler": "approve_over_budget",
                                                   "budget_decision": "approve"})
        assert posted.status_code in (403, 404), email
        assert f"/tasks/{second.id}\"" not in html(page.get("/inbox"))
    assert counts() == before and reload(req.id).status == "pending_evaluation"
    # The director's own evaluation task cannot be sent again to skip it
    assert approve(browser(DIRECTOR), task.id, estimated_cost="1").status_code == 409
    assert f"/tasks/{second.id}\"" in html(browser(ADMIN).get("/inbox"))
    admin = api_as(app, ADMIN)
    assert second.id in [t["id"] for t in admin.get("/api/v1/tasks").json["items"]]
    assert admin.post(f"/api/v1/tasks/{second.id}/complete", {
        "budget_decision": "approve"}).status_code == 200
    assert reload(req.id).status == "pending_assignment"
    consistent()


# --- concurrency -----------------------------------------------------------------------------

def run_together(*calls) -> list:
    """Run ``calls`` at the same moment, each in its own thread; their results."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)
    errors: list = []

    def run(index, call):
        try:
            barrier.wait(timeout=30)
            results[index] = call()
        except Exception as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    return results


def test_budget_edits_and_deletes_racing_approvals_keep_the_figures_right(app, browser, demo):
    budget = this_month_budget("10000")
    budget_id = budget.id
    tasks = [request_at("Task_Evaluate")[1].id for _ in range(4)]
    directors = [browser(DIRECTOR) for _ in tasks]
    admin_api = api_as(app, ADMIN)
    url = f"/api/v1/admin/budgets/{budget.id}"

    def approval(i):
        return lambda: approve(directors[i], tasks[i], estimated_cost="1000",
                               justification="Si se pasa, urgente").status_code

    results = run_together(*(approval(i) for i in range(len(tasks))),
                           lambda: admin_api.patch(url, {"amount": "1"}).status_code,
                           lambda: admin_api.patch(url, {"note": "cambio"}).status_code)
    assert results[:4] == [302] * 4 and results[4:] == [200, 200]
    consistent()
    figures = budgets.figures_of(db.session.get(Budget, budget.id))
    assert figures.amount == D("1.00") and figures.left == D(1) - figures.used
    # A delete at the same moment as approvals: whatever the order, the figures add up
    more = [request_at("Task_Evaluate")[1].id for _ in range(2)]
    results = run_together(
        lambda: approve(directors[0], more[0], justification="x").status_code,
        lambda: admin_api.delete(url).status_code,
        lambda: approve(directors[1], more[1], justification="x").status_code)
    assert results == [302, 204, 302]
    consistent()
    assert db.session.scalar(select(Budget.id).where(Budget.id == budget_id)) is None


def test_two_managers_creating_the_same_budget_at_once_get_one(app, browser, demo):
    admin, director = browser(ADMIN), browser(DIRECTOR)
    admin_api, director_api = api_as(app, ADMIN), api_as(app, DIRECTOR)
    form = budget_form(starts_on="2027-08")
    body = {"service_unit_id": unit(SERVICES).id, "period": "quarter",
            "starts_on": "2027-10-01", "amount": "5"}
    results = run_together(lambda: admin.post("/budgets/new", form).status_code,
                           lambda: director.post("/budgets/new", form).status_code,
                           lambda: admin_api.post("/api/v1/admin/budgets", body).status_code,
                           lambda: director_api.post("/api/v1/admin/budgets",
                                                     body).status_code)
    assert sorted(results[:2]) == [302, 422] and sorted(results[2:]) == [201, 422], results
    assert len(budget_rows()) == 2
    # Two edits moving two budgets into one period at once: one of them is refused
    first = add_budget(starts_on=date(2028, 1, 1)).id
    second = add_budget(starts_on=date(2028, 2, 1)).id
    results = run_together(
        lambda: admin_api.patch(f"/api/v1/admin/budgets/{first}",
                                {"starts_on": "2028-03-01"}).status_code,
        lambda: director_api.patch(f"/api/v1/admin/budgets/{second}",
                                   {"starts_on": "2028-03-01"}).status_code)
    assert sorted(results) == [200, 422], results
    db.session.rollback()
    starts = sorted(b.starts_on for b in db.session.scalars(select(Budget).where(
        Budget.starts_on >= date(2028, 1, 1))))
    assert starts.count(date(2028, 3, 1)) == 1


# --- escaping --------------------------------------------------------------------------------

def test_html_in_names_notes_and_justifications_is_shown_as_text(app, browser, demo):
    db.session.rollback()
    services = db.session.scalar(select(Unit).where(Unit.name == SERVICES))
    services.name = f"SG {SCRIPT}"
    finance = db.session.scalar(select(Unit).where(Unit.name == "Finanzas"))
    finance.name = f"Finanzas {IMG}"
    category = db.session.scalar(select(Category).where(Category.name == "Electricidad"))
    category.name = f"Electricidad {IMG}"
    db.session.commit()
    worker = user(WORKER)
    worker.name = f"Tomás {SCRIPT}"
    db.session.commit()
    acme = tenant()
    budget = budgets.save(acme.id, budgets.BudgetInput(
        service_unit_id=services.id, period="month",
        starts_on=budgets.period_start("month", clock.today(acme)), amount=D("99999999"),
        category_id=category.id, requesting_unit_id=finance.id, note=f"Nota {IMG} {SCRIPT}"))
    db.session.commit()
    done, _ = request_at("Task_Confirm")  # a similar request, finished by the worker
    db.session.rollback()
    ticket = reload(done.id).ticket
    ticket.actual_cost, ticket.hours_spent = D("10"), D("1")
    db.session.commit()
    req, task = request_at("Task_Evaluate")
    director = browser(DIRECTOR)
    response = approve(director, task.id, estimated_cost="999999", justification=SCRIPT + IMG)
    assert response.status_code == 302
    admin = browser(ADMIN)
    pages = [admin.get(url) for url in (
        "/budgets", f"/budgets/{budget.id}", f"/budgets/{budget.id}/edit",
        f"/budgets/{budget.id}/delete", "/budgets/rates", f"/requests/{req.id}",
        "/admin/audit", f"/budgets?unit={services.id}")]
    other, evaluation = request_at("Task_Evaluate")
    pages += [director.get(f"/tasks/{evaluation.id}"),
              director.get(f"/tasks/{evaluation.id}/viability?estimated_cost=1&"
                           f"estimated_hours=2")]
    for response in pages:
        text = html(response)
        assert response.status_code == 200
        assert SCRIPT not in text and IMG not in text, response.request.path
    assert "&lt;script&gt;" in html(pages[1]) and "&lt;script&gt;" in html(pages[-1])
    api = api_as(app, ADMIN).get(f"/api/v1/admin/budgets/{budget.id}").json
    assert api["note"] == f"Nota {IMG} {SCRIPT}"  # JSON carries the text as it was typed


POSTGRESQL_ONLY = pytest.mark.skipif(
    "postgresql" not in (os.environ.get("TEST_DATABASE_URL") or ""),
    reason="SQLite takes one writer at a time: the approval would start after the edit")


@POSTGRESQL_ONLY
@pytest.mark.parametrize("edit,status", [
    ("lower", 422),    # 500 is over the 10 left now: a justification is asked for
    ("delete", 302),   # no budget holds it any more
    ("rescope", 302),  # the budget is now another category's
])
def test_an_approval_waiting_on_a_budget_edit_weighs_the_budget_the_edit_left(
        app, browser, demo, edit, status):
    budget = this_month_budget("1000")
    table = Budget.__table__
    budget_id, lowered = budget.id, budgets.figures_of(budget).used + D("10")
    other_category = db.session.scalar(select(Category.id).where(
        Category.tenant_id == budget.tenant_id, Category.name == "Limpieza"))
    req, task = request_at("Task_Evaluate")
    director = browser(DIRECTOR)
    statement = {
        "lower": table.update().values(amount=lowered),
        "delete": table.delete(),
        "rescope": table.update().values(category_id=other_category),
    }[edit].where(table.c.id == budget_id)
    with db.engine.connect() as editing:  # the edit holds the budget's row, not committed
        editing.execute(statement)
        results = []
        approval = threading.Thread(target=lambda: results.append(
            approve(director, task.id, estimated_cost="500").status_code))
        approval.start()
        time.sleep(1.5)  # the approval has read the budget and waits for its row
        editing.commit()
    approval.join(timeout=60)
    assert results == [status]
    if status == 302:
        db.session.rollback()
        event = db.session.scalar(select(HistoryEvent).where(
            HistoryEvent.request_id == req.id, HistoryEvent.action == "evaluate"))
        assert "budget_left_after" not in event.changes
        assert event.changes["over_budget"] is False
    consistent()


def test_a_unit_a_budget_refers_to_cannot_be_deleted_from_under_it(app, browser, demo):
    acme = tenant()
    purchasing = Unit(tenant_id=acme.id, name="Compras")
    workshop = Unit(tenant_id=acme.id, name="Taller", is_service_unit=True)
    db.session.add_all([purchasing, workshop])
    db.session.commit()
    add_budget(requesting_unit="Compras")
    add_budget("Taller")
    admin, api = browser(ADMIN), api_as(app, ADMIN)
    before = budget_rows()
    for unit_id in (purchasing.id, workshop.id):
        page = admin.get(f"/admin/units/{unit_id}")
        assert f"/admin/units/{unit_id}/delete" not in html(page)  # no button offered
        response = admin.post(f"/admin/units/{unit_id}/delete")
        assert response.status_code == 422, response.status_code
        assert api.delete(f"/api/v1/admin/units/{unit_id}").status_code == 409  # in use
        assert reload_unit(unit_id) is not None
    assert budget_rows() == before


def reload_unit(unit_id: int) -> Unit | None:
    db.session.rollback()
    return db.session.get(Unit, unit_id)


@POSTGRESQL_ONLY
@pytest.mark.parametrize("meanwhile,status", [
    ("delete", 404),   # the budget is gone once the other edit commits: not found
    ("move", 422),     # moved meanwhile to March, where the category's own budget is
])
def test_an_edit_waiting_on_another_edit_of_the_budget_sees_what_it_left(app, demo, meanwhile,
                                                                         status):
    budget = add_budget(starts_on=date(2028, 1, 1))
    add_budget(category_name="Limpieza", starts_on=date(2028, 3, 1))
    budget_id, acme_id = budget.id, budget.tenant_id
    cleaning = db.session.scalar(select(Category.id).where(Category.name == "Limpieza"))
    api = api_as(app, ADMIN)
    table = Budget.__table__
    change = {"delete": table.delete(),
              "move": table.update().values(starts_on=date(2028, 3, 1),
                                            ends_on=date(2028, 3, 31))}[meanwhile]
    with db.engine.connect() as other:  # another edit holding the company's budgets
        other.execute(select(Tenant.id).where(Tenant.id == acme_id)
                      .with_for_update(key_share=True))
        other.execute(change.where(table.c.id == budget_id))
        results = []
        patch = threading.Thread(target=lambda: results.append(api.patch(
            f"/api/v1/admin/budgets/{budget_id}", {"category_id": cleaning}).status_code))
        patch.start()
        time.sleep(1.5)  # the patch has read the budget and waits for its turn
        other.commit()
    patch.join(timeout=60)
    assert results == [status]
    db.session.rollback()
    rows = db.session.scalars(select(Budget).where(Budget.category_id == cleaning)).all()
    assert len(rows) == 1  # never two budgets of one scope over one period


def test_the_viability_start_is_bounded_by_the_companys_today(app, demo):
    req_id = request_at("Task_Evaluate")[0].id
    director = api_as(app, DIRECTOR)
    # At any hour, at least one of these zones is on another date than UTC
    for zone_name in ("Pacific/Kiritimati", "Pacific/Pago_Pago"):
        acme = tenant()
        acme.timezone = zone_name
        db.session.commit()
        today = clock.today(tenant())
        url = f"/api/v1/requests/{req_id}/viability?start="
        assert director.get(f"{url}{today + timedelta(days=366)}").status_code == 200
        assert director.get(f"{url}{today - timedelta(days=366)}").status_code == 200
        for far in (today + timedelta(days=367), today - timedelta(days=367)):
            assert director.get(f"{url}{far}").status_code == 422, (zone_name, far)
