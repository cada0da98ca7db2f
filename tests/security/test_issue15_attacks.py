"""Attacks on issue 15's indicators (the /indicators page, its exports, the process heatmap,
the API's figures and exports, the report and the monthly notice, the milestones each step
folds): each test is one class of attempt by a hostile tenant user or a careless admin, with
its variants. It passes when every attempt is refused cleanly (a clear 4xx, never a 500,
nothing changed), when no filter value reveals figures outside the caller's scope or company,
when no input makes a view do unbounded work, when nothing a tenant writes runs as a formula
in a spreadsheet or as a script in a page, and when the milestones each step folds survive
other steps running beside it.

A test marked ``xfail(strict=True)`` is a bug found: its reason gives the input and what was
expected; the fix removes the mark."""

import csv
import io
import json
import os
import re
import threading
import time
import zipfile
from datetime import UTC, datetime
from html import unescape

import pytest
import time_machine
from openpyxl import load_workbook
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from app.admin.models import AuditEntry
from app.extensions import db
from app.indicators import stages
from app.models import (
    Category,
    HistoryEvent,
    Membership,
    Notification,
    NumberSequence,
    ServiceRequest,
    Tenant,
    Ticket,
    Unit,
    User,
)
from app.services import definitions, history, workflow
from app.tenancy import access, isolation
from tests import factories
from tests.api.conftest import ApiClient
from tests.indicators.test_scoping import november
from tests.indicators.walks import ids
from tests.viability.budget_helpers import api_as

ADMIN = "admin@acme.test"
DIRECTOR = "director@acme.test"
SISTEMAS = "director.sistemas@acme.test"  # acme's second service unit (``more_acme``)
FINANZAS_HEAD = "jefe.finanzas@acme.test"
PRODUCCION_HEAD = "jefe.produccion@acme.test"
REQUESTER = "ana@acme.test"
WORKER = "tecnico1@acme.test"
GLOBEX_DIRECTOR = "director@globex.test"
OWNER = "procesos@acme.test"  # a process owner with no other role (``person``)
NOVEMBER = "from=2026-11-01&to=2026-11-30"
SCRIPT = "</script><script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
POSTGRESQL_ONLY = pytest.mark.skipif(
    "postgresql" not in (os.environ.get("TEST_DATABASE_URL") or ""),
    reason="SQLite takes one writer at a time: the interleaving cannot happen")

EXPORTS = ("requests", "tickets", "figures")
PAGES = ("/indicators", "/indicators/heatmap",
         *(f"/indicators/export/{what}.{fmt}" for what in EXPORTS for fmt in ("csv", "xlsx")))
APIS = ("/api/v1/indicators", "/api/v1/indicators/heatmap",
        *(f"/api/v1/exports/{what}.{fmt}" for what in ("requests", "tickets", "indicators")
          for fmt in ("csv", "xlsx")))
PAGE_EXPORTS = tuple(p for p in PAGES if "/export/" in p)
API_EXPORTS = tuple(p for p in APIS if "/exports/" in p)
ID_FIELDS = ("unit_id", "service_unit_id", "category_id", "worker_id")


# --- calling the routes ----------------------------------------------------------------------

def call(who, url: str, method: str = "GET", headers: dict | None = None):
    """One request by ``who`` (a logged-in ``browser`` or an ``ApiClient``), its body read
    whole inside its own app context (a streamed export too), as production runs it."""
    sent = dict(headers or {})
    if isinstance(who, ApiClient):
        sent["Authorization"] = f"Bearer {who.token}"
    with who.app.app_context():
        response = who.client.open(url, method=method, headers=sent)
        response.get_data()
        response.close()
    return response


def statuses(who, urls, query: str = "", method: str = "GET") -> dict[str, int]:
    joiner = "&" if "?" in query else ""
    return {url: call(who, f"{url}?{query}{joiner}" if query else url, method).status_code
            for url in urls}


def everywhere(page, api, query: str) -> dict[str, int]:
    """The status of ``query`` on every page route (``page``) and API route (``api``)."""
    return {**statuses(page, PAGES, query), **statuses(api, APIS, query)}


def newcomer(email: str, slug: str, role: str, unit_id: int | None = None) -> User:
    """A new person of company ``slug`` holding only ``role`` (in ``unit_id``)."""
    company = db.session.scalar(select(Tenant).where(Tenant.slug == slug))
    someone = User(tenant_id=company.id, email=email, name=email.split("@")[0])
    someone.set_password("demo1234")
    db.session.add(someone)
    db.session.flush()
    db.session.add(Membership(tenant_id=company.id, user_id=someone.id, role=role,
                              unit_id=unit_id))
    db.session.commit()
    return someone


def api_json(api, url: str) -> dict:
    response = call(api, url)
    assert response.status_code == 200, (url, response.get_data(as_text=True)[:300])
    return response.json


def csv_table(response) -> list[list[str]]:
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf"), body[:40]
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def csv_column(response, header: str) -> list[str]:
    head, *rows = csv_table(response)
    return [row[head.index(header)] for row in rows]


def english(*emails: str) -> None:
    for email in emails:
        factories.user(email).locale = "en"
    db.session.commit()


def numbers(*conditions) -> set[str]:
    db.session.rollback()
    return set(db.session.scalars(select(ServiceRequest.number).where(*conditions)))


def november_period():
    return (ServiceRequest.created_at >= datetime(2026, 11, 1, 5, tzinfo=UTC),
            ServiceRequest.created_at < datetime(2026, 12, 1, 5, tzinfo=UTC))


def snapshot() -> tuple:
    """What a view could write: equal before and after means a view wrote nothing."""
    db.session.rollback()
    counted = tuple(db.session.scalar(select(func.count()).select_from(model))
                    for model in (ServiceRequest, HistoryEvent, Ticket, Notification,
                                  AuditEntry, Category, Unit))
    milestones = sorted(tuple(getattr(r, name) for name in ("id", *stages.COLUMNS))
                        for r in db.session.scalars(select(ServiceRequest)))
    return counted, milestones


# --- another company, another unit: every route ---------------------------------------------

