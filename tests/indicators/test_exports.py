"""Exports of the requests and tickets of an indicators view: the CSV parses back to the rows
of the database, the XLSX opens with openpyxl with the same rows, formula-looking text is
neutralised, dates are the company's, headers the reader's language.

The fixture walks requests through the real workflow on a known Monday (Bogotá, 08:00-18:00
Monday to Friday; decision 4 h, start 8 h, resolution 40 h) and exports at 16:00, so the SLA
columns are computed by hand below."""

from datetime import datetime
from decimal import Decimal

import pytest

from app.extensions import db
from app.indicators import exports_formats
from app.models import ServiceRequest, Tenant
from tests import factories
from tests.indicators.exports_helpers import (
    csv_dicts,
    csv_rows,
    download,
    sheet_dicts,
    sheet_rows,
    xlsx_book,
)
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

ADMIN, DIRECTOR, HEAD = "admin@acme.test", "director@acme.test", "jefe.finanzas@acme.test"
WORKER = "tecnico1@acme.test"
MONDAY = "from=2026-12-07&to=2026-12-07"
EXPORT_AT = bogota(7, 16)
INJECTIONS = ["=cmd|' /C calc'!A0", "+1 llamar", "-2+3", "@SUM(1)", "\tcon tabulador",
              "\uff1dHYPERLINK(1)"]



@pytest.fixture
def walked(demo):
    """A (Finanzas) filed 09:00, approved 11:00, assigned 11:30, started 12:00, finished
    14:00, confirmed 15:00 with a formula for a comment; B (Producción) filed 10:00 and
    waiting; C filed 10:30, rejected by the head 11:00; D and E filed 11:00 and 11:30 with
    formula-looking titles; a request of globex the same morning."""
    in_english(ADMIN, DIRECTOR, HEAD, "jefe.produccion@acme.test")
    sla_helpers.targets(decision=240, start=480, resolution=2400)
    a = file_at(bogota(7, 9), "Cambiar bombillo")
    approve_at(bogota(7, 11), a)
    assign_at(bogota(7, 11, 30), a, planned_end="2026-12-09")
    step_at(bogota(7, 12), a, "Task_Start", WORKER, "start", {})
    step_at(bogota(7, 14), a, "Task_Work", WORKER, "finish",
            {"resolution": "Listo", "hours_spent": "2", "materials_cost": "15000.50"})
    step_at(bogota(7, 15), a, "Task_Confirm", "ana@acme.test", "confirm",
            {"rating": "4", "comment": INJECTIONS[0]})
    b = file_at(bogota(7, 10), INJECTIONS[1], requester="maria@acme.test")
    c = file_at(bogota(7, 10, 30), INJECTIONS[2])
    step_at(bogota(7, 11), c, "Task_Authorize", HEAD, "authorize",
            {"decision": "reject", "comment": "No"})
    d = file_at(bogota(7, 11), INJECTIONS[3], requester="luis@acme.test")
    e = file_at(bogota(7, 11, 30), "con tabulador")
    # (filing strips a title; one imported or written before may start with a tab)
    db.session.get(ServiceRequest, e.id).title = INJECTIONS[4]
    db.session.commit()
    f = file_at(bogota(7, 11, 45), INJECTIONS[5])
    file_at(bogota(7, 9), "Aire de globex", requester="pedro@globex.test")
    return {"A": a.id, "B": b.id, "C": c.id, "D": d.id, "E": e.id, "F": f.id}


def _get(browser, email, url):
    with at(EXPORT_AT):
        response = download(browser(email), url)
    assert response.status_code == 200, (url, response.status_code)
    return response


def _local(value) -> str:
    """A UTC instant as the CSV writes it: Bogotá (UTC-5), to the minute."""
    from zoneinfo import ZoneInfo

    if value is None:
        return ""
    return value.astimezone(ZoneInfo("America/Bogota")).strftime("%Y-%m-%d %H:%M")


def _money(value) -> str:
    return "" if value is None else str(Decimal(value).quantize(Decimal("0.01")))


