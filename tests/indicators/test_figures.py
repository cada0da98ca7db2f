"""Every figure (app.indicators.figures) against a hand-built fixture, no database.

The fixture is a month of a company in Bogotá (UTC-5, no daylight saving), with events just
before and at local midnight and at the period's first and last instants; a second one in
Madrid crosses the night clocks go back. Every expected value below was worked out by hand
from the definitions in the module's docstring (and the README), not by running the code:
each assertion says how.
"""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from app.indicators import figures
from app.indicators.data import FACT_COLUMNS

BOGOTA = ZoneInfo("America/Bogota")
MADRID = ZoneInfo("Europe/Madrid")
FIELDS = tuple(column.key for column in FACT_COLUMNS)


@pytest.fixture(autouse=True)
def clean_tables():
    """Pure module: no application and no database (overrides tests/conftest.py's)."""
    yield


def bog(month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0,
        year: int = 2026) -> datetime:
    """Bogotá's wall clock as a UTC instant (always UTC-5)."""
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC) + timedelta(hours=5)


def row(id, **values) -> SimpleNamespace:
    """A request row with the columns ``data.facts`` selects (None unless given)."""
    unknown = set(values) - set(FIELDS)
    assert not unknown, f"not a fact column: {unknown}"
    base = dict.fromkeys(FIELDS)
    base.update(id=id, number=f"REQ-2026-{id:06d}", status="pending_authorization", reopens=0)
    base.update(values)
    return SimpleNamespace(**base)


# November 2026 in Bogotá: from 2026-11-01 00:00 local (05:00 UTC) to 2026-12-01 00:00 local
NOVEMBER = figures.Period(
    start=date(2026, 11, 1), end=date(2026, 11, 30),
    start_at=datetime(2026, 11, 1, 5, tzinfo=UTC), end_at=datetime(2026, 12, 1, 5, tzinfo=UTC),
    zone=BOGOTA, bucket="day")

D = Decimal
ELECTRICIDAD, PLOMERIA, LIMPIEZA = 1, 2, 3
FINANZAS, PRODUCCION = 10, 11
TOMAS, TERESA, BETO, ANA = 100, 101, 102, 103