def deploy_in_globex() -> None:
    """Globex gets a second version of its process and a process of its own: acme has
    neither."""
    globex = ids("globex")["tenant"]
    xml = definitions.active_definition(globex).bpmn_xml
    definitions.deploy(globex, xml.replace('name="Evaluar viabilidad"', 'name="Otra"'),
                       note="globex v2")
    definitions.deploy(globex, xml, process_key="compras_globex", note="globex only")
    db.session.commit()


def test_another_companys_ids_are_not_found_on_any_route(app, demo, browser):
    """acme's admin names globex's unit, service unit, category, worker, process version and
    process; globex's director (page and token) names acme's: 404 everywhere, never figures,
    never a file."""
    deploy_in_globex()
    acme, globex = ids("acme"), ids("globex")
    theirs = {"acme": {"unit_id": globex["Operaciones"],
                       "service_unit_id": globex["Mantenimiento"],
                       "category_id": globex["Mantenimiento locativo"],
                       "worker_id": globex["tecnico@globex.test"]},
              "globex": {"unit_id": acme["Finanzas"],
                         "service_unit_id": acme["Servicios Generales"],
                         "category_id": acme["Electricidad"],
                         "worker_id": acme[WORKER]}}
    for email, slug in ((ADMIN, "acme"), (GLOBEX_DIRECTOR, "globex")):
        page, api = browser(email), api_as(app, email)
        for field, value in theirs[slug].items():
            found = everywhere(page, api, f"{field}={value}")
            assert set(found.values()) == {404}, (email, field, found)
        if slug == "acme":
            for query in ("version=2", "compare=2", "process_key=compras_globex"):
                assert call(page, f"/indicators/heatmap?{query}").status_code == 404, query
            for query in ("version=2", "process_key=compras_globex"):
                assert call(api, f"/api/v1/indicators/heatmap?{query}").status_code == 404
    # globex's own version 2 is there for globex
    assert call(api_as(app, GLOBEX_DIRECTOR),
                "/api/v1/indicators/heatmap?version=2").status_code == 200


def test_a_unit_head_naming_a_unit_they_do_not_head_is_not_found(app, demo, browser):
    made = november()
    acme = ids("acme")
    for email, unit in ((PRODUCCION_HEAD, acme["Finanzas"]),
                        (PRODUCCION_HEAD, made["t1"].unit_id),  # Tesorería, under Finanzas
                        (FINANZAS_HEAD, acme["Producción"]),
                        (FINANZAS_HEAD, acme["Servicios Generales"])):
        found = everywhere(browser(email), api_as(app, email), f"{NOVEMBER}&unit_id={unit}")
        assert set(found.values()) == {404}, (email, unit, found)


def test_the_head_of_a_unit_under_another_sees_only_theirs(app, demo, browser):
    """Tesorería is under Finanzas: its own head counts t1 alone, and may not name Finanzas
    (the unit above) nor Producción."""
    made = november()
    acme = ids("acme")
    newcomer("jefe.tesoreria@acme.test", "acme", "unit_head", made["t1"].unit_id)
    page, api = browser("jefe.tesoreria@acme.test"), api_as(app, "jefe.tesoreria@acme.test")
    figures = api_json(api, f"/api/v1/indicators?{NOVEMBER}")
    assert figures["volumes"]["totals"]["filed"] == 1
    exported = csv_column(call(page, f"/indicators/export/requests.csv?{NOVEMBER}"), "Número")
    assert exported == [made["t1"].number]
    for unit in (acme["Finanzas"], acme["Producción"]):
        found = everywhere(page, api, f"{NOVEMBER}&unit_id={unit}")
        assert set(found.values()) == {404}, (unit, found)


def test_units_in_a_circle_still_answer_a_heads_view(app, demo, browser):
    """A careless import makes Finanzas and Tesorería each the other's parent: the head's
    scope (a recursive query) still ends, and is those two units."""
    made = november()
    acme = ids("acme")
    db.session.rollback()
    finanzas, tesoreria = db.session.get(Unit, acme["Finanzas"]), db.session.get(
        Unit, made["t1"].unit_id)
    finanzas.parent_id = tesoreria.id
    db.session.commit()
    assert db.session.get(Unit, tesoreria.id).parent_id == finanzas.id
    started = time.monotonic()
    api = api_as(app, FINANZAS_HEAD)
    figures = api_json(api, f"/api/v1/indicators?{NOVEMBER}")
    assert figures["volumes"]["totals"]["filed"] == 5  # f1..f4 and t1
    assert set(everywhere(browser(FINANZAS_HEAD), api, NOVEMBER).values()) == {200}
    assert time.monotonic() - started < 30


def test_a_unit_heads_figures_and_exports_are_their_units_requests_only(app, demo, browser):
    """The head of Producción counted by hand: p1, p2, p3 (and nothing else) in November,
    whatever service unit or worker they narrow to; narrowed, only what those attended of
    their own (never f1, the one request tecnico1 worked on, from Finanzas)."""
    made = november()
    english(PRODUCCION_HEAD)
    acme = ids("acme")
    mine = {made[k].number for k in ("p1", "p2", "p3")}
    assert mine == numbers(ServiceRequest.unit_id == acme["Producción"], *november_period())
    page, api = browser(PRODUCCION_HEAD), api_as(app, PRODUCCION_HEAD)
    figures = api_json(api, f"/api/v1/indicators?{NOVEMBER}")
    assert {k: v for k, v in figures["volumes"]["totals"].items() if v} == {
        "filed": 3, "authorized": 1, "rejected_by_director": 1, "cancelled": 1}
    for route in ("/indicators/export/requests.csv", "/api/v1/exports/requests.csv"):
        who = page if route.startswith("/indicators") else api
        assert set(csv_column(call(who, f"{route}?{NOVEMBER}"), "Number")) == mine, route
    # Narrowed to each service unit and each worker of the company: a part of their own
    narrowings = {("service_unit_id", acme["Servicios Generales"]): {"p1", "p3"},
                  ("service_unit_id", acme["Sistemas"]): {"p2"},
                  ("worker_id", acme[WORKER]): set(),
                  ("worker_id", acme["tecnico2@acme.test"]): set(),
                  ("worker_id", acme["tecnico.sistemas@acme.test"]): set()}
    for (field, value), expected in narrowings.items():
        query = f"{NOVEMBER}&{field}={value}"
        narrowed = api_json(api, f"/api/v1/indicators?{query}")
        assert narrowed["volumes"]["totals"]["filed"] == len(expected), (field, value)
        assert narrowed["cost"]["by_unit"] == [] or {
            row["id"] for row in narrowed["cost"]["by_unit"]} <= {acme["Producción"]}
        for route in ("/indicators/export/requests.csv", "/api/v1/exports/requests.csv",
                      "/indicators/export/tickets.csv"):
            who = page if route.startswith("/indicators") else api
            header = "Request" if "tickets" in route else "Number"
            got = set(csv_column(call(who, f"{route}?{query}"), header))
            assert got <= {made[k].number for k in expected}, (route, field, value, got)
        assert made["f1"].number not in call(page, f"/indicators/export/figures.csv?{query}") \
            .get_data(as_text=True)


