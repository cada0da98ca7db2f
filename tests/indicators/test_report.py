"""``flask indicators report``: a company's figures of a period as XLSX, CSV or JSON, the same
numbers as the page and the API (``data.indicators``); and its errors, as a command line says
them (exit code 2 for a bad period, 1 for an unknown company or person), never a traceback."""

import csv
import io
import json
from decimal import Decimal

import openpyxl
import pytest
from flask_babel import force_locale

from app.extensions import db
from app.indicators import data, exports_figures
from app.indicators import filters as flt
from app.models import Tenant
from app.tenancy import clock
from tests import factories as fx


def _month() -> str:
    tenant = db.session.query(Tenant).filter_by(slug="acme").one()
    return f"{clock.today(tenant):%Y-%m}"


def _walk() -> None:
    """A few more requests of acme, at several steps: completed work, ratings to come."""
    fx.request_at("Task_Confirm")
    fx.request_at("Task_Work")
    fx.request_at("Task_Evaluate")


def _run(app, *args):
    return app.test_cli_runner().invoke(args=["indicators", "report", *args])


def _expected(email: str, month: str) -> dict:
    db.session.rollback()
    person = fx.user(email)
    first, last = _span(month)
    f = flt.parse(person, {"from": first, "to": last})
    return data.indicators(person, f, locale="es")


def _span(month: str) -> tuple[str, str]:
    from app.indicators.report import calendar_span

    first, last = calendar_span(month)
    return first.isoformat(), last.isoformat()


def _leaves(email: str, month: str, figures: dict) -> dict:
    """Every number of ``figures`` by the key the export names it with."""
    person = fx.user(email)
    first, last = _span(month)
    f = flt.parse(person, {"from": first, "to": last})
    return {key: value for _section, _title, rows in exports_figures.sections(person, f, figures)
            for key, _label, value in rows if not key.startswith("filters.")}


def _same(value, expected) -> bool:
    if isinstance(expected, Decimal):
        return Decimal(str(value)).quantize(Decimal("0.01")) == expected
    if isinstance(expected, float):
        return value == pytest.approx(expected)
    return value == expected


def test_an_xlsx_report_has_a_sheet_per_section_with_the_numbers_of_the_api(app, demo,
                                                                            tmp_path):
    _walk()
    month = _month()
    path = tmp_path / "report.xlsx"
    result = _run(app, "--tenant", "acme", "--period", month, "--output", str(path))
    assert result.exit_code == 0, result.output
    assert "admin@acme.test" in result.output  # whose scope, said on standard error
    expected = _expected("admin@acme.test", month)
    assert expected["volumes"]["totals"]["filed"] >= 9  # the demo's six and the walk's three

    book = openpyxl.load_workbook(path, read_only=True)
    with force_locale("es"):
        titles = [str(t) for t in exports_figures.SECTIONS.values()]
    assert book.sheetnames == titles  # a sheet per section, named in the company's language
    found = {}
    for sheet in book.worksheets[1:]:
        rows = list(sheet.iter_rows(values_only=True))
        assert len(rows[0]) == 3  # key, figure, value
        found.update({row[0]: row[2] for row in rows[1:]})
    view = {row[0]: row[2] for row in list(book.worksheets[0].iter_rows(values_only=True))[1:]}
    assert str(view["filters.from"])[:10] == _span(month)[0]
    assert str(view["filters.to"])[:10] == _span(month)[1]

    leaves = _leaves("admin@acme.test", month, expected)
    assert set(found) == set(leaves)
    different = {key: (found[key], value) for key, value in leaves.items()
                 if not key.startswith("backlog.") and not _same(found[key], value)}
    assert different == {}
    totals = expected["volumes"]["totals"]
    assert found["volumes.totals.filed"] == totals["filed"]
    assert found["volumes.totals.completed"] == totals["completed"]
    assert found["backlog.total"] == expected["backlog"]["total"]
    assert Decimal(str(found["cost.total.estimated_cost"])) == \
        Decimal(expected["cost"]["total"]["estimated_cost"])
    for row in expected["sla"]:
        assert found[f"sla.{row['kind']}.met"] == row["met"]