ROWS = [
    # A: filed the minute before the period (out), authorized at its first instant (in),
    # completed and rated 5 with a comment; finished on its planned day
    row(1, status="completed", created_at=bog(10, 31, 23, 59), authorized_at=bog(11, 1),
        approved_at=bog(11, 2, 10), assigned_at=bog(11, 2, 11), started_at=bog(11, 3, 9),
        finished_at=bog(11, 5, 17), closed_at=bog(11, 6, 9), confirmed_at=bog(11, 6, 9), rating=5,
        rating_comment="Excelente", category_id=ELECTRICIDAD, unit_id=FINANZAS,
        worker_id=TOMAS, planned_end=date(2026, 11, 5), estimated_cost=D("100.00"),
        actual_cost=D("80.50"), materials_cost=D("20.25"), estimated_hours=D("8.00"),
        hours_spent=D("6.50"), authorization_minutes=10, evaluation_minutes=100,
        assignment_minutes=1000, start_minutes=5, work_minutes=50, confirmation_minutes=7,
        resolution_minutes=500),
    # B: filed at the period's first instant, rejected by the head
    row(2, status="rejected", created_at=bog(11, 1), authorized_at=bog(11, 2, 8),
        rejected_by="unit_head", closed_at=bog(11, 2, 8), category_id=PLOMERIA,
        unit_id=FINANZAS, authorization_minutes=20),
    # C: filed a minute before local midnight of the 10th (the 11th in UTC), returned once,
    # then rejected by the director
    row(3, status="rejected", created_at=bog(11, 10, 23, 59), authorized_at=bog(11, 11, 9),
        rejected_by="service_director", closed_at=bog(11, 13, 15), category_id=ELECTRICIDAD,
        unit_id=PRODUCCION, authorization_minutes=30, evaluation_minutes=200),
    # D: finished half an hour before the period ends (December in UTC), waiting for its
    # confirmation (completed, not closed); reopened once before; planned for that same day
    row(4, status="completed", created_at=bog(11, 20, 10), authorized_at=bog(11, 20, 11),
        approved_at=bog(11, 21, 10), assigned_at=bog(11, 22, 10), started_at=bog(11, 23, 10),
        finished_at=bog(11, 30, 23, 30), reopens=1, category_id=PLOMERIA,
        unit_id=PRODUCCION, worker_id=TOMAS, planned_end=date(2026, 11, 30),
        estimated_cost=D("200.00"), actual_cost=D("150.10"), materials_cost=D("0.40"),
        estimated_hours=D("4.50"), hours_spent=D("3.25"), authorization_minutes=40,
        evaluation_minutes=300, assignment_minutes=2000, start_minutes=15, work_minutes=150,
        resolution_minutes=1500),
    # E: filed and cancelled
    row(5, status="cancelled", created_at=bog(11, 5, 8), closed_at=bog(11, 6, 8),
        category_id=LIMPIEZA, unit_id=FINANZAS),
    # F: filed at the period's last second, still waiting
    row(6, created_at=bog(11, 30, 23, 59, 59), category_id=ELECTRICIDAD, unit_id=FINANZAS),
    # G: filed at the first instant after the period (out)
    row(7, created_at=bog(12, 1), category_id=ELECTRICIDAD, unit_id=FINANZAS),
    # H: filed, authorized and approved in October; assigned, finished and closed in November
    row(8, status="completed", created_at=bog(10, 1, 9), authorized_at=bog(10, 2, 9),
        approved_at=bog(10, 3, 9), assigned_at=bog(11, 3, 9), started_at=bog(11, 4, 9),
        finished_at=bog(11, 9, 12), closed_at=bog(11, 10, 8), confirmed_at=bog(11, 10, 8), rating=2,
        rating_comment="Tardó", category_id=LIMPIEZA, unit_id=PRODUCCION, worker_id=TERESA,
        planned_end=date(2026, 11, 9), estimated_cost=D("50.00"), actual_cost=D("49.99"),
        materials_cost=D("10.00"), estimated_hours=D("2.00"), hours_spent=D("2.00"),
        authorization_minutes=1000, evaluation_minutes=2000, assignment_minutes=3000,
        start_minutes=20, work_minutes=200, confirmation_minutes=1200,
        resolution_minutes=9000),
    # I: authorized in October, approved, assigned and started in November, not finished
    row(9, status="in_service", created_at=bog(10, 20, 9), authorized_at=bog(10, 21, 9),
        approved_at=bog(11, 15, 9), assigned_at=bog(11, 16, 9), started_at=bog(11, 17, 9),
        category_id=ELECTRICIDAD, unit_id=FINANZAS, worker_id=TERESA,
        planned_end=date(2026, 11, 20), estimated_cost=D("70.00"), estimated_hours=D("2.50"),
        authorization_minutes=5000, evaluation_minutes=400, assignment_minutes=3,
        start_minutes=25),
    # J: completed and rated 4 with a blank comment; finished a day after its planned end
    row(10, status="completed", created_at=bog(11, 6, 8), authorized_at=bog(11, 6, 9),
        approved_at=bog(11, 6, 10), assigned_at=bog(11, 6, 11), started_at=bog(11, 7, 8),
        finished_at=bog(11, 7, 10), closed_at=bog(11, 8, 10), confirmed_at=bog(11, 8, 10), rating=4,
        rating_comment="  ",
        category_id=ELECTRICIDAD, unit_id=FINANZAS, worker_id=TOMAS,
        planned_end=date(2026, 11, 6), estimated_cost=D("10.00"), actual_cost=D("12.34"),
        materials_cost=None, estimated_hours=D("1.00"), hours_spent=D("1.50"),
        authorization_minutes=60, evaluation_minutes=60, assignment_minutes=60,
        start_minutes=1260, work_minutes=120, confirmation_minutes=1440,
        resolution_minutes=1800),
    # K: closed without a rating (automatically)
    row(11, status="completed", created_at=bog(11, 24, 8), authorized_at=bog(11, 24, 9),
        approved_at=bog(11, 24, 10), assigned_at=bog(11, 24, 11), started_at=bog(11, 25, 9),
        finished_at=bog(11, 25, 10), closed_at=bog(11, 28, 10), confirmed_at=bog(11, 28, 10),
        category_id=PLOMERIA,
        unit_id=FINANZAS, worker_id=BETO, planned_end=date(2026, 11, 25),
        estimated_cost=D("30.00"), actual_cost=D("30.00"), materials_cost=D("5.00"),
        estimated_hours=D("1.00"), hours_spent=D("1.00"), authorization_minutes=70,
        evaluation_minutes=80, assignment_minutes=90, start_minutes=1320, work_minutes=60,
        confirmation_minutes=4320, resolution_minutes=1560),
    # L: returned twice, waiting for the requester
    row(12, status="returned", created_at=bog(11, 14, 8), authorized_at=bog(11, 14, 10),
        category_id=PLOMERIA, unit_id=PRODUCCION, authorization_minutes=50),
]
# Returns for information: C once, L twice in November; H once in October (out)
RETURNS = {3: [bog(11, 12, 10)], 12: [bog(11, 15, 10), bog(11, 18, 10)], 8: [bog(10, 2, 10)]}


