"""The period and filters of an indicators view (app.indicators.filters.parse): presets for a
fixed today in the company's zone, from/to as whole local days, and every bad or out-of-scope
value refused on its field (422 for a bad value, 404 for what the caller may not see)."""

import os
from datetime import UTC, date, datetime

import pytest

from app.extensions import db
from app.indicators import filters
from app.indicators.filters import FilterError
from app.models import Tenant, User
from tests.indicators.walks import ids, more_acme

ADMIN = "admin@acme.test"
# 03:00 UTC on 18 November is still the 17th (a Tuesday) in Bogotá
NOW = datetime(2026, 11, 18, 3, 0, tzinfo=UTC)


def person(email) -> User:
    return db.session.query(User).filter_by(email=email).one()


def parse(email, now=NOW, **args):
    return filters.parse(person(email), args, now)


def refused(email, status, field, now=NOW, **args):
    with pytest.raises(FilterError) as caught:
        parse(email, now, **args)
    assert (caught.value.status, caught.value.field) == (status, field), caught.value.message
    return caught.value


# --- the period ------------------------------------------------------------------------------

@pytest.mark.parametrize(("preset", "first", "last"), [
    ("last_7_days", date(2026, 11, 11), date(2026, 11, 17)),
    ("last_30_days", date(2026, 10, 19), date(2026, 11, 17)),
    ("last_90_days", date(2026, 8, 20), date(2026, 11, 17)),
    ("this_month", date(2026, 11, 1), date(2026, 11, 17)),
    ("last_month", date(2026, 10, 1), date(2026, 10, 31)),
    ("this_quarter", date(2026, 10, 1), date(2026, 11, 17)),
    ("this_year", date(2026, 1, 1), date(2026, 11, 17)),
    ("last_year", date(2025, 1, 1), date(2025, 12, 31)),
])
def test_presets_read_today_in_the_companys_zone(demo, preset, first, last):
    f = parse(ADMIN, preset=preset)
    assert (f.start, f.end, f.preset) == (first, last, preset)


@pytest.mark.parametrize(("today", "preset", "first", "last"), [
    # in January, last month is last year's December
    (date(2026, 1, 15), "last_month", date(2025, 12, 1), date(2025, 12, 31)),
    (date(2026, 1, 15), "this_quarter", date(2026, 1, 1), date(2026, 1, 15)),
    (date(2026, 3, 31), "last_month", date(2026, 2, 1), date(2026, 2, 28)),
    (date(2026, 6, 30), "this_quarter", date(2026, 4, 1), date(2026, 6, 30)),
    (date(2026, 7, 1), "this_quarter", date(2026, 7, 1), date(2026, 7, 1)),
    # the twelve calendar months that end with this one
    (date(2026, 12, 4), "last_12_months", date(2026, 1, 1), date(2026, 12, 4)),
])
def test_presets_at_the_edges_of_months_quarters_and_years(demo, today, preset, first, last):
    now = datetime(today.year, today.month, today.day, 17, tzinfo=UTC)  # noon in Bogotá
    f = parse(ADMIN, now, preset=preset)
    assert (f.start, f.end) == (first, last)


def test_last_12_months_are_twelve_calendar_months_in_every_month(demo):
    f = parse(ADMIN, preset="last_12_months")
    assert (f.start, f.end) == (date(2025, 12, 1), date(2026, 11, 17))
    f = parse(ADMIN, datetime(2026, 3, 10, 17, tzinfo=UTC), preset="last_12_months")
    assert (f.start, f.end) == (date(2025, 4, 1), date(2026, 3, 10))


def test_no_period_is_the_last_30_days(demo):
    f = parse(ADMIN)
    assert (f.start, f.end, f.preset) == (date(2026, 10, 19), date(2026, 11, 17),
                                          "last_30_days")


def test_from_and_to_are_whole_days_in_the_companys_zone(demo):
    f = parse(ADMIN, **{"from": "2026-11-01", "to": "2026-11-30"})
    assert (f.start, f.end, f.preset, f.days) == (date(2026, 11, 1), date(2026, 11, 30),
                                                  None, 30)
    # Bogotá is UTC-5: local midnight of the 1st to local midnight after the 30th
    assert f.start_at == datetime(2026, 11, 1, 5, tzinfo=UTC)
    assert f.end_at == datetime(2026, 12, 1, 5, tzinfo=UTC)
    assert f.as_json()["zone"] == "America/Bogota"
    assert f.query_args() == {"from": "2026-11-01", "to": "2026-11-30"}