def _expected(req: ServiceRequest) -> dict:
    """What the requests export says of ``req``, read from its rows here."""
    t = req.ticket
    return {
        "Number": req.number, "Title": exports_formats.neutralised(req.title),
        "Category": req.category.label("en"), "Priority": req.priority.capitalize(),
        "Requester": req.requester.name, "Unit": req.unit.name,
        "Service unit": req.service_unit.name, "Location": req.location,
        "Filed at": _local(req.created_at), "Closed at": _local(req.closed_at),
        "Estimated cost (COP)": _money(req.estimated_cost),
        "Estimated hours": _money(req.estimated_hours),
        "Rating": "" if req.rating is None else str(req.rating),
        "Rating comment": exports_formats.neutralised(req.rating_comment or ""),
        "Ticket": t.number if t else "", "Worker": t.worker.name if t else "",
        "Planned start": t.planned_start.isoformat() if t else "",
        "Planned end": t.planned_end.isoformat() if t else "",
        "Actual start": _local(t.actual_start) if t else "",
        "Actual end": _local(t.actual_end) if t else "",
        "Hours spent": _money(t.hours_spent) if t else "",
        "Hourly rate (COP)": _money(t.hourly_rate) if t else "",
        "Materials cost (COP)": _money(t.materials_cost) if t else "",
        "Actual cost (COP)": _money(t.actual_cost) if t else "",
        "Resolution": (t.resolution or "") if t else "",
    }


# SLA columns by hand at Monday 16:00: (state, due, target, elapsed minutes) per kind
SLA = {
    "A": {"Time to decision": ("met", "", "240", "120"),      # 09:00 -> approved 11:00
          "Time to start": ("met", "", "480", "60"),          # approved 11:00 -> 12:00
          "Time to resolution": ("met", "", "2400", "300")},  # 09:00 -> finished 14:00
    "B": {"Time to decision": ("overdue", "2026-12-07 14:00", "240", "360"),
          "Time to start": ("not started", "", "480", "0"),
          "Time to resolution": ("running", "2026-12-11 10:00", "2400", "360")},
    "C": {"Time to decision": ("met", "", "240", "30"),       # rejected at 11:00
          "Time to start": ("not started", "", "480", "0"),  # never started
          "Time to resolution": ("cancelled", "", "2400", "30")},
}


def test_requests_csv_parses_back_to_the_rows_of_the_database(walked, browser):
    response = _get(browser, ADMIN, f"/indicators/export/requests.csv?{MONDAY}")
    assert response.is_streamed
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Disposition"] == \
        'attachment; filename="requests-2026-12-07-2026-12-07.csv"'
    rows = {row["Number"]: row for row in csv_dicts(response)}
    db.session.expire_all()
    mine = db.session.query(ServiceRequest).filter(ServiceRequest.id.in_(walked.values()))
    assert set(rows) == {req.number for req in mine}  # globex's and other days' are not
    for req in mine:
        row = rows[req.number]
        expected = _expected(req)
        assert {k: row[k] for k in expected} == expected
    by_key = {key: rows[db.session.get(ServiceRequest, walked[key]).number] for key in SLA}
    for key, kinds in SLA.items():
        for kind, (state, due, target, elapsed) in kinds.items():
            row = by_key[key]
            assert (row[f"{kind}: state"], row[f"{kind}: due"],
                    row[f"{kind}: target (business minutes)"],
                    row[f"{kind}: elapsed (business minutes)"]) == (state, due, target,
                                                                    elapsed), (key, kind)


def test_a_request_row_carries_its_statuses_ticket_and_milestones(walked, browser):
    rows = {row["Number"]: row for row in csv_dicts(
        _get(browser, ADMIN, f"/indicators/export/requests.csv?{MONDAY}"))}
    a = rows[db.session.get(ServiceRequest, walked["A"]).number]
    assert (a["Status"], a["Ticket status"]) == ("Completed", "Closed")
    assert (a["Filed at"], a["Authorized at"], a["Approved at"], a["Worker assigned at"],
            a["Work started at"], a["Work finished at"], a["Confirmed at"], a["Closed at"]) == (
        "2026-12-07 09:00", "2026-12-07 11:00", "2026-12-07 11:00", "2026-12-07 11:30",
        "2026-12-07 12:00", "2026-12-07 14:00", "2026-12-07 15:00", "2026-12-07 15:00")
    assert (a["Hours spent"], a["Materials cost (COP)"], a["Rating"]) == ("2.00", "15000.50", "4")
    # Lead times in business minutes: filing -> authorization (2 h) ... -> finish (5 h)
    assert a["Lead time: Authorization (business minutes)"] == "120"
    assert a["Lead time: Work (business minutes)"] == "120"
    assert a["Lead time: Whole service (business minutes)"] == "300"
    c = rows[db.session.get(ServiceRequest, walked["C"]).number]
    assert (c["Status"], c["Rejected by"], c["Ticket"]) == ("Rejected", "Unit head", "")