def series_of(result: dict, name: str) -> dict[str, int]:
    """The non-zero buckets of one series: {first day: count}."""
    return {day: n for day, n in zip(result["buckets"], result["series"][name], strict=True)
            if n}


# --- volumes ---------------------------------------------------------------------------------

def test_volumes_by_day_count_each_event_on_its_local_day():
    result = figures.volumes(ROWS, RETURNS, NOVEMBER)
    assert result["buckets"] == [f"2026-11-{d:02d}" for d in range(1, 31)]
    # filed: B (1st 00:00), E (5th), J (6th), C (10th 23:59 local), L (14th), D (20th),
    # K (24th), F (30th 23:59:59); A (31 Oct 23:59), G (1 Dec 00:00), H, I (October) out
    assert series_of(result, "filed") == {"2026-11-01": 1, "2026-11-05": 1, "2026-11-06": 1,
                                          "2026-11-10": 1, "2026-11-14": 1, "2026-11-20": 1,
                                          "2026-11-24": 1, "2026-11-30": 1}
    # authorized: A (1st 00:00), J (6th), C (11th), L (14th), D (20th), K (24th)
    assert series_of(result, "authorized") == {"2026-11-01": 1, "2026-11-06": 1,
                                               "2026-11-11": 1, "2026-11-14": 1,
                                               "2026-11-20": 1, "2026-11-24": 1}
    assert series_of(result, "rejected_by_head") == {"2026-11-02": 1}          # B
    assert series_of(result, "rejected_by_director") == {"2026-11-13": 1}      # C, at closing
    assert series_of(result, "returned") == {"2026-11-12": 1, "2026-11-15": 1,
                                             "2026-11-18": 1}                  # C, L, L
    # approved: A (2nd), J (6th), I (15th), D (21st), K (24th); H's (October) out
    assert series_of(result, "approved") == {"2026-11-02": 1, "2026-11-06": 1,
                                             "2026-11-15": 1, "2026-11-21": 1, "2026-11-24": 1}
    assert series_of(result, "cancelled") == {"2026-11-06": 1}                 # E
    totals = dict(result["totals"])
    totals.pop("completed")  # its own test below
    assert totals == {"filed": 8, "authorized": 6, "rejected_by_head": 1,
                      "rejected_by_director": 1, "returned": 3, "approved": 5,
                      "cancelled": 1}
    for name, values in result["series"].items():
        assert len(values) == 30 and sum(values) == result["totals"][name]


def test_completed_counts_when_the_service_finished_not_at_the_confirmation():
    result = figures.volumes(ROWS, RETURNS, NOVEMBER)
    # the rows hold what the workflow writes: closed_at at the confirmation (A on the 6th, J
    # the 8th, H the 10th, K the 28th) and none yet for D, finished at 23:30 on the 30th.
    # Finished: A (5th), J (7th), H (9th), K (25th), D (30th, local)
    assert series_of(result, "completed") == {"2026-11-05": 1, "2026-11-07": 1,
                                              "2026-11-09": 1, "2026-11-25": 1,
                                              "2026-11-30": 1}
    assert result["totals"]["completed"] == 5