def test_a_csv_report_to_standard_output_has_every_section_in_one_table(app, demo):
    _walk()
    month = _month()
    result = _run(app, "--tenant", "acme", "--period", month, "--format", "csv",
                  "--output", "-")
    assert result.exit_code == 0, result.output
    text = result.stdout_bytes.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows[0]) == 4  # section, key, figure, value
    values = {row[1]: row[3] for row in rows[1:]}
    expected = _expected("admin@acme.test", month)
    assert values["volumes.totals.filed"] == str(expected["volumes"]["totals"]["filed"])
    assert values["volumes.totals.approved"] == str(expected["volumes"]["totals"]["approved"])
    assert values["backlog.total"] == str(expected["backlog"]["total"])
    assert values["cost.total.actual_cost"] == expected["cost"]["total"]["actual_cost"]
    assert values["filters.from"] == _span(month)[0]
    sections = {row[0] for row in rows[1:]}
    assert len(sections) == len(exports_figures.SECTIONS)


def test_a_json_report_is_what_the_api_answers(app, demo):
    _walk()
    month = _month()
    result = _run(app, "--tenant", "acme", "--period", month, "--format", "json",
                  "--output", "-")
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout_bytes)
    expected = _expected("admin@acme.test", month)
    for section in ("filters", "volumes", "rates", "lead_times", "on_time", "sla",
                    "workload", "cost", "satisfaction"):
        assert answer[section] == expected[section], section
    assert answer["backlog"]["total"] == expected["backlog"]["total"]


def test_periods_quarters_years_presets_and_days(app, demo):
    cases = {
        ("--period", "2026-Q3"): ("2026-07-01", "2026-09-30", "week"),
        ("--period", "2026-q1"): ("2026-01-01", "2026-03-31", "week"),
        ("--period", "2026"): ("2026-01-01", "2026-12-31", "week"),
        ("--period", "2026-02"): ("2026-02-01", "2026-02-28", "day"),
        ("--period", "2024-02"): ("2024-02-01", "2024-02-29", "day"),
        ("--from", "2025-01-01", "--to", "2026-06-30"): ("2025-01-01", "2026-06-30", "month"),
    }
    for args, (first, last, bucket) in cases.items():
        result = _run(app, "--tenant", "acme", *args, "--format", "json", "--output", "-")
        assert result.exit_code == 0, (args, result.output)
        view = json.loads(result.stdout_bytes)["filters"]
        assert (view["from"], view["to"], view["bucket"]) == (first, last, bucket), args
    # A preset, as the company's calendar reads today; the default is last month
    tenant = db.session.query(Tenant).filter_by(slug="acme").one()
    first, last = flt.preset_period("last_month", clock.today(tenant))
    for args in (("--period", "last_month"), ()):
        result = _run(app, "--tenant", "acme", *args, "--format", "json", "--output", "-")
        view = json.loads(result.stdout_bytes)["filters"]
        assert (view["from"], view["to"]) == (first.isoformat(), last.isoformat())


