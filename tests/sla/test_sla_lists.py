"""Lists sort and filter by service level and show the time left in business time, right
between the runner's passes (nothing recomputes the clocks here: only time moves)."""

from contextlib import contextmanager

import pytest
from sqlalchemy import event

from app.extensions import db
from app.models import ServiceRequest
from app.services import inbox, workflow
from tests import factories
from tests.sla import sla_helpers
from tests.sla.sla_walks import (
    api_client,
    approve_at,
    assign_at,
    at,
    bogota,
    file_at,
    in_english,
    step_at,
)

DIRECTOR, HEAD, WORKER = "director@acme.test", "jefe.finanzas@acme.test", "tecnico1@acme.test"


@pytest.fixture
def three(demo):
    """In acme (08:00-18:00 Monday to Friday, Bogotá; decision 4 h, start 8 h, resolution
    40 h, warning at 75%): C filed Monday 08:30 before the targets existed (no clocks), A at
    09:00 (decision due 13:00, warning 12:00), B at 11:00 (due 15:00, warning 14:00)."""
    in_english(DIRECTOR, HEAD, "ana@acme.test", WORKER)
    c = file_at(bogota(7, 8, 30), "Pedido C sin acuerdo")
    sla_helpers.targets(decision=240, start=480, resolution=2400)
    a = file_at(bogota(7, 9), "Pedido A")
    b = file_at(bogota(7, 11), "Pedido B")
    return {"A": a.id, "B": b.id, "C": c.id}


def _order(html: str, titles) -> list[str]:
    found = {title: html.find(title) for title in titles}
    return [t for t, _ in sorted(((t, i) for t, i in found.items() if i >= 0),
                                 key=lambda pair: pair[1])]


def _page(browser, email, url) -> str:
    response = browser(email).get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


TITLES = ("Pedido A", "Pedido B", "Pedido C sin acuerdo")


def _ids(client, url, among=None) -> list[int]:
    """The ids of a list's items, in its order; ``among``: only these (the demo's own
    requests are in the lists too)."""
    response = client.get(url)
    assert response.status_code == 200, (url, response.json)
    ids = [item.get("request_id", item["id"]) for item in response.json["items"]]
    return [i for i in ids if among is None or i in among]


# -- filters ------------------------------------------------------------------------------
@pytest.mark.parametrize("moment, overdue, at_risk", [
    (bogota(7, 11, 59), [], []),
    (bogota(7, 12, 30), [], ["A"]),          # A past its warning (12:00)
    (bogota(7, 13, 30), ["A"], []),          # A due at 13:00; B warns at 14:00
    (bogota(7, 14, 30), ["A"], ["B"]),
    (bogota(7, 19, 0), ["A", "B"], []),      # after hours: both overdue
    (bogota(8, 7, 0), ["A", "B"], []),       # before the next day's hours
])
def test_overdue_and_at_risk_follow_the_time(three, app, browser, moment, overdue, at_risk):
    with at(moment):
        director = api_client(app, DIRECTOR)
        for name, expected in (("overdue", overdue), ("at_risk", at_risk)):
            got = _ids(director, f"/api/v1/requests?sla={name}")
            assert sorted(got) == sorted(three[k] for k in expected), name
            html = _page(browser, DIRECTOR, f"/director/requests?sla={name}")
            assert _order(html, TITLES) == [f"Pedido {k}" for k in sorted(expected)], name
        # the request list of the service layer, the same rule
        person = factories.user(DIRECTOR)
        assert {r.id for r in inbox.list_requests(person, sla="overdue")} == {
            three[k] for k in overdue}


def test_a_closed_request_is_never_overdue(three, app):
    with at(bogota(7, 12)):
        db.session.rollback()
        req = db.session.get(ServiceRequest, three["A"])
        workflow.cancel_request(factories.user("ana@acme.test"), req, "Ya no hace falta")
        db.session.commit()
    with at(bogota(7, 19)):
        director = api_client(app, DIRECTOR)
        assert _ids(director, "/api/v1/requests?sla=overdue") == [three["B"]]