def madrid_weeks() -> figures.Period:
    """Wednesday 21 October to Tuesday 3 November 2026 in Madrid, by week. Clocks go back on
    Sunday 25 October at 03:00 CEST (01:00 UTC): the first instant is 20 Oct 22:00 UTC
    (CEST, UTC+2), the end 3 Nov 23:00 UTC (CET, UTC+1)."""
    return figures.Period(
        start=date(2026, 10, 21), end=date(2026, 11, 3),
        start_at=datetime(2026, 10, 20, 22, tzinfo=UTC),
        end_at=datetime(2026, 11, 3, 23, tzinfo=UTC), zone=MADRID, bucket="week")


def test_weeks_start_on_monday_in_the_companys_zone_across_a_daylight_saving_change():
    period = madrid_weeks()
    filed = [
        datetime(2026, 10, 20, 21, 59, tzinfo=UTC),      # Tue 20 Oct 23:59 CEST: out
        datetime(2026, 10, 20, 22, 0, tzinfo=UTC),       # Wed 21 Oct 00:00 CEST: week of 19th
        datetime(2026, 10, 25, 22, 30, tzinfo=UTC),      # Sun 25 Oct 23:30 CET: week of 19th
        datetime(2026, 10, 25, 23, 0, tzinfo=UTC),       # Mon 26 Oct 00:00 CET: week of 26th
        datetime(2026, 11, 1, 22, 59, tzinfo=UTC),       # Sun 1 Nov 23:59 CET: week of 26th
        datetime(2026, 11, 3, 22, 59, 59, tzinfo=UTC),   # Tue 3 Nov 23:59:59: week of 2 Nov
        datetime(2026, 11, 3, 23, 0, tzinfo=UTC),        # Wed 4 Nov 00:00: out
    ]
    rows = [row(i, created_at=at) for i, at in enumerate(filed, start=1)]
    result = figures.volumes(rows, {}, period)
    # the first bucket starts on the Monday before the period (the week it touches)
    assert result["buckets"] == ["2026-10-19", "2026-10-26", "2026-11-02"]
    assert result["series"]["filed"] == [2, 2, 1]
    assert result["totals"]["filed"] == 5


def test_days_in_a_zone_whose_midnight_is_skipped():
    """Santiago de Chile jumps from Saturday 5 September 2026 24:00 (UTC-4) to Sunday 01:00
    (UTC-3): Sunday starts at 04:00 UTC."""
    santiago = ZoneInfo("America/Santiago")
    period = figures.Period(
        start=date(2026, 9, 5), end=date(2026, 9, 6),
        start_at=datetime(2026, 9, 5, 4, tzinfo=UTC), end_at=datetime(2026, 9, 7, 3, tzinfo=UTC),
        zone=santiago, bucket="day")
    filed = [datetime(2026, 9, 6, 3, 59, tzinfo=UTC),     # Saturday 23:59 (UTC-4)
             datetime(2026, 9, 6, 4, 0, tzinfo=UTC),      # Sunday 01:00 (UTC-3)
             datetime(2026, 9, 7, 2, 59, tzinfo=UTC),     # Sunday 23:59
             datetime(2026, 9, 7, 3, 0, tzinfo=UTC)]      # Monday 00:00: out
    rows = [row(i, created_at=at) for i, at in enumerate(filed, start=1)]
    result = figures.volumes(rows, {}, period)
    assert result["buckets"] == ["2026-09-05", "2026-09-06"]
    assert result["series"]["filed"] == [1, 2]


def test_months_bucket_by_the_first_of_each_month():
    period = figures.Period(
        start=date(2026, 1, 15), end=date(2026, 3, 10),
        start_at=bog(1, 15), end_at=bog(3, 11), zone=BOGOTA, bucket="month")
    filed = [bog(1, 14, 23, 59),      # out
             bog(1, 31, 23, 59),      # January (February in UTC)
             bog(2, 1), bog(2, 28, 23, 59),
             bog(3, 10, 23, 59),      # the last day's last minute
             bog(3, 11)]              # out
    rows = [row(i, created_at=at) for i, at in enumerate(filed, start=1)]
    result = figures.volumes(rows, {}, period)
    assert result["buckets"] == ["2026-01-01", "2026-02-01", "2026-03-01"]
    assert result["series"]["filed"] == [1, 2, 1]