def test_a_director_naming_a_heads_unit_counts_only_what_they_attend(app, demo, browser):
    made = november()
    english(SISTEMAS, DIRECTOR)
    acme = ids("acme")
    for email, expected in ((SISTEMAS, {"f4"}), (DIRECTOR, {"f1", "f2", "f3"})):
        page, api = browser(email), api_as(app, email)
        query = f"{NOVEMBER}&unit_id={acme['Finanzas']}"
        figures = api_json(api, f"/api/v1/indicators?{query}")
        assert figures["volumes"]["totals"]["filed"] == len(expected), email
        exported = set(csv_column(call(page, f"/indicators/export/requests.csv?{query}"),
                                  "Number"))
        assert exported == {made[k].number for k in expected}, email


def test_people_without_indicators_find_nothing(app, demo, browser):
    """A requester and a worker: pages 404, API 403. A process owner with no other role sees
    the heatmap (the whole company's passes) but neither the indicators nor the exports, and
    may not narrow the heatmap by unit, service unit or worker. Someone a careless admin
    deactivated keeps nothing: neither their session nor their token."""
    newcomer(OWNER, "acme", "process_owner")
    acme = ids("acme")
    for email in (REQUESTER, WORKER):
        found = everywhere(browser(email), api_as(app, email), "")
        assert {u: s for u, s in found.items() if u.startswith("/indicators")} == \
            dict.fromkeys(PAGES, 404), email
        assert {u: s for u, s in found.items() if u.startswith("/api")} == \
            dict.fromkeys(APIS, 403), email
    page, api = browser(OWNER), api_as(app, OWNER)
    found = everywhere(page, api, "")
    assert found == {**dict.fromkeys(PAGES, 404), **dict.fromkeys(APIS, 403),
                     "/indicators/heatmap": 200, "/api/v1/indicators/heatmap": 200}
    for field in ("unit_id", "service_unit_id", "worker_id"):
        value = acme["Finanzas" if field == "unit_id" else "Servicios Generales"
                     if field == "service_unit_id" else WORKER]
        assert call(page, f"/indicators/heatmap?{field}={value}").status_code == 404
        assert call(api, f"/api/v1/indicators/heatmap?{field}={value}").status_code == 404
    # Deactivated while signed in and holding a token
    head_page, head_api = browser(FINANZAS_HEAD), api_as(app, FINANZAS_HEAD)
    assert call(head_api, "/api/v1/indicators").status_code == 200
    factories.user(FINANZAS_HEAD).active = False
    db.session.commit()
    for url, status in everywhere(head_page, head_api, "").items():
        assert status in (302, 401, 403, 404), (url, status)


def test_a_suspended_companys_people_see_the_suspension_everywhere(app, demo, browser):
    page, api = browser(GLOBEX_DIRECTOR), api_as(app, GLOBEX_DIRECTOR)
    assert call(api, "/api/v1/indicators").status_code == 200
    globex = db.session.scalar(select(Tenant).where(Tenant.slug == "globex"))
    globex.status, globex.suspended_reason = "suspended", "Impago"
    db.session.commit()
    assert set(everywhere(page, api, NOVEMBER).values()) == {403}
    assert call(api, "/api/v1/exports/requests.csv").json["type"] == access.SUSPENDED_TYPE
    assert "Impago" in call(page, "/indicators").get_data(as_text=True)


# --- odd values --------------------------------------------------------------------------------

ODD_IDS = ("-1", "0", "2147483648", "9" * 40, "9" * 5000, "²", "١", "１", "1.5", "1e3", "0x1",
           "x", "1;DROP TABLE units", "[1]", "{}", "%EF%BC%91", "1%20OR%201=1", "null", "true")


def test_odd_ids_are_refused_cleanly_everywhere(app, demo, browser):
    """An id that is not an ASCII number naming something of the caller's: 404 or 422 on
    every route, never a 500 and never figures."""
    page, api = browser(ADMIN), api_as(app, ADMIN)
    for field in ID_FIELDS:
        for odd in ODD_IDS:
            found = everywhere(page, api, f"{field}={odd}")
            assert set(found.values()) <= {404, 422}, (field, odd, found)


def test_a_unicode_digit_as_the_heatmaps_version_is_not_found(app, demo, browser):
    page = browser(ADMIN)
    for query in ("version=²", "compare=²", "version=³&compare=1"):
        assert call(page, f"/indicators/heatmap?{query}").status_code == 404, query


def test_an_export_in_another_format_or_path_is_not_found(app, demo, browser):
    page, api = browser(ADMIN), api_as(app, ADMIN)
    for what in ("requests", "tickets", "figures"):
        for fmt in ("CSV", "json", "xls", "csv.exe", "xlsx%00", "csv/..", "html"):
            assert call(page, f"/indicators/export/{what}.{fmt}").status_code in (400, 404), (
                what, fmt)
    for what in ("requests", "tickets", "indicators", "figures", "users", "..%2Frequests"):
        for fmt in ("json", "CSV", "xls"):
            assert call(api, f"/api/v1/exports/{what}.{fmt}").status_code in (400, 404), (
                what, fmt)
    assert call(api, "/api/v1/exports/figures.csv").status_code == 404  # the API's name


