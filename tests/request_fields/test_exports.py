"""Exports: one column per category field, each answer typed in its cell, empty for requests
of categories without it; the tickets export has them too."""

from datetime import date, timedelta

from app.extensions import db
from app.services import requests
from tests.factories import user
from tests.indicators.exports_helpers import csv_dicts, download, sheet_dicts, xlsx_book
from tests.request_fields.conftest import VALID, transport

ADMIN = "admin@acme.test"


def _period() -> str:
    today = date.today()
    return f"from={(today - timedelta(days=1)).isoformat()}&to={(today + timedelta(days=1))}"


def _file_trip():
    req = requests.file_request(user("ana@acme.test"), {
        "title": "Viaje al aeropuerto", "description": "Visita", "category_id": transport().id,
        "fields": {**VALID, "passengers": "2,5", "notes": "=HYPERLINK(\"x\")"}})
    db.session.commit()
    return req


def test_the_requests_csv_has_a_column_per_field(transport_fields, browser):
    trip = _file_trip()
    response = download(browser(ADMIN), f"/indicators/export/requests.csv?{_period()}")
    assert response.status_code == 200
    rows = {row["Número"] if "Número" in row else row["Number"]: row
            for row in csv_dicts(response)}
    row = rows[trip.number]
    assert row["Origen"] == "Sede norte" and row["Destino"] == "Aeropuerto"
    assert row["Pasajeros"] == "2.5"
    assert row["Vehículo"] == "Bus" and row["¿Con equipaje?"] == "Sí"
    assert row["Fecha del viaje"] == "2026-06-05"
    assert row["Indicaciones"].startswith("'=")  # a formula made inert, as any text cell
    others = [r for number, r in rows.items() if number != trip.number]
    assert others and all(r["Origen"] == "" for r in others)


def test_the_xlsx_cells_are_typed(transport_fields, browser):
    trip = _file_trip()
    response = download(browser(ADMIN), f"/indicators/export/requests.xlsx?{_period()}")
    assert response.status_code == 200
    book = xlsx_book(response)
    rows = sheet_dicts(book.worksheets[0])
    number_header = "Número" if "Número" in rows[0] else "Number"
    (row,) = [r for r in rows if r[number_header] == trip.number]
    assert row["Pasajeros"] == 2.5
    assert row["Fecha del viaje"].date() == date(2026, 6, 5)
    assert row["Vehículo"] == "Bus"