@pytest.mark.parametrize(("start", "end", "bucket", "expected"), [
    # months across a new year
    (date(2025, 11, 15), date(2026, 2, 2), "month",
     ["2025-11-01", "2025-12-01", "2026-01-01", "2026-02-01"]),
    # a period that starts on a Monday and ends on a Sunday: exactly its weeks
    (date(2026, 11, 2), date(2026, 11, 15), "week", ["2026-11-02", "2026-11-09"]),
    # a Sunday alone belongs to the week that started the Monday before
    (date(2026, 11, 8), date(2026, 11, 8), "week", ["2026-11-02"]),
    (date(2026, 2, 27), date(2026, 3, 1), "day", ["2026-02-27", "2026-02-28", "2026-03-01"]),
])
def test_buckets_are_the_first_days_of_every_bucket_the_period_touches(start, end, bucket,
                                                                       expected):
    period = figures.Period(start, end, bog(start.month, start.day, year=start.year),
                            bog(end.month, end.day, year=end.year) + timedelta(days=1),
                            BOGOTA, bucket)
    assert [d.isoformat() for d in figures.buckets(period)] == expected


# --- rates -----------------------------------------------------------------------------------

def test_rates_are_decisions_of_the_period_over_their_deciders_decisions():
    rates = figures.rates(ROWS, RETURNS, NOVEMBER)
    # heads decided 7 times: 6 authorizations (A, C, D, J, K, L) and 1 rejection (B)
    assert rates["authorization"] == {"value": 0.8571, "numerator": 6, "denominator": 7}
    assert rates["rejection_by_head"] == {"value": 0.1429, "numerator": 1, "denominator": 7}
    # directors decided 9 times: 5 approvals (A, D, I, J, K), 1 rejection (C), 3 returns
    assert rates["approval"] == {"value": 0.5556, "numerator": 5, "denominator": 9}
    assert rates["return"] == {"value": 0.3333, "numerator": 3, "denominator": 9}
    assert rates["rejection_by_director"] == {"value": 0.1111, "numerator": 1,
                                              "denominator": 9}
    # finished in November: A, D (23:30 on the 30th, local), H, J, K; D was reopened
    assert rates["reopen"] == {"value": 0.2, "numerator": 1, "denominator": 5}


def test_rates_without_decisions_are_null_not_zero():
    quiet = [row(1, created_at=bog(11, 3))]  # only filed
    rates = figures.rates(quiet, {}, NOVEMBER)
    assert set(rates) == set(figures.RATES)
    for name in figures.RATES:
        assert rates[name] == {"value": None, "numerator": 0, "denominator": 0}, name


# --- lead times ------------------------------------------------------------------------------

def test_quantiles_interpolate_linearly_between_the_closest_ranks():
    assert figures.quantile([1, 2, 3, 4], 0.5) == 2.5
    assert figures.quantile([1, 2, 3, 4], 0.9) == 3.7
    assert figures.quantile([7], 0.5) == 7 and figures.quantile([7], 0.9) == 7
    assert figures.quantile([], 0.5) is None
    assert figures.quantile([10, 20, 30], 0.5) == 20


def test_lead_times_count_only_stages_that_ended_in_the_period():
    found = {entry["stage"]: entry for entry in figures.lead_times(ROWS, NOVEMBER)}
    assert [entry["stage"] for entry in figures.lead_times(ROWS, NOVEMBER)] == [
        "authorization", "evaluation", "assignment", "start", "work", "confirmation",
        "resolution"]
    expected = {
        # ended by the head's decision in November (B's rejection included; H, I in October):
        # [10, 20, 30, 40, 50, 60, 70]: median the 4th; p90 at rank 5.4 -> 60 + 0.4 * 10
        "authorization": (7, 40.0, 64.0),
        # approvals A, D, I, J, K and C's rejection by the director: [60, 80, 100, 200, 300,
        # 400]: median at rank 2.5 -> 150; p90 at 4.5 -> 350
        "evaluation": (6, 150.0, 350.0),
        # assigned in November (H's too): [3, 60, 90, 1000, 2000, 3000]: 545; 2500
        "assignment": (6, 545.0, 2500.0),
        # started: [5, 15, 20, 25, 1260, 1320]: 22.5; 1290
        "start": (6, 22.5, 1290.0),
        # finished (D at 23:30 local on the 30th): [50, 60, 120, 150, 200]: 120; p90 at rank
        # 3.6 -> 150 + 0.6 * 50
        "work": (5, 120.0, 180.0),
        # confirmed (closed as completed): A, H, J, K: [7, 1200, 1440, 4320]: 1320; p90 at
        # rank 2.7 -> 1440 + 0.7 * 2880
        "confirmation": (4, 1320.0, 3456.0),
        # filing to finish: [500, 1500, 1560, 1800, 9000]: 1560; 1800 + 0.6 * 7200
        "resolution": (5, 1560.0, 6120.0),
    }
    for stage, (count, median, p90) in expected.items():
        assert (found[stage]["count"], found[stage]["median_minutes"],
                found[stage]["p90_minutes"]) == (count, median, p90), stage


