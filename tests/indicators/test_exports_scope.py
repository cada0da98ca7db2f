"""Who exports what: a unit head their units' requests, a director their service units', an
admin the company's; another company's ids and values outside one's scope are not found
(404), bad filters a 422 by field, someone without indicators finds nothing (pages: 404,
API: 403). The demo's requests, filed today, are in the default period (last 30 days)."""

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Category, ServiceRequest, Tenant, Unit
from tests import factories
from tests.indicators.exports_helpers import (
    csv_dicts,
    csv_rows,
    download,
    sheet_dicts,
    xlsx_book,
)
from tests.sla.sla_walks import api_client, in_english

ADMIN, DIRECTOR = "admin@acme.test", "director@acme.test"
FINANZAS_HEAD, PRODUCCION_HEAD = "jefe.finanzas@acme.test", "jefe.produccion@acme.test"
ACME_PEOPLE = (ADMIN, DIRECTOR, FINANZAS_HEAD, PRODUCCION_HEAD, "ana@acme.test",
               "tecnico1@acme.test")



@pytest.fixture
def english(demo):
    in_english(*ACME_PEOPLE)


def _unit_id(name: str) -> int:
    return db.session.scalar(select(Unit.id).where(Unit.name == name))


def _numbers(unit: str | None = None, slug: str = "acme") -> set[str]:
    stmt = (select(ServiceRequest.number).join(Tenant, Tenant.id == ServiceRequest.tenant_id)
            .where(Tenant.slug == slug))
    if unit is not None:
        stmt = stmt.where(ServiceRequest.unit_id == _unit_id(unit))
    return set(db.session.scalars(stmt))


def _export(browser, email, what="requests", fmt="csv", query=""):
    response = download(browser(email), f"/indicators/export/{what}.{fmt}?{query}")
    return response


@pytest.mark.parametrize("email, unit", [(FINANZAS_HEAD, "Finanzas"),
                                         (PRODUCCION_HEAD, "Producción")])
def test_a_unit_head_exports_only_their_units_requests(english, browser, email, unit):
    response = _export(browser, email)
    assert response.status_code == 200
    rows = csv_dicts(response)
    assert {row["Number"] for row in rows} == _numbers(unit)
    assert {row["Unit"] for row in rows} == {unit}
    book = xlsx_book(_export(browser, email, fmt="xlsx"))
    assert {row["Number"] for row in sheet_dicts(book.worksheets[0])} == _numbers(unit)


def test_a_director_and_an_admin_export_the_whole_service_and_company(english, browser):
    assert _numbers("Finanzas") and _numbers("Producción")
    for email in (DIRECTOR, ADMIN):
        rows = csv_dicts(_export(browser, email))
        assert {row["Number"] for row in rows} == _numbers(), email  # never globex's


def test_tickets_follow_the_same_scope(english, browser):
    finanzas = {row["Request"] for row in csv_dicts(_export(browser, FINANZAS_HEAD,
                                                            "tickets"))}
    everything = {row["Request"] for row in csv_dicts(_export(browser, ADMIN, "tickets"))}
    assert finanzas and finanzas < everything
    assert finanzas <= _numbers("Finanzas")


def test_filters_narrow_the_rows(english, browser):
    worker = factories.user("tecnico2@acme.test")
    rows = csv_dicts(_export(browser, ADMIN, "tickets", query=f"worker_id={worker.id}"))
    assert rows and {row["Worker"] for row in rows} == {worker.name}
    unit = _unit_id("Producción")
    rows = csv_dicts(_export(browser, DIRECTOR, query=f"unit_id={unit}"))
    assert {row["Number"] for row in rows} == _numbers("Producción")
    rows = csv_dicts(_export(browser, ADMIN, query="priority=urgent"))
    assert rows == []