def test_other_odd_versions_of_the_heatmap_are_not_found(app, demo, browser):
    page, api = browser(ADMIN), api_as(app, ADMIN)
    for odd in ("-1", "0", "9" * 40, "x", "1.5", "%00", "999999999"):
        assert call(page, f"/indicators/heatmap?version={odd}").status_code in (400, 404), odd
        assert call(page, f"/indicators/heatmap?compare={odd}").status_code in (400, 404), odd
        assert call(api, f"/api/v1/indicators/heatmap?version={odd}").status_code in (
            400, 404, 422), odd
    for key in ("..%2F..%2Fetc", "SERVICE_REQUEST", "a" * 500, "service_request%00", "x"):
        assert call(page, f"/indicators/heatmap?process_key={key}").status_code in (400, 404)
        assert call(api, f"/api/v1/indicators/heatmap?process_key={key}").status_code in (
            400, 404, 422)


def test_a_repeated_parameter_reads_its_first_value_on_every_route(app, demo, browser):
    """``unit_id=mine&unit_id=theirs`` is the first (no widening to both, no error on the
    second); ``unit_id=theirs&unit_id=mine`` is refused: on the page and the API alike."""
    acme, globex = ids("acme"), ids("globex")
    page, api = browser(FINANZAS_HEAD), api_as(app, FINANZAS_HEAD)
    first_mine = f"unit_id={acme['Finanzas']}&unit_id={acme['Producción']}"
    assert set(everywhere(page, api, first_mine).values()) == {200}
    figures = api_json(api, f"/api/v1/indicators?{first_mine}")
    assert figures["filters"]["unit_id"] == acme["Finanzas"]
    for first_theirs in (f"unit_id={acme['Producción']}&unit_id={acme['Finanzas']}",
                         f"unit_id={globex['Operaciones']}&unit_id={acme['Finanzas']}"):
        assert set(everywhere(page, api, first_theirs).values()) == {404}, first_theirs


def test_the_forms_empty_fields_mean_no_filter_on_the_heatmap_api_too(app, demo):
    api = api_as(app, ADMIN)
    form = ("preset=last_30_days&from=&to=&unit_id=&service_unit_id=&category_id=&priority="
            "&worker_id=")
    assert call(api, f"/api/v1/indicators?{form}").status_code == 200
    assert call(api, f"/api/v1/indicators/heatmap?{form}").status_code == 200


def test_a_preset_with_dates_is_one_view_on_the_page_the_exports_and_the_api(app, demo,
                                                                               browser):
    """``preset=this_year&from=2026-11-01&to=2026-11-30`` (the form sends both) is this year
    on the page, its downloads and the API alike (it was two views before 68f05f6)."""
    query = "preset=this_year&from=2026-11-01&to=2026-11-30"
    page, api = browser(ADMIN), api_as(app, ADMIN)
    shown = call(page, f"/indicators?{query}").get_data(as_text=True)
    assert 'value="2026-01-01"' in shown  # the page: this year
    for url in ("/api/v1/indicators", "/api/v1/indicators/heatmap"):
        assert api_json(api, f"{url}?{query}")["filters"]["from"] == "2026-01-01", url
    stem = call(page, f"/indicators/export/requests.csv?{query}").headers[
        "Content-Disposition"]
    assert "2026-01-01" in stem, stem


def test_a_date_not_written_yyyy_mm_dd_gets_the_same_answer_everywhere(app, demo, browser):
    page, api = browser(ADMIN), api_as(app, ADMIN)
    for query in ("from=20261101&to=20261130", "from=2026-W45-1&to=2026-W48-7"):
        found = everywhere(page, api, query)
        assert set(found.values()) == {422}, (query, found)


# --- bounded work -----------------------------------------------------------------------------

def test_the_longest_period_answers_and_longer_or_odd_periods_are_refused(app, demo, browser):
    page, api = browser(ADMIN), api_as(app, ADMIN)
    # three years whatever they hold (MAX_DAYS), the last day of 2100
    for query in ("from=2024-01-01&to=2026-12-31", "from=2098-01-01&to=2100-12-31",
                  "from=2000-01-01&to=2000-01-01"):
        found = everywhere(page, api, query)
        assert set(found.values()) == {200}, (query, found)
    refused = ("from=2006-01-01&to=2025-12-31",          # twenty years
               "from=2023-01-01&to=2026-01-05",          # three years and a few days
               "from=0001-01-01&to=0001-01-31", "from=9999-12-01&to=9999-12-31",
               "from=1999-12-31&to=2000-01-01", "from=2100-12-31&to=2101-01-01",
               "from=2026-12-31&to=2026-01-01", "from=2026-02-30&to=2026-03-01",
               "from=2026-11-01", "to=2026-11-01", "from=%00&to=2026-11-01",
               "from=" + "2" * 20000 + "&to=2026-11-01",
               "preset=forever", "preset=last_99999_days", "preset=last_0_days",
               "preset=__class__", "preset=" + "x" * 5000, "priority=" + "x" * 5000,
               "priority=urgentisimo")
    for query in refused:
        found = everywhere(page, api, query)
        assert set(found.values()) <= {400, 422}, (query[:60], found)


def test_thousands_of_parameters_and_a_huge_accept_language_are_cheap(app, demo, browser):
    page, api = browser(ADMIN), api_as(app, ADMIN)
    unit = ids("acme")["Finanzas"]
    crowd = "&".join(f"p{i}=1" for i in range(5000)) + f"&unit_id={unit}"
    repeated = "&".join([f"unit_id={unit}"] * 5000)
    started = time.monotonic()
    for query in (crowd, repeated):
        assert set(everywhere(page, api, query).values()) == {200}
    assert api_json(api, f"/api/v1/indicators?{crowd}") == \
        api_json(api, f"/api/v1/indicators?unit_id={unit}")
    languages = ",".join(f"x{i};q=0.{i % 9 + 1}" for i in range(20000))
    for url in PAGES:
        assert call(page, url, headers={"Accept-Language": languages}).status_code == 200, url
    for url in APIS:
        assert call(api, url, headers={"Accept-Language": languages}).status_code == 200, url
    assert time.monotonic() - started < 60


