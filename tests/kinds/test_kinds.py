"""Kinds of work end to end: a version takes its diagram's kind at deploy, a request its
version's kind at filing; lists, the inbox, the API, the indicators and the exports show it and
filter by it. Setting it in the modeler: test_modeler_sets_kind.py."""

from sqlalchemy import select

from app.extensions import db
from app.models import ServiceRequest, Ticket
from app.services import definitions
from tests.factories import file
from tests.kinds.helpers import acme, file_incident, incident_process
from tests.sla.sla_walks import in_english

ADMIN, DIRECTOR, REQUESTER = "admin@acme.test", "director@acme.test", "ana@acme.test"
HEAD = "jefe.finanzas@acme.test"


def test_deploy_stores_the_kind_and_filing_copies_it(demo):
    definition = incident_process()
    assert definition.kind == "incident"
    assert definitions.active_definition(acme().id).kind == "request"  # the default process
    incident = file_incident()
    plain = file(REQUESTER, category="Electricidad")
    assert (incident.kind, plain.kind) == ("incident", "request")
    db.session.expire_all()
    stored = dict(db.session.execute(select(ServiceRequest.id, ServiceRequest.kind)).all())
    assert stored[incident.id] == "incident"
    assert set(stored.values()) == {"request", "incident"}  # the demo's: requests


def test_a_new_version_of_another_kind_applies_to_new_requests_only(demo):
    incident_process()
    first = file_incident()
    incident_process(key="incidente", kind="change")  # version 2 of the same key
    second = file_incident()
    db.session.expire_all()
    assert db.session.get(ServiceRequest, first.id).kind == "incident"
    assert db.session.get(ServiceRequest, second.id).kind == "change"


def test_request_lists_show_and_filter_by_kind_and_the_pager_keeps_it(demo, browser):
    incident_process()
    incidents = [file_incident(title=f"Caída {n}") for n in range(26)]
    plain = file(REQUESTER, category="Electricidad", title="Cambiar bombillo")
    page = browser(REQUESTER).get("/requests?kind=incident&per_page=25")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'class="tag kind kind-incident"' in html
    assert plain.number not in html
    assert sum(r.number in html for r in incidents) == 25
    pager = html.split('class="pager', 1)[1]
    assert "kind=incident" in pager and "page=2" in pager  # the next page keeps the filter
    second = browser(REQUESTER).get("/requests?kind=incident&per_page=25&page=2")
    shown = second.get_data(as_text=True)
    assert sum(r.number in shown for r in incidents) == 1 and plain.number not in shown
    everything = browser(REQUESTER).get("/requests").get_data(as_text=True)
    assert plain.number in everything and 'kind-incident' in everything
    # the director's list: a select with the kinds, the chosen one selected
    board = browser(DIRECTOR).get("/director/requests?kind=incident").get_data(as_text=True)
    assert '<option value="incident" selected>' in board
    assert plain.number not in board and incidents[0].number in board
    # a kind that is none: ignored with a message, never an error page
    odd = browser(REQUESTER).get("/requests?kind=nonsense")
    assert odd.status_code == 200 and plain.number in odd.get_data(as_text=True)


def test_the_inbox_and_ticket_boards_filter_by_kind(demo, browser):
    incident_process()
    incident = file_incident()
    plain = file(REQUESTER, category="Electricidad")
    head = browser(HEAD)
    both = head.get("/inbox").get_data(as_text=True)
    assert incident.number in both and plain.number in both
    only = head.get("/inbox?kind=incident").get_data(as_text=True)
    assert incident.number in only and plain.number not in only
    assert 'kind-incident' in only
    none = head.get("/inbox?kind=change").get_data(as_text=True)
    assert incident.number not in none
    demo_tickets = set(db.session.scalars(select(Ticket.number)))
    assert demo_tickets  # the demo's tickets are all of requests
    board = browser(DIRECTOR)
    every = board.get("/director/tickets").get_data(as_text=True)
    assert all(number in every for number in demo_tickets)
    incidents_only = board.get("/director/tickets?kind=incident").get_data(as_text=True)
    assert not any(number in incidents_only for number in demo_tickets)
    assert '<option value="incident" selected>' in incidents_only
    for url in ("/my/tickets?kind=change", "/unit/requests?kind=incident"):
        user = "tecnico1@acme.test" if url.startswith("/my") else HEAD
        assert browser(user).get(url).status_code == 200


def test_the_api_shows_the_kind_and_filters_by_it(demo, api):
    incident_process()
    incident = file_incident()
    plain = file(REQUESTER, category="Electricidad")
    client = api(REQUESTER)
    listed = client.get("/api/v1/requests?kind=incident").json["items"]
    assert [(r["number"], r["kind"]) for r in listed] == [(incident.number, "incident")]
    assert client.get(f"/api/v1/requests/{plain.id}").json["kind"] == "request"
    assert client.get("/api/v1/requests?kind=bogus").status_code == 422
    head = api(HEAD)
    tasks = head.get("/api/v1/tasks?kind=incident").json["items"]
    assert {t["request_id"] for t in tasks} == {incident.id}
    assert tasks[0]["request_kind"] == "incident"
    assert head.get("/api/v1/tasks?kind=bogus").status_code == 422
    assert api(DIRECTOR).get("/api/v1/tickets?kind=incident").status_code == 200
    spec = client.get("/api/v1/openapi.json").json
    request_schema = spec["components"]["schemas"]["Request"]["properties"]["kind"]
    assert request_schema["enum"] == ["request", "incident", "change", "security_incident"]
    names = {p["name"] for p in spec["paths"]["/api/v1/requests"]["get"]["parameters"]}
    assert "kind" in names


def test_the_indicators_narrow_by_kind(demo, api, browser):
    incident_process()
    file_incident()
    file_incident(title="Otra caída")
    client = api(ADMIN)
    every = client.get("/api/v1/indicators").json
    incidents = client.get("/api/v1/indicators?kind=incident").json
    assert incidents["filters"]["kind"] == "incident"
    assert every["filters"]["kind"] is None
    assert incidents["volumes"]["totals"]["filed"] == 2
    assert every["volumes"]["totals"]["filed"] > 2
    refused = client.get("/api/v1/indicators?kind=bogus")
    assert refused.status_code == 422
    in_english(ADMIN)
    page = browser(ADMIN).get("/indicators?kind=incident").get_data(as_text=True)
    assert 'name="kind"' in page and "Kind of work: Incident" in page


def test_exports_have_the_kind_column_and_filter(demo, browser):
    from tests.indicators.exports_helpers import csv_dicts, download

    incident_process()
    incident = file_incident()
    in_english(ADMIN)
    rows = csv_dicts(download(browser(ADMIN), "/indicators/export/requests.csv"))
    kinds = {row["Number"]: row["Kind of work"] for row in rows}
    assert kinds[incident.number] == "Incident"
    assert set(kinds.values()) == {"Incident", "Service request"}
    only = csv_dicts(download(browser(ADMIN), "/indicators/export/requests.csv?kind=incident"))
    assert [row["Number"] for row in only] == [incident.number]