# -- order --------------------------------------------------------------------------------
def test_the_directors_list_puts_the_soonest_due_first(three, app, browser):
    with at(bogota(7, 10)):
        html = _page(browser, DIRECTOR, "/director/requests")
        assert _order(html, TITLES) == ["Pedido A", "Pedido B", "Pedido C sin acuerdo"]
        assert 'value="sla" selected' in html
        html = _page(browser, DIRECTOR, "/director/requests?sort=newest")
        assert _order(html, TITLES) == ["Pedido B", "Pedido A", "Pedido C sin acuerdo"]
        # the requester's and the head's lists keep newest first unless asked
        mine = _page(browser, "ana@acme.test", "/requests")
        assert _order(mine, TITLES) == ["Pedido B", "Pedido A", "Pedido C sin acuerdo"]
        mine = _page(browser, "ana@acme.test", "/requests?sort=sla")
        assert _order(mine, TITLES) == ["Pedido A", "Pedido B", "Pedido C sin acuerdo"]
        head = _page(browser, HEAD, "/unit/requests?sort=sla")
        assert _order(head, TITLES) == ["Pedido A", "Pedido B", "Pedido C sin acuerdo"]
        client = api_client(app, DIRECTOR)
        ours = set(three.values())
        assert _ids(client, "/api/v1/requests?sort=sla", ours) == [
            three["A"], three["B"], three["C"]]
        assert _ids(client, "/api/v1/requests", ours) == [three["B"], three["A"], three["C"]]


def test_the_task_inbox_puts_the_soonest_due_first(three, app, browser):
    """The head authorizes all three: the inbox orders them by their decision's due time,
    the one with no clock last; the API keeps the oldest first unless asked."""
    with at(bogota(7, 12, 30)):
        html = _page(browser, HEAD, "/inbox")
        assert _order(html, TITLES) == ["Pedido A", "Pedido B", "Pedido C sin acuerdo"]
        assert "30 min left" in html
        html = _page(browser, HEAD, "/inbox?sla=at_risk")
        assert _order(html, TITLES) == ["Pedido A"]
        html = _page(browser, HEAD, "/inbox?sort=priority")
        assert _order(html, TITLES) == ["Pedido C sin acuerdo", "Pedido A", "Pedido B"]
        client = api_client(app, HEAD)
        ours = set(three.values())
        assert _ids(client, "/api/v1/tasks?sort=sla", ours) == [
            three["A"], three["B"], three["C"]]
        tasks = {t["request_id"]: t for t in client.get("/api/v1/tasks").json["items"]}
        assert tasks[three["A"]]["request_sla"]["decision"]["state"] == "warning"
        assert tasks[three["C"]]["request_sla"] == {}
        assert _ids(client, "/api/v1/tasks", ours) == [three["C"], three["A"], three["B"]]
        assert _ids(client, "/api/v1/tasks?sla=at_risk") == [three["A"]]


# -- the time left -------------------------------------------------------------------------
@pytest.mark.parametrize("moment, texts", [
    (bogota(7, 10), ["3 h left", "5 h left"]),
    (bogota(7, 12, 30), ["30 min left", "2 h 30 min left"]),
    (bogota(7, 19), ["overdue by 5 h", "overdue by 3 h"]),         # 13:00-18:00, 15:00-18:00
    (bogota(8, 8, 30), ["overdue by 5 h 30 min", "overdue by 3 h 30 min"]),  # the night
])
def test_the_time_left_is_business_time(three, browser, moment, texts):
    with at(moment):
        html = _page(browser, DIRECTOR, "/director/requests?sort=newest")
    row_a = html[html.index("Pedido A"):]
    row_b = html[html.index("Pedido B"):html.index("Pedido A")]
    assert texts[0] in row_a.split("</tr>")[0]
    assert texts[1] in row_b
    row_c = html[html.index("Pedido C sin acuerdo"):].split("</tr>")[0]
    assert "left" not in row_c and "overdue" not in row_c   # no SLA: nothing shown