def open_transactions() -> int:
    """Connections of this database left inside a transaction (PostgreSQL), other than the
    test's own."""
    if db.engine.dialect.name != "postgresql":
        return 0
    db.session.rollback()
    return db.session.scalar(text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'"))


def test_exports_of_the_longest_period_stream_and_a_dropped_download_leaves_nothing(
        app, demo, browser, monkeypatch):
    """Every export of three years is streamed (no body built before it is sent); a download
    dropped after its first chunk closes its transaction and restores the scope, so a write
    goes through afterwards."""
    from app.indicators import exports_formats

    monkeypatch.setattr(exports_formats, "CHUNK", 256)
    for _ in range(3):
        factories.file()
    page, api = browser(ADMIN), api_as(app, ADMIN)
    query = "from=2024-01-01&to=2026-12-31"
    tenant_id = factories.user(ADMIN).tenant_id
    for who, urls in ((page, PAGE_EXPORTS), (api, API_EXPORTS)):
        for url in urls:
            headers = {"Authorization": f"Bearer {who.token}"} \
                if isinstance(who, ApiClient) else {}
            with who.app.app_context():
                response = who.client.get(f"{url}?{query}", headers=headers)
                try:
                    assert response.status_code == 200 and response.is_streamed, url
                    assert not isinstance(response.response, list | tuple | bytes), url
                    chunks = iter(response.response)
                    assert next(chunks)
                    if url.endswith(".csv"):  # the rows have begun: inside the scope
                        assert next(chunks)
                        assert isolation.current() == tenant_id, url
                finally:
                    response.close()  # the client went away
            assert isolation.current() == isolation.PLATFORM, url
            assert open_transactions() == 0, url
            db.session.rollback()
            factories.user(ADMIN).name = f"Admin {url}"
            db.session.commit()


def test_an_export_failing_halfway_leaves_nothing_open(app, demo, browser, monkeypatch):
    """A row that cannot be written (an error while the file streams): the download breaks,
    and its transaction and the company's scope end with it."""
    from app.indicators import exports_columns, exports_formats

    monkeypatch.setattr(exports_formats, "CHUNK", 256)
    seen = []
    original = exports_columns.Clocks.of

    def failing(self, row, kind):
        seen.append(row)
        if len(seen) > 3:
            raise RuntimeError("the database went away")
        return original(self, row, kind)

    monkeypatch.setattr(exports_columns.Clocks, "of", failing)
    page, api = browser(ADMIN), api_as(app, ADMIN)
    for who, url in ((page, "/indicators/export/requests.csv"),
                     (page, "/indicators/export/tickets.xlsx"),
                     (api, "/api/v1/exports/requests.xlsx"),
                     (api, "/api/v1/exports/tickets.csv")):
        seen.clear()
        headers = {"Authorization": f"Bearer {who.token}"} if isinstance(who, ApiClient) else {}
        response = None
        with who.app.app_context():
            try:
                with pytest.raises(RuntimeError):  # (an XLSX fails on its first chunk)
                    response = who.client.get(url, headers=headers)
                    for _chunk in response.response:
                        pass
            finally:
                if response is not None:
                    response.close()
        assert isolation.current() == isolation.PLATFORM, url
        assert open_transactions() == 0, url
        db.session.rollback()
        factories.user(ADMIN).name = f"Admin {url}"
        db.session.commit()


# --- formulas in spreadsheets -----------------------------------------------------------------

FORMULAS = ('=HYPERLINK("http://evil.test","x")', "+SUM(1,2)", "-2+3", "@SUM(1)",
            "\t=1+1", "\r=1+1", "＝1+1", "＋1", "－1", "＠SUM(1)")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
SPACED = (" =1+1", "   =HYPERLINK(\"http://evil.test\")", "\u00a0=1+1", " @SUM(1)")
MARK = "PWN"


def written_everywhere(request_id: int, payload: str) -> dict:
    """``payload`` (followed by a marker and the field's name) in every text a tenant user
    can write that the exports show: a completed and rated request with a helper, its
    requesting and service units, its category, its requester, worker and helper."""
    db.session.rollback()
    req = db.session.get(ServiceRequest, request_id)
    ticket = req.ticket
    values = {}

    def put(obj, attribute, field):
        values[field] = f"{payload}{MARK} {field}"
        setattr(obj, attribute, values[field])

    put(req, "title", "title")
    put(req, "location", "location")
    put(req, "rating_comment", "rating comment")
    put(ticket, "resolution", "resolution")
    put(ticket, "hold_reason", "hold reason")
    put(db.session.get(Unit, req.unit_id), "name", "unit")
    put(db.session.get(Unit, req.service_unit_id), "name", "service unit")
    category = db.session.get(Category, req.category_id)
    put(category, "name", "category")
    category.names = {}
    put(req.requester, "name", "requester")
    put(db.session.get(User, ticket.worker_id), "name", "worker")
    helper = factories.user("tecnico2@acme.test")
    ticket.helpers = [helper]
    put(helper, "name", "helper")
    db.session.commit()
    return values


@pytest.fixture
def rated(demo):
    """A request walked to its confirmation, rated with a comment, in this period."""
    req, task = factories.request_at("Task_Confirm")
    workflow.complete(factories.user(REQUESTER), task, "confirm",
                      {"rating": "2", "comment": "Regular"})
    db.session.commit()
    english(ADMIN)
    return req.id


def every_csv(page, api) -> dict[str, list[list[str]]]:
    found = {}
    for who, urls in ((page, PAGE_EXPORTS), (api, API_EXPORTS)):
        for url in urls:
            if url.endswith(".csv"):
                response = call(who, url)
                assert response.status_code == 200, url
                found[url] = csv_table(response)
    return found


def every_xlsx(page, api) -> dict[str, bytes]:
    found = {}
    for who, urls in ((page, PAGE_EXPORTS), (api, API_EXPORTS)):
        for url in urls:
            if url.endswith(".xlsx"):
                response = call(who, url)
                assert response.status_code == 200, url
                found[url] = response.get_data()
    return found


def marked_cells(table: list[list[str]]) -> list[str]:
    return [cell for row in table for cell in row if MARK in cell]


def test_formulas_in_every_text_column_are_inert_in_csv(app, rated, browser):
    page, api = browser(ADMIN), api_as(app, ADMIN)
    for payload in FORMULAS:
        values = written_everywhere(rated, payload)
        tables = every_csv(page, api)
        for url, table in tables.items():
            cells = marked_cells(table)
            assert cells, (url, payload)
            for cell in cells:
                assert not cell.startswith(FORMULA_STARTS), (url, payload, cell)
                assert cell.startswith("'" + payload) or not cell.startswith(payload), (
                    url, payload, cell)
        # every field comes out in the requests' or tickets' files
        seen = " ".join(c for url, t in tables.items() for c in marked_cells(t)
                        if "figures" not in url and "indicators." not in url)
        for field, value in values.items():
            assert value in seen, (payload, field)
        # and the figures name the worker, the category, the unit and the comment
        figures = " ".join(marked_cells(tables["/indicators/export/figures.csv"]))
        for field in ("worker", "category", "unit", "rating comment"):
            assert values[field] in figures, (payload, field)


def test_formulas_after_leading_spaces_are_inert_in_csv(app, rated, browser):
    page, api = browser(ADMIN), api_as(app, ADMIN)
    for payload in SPACED:
        written_everywhere(rated, payload)
        for url, table in every_csv(page, api).items():
            for cell in marked_cells(table):
                # dangerous: spaces trimmed, it starts with a formula's sign (a name inside a
                # longer label, or a neutralised "'" first, is inert)
                assert not cell.lstrip(" \u00a0").startswith(("=", "+", "-", "@")), (
                    url, repr(payload), repr(cell[:30]))


def xlsx_formulas(body: bytes) -> list[str]:
    """The cells of a workbook stored as formulas (an <f> element in any sheet)."""
    found = []
    with zipfile.ZipFile(io.BytesIO(body)) as book:
        for name in book.namelist():
            if name.startswith("xl/worksheets/"):
                found += re.findall(r"<f[ >].*?</f>", book.read(name).decode("utf-8"))
    return found


def test_xlsx_cells_are_never_formulas_and_keep_the_text_as_typed(app, rated, browser):
    page, api = browser(ADMIN), api_as(app, ADMIN)
    for payload in (*FORMULAS, *SPACED):
        values = written_everywhere(rated, payload)
        for url, body in every_xlsx(page, api).items():
            assert xlsx_formulas(body) == [], (url, payload)
            book = load_workbook(io.BytesIO(body))
            cells = [cell for sheet in book.worksheets for row in sheet.iter_rows()
                     for cell in row if isinstance(cell.value, str) and MARK in cell.value]
            assert cells, (url, payload)
            for cell in cells:
                assert cell.data_type == "s", (url, payload, cell.value)
                assert payload.replace("\r", "") in cell.value.replace("\r", ""), (
                    url, repr(payload), repr(cell.value[:30]))  # as typed, no apostrophe
            if "/requests." in url:
                # (XlsxWriter stores a carriage return as _x000D_, which Excel reads back)
                texts = {cell.value.replace("_x000D_", "\r") for cell in cells}
                assert {values["title"], values["rating comment"], values["unit"]} <= texts


def test_the_report_command_writes_formulas_inert(app, rated, tmp_path):
    runner = app.test_cli_runner()
    today = datetime.now(UTC).date()
    for payload in FORMULAS:
        values = written_everywhere(rated, payload)
        for fmt in ("csv", "xlsx"):
            out = tmp_path / f"report.{fmt}"
            result = runner.invoke(args=[
                "indicators", "report", "--tenant", "acme", "--from",
                f"{today.year}-01-01", "--to", f"{today.year}-12-31", "--format", fmt,
                "--output", str(out)])
            assert result.exit_code == 0, result.output
            body = out.read_bytes()
            if fmt == "csv":
                table = list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))
                cells = marked_cells(table)
                assert any(values["rating comment"] in c for c in cells), payload
                assert not [c for c in cells if c.startswith(FORMULA_STARTS)], payload
            else:
                assert xlsx_formulas(body) == [], payload