def test_the_default_file_is_named_after_the_company_and_the_period(app, demo, tmp_path,
                                                                    monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = _run(app, "--tenant", "acme", "--period", "2026-11", "--format", "csv")
    assert result.exit_code == 0, result.output
    written = tmp_path / "indicators-acme-2026-11-01-2026-11-30.csv"
    assert written.exists() and not (tmp_path / f"{written.name}.part").exists()
    assert written.read_bytes().startswith(b"\xef\xbb\xbf")  # UTF-8 with its mark, for Excel


def test_as_a_director_the_report_counts_their_service_units_only(app, demo):
    other = _second_service_unit()
    fx.file(category="Redes")
    _walk()
    month = _month()
    by = {}
    for email in ("director@acme.test", other, "admin@acme.test"):
        result = _run(app, "--tenant", "acme", "--period", month, "--format", "json",
                      "--output", "-", "--as", email)
        assert result.exit_code == 0, result.output
        by[email] = json.loads(result.stdout_bytes)
        assert by[email]["volumes"] == _expected(email, month)["volumes"]
    filed = {email: answer["volumes"]["totals"]["filed"] for email, answer in by.items()}
    assert filed[other] == 1
    assert filed["admin@acme.test"] == filed["director@acme.test"] + 1


@pytest.mark.parametrize("args, code, message", [
    (("--tenant", "acme", "--period", "2026-13"), 2, "'2026-13' is not a period"),
    (("--tenant", "acme", "--period", "2026-Q5"), 2, "is not a period"),
    (("--tenant", "acme", "--period", "noviembre"), 2, "is not a period"),
    (("--tenant", "acme", "--period", "1999"), 2, "between 2000 and 2100"),
    (("--tenant", "acme", "--from", "2020-01-01", "--to", "2026-01-01"), 2, "three years"),
    (("--tenant", "acme", "--from", "2026-02-01", "--to", "2026-01-01"), 2, "comes before"),
    (("--tenant", "acme", "--from", "2026-02-01"), 2, "Give both --from and --to"),
    (("--tenant", "acme", "--period", "2026", "--from", "2026-02-01", "--to", "2026-03-01"),
     2, "not both"),
    (("--tenant", "acme", "--from", "2026-02-31", "--to", "2026-03-01"), 2, "2026-02-31"),
    (("--tenant", "acme", "--format", "pdf"), 2, "pdf"),
    (("--tenant", "nope", "--period", "2026-11"), 1, "No company 'nope'"),
    (("--tenant", "globex", "--period", "2026-11"), 1, "globex has no active tenant admin"),
    (("--tenant", "acme", "--as", "ana@acme.test"), 1, "sees no indicators"),
    (("--tenant", "acme", "--as", "pedro@globex.test"), 1, "No active person"),
    (("--tenant", "acme", "--as", "nadie@acme.test"), 1, "No active person"),
])
def test_bad_input_is_a_clear_error_not_a_traceback(app, demo, tmp_path, args, code, message):
    result = _run(app, *args, "--output", str(tmp_path / "out.xlsx"))
    assert result.exit_code == code, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)  # click's exit, not an error escaping
    assert not (tmp_path / "out.xlsx").exists()


def test_a_company_without_an_admin_reports_as_the_person_named(app, demo):
    result = _run(app, "--tenant", "globex", "--as", "director@globex.test", "--period",
                  _month(), "--format", "json", "--output", "-")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout_bytes)["volumes"]["totals"]["filed"] == 1


def test_a_deactivated_admin_is_not_whose_scope_the_report_takes(app, demo):
    admin = fx.user("admin@acme.test")
    admin.active = False
    db.session.commit()
    result = _run(app, "--tenant", "acme", "--period", "2026-11", "--format", "json",
                  "--output", "-")
    assert result.exit_code == 1
    assert "acme has no active tenant admin" in result.output


def test_an_unwritable_output_is_a_clear_error(app, demo, tmp_path):
    result = _run(app, "--tenant", "acme", "--period", "2026-11", "--output",
                  str(tmp_path / "missing" / "out.xlsx"))
    assert result.exit_code == 1
    assert "Cannot write" in result.output


# --- helpers ---------------------------------------------------------------------------------

def _second_service_unit() -> str:
    """A second service unit of acme (Sistemas), its director and its category (Redes)."""
    from app.models import Category, Membership, Unit, User

    db.session.rollback()
    tenant = db.session.query(Tenant).filter_by(slug="acme").one()
    unit = Unit(tenant_id=tenant.id, name="Sistemas", is_service_unit=True)
    db.session.add(unit)
    db.session.flush()
    db.session.add(Category(tenant_id=tenant.id, name="Redes", service_unit_id=unit.id,
                            default_priority="normal", description="Redes y cableado"))
    director = User(tenant_id=tenant.id, email="sistemas@acme.test", name="Samuel Ortiz",
                    password_hash="x", locale="en")
    db.session.add(director)
    db.session.flush()
    db.session.add(Membership(tenant_id=tenant.id, user_id=director.id,
                              role="service_director", unit_id=unit.id))
    db.session.commit()
    return director.email