def test_another_units_or_companys_ids_are_not_found(english, browser, app):
    globex = db.session.scalar(select(Tenant).where(Tenant.slug == "globex"))
    globex_unit = db.session.scalar(select(Unit.id).where(Unit.tenant_id == globex.id))
    globex_category = db.session.scalar(select(Category.id)
                                        .where(Category.tenant_id == globex.id))
    refused = [
        (ADMIN, f"unit_id={globex_unit}"), (ADMIN, f"category_id={globex_category}"),
        (ADMIN, f"service_unit_id={globex_unit}"), (ADMIN, "unit_id=999999"),
        (FINANZAS_HEAD, f"unit_id={_unit_id('Producción')}"),
    ]
    for email, query in refused:
        for what in ("requests", "tickets", "figures"):
            response = _export(browser, email, what, query=query)
            assert response.status_code == 404, (email, what, query)
    client = api_client(app, FINANZAS_HEAD)
    for what in ("requests.csv", "tickets.xlsx", "indicators.csv"):
        response = client.get(f"/api/v1/exports/{what}?unit_id={_unit_id('Producción')}")
        assert response.status_code == 404
        assert list(response.json["errors"]) == ["unit_id"]


@pytest.mark.parametrize("query, field", [
    ("from=2026-13-01&to=2026-12-31", "from"),
    ("from=2026-12-31&to=2026-01-01", "to"),
    ("from=2000-01-01&to=2020-12-31", "from"),   # twenty years
    ("from=2026-01-01", "to"),
    ("unit_id=abc", "unit_id"),
    ("priority=whenever", "priority"),
    ("preset=forever", "preset"),
])
def test_bad_filters_are_refused_with_422(english, browser, app, query, field):
    for what in ("requests", "tickets"):
        assert _export(browser, ADMIN, what, "csv", query).status_code == 422, query
    client = api_client(app, ADMIN)
    response = client.get(f"/api/v1/exports/requests.csv?{query}")
    assert response.status_code == 422, (query, response.get_data(as_text=True))
    assert response.headers["Content-Type"] == "application/problem+json"
    assert field in response.json["errors"], response.json


def test_someone_without_indicators_finds_nothing(english, browser, app):
    for email in ("ana@acme.test", "tecnico1@acme.test"):
        for what in ("requests", "tickets", "figures"):
            assert _export(browser, email, what).status_code == 404
        client = api_client(app, email)
        for what in ("requests.csv", "tickets.xlsx", "indicators.csv"):
            response = client.get(f"/api/v1/exports/{what}")
            assert response.status_code == 403, (email, what)
            assert response.headers["Content-Type"] == "application/problem+json"


def test_signing_in_and_a_token_are_required(demo, app):
    client = app.test_client()
    with app.app_context():
        page = client.get("/indicators/export/requests.csv")
    assert page.status_code == 302 and "/login" in page.headers["Location"]
    with app.app_context():
        api = client.get("/api/v1/exports/requests.csv")
    assert api.status_code == 401


def test_only_csv_and_xlsx(english, browser):
    assert _export(browser, ADMIN, fmt="pdf").status_code == 404


def test_the_api_exports_are_in_the_openapi_document(app):
    with app.app_context():
        spec = app.test_client().get("/api/v1/openapi.json").json
    for what in ("requests", "tickets", "indicators"):
        for fmt, content_type in (("csv", "text/csv; charset=utf-8"), (
                "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")):
            operation = spec["paths"][f"/api/v1/exports/{what}.{fmt}"]["get"]
            assert content_type in operation["responses"]["200"]["content"]
            assert {"403", "404", "422", "401"} <= set(operation["responses"])
            names = {p["name"] for p in operation["parameters"]}
            assert {"from", "to", "preset", "unit_id", "service_unit_id", "category_id",
                    "priority", "worker_id"} <= names


def test_an_export_in_an_api_callers_language(english, app):
    client = api_client(app, ADMIN)
    english_header = csv_rows(client.get("/api/v1/exports/requests.csv"))[0]
    assert english_header[:3] == ["Number", "Title", "Category"]
    db.session.rollback()
    factories.user(ADMIN).locale = "es"
    db.session.commit()
    spanish_header = csv_rows(client.get("/api/v1/exports/requests.csv"))[0]
    assert spanish_header[:3] == ["Número", "Título", "Categoría"]