def test_the_report_refuses_someone_of_another_company_or_without_indicators(app, demo,
                                                                             tmp_path):
    runner = app.test_cli_runner()
    out = tmp_path / "report.csv"
    for email in (GLOBEX_DIRECTOR, REQUESTER, WORKER, "nadie@acme.test", "%", "' OR 1=1 --"):
        result = runner.invoke(args=["indicators", "report", "--tenant", "acme", "--as", email,
                                     "--format", "csv", "--output", str(out)])
        assert result.exit_code == 1, (email, result.output)
        assert not out.exists() and not (tmp_path / "report.csv.part").exists()
    for slug in ("globex'--", "%", "", "ACME"):
        result = runner.invoke(args=["indicators", "report", "--tenant", slug, "--output",
                                     str(out)])
        assert result.exit_code == 1, (slug, result.output)
        assert not out.exists()


# --- scripts in pages ------------------------------------------------------------------------

ISLAND = re.compile(r'<script type="application/json" id="([a-z-]+)">(.*?)</script>', re.S)


def islands(html: str) -> dict[str, str]:
    return {name: unescape(body) for name, body in ISLAND.findall(html)}


def assert_inert(html: str, *payloads: str) -> None:
    """No payload is markup of the page: neither raw in it nor able to close a data island."""
    for payload in payloads:
        assert payload not in html, payload
    assert "<script>alert" not in html and "<img src=x" not in html
    for body in islands(html).values():
        assert "</" not in body and "<script" not in body.lower()


def test_names_and_comments_with_markup_are_text_on_the_indicators_page(app, rated, browser):
    db.session.rollback()
    req = db.session.get(ServiceRequest, rated)
    worker = db.session.get(User, req.ticket.worker_id)
    unit, service = db.session.get(Unit, req.unit_id), db.session.get(Unit, req.service_unit_id)
    category = db.session.get(Category, req.category_id)
    worker.name, unit.name, service.name = SCRIPT, IMG, f"{SCRIPT}{IMG} SG"
    category.name, req.rating_comment = f"{IMG}{SCRIPT}", f"Bien {SCRIPT} {IMG}"
    req.requester.name = SCRIPT + " req"
    db.session.commit()
    ids_ = (unit.id, service.id, category.id, worker.id)
    admin = browser(ADMIN)
    for query in ("", "unit_id={}&service_unit_id={}&category_id={}&worker_id={}".format(
            *ids_)):
        response = call(admin, f"/indicators?{query}")
        html = response.get_data(as_text=True)
        assert response.status_code == 200, html[:500]
        assert_inert(html, SCRIPT, IMG)
        assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in html  # shown as text
        charts = json.loads(islands(html)["indicators-charts"])
        assert SCRIPT in charts["workload"]["categories"]
        assert f"{IMG}{SCRIPT}" in charts["cost"]["categories"]