def test_a_day_when_the_clocks_go_back_lasts_25_hours(demo):
    tenant = db.session.query(Tenant).filter_by(slug="acme").one()
    tenant.timezone = "Europe/Madrid"
    db.session.commit()
    f = parse(ADMIN, **{"from": "2026-10-25", "to": "2026-10-25"})
    assert f.start_at == datetime(2026, 10, 24, 22, tzinfo=UTC)     # 00:00 CEST
    assert f.end_at == datetime(2026, 10, 25, 23, tzinfo=UTC)       # 00:00 CET
    # and "today" is Madrid's: 23:30 UTC on 17 November is the 18th there
    f = parse(ADMIN, datetime(2026, 11, 17, 23, 30, tzinfo=UTC), preset="this_month")
    assert (f.start, f.end) == (date(2026, 11, 1), date(2026, 11, 18))


def test_a_day_whose_midnight_never_happens_starts_when_the_clocks_jump(demo):
    """Santiago de Chile moves its clocks from Saturday 24:00 to Sunday 01:00 (6 September
    2026): that Sunday starts at the jump, 04:00 UTC, and lasts 23 hours."""
    tenant = db.session.query(Tenant).filter_by(slug="acme").one()
    tenant.timezone = "America/Santiago"
    db.session.commit()
    f = parse(ADMIN, **{"from": "2026-09-06", "to": "2026-09-06"})
    assert f.start_at == datetime(2026, 9, 6, 4, tzinfo=UTC)
    assert f.end_at == datetime(2026, 9, 7, 3, tzinfo=UTC)       # Monday 00:00 (UTC-3)


@pytest.mark.parametrize(("first", "last", "bucket"), [
    ("2026-11-17", "2026-11-17", "day"),
    ("2026-01-01", "2026-03-03", "day"),       # 62 days
    ("2026-01-01", "2026-03-04", "week"),      # 63
    ("2025-01-01", "2026-01-01", "week"),      # 366
    ("2025-01-01", "2026-01-02", "month"),     # 367
])
def test_trends_go_by_day_up_to_two_months_by_week_up_to_a_year(demo, first, last, bucket):
    assert parse(ADMIN, **{"from": first, "to": last}).bucket == bucket


def test_a_three_year_period_is_accepted(demo):
    f = parse(ADMIN, **{"from": "2024-01-01", "to": "2026-12-31"})
    assert f.days == 1096 and f.bucket == "month"


@pytest.mark.parametrize(("args", "field"), [
    ({"from": "2026-11-30", "to": "2026-11-01"}, "to"),          # from after to
    ({"from": "2006-01-01", "to": "2026-01-01"}, "from"),        # twenty years
    ({"from": "2026-13-01", "to": "2026-12-31"}, "from"),
    ({"from": "2026-11-01", "to": "31/12/2026"}, "to"),
    ({"from": "mañana", "to": "2026-12-31"}, "from"),
    ({"from": "2026-11-01"}, "to"),                              # half a period
    ({"to": "2026-11-01"}, "from"),
    ({"from": "1999-12-31", "to": "2000-01-02"}, "from"),        # out of 2000..2100
    ({"preset": "forever"}, "preset"),
    ({"priority": "whenever"}, "priority"),
    ({"unit_id": "abc"}, "unit_id"),
    ({"unit_id": "-1"}, "unit_id"),
    ({"service_unit_id": "1.5"}, "service_unit_id"),
    ({"category_id": "1e3"}, "category_id"),
    ({"worker_id": "9" * 40}, "worker_id"),
])
def test_bad_values_are_422_on_their_field(demo, args, field):
    error = refused(ADMIN, 422, field, **args)
    assert str(error.message)


ON_POSTGRES = (os.environ.get("TEST_DATABASE_URL") or "").startswith("postgresql")


@pytest.mark.parametrize("field", ["unit_id", "service_unit_id", "category_id", "worker_id"])
def test_a_digit_that_is_not_a_number_is_422(demo, field):
    refused(ADMIN, 422, field, **{field: "²"})


@pytest.mark.parametrize("field", ["unit_id", "service_unit_id", "category_id", "worker_id"])
def test_an_id_too_large_for_any_row_is_refused_on_its_field(demo, field):
    with pytest.raises(FilterError) as caught:
        parse(ADMIN, **{field: "999999999999"})
    assert caught.value.status in (404, 422) and caught.value.field == field


def test_a_period_longer_than_three_years_is_refused(demo):
    # the bound is 3 * 366 + 1 days whatever years they cross (filters.MAX_DAYS): 1099 days
    # pass, the 1100th is refused
    assert parse(ADMIN, **{"from": "2024-01-01", "to": "2027-01-03"}).days == 1099
    refused(ADMIN, 422, "from", **{"from": "2024-01-01", "to": "2027-01-04"})
    refused(ADMIN, 422, "from", **{"from": "2022-01-01", "to": "2025-12-31"})  # four years


@pytest.mark.parametrize("field", ["unit_id", "service_unit_id", "category_id", "worker_id"])
def test_unknown_ids_are_not_found(demo, field):
    refused(ADMIN, 404, field, **{field: "987654"})


