"""The export of the figures themselves: every leaf of ``data.indicators`` once, by its key in
the API's JSON, named in the reader's language; a CSV with the section first, an XLSX with a
sheet per section."""

from decimal import Decimal

import pytest

from app.extensions import db
from app.indicators import data, filters
from app.services import workflow
from tests import factories
from tests.indicators.exports_helpers import (
    csv_dicts,
    download,
    sheet_rows,
    xlsx_book,
)
from tests.sla.sla_walks import api_client, in_english

ADMIN = "admin@acme.test"
SECTIONS = ["View", "Volumes", "Rates", "Lead times", "Backlog", "Overdue", "On time",
            "Service levels", "Workload", "Cost", "Satisfaction"]



@pytest.fixture
def finished(demo):
    """The demo and one request walked to its confirmation (rated), in English."""
    in_english(ADMIN)
    req, task = factories.request_at("Task_Confirm")
    workflow.complete(factories.user("ana@acme.test"), task, "confirm",
                      {"rating": "5", "comment": "=HYPERLINK(\"http://x\")"})
    db.session.commit()
    return req


def _leaves(value, key=()):
    """Every leaf of the figures' JSON with its path, lists of records by their id/code."""
    if isinstance(value, dict):
        for part, inner in value.items():
            yield from _leaves(inner, (*key, str(part)))
    elif isinstance(value, list):
        for i, item in enumerate(value, 1):
            if isinstance(item, dict):
                ident = next((str(item[k]) for k in ("stage", "kind", "worker_id", "id",
                                                     "request_id") if k in item), str(i))
                rest = {k: v for k, v in item.items()
                        if k not in ("stage", "kind", "worker_id", "id", "request_id", "name")}
                yield from _leaves(rest, (*key, ident))
            else:
                yield from _leaves(item, (*key, str(i)))
    else:
        yield ".".join(key), value


def _expected(figures: dict) -> dict:
    """Key -> value as the CSV writes it, from the figures' JSON."""
    volumes = figures["volumes"]
    figures = dict(figures, backlog={k: v for k, v in figures["backlog"].items()
                                     if k != "bands"})  # (the list of bands, no figure)
    figures["volumes"] = {
        "series": {name: dict(zip(volumes["buckets"], counts, strict=True))
                   for name, counts in volumes["series"].items()},
        "totals": volumes["totals"]}
    out = {}
    for section in ("volumes", "rates", "lead_times", "backlog", "overdue", "on_time", "sla",
                    "workload", "cost", "satisfaction"):
        for key, value in _leaves(figures[section], (section,)):
            out[key] = "" if value is None else str(value)
    return out


def test_the_figures_csv_holds_every_figure_of_the_json(finished, browser, app):
    response = download(browser(ADMIN), "/indicators/export/figures.csv")
    assert response.status_code == 200 and response.is_streamed
    assert response.headers["Content-Disposition"].startswith(
        'attachment; filename="indicators-')
    rows = csv_dicts(response)
    assert list(rows[0]) == ["Section", "Key", "Figure", "Value"]
    assert list(dict.fromkeys(row["Section"] for row in rows)) == SECTIONS
    admin = factories.user(ADMIN)
    with app.test_request_context():
        figures = data.indicators(admin, filters.parse(admin, {}))
    got = {row["Key"]: row["Value"] for row in rows if not row["Key"].startswith("filters.")}
    expected = _expected(figures)
    # The comment is text: the CSV neutralises it, the rest is the same
    for key, value in expected.items():
        if value.startswith("="):
            expected[key] = "'" + value
        if key.startswith("satisfaction.comments.") and key.endswith(".at"):
            expected[key] = got[key]  # (a date-time in the company's zone: checked below)
    assert got == expected
    assert int(got["volumes.totals.completed"]) >= 2
    assert Decimal(got["cost.total.actual_cost"]) == Decimal(
        figures["cost"]["total"]["actual_cost"])


def test_figures_are_named_and_the_view_is_described(finished, browser):
    rows = csv_dicts(download(browser(ADMIN), "/indicators/export/figures.csv?preset=this_year"))
    named = {row["Key"]: row for row in rows}
    assert named["filters.preset"]["Figure"] == "Period"
    assert named["filters.preset"]["Value"] == "This year"
    assert named["filters.zone"]["Value"] == "America/Bogota"
    assert named["rates.approval.value"]["Figure"] == "Approval · Rate"
    assert named["sla.decision.met"]["Figure"] == "Time to decision · Met"
    assert named["backlog.by_status.in_service"]["Figure"] == "By status · In service"
    assert named["volumes.totals.filed"]["Figure"] == "Total · Filed requests"
    week = [k for k in named if k.startswith("volumes.series.completed.")][-1]  # by week
    assert named[week]["Figure"] == f"Completed · {week.rsplit('.', 1)[1]}"
    assert not any(key.startswith("backlog.bands") for key in named)
    comment = next(row for row in rows if row["Key"].endswith(".comment")
                   and row["Value"].startswith("'="))
    assert comment["Section"] == "Satisfaction"


def test_the_figures_xlsx_has_a_sheet_per_section(finished, browser, app):
    as_csv = csv_dicts(download(browser(ADMIN), "/indicators/export/figures.csv"))
    response = download(browser(ADMIN), "/indicators/export/figures.xlsx")
    assert response.status_code == 200
    book = xlsx_book(response)
    assert book.sheetnames == SECTIONS
    for title in SECTIONS:
        header, *rows = sheet_rows(book[title])
        assert header == ["Key", "Figure", "Value"]
        from_csv = [row["Key"] for row in as_csv if row["Section"] == title]
        assert [row[0] for row in rows] == from_csv
    values = {row[0]: row[2] for row in sheet_rows(book["Volumes"])[1:]}
    assert isinstance(values["volumes.totals.filed"], int)
    money = {row[0]: row[2] for row in sheet_rows(book["Cost"])[1:]}
    assert money["cost.total.actual_cost"] == pytest.approx(float(next(
        row["Value"] for row in as_csv if row["Key"] == "cost.total.actual_cost")))
    comments = [row for row in sheet_rows(book["Satisfaction"])[1:]
                if str(row[0]).endswith(".comment")]
    assert '=HYPERLINK("http://x")' in [row[2] for row in comments]
    # The API gives the same file
    client = api_client(app, ADMIN)
    api_book = xlsx_book(client.get("/api/v1/exports/indicators.xlsx"))
    assert api_book.sheetnames == SECTIONS