def test_a_stage_nobody_ended_has_no_median():
    rows = [row(1, created_at=bog(11, 3), authorized_at=bog(11, 3, 10),
                authorization_minutes=90)]
    found = {entry["stage"]: entry for entry in figures.lead_times(rows, NOVEMBER)}
    assert found["authorization"] == {"stage": "authorization", "count": 1,
                                      "median_minutes": 90.0, "p90_minutes": 90.0}
    assert found["work"] == {"stage": "work", "count": 0, "median_minutes": None,
                             "p90_minutes": None}


# --- backlog, on time ------------------------------------------------------------------------

def test_backlog_by_status_and_age_band_at_now():
    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    day = timedelta(days=1)
    open_rows = [
        ("pending_authorization", now - timedelta(hours=1)),                 # lt_1d
        ("pending_authorization", now - timedelta(hours=23, minutes=59)),    # lt_1d
        ("pending_evaluation", now - day),                                   # exactly 1: 1_3d
        ("returned", now - timedelta(days=2, hours=23)),                     # 1_3d
        ("pending_assignment", now - 3 * day),                               # 3_7d
        ("in_service", now - 6 * day),                                       # 3_7d
        ("in_service", now - 7 * day),                                       # 7_30d
        ("in_service", now - 29 * day),                                      # 7_30d
        ("in_service", now - 30 * day),                                      # gt_30d
        ("in_service", now - 400 * day),                                     # gt_30d
    ]
    result = figures.backlog(open_rows, now)
    zero = dict.fromkeys(("lt_1d", "1_3d", "3_7d", "7_30d", "gt_30d"), 0)
    assert result["bands"] == ["lt_1d", "1_3d", "3_7d", "7_30d", "gt_30d"]
    assert result["matrix"] == {
        "pending_authorization": {**zero, "lt_1d": 2},
        "pending_evaluation": {**zero, "1_3d": 1},
        "returned": {**zero, "1_3d": 1},
        "pending_assignment": {**zero, "3_7d": 1},
        "in_service": {**zero, "3_7d": 1, "7_30d": 2, "gt_30d": 2},
    }
    assert result["by_status"] == {"pending_authorization": 2, "pending_evaluation": 1,
                                   "returned": 1, "pending_assignment": 1, "in_service": 5}
    assert result["by_band"] == {"lt_1d": 2, "1_3d": 2, "3_7d": 2, "7_30d": 2, "gt_30d": 2}
    assert result["total"] == 10


def test_an_empty_backlog_lists_every_open_status_at_zero():
    result = figures.backlog([], datetime(2026, 12, 1, tzinfo=UTC))
    assert result["total"] == 0
    assert set(result["by_status"]) == set(figures.OPEN_STATUSES)
    assert set(result["by_band"].values()) == {0}


def test_on_time_compares_the_local_finishing_date_with_the_planned_end():
    # finished in November: A (5th, planned 5th), D (30th 23:30 local, i.e. 1 Dec in UTC,
    # planned 30th), H (9th, planned 9th), K (25th, planned 25th) on time; J (7th, planned
    # 6th) late
    assert figures.on_time(ROWS, NOVEMBER) == {"finished": 5, "on_time": 4, "value": 0.8}
    assert figures.on_time([], NOVEMBER) == {"finished": 0, "on_time": 0, "value": None}