def test_values_typed_in_the_filters_come_back_as_text(app, demo, browser):
    """A link with markup in its filters (sent to a victim): the page answers its error with
    the values typed kept in the form, as text; the downloads and the API say nothing of
    them but the field."""
    from urllib.parse import quote

    page, api = browser(ADMIN), api_as(app, ADMIN)
    for field in ("from", "to", "preset", "priority", *ID_FIELDS):
        for payload in (SCRIPT, IMG, "'onmouseover='alert(1)"):
            query = f"{field}={quote(payload)}"
            if field == "from":
                query += "&to=2026-11-30"
            for url in ("/indicators", "/indicators/heatmap", "/indicators/export/requests.csv"):
                response = call(page, f"{url}?{query}")
                assert response.status_code in (404, 422), (url, field, response.status_code)
                assert_inert(response.get_data(as_text=True), SCRIPT, IMG,
                             "value=''onmouseover")
            problem = call(api, f"/api/v1/indicators?{query}")
            assert problem.status_code in (404, 422)
            assert problem.content_type.startswith("application/problem+json") or \
                problem.content_type.startswith("application/json")


def deploy_with_names(tenant_id: int, user: User) -> int:
    """A process owner deploys a version whose step, start and path names are markup; the
    version's number."""
    xml = definitions.active_definition(tenant_id).bpmn_xml
    escaped = {"step": SCRIPT.replace("<", "&lt;").replace(">", "&gt;"),
               "path": IMG.replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")}
    xml = xml.replace('name="Autorizar solicitud"', f'name="{escaped["step"]}"')
    xml = xml.replace('name="Solicitud registrada"', f'name="{escaped["path"]}"')
    xml = xml.replace('id="Flow_ToAuthorize" name="No"',
                      f'id="Flow_ToAuthorize" name="{escaped["path"]}"')
    assert xml.count(escaped["step"]) == 1 and xml.count(escaped["path"]) == 2
    version = definitions.deploy(tenant_id, xml, user=user, note="names")
    db.session.commit()
    return version.version


def test_a_diagrams_element_names_are_text_on_the_heatmap_page(app, demo, browser):
    owner = newcomer(OWNER, "acme", "process_owner")
    number = deploy_with_names(owner.tenant_id, owner)
    req, _task = factories.request_at("Task_Evaluate")  # passed the renamed step
    factories.file(title="Espera")  # waits at it
    for email in (OWNER, ADMIN):
        response = call(browser(email), f"/indicators/heatmap?version={number}&compare=1")
        html = response.get_data(as_text=True)
        assert response.status_code == 200, html[:500]
        assert_inert(html, SCRIPT, IMG)
        assert 'data-element="Task_Authorize"' in html
        assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in html
        config = json.loads(islands(html)["heatmap-data"])
        names = config["views"][0]["names"]
        assert names["Task_Authorize"] == SCRIPT
    api = api_as(app, OWNER)
    elements = {e["id"]: e for e in api_json(
        api, f"/api/v1/indicators/heatmap?version={number}")["elements"]}
    assert elements["Task_Authorize"]["name"] == SCRIPT and \
        elements["Task_Authorize"]["passes"] >= 1


def test_the_monthly_notice_shows_a_units_markup_as_text(app, demo, browser):
    from app.notifications import compose

    db.session.rollback()
    acme = ids("acme")
    db.session.get(Unit, acme["Servicios Generales"]).name = f"{SCRIPT}{IMG}"
    db.session.commit()
    tenant = db.session.get(Tenant, acme["tenant"])
    month = datetime.now(UTC).strftime("%Y-%m")
    result = app.test_cli_runner().invoke(args=["indicators", "monthly", "--period", month,
                                                "--tenant", "acme"])
    assert result.exit_code == 0, result.output
    db.session.rollback()
    notice = db.session.scalar(select(Notification).where(
        Notification.user_id == acme[DIRECTOR], Notification.event == "indicators.monthly"))
    assert notice.params["summary_scope"] == f"{SCRIPT}{IMG}"
    mail = compose.compose(notice, factories.user(DIRECTOR), tenant)
    assert_inert(mail.html, SCRIPT, IMG)
    bell = call(browser(DIRECTOR), "/notifications").get_data(as_text=True)
    assert_inert(bell, SCRIPT, IMG)


# --- methods ----------------------------------------------------------------------------------

def test_the_views_are_read_only_whatever_the_method(app, demo, browser):
    """POST, PUT, PATCH and DELETE on every page and API route: 405, and nothing written (with
    the page's CSRF token, with none, with a token)."""
    page, api = browser(ADMIN), api_as(app, ADMIN)
    page.get("/indicators")
    before = snapshot()
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        for url in PAGES:
            with page.app.app_context():
                response = page.client.open(url, method=method,
                                            data={"csrf_token": page.token, "unit_id": "1"})
            assert response.status_code == 405, (method, url, response.status_code)
        assert set(statuses(api, APIS, method=method).values()) == {405}, method
    assert snapshot() == before


# --- milestones: steps beside each other ------------------------------------------------------

def milestones(request_id: int) -> stages.Milestones:
    db.session.rollback()
    return stages.milestones_of(db.session.get(ServiceRequest, request_id))


def replayed_changes(request_ids: list[int]) -> int:
    """How many of these requests' stored milestones differ from their history's replay."""
    db.session.rollback()
    changed = stages.rebuild(request_ids)
    db.session.rollback()
    return changed


def test_a_step_that_fails_after_its_fold_leaves_no_milestone(app, demo, monkeypatch):
    from app.sla import service as sla

    req, task = factories.request_at("Task_Authorize")
    before = milestones(req.id)

    def broken(*_args, **_kwargs):
        raise RuntimeError("the clocks could not be written")

    monkeypatch.setattr(sla, "refresh", broken)
    with pytest.raises(RuntimeError):
        workflow.complete(factories.user(FINANZAS_HEAD), factories.open_task(req, task.spec_id),
                          "authorize", {"decision": "authorize"})
    db.session.rollback()
    monkeypatch.undo()
    assert milestones(req.id) == before
    # The next commit of this session folds nothing of the step that was rolled back
    factories.user(ADMIN).name = "Otra"
    db.session.commit()
    assert milestones(req.id) == before and replayed_changes([req.id]) == 0


def test_a_savepoint_rolled_back_in_a_step_keeps_the_steps_own_milestones(app, demo):
    req = factories.file()
    db.session.rollback()
    req = db.session.get(ServiceRequest, req.id)
    history.record(req, "authorize", factories.user(FINANZAS_HEAD),
                   from_status="pending_authorization", to_status="pending_evaluation")
    req.status = "pending_evaluation"
    taken = db.session.scalars(select(NumberSequence)).first()
    with pytest.raises(IntegrityError):  # the counter another transaction created first
        with db.session.begin_nested():
            db.session.add(NumberSequence(tenant_id=taken.tenant_id, kind=taken.kind,
                                          year=taken.year, last=1))
    stages.settle(req)
    db.session.commit()
    assert milestones(req.id).authorized_at is not None
    assert replayed_changes([req.id]) == 0


def test_the_first_ticket_of_a_year_keeps_its_requests_assignment_milestone(app, demo):
    req, _task = factories.request_at("Task_Assign")
    with time_machine.travel(datetime(2027, 1, 4, 15, tzinfo=UTC), tick=False):
        workflow.complete(factories.user(DIRECTOR), factories.open_task(req, "Task_Assign"),
                          "assign", factories.assignment_form())
        db.session.commit()
    db.session.rollback()
    assert db.session.get(ServiceRequest, req.id).ticket.number.startswith("TKT-2027-")
    found = milestones(req.id)
    assert found.assigned_at is not None and found.assignment_minutes is not None
    assert replayed_changes([req.id]) == 0


def assign_in_thread(app, request_id: int, name: str, errors: list) -> threading.Thread:
    def run():
        try:
            with app.app_context():
                req = db.session.get(ServiceRequest, request_id)
                workflow.complete(factories.user(DIRECTOR),
                                  factories.open_task(req, "Task_Assign"), "assign",
                                  factories.assignment_form())
                db.session.commit()
        except Exception as exc:  # noqa: BLE001 (reported by the test)
            errors.append(exc)

    return threading.Thread(target=run, name=name)


@POSTGRESQL_ONLY
def test_two_first_tickets_of_a_year_at_once_keep_their_assignment_milestones(app, demo,
                                                                              monkeypatch):
    first, _ = factories.request_at("Task_Assign")
    second, _ = factories.request_at("Task_Assign", requester="maria@acme.test",
                                     head=PRODUCCION_HEAD)
    held, go = threading.Event(), threading.Event()
    original = stages.settle

    def settle(req=None):
        if threading.current_thread().name == "first" and not held.is_set():
            held.set()  # its ticket number taken (a new counter for 2027), not committed
            assert go.wait(30)
        return original(req)

    monkeypatch.setattr(stages, "settle", settle)
    errors: list = []
    with time_machine.travel(datetime(2027, 1, 4, 15, tzinfo=UTC), tick=True):
        one = assign_in_thread(app, first.id, "first", errors)
        two = assign_in_thread(app, second.id, "second", errors)
        one.start()
        assert held.wait(30)
        two.start()
        time.sleep(1.5)  # the second now waits on the first's counter
        go.set()
        one.join(60)
        two.join(60)
    assert not errors, errors
    for request_id in (first.id, second.id):
        found = milestones(request_id)
        assert found.assigned_at is not None, request_id
        assert found.assignment_minutes is not None, request_id
    assert replayed_changes([first.id, second.id]) == 0


@POSTGRESQL_ONLY
def test_steps_on_different_requests_at_once_keep_their_own_milestones(app, demo):
    """Six steps of six requests at the same moment (authorize, approve, start, finish,
    confirm): each request's milestones are what its own history replays to."""
    from tests.security.test_issue14_attacks import run_together

    waiting = {
        "Task_Authorize": factories.request_at("Task_Authorize")[0].id,
        "Task_Evaluate": factories.request_at("Task_Evaluate", requester="maria@acme.test",
                                              head=PRODUCCION_HEAD)[0].id,
        "Task_Start": factories.request_at("Task_Start", requester="luis@acme.test")[0].id,
        "Task_Work": factories.request_at("Task_Work")[0].id,
        "Task_Confirm": factories.request_at("Task_Confirm")[0].id,
    }
    steps = {"Task_Authorize": (FINANZAS_HEAD, "authorize", {"decision": "authorize"}),
             "Task_Evaluate": (DIRECTOR, "evaluate", {
                 "decision": "approve", "estimated_cost": "100", "estimated_hours": "8",
                 "justification": "Aprobada en una prueba"}),
             "Task_Start": (WORKER, "start", {}),
             "Task_Work": (WORKER, "finish", {"resolution": "Listo", "hours_spent": "1",
                                              "materials_cost": "0"}),
             "Task_Confirm": (REQUESTER, "confirm", {"rating": "4"})}
    db.session.rollback()

    def stepper(spec_id):
        email, handler, form = steps[spec_id]

        def run():
            with app.app_context():
                req = db.session.get(ServiceRequest, waiting[spec_id])
                workflow.complete(factories.user(email), factories.open_task(req, spec_id),
                                  handler, form)
                db.session.commit()
            return spec_id

        return run

    assert sorted(run_together(*(stepper(s) for s in waiting))) == sorted(waiting)
    assert replayed_changes(list(waiting.values())) == 0
    assert milestones(waiting["Task_Authorize"]).authorized_at is not None
    assert milestones(waiting["Task_Evaluate"]).approved_at is not None
    assert milestones(waiting["Task_Start"]).started_at is not None
    assert milestones(waiting["Task_Work"]).finished_at is not None
    assert milestones(waiting["Task_Confirm"]).confirmed_at is not None