def test_formula_looking_text_gets_an_apostrophe_in_csv(walked, browser):
    rows = csv_dicts(_get(browser, ADMIN, f"/indicators/export/requests.csv?{MONDAY}"))
    titles = {row["Title"] for row in rows}
    for text in INJECTIONS[1:]:
        assert "'" + text in titles
        assert text not in titles
    comments = {row["Rating comment"] for row in rows}
    assert "'=cmd|' /C calc'!A0" in comments
    # Nothing else changes: a plain title and a number stay as they are
    assert "Cambiar bombillo" in titles
    assert exports_formats.neutralised("Cambiar = bombillo") == "Cambiar = bombillo"
    assert exports_formats.neutralised("\rx") == "'\rx"


def test_xlsx_opens_with_the_same_rows_and_text_cells_are_never_formulas(walked, browser):
    as_csv = csv_rows(_get(browser, ADMIN, f"/indicators/export/requests.csv?{MONDAY}"))
    response = _get(browser, ADMIN, f"/indicators/export/requests.xlsx?{MONDAY}")
    assert response.is_streamed
    assert response.mimetype == exports_formats.XLSX_TYPE
    assert response.headers["Content-Disposition"] == \
        'attachment; filename="requests-2026-12-07-2026-12-07.xlsx"'
    book = xlsx_book(response)
    assert book.sheetnames == ["Requests"]
    sheet = book["Requests"]
    header, *rows = sheet_rows(sheet)
    assert header == as_csv[0]  # the same header
    assert len(rows) == len(as_csv) - 1
    for values, text in zip(rows, as_csv[1:], strict=True):
        assert [_as_csv(h, v) for h, v in zip(header, values, strict=True)] == [
            _unneutralised(t) for t in text]
    # Formula-looking text is a text cell holding the text as typed
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            assert cell.data_type != "f"
    titles = {row["Title"] for row in sheet_dicts(sheet)}
    assert set(INJECTIONS[1:]) <= titles


DATE_COLUMNS = {"Planned start", "Planned end", "Budget date"}
MONEY_COLUMNS = {"Estimated cost (COP)", "Estimated hours", "Hours spent", "Hourly rate (COP)",
                 "Materials cost (COP)", "Actual cost (COP)"}


def _unneutralised(text: str) -> str:
    if text.startswith("'") and text[1:].startswith(exports_formats.FORMULA_STARTS):
        return text[1:]
    return text


