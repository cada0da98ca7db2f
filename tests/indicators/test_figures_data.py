"""The figures ``data`` reads from the database rather than from the request rows alone, each
against requests walked at chosen instants and counted by hand: the period's edges to the
millisecond, SLA compliance and overrun from real clocks, open clocks breached now, overdue
tickets by the company's today, a business calendar's working hours, and lead times in
business minutes."""

from datetime import date, timedelta

from app.extensions import db
from app.indicators import data, filters
from app.models import User
from tests.indicators.walks import bogota, file_at, ids, walk
from tests.sla import sla_helpers

ADMIN = "admin@acme.test"
PERIOD = {"from": "2026-11-01", "to": "2026-11-30"}
MS = timedelta(milliseconds=1)


def figures_of(now, email=ADMIN, **narrow) -> dict:
    user = db.session.query(User).filter_by(email=email).one()
    f = filters.parse(user, {**PERIOD, **{k: str(v) for k, v in narrow.items()}}, now)
    return data.indicators(user, f, now=now)


def nonzero(result: dict, name: str) -> dict:
    volumes = result["volumes"]
    return {day: count for day, count in zip(volumes["buckets"], volumes["series"][name],
                                             strict=True) if count}


def test_the_periods_edges_to_the_millisecond(demo):
    first, after = bogota(11, 1), bogota(12, 1)   # 05:00 UTC on 1 Nov and on 1 Dec
    before = file_at(first - MS, title="Un milisegundo antes")
    walk(before, (first, "authorize"))            # authorized at the first instant: in
    file_at(first, title="En el primer instante")
    last = file_at(after - MS, title="En el último milisegundo")
    file_at(after, title="En el instante siguiente")
    walk(last, (after, "authorize"))              # authorized after the period: out
    result = figures_of(bogota(12, 2, 12))
    assert nonzero(result, "filed") == {"2026-11-01": 1, "2026-11-30": 1}
    assert nonzero(result, "authorized") == {"2026-11-01": 1}
    # the authorization of the request filed a millisecond early took 1 ms: 0 minutes
    stages = {entry["stage"]: entry for entry in result["lead_times"]}
    assert (stages["authorization"]["count"], stages["authorization"]["median_minutes"]) == (
        1, 0.0)


def office_month(acme: dict) -> None:
    """Electricidad runs SLA targets on weekdays 08:00-18:00 (the company's default calendar):
    a decision within 4 working hours, a start within 8, a resolution within 40. November
    2026: the 2nd is a Monday."""
    calendar = sla_helpers.calendar("acme")
    for kind, minutes in (("decision", 240), ("start", 480), ("resolution", 2400)):
        sla_helpers.target(calendar, kind, minutes, category_id=acme["Electricidad"])
    db.session.commit()
    n = bogota
    # R1: decided in 2 h, started 2 h after its approval, finished the next morning: all met
    walk(file_at(n(11, 2, 9), category="Electricidad"), (n(11, 2, 10), "authorize"),
         (n(11, 2, 11), "approve"), (n(11, 2, 12), "assign"), (n(11, 2, 13), "start"),
         (n(11, 3, 9), "finish"))
    # R2: decided the next morning (600 working minutes: 360 over), started two days after
    # (1260: 780 over), finished a week later (3600: 1200 over)
    walk(file_at(n(11, 2, 9), category="Electricidad"), (n(11, 2, 10), "authorize"),
         (n(11, 3, 9), "approve"), (n(11, 3, 10), "assign"), (n(11, 5, 10), "start"),
         (n(11, 10, 9), "finish"))
    # R3: returned for two days (the decision clock pauses): decided in 180 working minutes,
    # never assigned: its start and resolution clocks run on, breached by now
    walk(file_at(n(11, 2, 9), category="Electricidad"), (n(11, 2, 10), "authorize"),
         (n(11, 2, 11), "return"), (n(11, 4, 11), "resubmit"), (n(11, 4, 12), "approve"))
    # R4: cancelled: its clocks count nowhere
    walk(file_at(n(11, 2, 9), category="Electricidad"), (n(11, 2, 10), "cancel"))
    # R5: filed at 17:00 on Monday the 30th, undecided: 660 working minutes by 22:00 on 1 Dec
    file_at(n(11, 30, 17), category="Electricidad")
    # Plomería runs no clock. R6 was planned to end on 30 November, R7 on 1 December: both
    # assigned, not started
    walk(file_at(n(11, 20, 9), category="Plomería"), (n(11, 20, 10), "authorize"),
         (n(11, 20, 11), "approve"),
         (n(11, 20, 12), "assign", {"planned_end": date(2026, 11, 30)}))
    walk(file_at(n(11, 20, 9), category="Plomería"), (n(11, 20, 10), "authorize"),
         (n(11, 20, 11), "approve"),
         (n(11, 20, 12), "assign", {"planned_end": date(2026, 12, 1)}))