def test_another_companys_ids_are_not_found(demo):
    globex = ids("globex")
    for field, value in (("unit_id", globex["Operaciones"]),
                         ("service_unit_id", globex["Mantenimiento"]),
                         ("category_id", globex["Aire acondicionado"]),
                         ("worker_id", globex["tecnico@globex.test"])):
        for email in (ADMIN, "director@acme.test", "jefe.finanzas@acme.test"):
            refused(email, 404, field, **{field: str(value)})


def test_a_unit_that_is_not_a_service_unit_or_a_worker_who_is_not_one_is_not_found(demo):
    acme = ids("acme")
    refused(ADMIN, 404, "service_unit_id", service_unit_id=str(acme["Finanzas"]))
    refused(ADMIN, 404, "worker_id", worker_id=str(acme["ana@acme.test"]))


def test_a_head_narrows_only_to_the_units_they_head_and_those_under_them(demo):
    more = more_acme()
    acme = ids("acme")
    head = "jefe.finanzas@acme.test"
    assert parse(head, unit_id=str(acme["Finanzas"])).unit_id == acme["Finanzas"]
    assert parse(head, unit_id=str(more["tesoreria"])).unit_id == more["tesoreria"]
    refused(head, 404, "unit_id", unit_id=str(acme["Producción"]))
    refused("jefe.produccion@acme.test", 404, "unit_id", unit_id=str(acme["Finanzas"]))
    refused("jefe.produccion@acme.test", 404, "unit_id", unit_id=str(more["tesoreria"]))


def test_a_director_narrows_only_to_the_service_units_and_workers_they_direct(demo):
    more = more_acme()
    acme = ids("acme")
    director = "director@acme.test"
    assert parse(director, service_unit_id=str(acme["Servicios Generales"])).service_unit_id \
        == acme["Servicios Generales"]
    refused(director, 404, "service_unit_id", service_unit_id=str(more["sistemas"]))
    refused("director.sistemas@acme.test", 404, "service_unit_id",
            service_unit_id=str(acme["Servicios Generales"]))
    assert parse(director, worker_id=str(acme["tecnico2@acme.test"])).worker_id == \
        acme["tecnico2@acme.test"]
    refused(director, 404, "worker_id", worker_id=str(acme["tecnico.sistemas@acme.test"]))
    refused("director.sistemas@acme.test", 404, "worker_id",
            worker_id=str(acme["tecnico1@acme.test"]))
    # the units that file to them: any unit of the company narrows their own requests
    assert parse(director, unit_id=str(acme["Producción"])).unit_id == acme["Producción"]


def test_an_admin_narrows_to_anything_of_the_company(demo):
    more = more_acme()
    acme = ids("acme")
    f = parse(ADMIN, unit_id=str(acme["Producción"]), service_unit_id=str(more["sistemas"]),
              category_id=str(more["redes"]), worker_id=str(acme["tecnico2@acme.test"]),
              priority="urgent", preset="this_month")
    assert (f.unit_id, f.service_unit_id, f.category_id, f.worker_id, f.priority) == (
        acme["Producción"], more["sistemas"], more["redes"], acme["tecnico2@acme.test"],
        "urgent")
    assert f.query_args() == {"preset": "this_month", "unit_id": acme["Producción"],
                              "service_unit_id": more["sistemas"],
                              "category_id": more["redes"],
                              "worker_id": acme["tecnico2@acme.test"], "priority": "urgent"}


@pytest.mark.parametrize("email", ["ana@acme.test", "tecnico1@acme.test", "pedro@globex.test",
                                   "tecnico@globex.test"])
def test_requesters_and_workers_see_no_indicators(demo, email):
    with pytest.raises(PermissionError):
        parse(email)


def test_the_forms_choices_are_what_the_caller_may_narrow_to(demo):
    more = more_acme()
    acme = ids("acme")
    options = filters.options(person("jefe.produccion@acme.test"))
    assert [u for u, _ in options["units"]] == [acme["Producción"]]
    options = filters.options(person("director.sistemas@acme.test"))
    assert [u for u, _ in options["service_units"]] == [more["sistemas"]]
    assert [w for w, _ in options["workers"]] == [acme["tecnico.sistemas@acme.test"]]
    admin = filters.options(person(ADMIN))
    assert {name for _, name in admin["units"]} == {
        "Finanzas", "Producción", "Servicios Generales", "Sistemas", "Tesorería"}
    assert {name for _, name in admin["service_units"]} == {"Servicios Generales", "Sistemas"}
    assert {name for _, name in admin["categories"]} == {
        "Electricidad", "Plomería", "Limpieza", "Transporte", "Soporte TI", "Redes"}
    assert {i for i, _ in admin["workers"]} == {
        acme[e] for e in ("tecnico1@acme.test", "tecnico2@acme.test",
                          "tecnico.sistemas@acme.test")}