# --- SLA -------------------------------------------------------------------------------------

def test_sla_per_kind_met_breached_compliance_and_mean_overrun():
    clocks = [
        ("decision", "met", 240, 100 * 60), ("decision", "met", 240, 240 * 60),
        ("decision", "met", 240, 10 * 60),
        ("decision", "breached", 240, 300 * 60),          # 60 minutes over
        ("start", "breached", 480, 500 * 60),             # 20 over
        ("start", "breached", 480, 530 * 60 + 30),        # 50.5 over
    ]
    found = {entry["kind"]: entry for entry in figures.sla(clocks, {"decision": 2})}
    assert [entry["kind"] for entry in figures.sla(clocks, {})] == [
        "decision", "start", "resolution"]
    assert found["decision"] == {"kind": "decision", "met": 3, "breached": 1,
                                 "compliance": 0.75, "mean_overrun_minutes": 60.0,
                                 "open_breached": 2}
    assert found["start"] == {"kind": "start", "met": 0, "breached": 2, "compliance": 0.0,
                              "mean_overrun_minutes": 35.25, "open_breached": 0}
    assert found["resolution"] == {"kind": "resolution", "met": 0, "breached": 0,
                                   "compliance": None, "mean_overrun_minutes": None,
                                   "open_breached": 0}


# --- workload --------------------------------------------------------------------------------

def test_workload_open_tickets_planned_and_spent_hours_and_utilization():
    names = {TOMAS: "Tomás", TERESA: "Teresa", BETO: "Beto", ANA: "Ana"}
    open_tickets = [(TOMAS, D("8")), (TERESA, D("2.5")), (TERESA, None), (ANA, D("4"))]
    found = {w["worker_id"]: w for w in figures.workload(ROWS, open_tickets, names,
                                                         D("100"), NOVEMBER)}
    # spent on tickets finished in November: Tomás A 6.50 + D 3.25 + J 1.50 = 11.25;
    # Teresa H 2.00 (I is not finished); Beto K 1.00; utilization = spent / 100 hours
    assert found == {
        TOMAS: {"worker_id": TOMAS, "name": "Tomás", "open_tickets": 1,
                "hours_planned": "8.00", "hours_spent": "11.25", "available_hours": "100.00",
                "utilization": 0.1125},
        TERESA: {"worker_id": TERESA, "name": "Teresa", "open_tickets": 2,
                 "hours_planned": "2.50", "hours_spent": "2.00", "available_hours": "100.00",
                 "utilization": 0.02},
        BETO: {"worker_id": BETO, "name": "Beto", "open_tickets": 0, "hours_planned": "0.00",
               "hours_spent": "1.00", "available_hours": "100.00", "utilization": 0.01},
        ANA: {"worker_id": ANA, "name": "Ana", "open_tickets": 1, "hours_planned": "4.00",
              "hours_spent": "0.00", "available_hours": "100.00", "utilization": 0.0},
    }


def test_utilization_is_null_when_the_period_has_no_working_hours():
    (only,) = figures.workload(ROWS[:1], [], {TOMAS: "Tomás"}, D("0"), NOVEMBER)
    assert only["hours_spent"] == "6.50" and only["utilization"] is None


# --- cost ------------------------------------------------------------------------------------