def test_a_paused_request_says_paused_with_its_remaining_time(demo, app, browser):
    """Filed Monday 09:00, approved and started at once, held at 13:00: its resolution clock
    (40 h) has run 4 h and stands at 36 h left for as long as the hold lasts."""
    in_english(DIRECTOR, WORKER)
    sla_helpers.targets(decision=240, start=480, resolution=2400)
    req = file_at(bogota(7, 9), "Pedido en espera")
    approve_at(bogota(7, 10), req)
    assign_at(bogota(7, 10), req, "2026-12-11")
    step_at(bogota(7, 11), req, "Task_Start", WORKER, "start", {})
    step_at(bogota(7, 13), req, "Task_Work", WORKER, "hold", {"reason": "Falta material"})
    for moment in (bogota(7, 15), bogota(9, 10)):
        with at(moment):
            html = _page(browser, DIRECTOR, "/director/requests")
            assert "paused, 36 h left" in html
            assert "paused, 36 h left" in _page(browser, WORKER, "/my/tickets")
            client = api_client(app, DIRECTOR)
            for name in ("overdue", "at_risk"):
                assert _ids(client, f"/api/v1/requests?sla={name}") == []


# -- the worker's tickets -------------------------------------------------------------------
def test_the_workers_tickets_come_by_resolution_due_then_planned_end(demo, app, browser):
    """Z has no clock and the earliest planned end, X is due later than Y but planned to end
    sooner: the worker sees Y, X, Z; the director's ticket list keeps the planned end."""
    in_english(DIRECTOR, WORKER)
    z = file_at(bogota(7, 8), "Ticket Z")
    sla_helpers.targets(decision=240, start=480, resolution=2400)
    y = file_at(bogota(7, 9), "Ticket Y")
    x = file_at(bogota(7, 11), "Ticket X")
    for req, planned_end in ((z, "2026-12-08"), (x, "2026-12-10"), (y, "2026-12-20")):
        approve_at(bogota(7, 12), req)
        assign_at(bogota(7, 12), req, planned_end)
    names = ("Ticket X", "Ticket Y", "Ticket Z")
    with at(bogota(7, 14)):
        assert _order(_page(browser, WORKER, "/my/tickets"), names) == [
            "Ticket Y", "Ticket X", "Ticket Z"]
        assert _order(_page(browser, WORKER, "/my/tickets?sort=planned_end"), names) == [
            "Ticket Z", "Ticket X", "Ticket Y"]
        assert _order(_page(browser, DIRECTOR, "/director/tickets"), names) == [
            "Ticket Z", "Ticket X", "Ticket Y"]
        assert _order(_page(browser, DIRECTOR, "/director/tickets?sort=resolution"),
                      names) == ["Ticket Y", "Ticket X", "Ticket Z"]
        worker = api_client(app, WORKER)
        ours = {x.id, y.id, z.id}
        assert _ids(worker, "/api/v1/tickets", ours) == [y.id, x.id, z.id]
        tickets = {t["request_id"]: t for t in worker.get("/api/v1/tickets").json["items"]}
        assert tickets[y.id]["request_sla"]["resolution"]["due_at"] == \
            "2026-12-11T14:00:00+00:00"
        assert tickets[z.id]["request_sla"] == {}
        assert _ids(worker, "/api/v1/tickets?sort=planned_end", ours) == [z.id, x.id, y.id]
        # approved together Monday 12:00, both due to start Tuesday 10:00: not overdue yet
        assert worker.get("/api/v1/tickets?sla=overdue").json["items"] == []
    with at(bogota(8, 12)):  # their start clocks (8 h from Monday 12:00) are now overdue
        worker = api_client(app, WORKER)
        overdue = _ids(worker, "/api/v1/tickets?sla=overdue&sort=sla")
        assert overdue == [x.id, y.id]   # both due to start at once: then the planned end
        assert _order(_page(browser, WORKER, "/my/tickets?sla=overdue"), names) == [
            "Ticket Y", "Ticket X"]