def _as_csv(header: str, value) -> str:
    """An XLSX cell's value as the CSV writes it."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d" if header in DATE_COLUMNS else "%Y-%m-%d %H:%M")
    if header in MONEY_COLUMNS:
        return f"{Decimal(str(value)):.2f}"
    return str(value)


def test_xlsx_cells_are_typed(walked, browser):
    sheet = xlsx_book(_get(browser, ADMIN, f"/indicators/export/requests.xlsx?{MONDAY}"))[
        "Requests"]
    a_number = db.session.get(ServiceRequest, walked["A"]).number
    a = next(row for row in sheet_dicts(sheet) if row["Number"] == a_number)
    assert a["Filed at"] == datetime(2026, 12, 7, 9, 0)  # Bogotá's wall clock
    assert a["Planned end"] == datetime(2026, 12, 9)
    assert a["Materials cost (COP)"] == pytest.approx(15000.50)
    assert a["Rating"] == 4
    assert a["Rating comment"] == INJECTIONS[0]


def test_tickets_export_has_the_tickets_assigned_in_the_period(walked, browser):
    rows = csv_dicts(_get(browser, ADMIN, f"/indicators/export/tickets.csv?{MONDAY}"))
    a = db.session.get(ServiceRequest, walked["A"])
    assert [row["Ticket"] for row in rows] == [a.ticket.number]
    row = rows[0]
    assert (row["Request"], row["Title"], row["Worker"], row["Ticket status"],
            row["Assigned at"], row["Actual start"], row["Actual end"]) == (
        a.number, "Cambiar bombillo", a.ticket.worker.name, "Closed", "2026-12-07 11:30",
        "2026-12-07 12:00", "2026-12-07 14:00")
    assert (row["Time to start: state"], row["Time to start: elapsed (business minutes)"]) \
        == ("met", "60")
    book = xlsx_book(_get(browser, ADMIN, f"/indicators/export/tickets.xlsx?{MONDAY}"))
    assert [r["Ticket"] for r in sheet_dicts(book["Tickets"])] == [a.ticket.number]
    # The next day nothing was assigned
    later = csv_rows(_get(browser, ADMIN,
                          "/indicators/export/tickets.csv?from=2026-12-08&to=2026-12-08"))
    assert len(later) == 1  # the header alone


def test_dates_follow_the_company_zone(walked, browser):
    db.session.query(Tenant).filter_by(slug="acme").one().timezone = "Asia/Tokyo"
    db.session.commit()
    # Monday 09:00 in Bogotá is Monday 23:00 in Tokyo (UTC+9): a period of Tokyo's Monday
    rows = {row["Title"]: row for row in csv_dicts(
        _get(browser, ADMIN, f"/indicators/export/requests.csv?{MONDAY}"))}
    assert rows["Cambiar bombillo"]["Filed at"] == "2026-12-07 23:00"
    # 10:00 Bogotá is Tuesday 00:00 in Tokyo: not Monday there
    assert "'+1 llamar" not in rows


def test_headers_in_the_readers_language(walked, browser):
    english = csv_rows(_get(browser, ADMIN, f"/indicators/export/requests.csv?{MONDAY}"))[0]
    assert english[:5] == ["Number", "Title", "Category", "Priority", "Status"]
    db.session.rollback()  # (a fresh transaction: the downloads wrote sessions since)
    factories.user(ADMIN).locale = "es"
    db.session.commit()
    spanish = csv_dicts(_get(browser, ADMIN, f"/indicators/export/requests.csv?{MONDAY}"))
    assert list(spanish[0])[1:5] == ["Título", "Categoría", "Prioridad", "Estado"]
    assert {row["Estado"] for row in spanish} >= {"Completada", "Rechazada"}
    book = xlsx_book(_get(browser, ADMIN, f"/indicators/export/requests.xlsx?{MONDAY}"))
    assert sheet_rows(book.worksheets[0])[0][:5] == list(spanish[0])[:5]


def test_api_exports_are_the_same_files(walked, app, browser):
    page = _get(browser, ADMIN, f"/indicators/export/requests.csv?{MONDAY}").get_data()
    # (each body read before the next call: the test client starts a streamed body, and
    # its contexts stay pushed until it is read)
    with at(EXPORT_AT):
        client = api_client(app, ADMIN)
        csv_response = client.get(f"/api/v1/exports/requests.csv?{MONDAY}")
        assert csv_response.status_code == 200 and csv_response.is_streamed
        assert csv_response.get_data() == page
        xlsx_response = client.get(f"/api/v1/exports/tickets.xlsx?{MONDAY}")
        assert xlsx_response.status_code == 200
        tickets = sheet_dicts(xlsx_book(xlsx_response)["Tickets"])
    assert [r["Ticket"] for r in tickets] == [
        db.session.get(ServiceRequest, walked["A"]).ticket.number]


def test_an_empty_period_is_a_header_alone(demo, browser):
    url = "/indicators/export/requests.{}?from=2001-01-01&to=2001-01-31"
    assert len(csv_rows(_get(browser, ADMIN, url.format("csv")))) == 1
    book = xlsx_book(_get(browser, ADMIN, url.format("xlsx")))
    assert len(sheet_rows(book.worksheets[0])) == 1