def test_cost_of_requests_finished_in_the_period_by_category_and_unit():
    result = figures.cost(ROWS, NOVEMBER,
                          {ELECTRICIDAD: "Electricidad", PLOMERIA: "Plomería",
                           LIMPIEZA: "Limpieza"},
                          {FINANZAS: "Finanzas", PRODUCCION: "Producción"})
    # finished in November: A, D, H, J (no materials), K; I is not finished
    assert result["total"] == {"requests": 5, "estimated_cost": "390.00",
                               "actual_cost": "322.93", "materials_cost": "35.65",
                               "estimated_hours": "16.50", "hours_spent": "14.25"}
    assert {g["id"]: g for g in result["by_category"]} == {
        ELECTRICIDAD: {"id": ELECTRICIDAD, "name": "Electricidad", "requests": 2,      # A, J
                       "estimated_cost": "110.00", "actual_cost": "92.84",
                       "materials_cost": "20.25", "estimated_hours": "9.00",
                       "hours_spent": "8.00"},
        PLOMERIA: {"id": PLOMERIA, "name": "Plomería", "requests": 2,                  # D, K
                   "estimated_cost": "230.00", "actual_cost": "180.10",
                   "materials_cost": "5.40", "estimated_hours": "5.50", "hours_spent": "4.25"},
        LIMPIEZA: {"id": LIMPIEZA, "name": "Limpieza", "requests": 1,                  # H
                   "estimated_cost": "50.00", "actual_cost": "49.99",
                   "materials_cost": "10.00", "estimated_hours": "2.00", "hours_spent": "2.00"},
    }
    assert {g["id"]: g for g in result["by_unit"]} == {
        FINANZAS: {"id": FINANZAS, "name": "Finanzas", "requests": 3,                  # A, J, K
                   "estimated_cost": "140.00", "actual_cost": "122.84",
                   "materials_cost": "25.25", "estimated_hours": "10.00",
                   "hours_spent": "9.00"},
        PRODUCCION: {"id": PRODUCCION, "name": "Producción", "requests": 2,            # D, H
                     "estimated_cost": "250.00", "actual_cost": "200.09",
                     "materials_cost": "10.40", "estimated_hours": "6.50",
                     "hours_spent": "5.25"},
    }


def test_cost_sums_are_exact_decimals_whatever_the_count():
    # ten requests of 0.10 and ten of 0.20: 3.00 exactly (floats give 3.0000000000000004)
    rows = [row(i, status="completed", created_at=bog(11, 2), finished_at=bog(11, 3),
                category_id=ELECTRICIDAD if i % 2 else PLOMERIA, unit_id=FINANZAS,
                actual_cost=D("0.10") if i % 2 else D("0.20"), estimated_cost=D("0.01"))
            for i in range(1, 21)]
    result = figures.cost(rows, NOVEMBER, {}, {})
    assert result["total"]["actual_cost"] == "3.00"
    assert result["total"]["estimated_cost"] == "0.20"
    assert sorted(g["actual_cost"] for g in result["by_category"]) == ["1.00", "2.00"]
    assert result["by_unit"][0]["actual_cost"] == "3.00"


# --- satisfaction ----------------------------------------------------------------------------

def test_satisfaction_of_the_requests_completed_in_the_period():
    result = figures.satisfaction(ROWS, NOVEMBER)
    # completed (closed) in November: A (5), H (2), J (4, blank comment), K (no rating);
    # D waits for its confirmation
    assert result["completed"] == 4
    assert result["rated"] == 3
    assert result["response_rate"] == 0.75
    assert result["mean"] == 3.67                    # (5 + 2 + 4) / 3
    assert result["distribution"] == {"1": 0, "2": 1, "3": 0, "4": 1, "5": 1}
    # the latest first; a blank comment is no comment
    assert result["comments"] == [
        {"request_id": 8, "number": "REQ-2026-000008", "rating": 2, "comment": "Tardó",
         "at": bog(11, 10, 8).isoformat()},
        {"request_id": 1, "number": "REQ-2026-000001", "rating": 5, "comment": "Excelente",
         "at": bog(11, 6, 9).isoformat()},
    ]


def test_satisfaction_keeps_the_ten_latest_comments():
    rows = [row(i, status="completed", created_at=bog(11, 1), closed_at=bog(11, i, 12),
                confirmed_at=bog(11, i, 12),
                rating=1 + i % 5, rating_comment=f"Comentario {i}") for i in range(1, 13)]
    result = figures.satisfaction(rows, NOVEMBER)
    assert [c["request_id"] for c in result["comments"]] == list(range(12, 2, -1))
    assert result["rated"] == 12 and result["response_rate"] == 1.0
    # ratings 2, 3, 4, 5, 1, 2, 3, 4, 5, 1, 2, 3: 35 / 12 = 2.9166...
    assert result["mean"] == 2.92
    assert result["distribution"] == {"1": 2, "2": 3, "3": 3, "4": 2, "5": 2}


def test_satisfaction_with_nothing_completed_is_null():
    result = figures.satisfaction([], NOVEMBER)
    assert result == {"completed": 0, "rated": 0, "response_rate": None, "mean": None,
                      "distribution": {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0},
                      "comments": []}