# -- tenants --------------------------------------------------------------------------------
def test_another_companys_requests_never_appear(three, app, browser):
    sla_helpers.targets("globex", decision=60)
    theirs = file_at(bogota(7, 9), "Pedido de Globex", requester="pedro@globex.test")
    with at(bogota(7, 19)):
        acme = api_client(app, DIRECTOR)
        for url in ("/api/v1/requests?sla=overdue", "/api/v1/requests?sort=sla",
                    "/api/v1/tasks?sla=overdue", "/api/v1/tickets?sla=overdue"):
            assert theirs.id not in _ids(acme, url), url
        assert "Pedido de Globex" not in _page(browser, DIRECTOR,
                                               "/director/requests?sla=overdue")
        globex = api_client(app, "director@globex.test")
        assert _ids(globex, "/api/v1/requests?sla=overdue") == [theirs.id]
        assert _ids(globex, "/api/v1/requests?sla=at_risk") == []


# -- what is not understood -----------------------------------------------------------------
@pytest.mark.parametrize("query", ["sla=late", "sort=fastest", "sla=overdue%20",
                                   "sla=" + "x" * 300, "sort=sla;drop", "sla=OVERDUE",
                                   "sla=vencid%C3%A1"])
def test_unknown_filters_are_ignored_on_pages_with_a_message(three, browser, query):
    for email, url in ((DIRECTOR, "/director/requests"), (DIRECTOR, "/director/tickets"),
                       (HEAD, "/inbox"), (HEAD, "/unit/requests"), ("ana@acme.test", "/requests"),
                       (WORKER, "/my/tickets")):
        response = browser(email).get(f"{url}?{query}")
        assert response.status_code == 200, (url, query)
        assert "not understood" in response.get_data(as_text=True), (url, query)


@pytest.mark.parametrize("query", ["sla=late", "sort=fastest", "sla=overdue%20", "sort=",
                                   "sla=at%20risk"])
def test_unknown_filters_are_refused_by_the_api(three, app, query):
    client = api_client(app, DIRECTOR)
    for url in ("/api/v1/requests", "/api/v1/tasks", "/api/v1/tickets"):
        response = client.get(f"{url}?{query}")
        assert response.status_code == 422, (url, query, response.json)
        assert set(response.json["errors"]) & {"sla", "sort"}, response.json


# -- what a page costs ----------------------------------------------------------------------
@contextmanager
def counted():
    statements = []

    def record(*_args):
        statements.append(1)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


LISTS = [(DIRECTOR, "/director/requests"), (DIRECTOR, "/director/tickets"), (DIRECTOR, "/inbox"),
         (HEAD, "/unit/requests"), ("ana@acme.test", "/requests"), (WORKER, "/my/tickets"),
         (DIRECTOR, "/api/v1/requests?sort=sla"), (DIRECTOR, "/api/v1/tasks?sort=sla"),
         (DIRECTOR, "/api/v1/tickets"), (WORKER, "/api/v1/tickets")]


def _costs(app, browser) -> dict:
    costs = {}
    for email, url in LISTS:
        client = api_client(app, email) if url.startswith("/api/") else browser(email)
        with counted() as statements:
            assert client.get(url).status_code == 200
        costs[url, email] = len(statements)
    return costs


def test_a_list_costs_the_same_for_two_measured_requests_or_six(demo, app, browser):
    """The clocks of a page are read in one query with their calendars, not per row."""
    sla_helpers.targets(decision=240, start=480, resolution=2400)

    def add_two():
        for moment in (bogota(7, 9), bogota(7, 10)):
            req = file_at(moment, "Pedido medido")
            approve_at(moment, req)
            assign_at(moment, req, "2026-12-10")

    add_two()
    with at(bogota(7, 16)):
        few = _costs(app, browser)
    add_two()
    add_two()
    with at(bogota(7, 16)):
        many = _costs(app, browser)
    assert many == few