# 03:00 UTC on 2 December: still 1 December (22:00) in Bogotá
NOW = bogota(12, 1, 22)


def test_sla_compliance_overrun_and_open_breaches_from_real_clocks(demo):
    acme = ids("acme")
    office_month(acme)
    result = figures_of(NOW)
    sla = {entry["kind"]: entry for entry in result["sla"]}
    assert sla["decision"] == {"kind": "decision", "met": 2, "breached": 1,        # R1, R3; R2
                               "compliance": 0.6667, "mean_overrun_minutes": 360.0,
                               "open_breached": 1}                                 # R5
    assert sla["start"] == {"kind": "start", "met": 1, "breached": 1,              # R1; R2
                            "compliance": 0.5, "mean_overrun_minutes": 780.0,
                            "open_breached": 1}                                    # R3
    assert sla["resolution"] == {"kind": "resolution", "met": 1, "breached": 1,    # R1; R2
                                 "compliance": 0.5, "mean_overrun_minutes": 1200.0,
                                 "open_breached": 1}                               # R3
    # open requests with a breached clock: R3 and R5
    assert result["overdue"]["sla_breached"] == 2
    # Plomería has no clock at all
    plumbing = figures_of(NOW, category_id=acme["Plomería"])
    assert [(e["met"], e["breached"], e["open_breached"]) for e in plumbing["sla"]] == [
        (0, 0, 0)] * 3
    assert plumbing["overdue"]["sla_breached"] == 0


def test_overdue_tickets_by_the_companys_today(demo):
    acme = ids("acme")
    office_month(acme)
    # today is 1 December in Bogotá (2 December in UTC): R6, planned to end on 30 November,
    # is overdue; R7, planned for today, is not; finished tickets (R1, R2) never are
    result = figures_of(NOW, category_id=acme["Plomería"])
    assert result["overdue"]["tickets"] == 1
    assert figures_of(NOW + timedelta(hours=2), category_id=acme["Plomería"])["overdue"][
        "tickets"] == 2                                             # 2 December there too
    assert figures_of(NOW, category_id=acme["Electricidad"])["overdue"]["tickets"] == 0


def test_working_hours_and_lead_times_follow_the_business_calendar(demo):
    acme = ids("acme")
    office_month(acme)
    result = figures_of(NOW, category_id=acme["Electricidad"])
    # 21 weekdays of 10 working hours in November 2026
    workload = {w["worker_id"]: w for w in result["workload"]}
    assert workload[acme["tecnico1@acme.test"]]["available_hours"] == "210.00"
    # R1 and R2 finished in November, an hour spent on each: 2 / 210
    assert workload[acme["tecnico1@acme.test"]]["hours_spent"] == "2.00"
    assert workload[acme["tecnico1@acme.test"]]["utilization"] == 0.0095
    stages = {entry["stage"]: entry for entry in result["lead_times"]}
    # authorizations: R1, R2, R3 an hour each
    assert (stages["authorization"]["count"], stages["authorization"]["median_minutes"]) == (
        3, 60.0)
    # evaluations: R1 60; R2 Mon 10:00 -> Tue 09:00 = 480 + 60; R3 Mon 10:00 -> Wed 12:00 =
    # 480 + 600 + 240 (a return counts inside): [60, 540, 1320], p90 540 + 0.8 * 780
    assert (stages["evaluation"]["count"], stages["evaluation"]["median_minutes"],
            stages["evaluation"]["p90_minutes"]) == (3, 540.0, 1164.0)
    # resolution: R1 600, R2 3600
    assert (stages["resolution"]["count"], stages["resolution"]["median_minutes"]) == (
        2, 2100.0)


def test_a_holiday_is_no_working_time(demo):
    calendar = sla_helpers.calendar("acme", holidays=[
        {"date": "2026-11-02", "yearly": False, "name": "Todos los Santos"}])
    assert calendar.is_default
    db.session.commit()
    walk(file_at(bogota(11, 3, 9)), (bogota(11, 3, 10), "authorize"),
         (bogota(11, 3, 11), "approve"), (bogota(11, 3, 12), "assign"),
         (bogota(11, 3, 13), "start"), (bogota(11, 3, 15), "finish"))
    result = figures_of(NOW)
    # 20 working weekdays of 10 hours
    assert {w["available_hours"] for w in result["workload"]} == {"200.00"}
