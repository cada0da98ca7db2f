"""Staff availability (issue 13) works the company's default business calendar."""

from datetime import date
from decimal import Decimal

from app.extensions import db
from app.viability import availability, staff
from tests.sla import sla_helpers


def test_without_a_calendar_everyone_works_weekdays_of_8_hours(demo):
    assert staff.company_calendar(sla_helpers.tenant().id) is availability.WEEKDAYS_8H


def test_the_default_calendar_gives_hours_and_holidays(demo):
    split = [["08:00", "12:00"], ["14:00", "17:30"]]
    sla_helpers.calendar(name="Otro", default=False, week=sla_helpers.ALWAYS)
    sla_helpers.calendar(
        week={"mon": split, "tue": split, "wed": split, "thu": split, "fri": split,
              "sat": [["09:00", "13:00"]], "sun": []},
        holidays=[{"date": "2026-12-08", "yearly": False, "name": "Festivo"},
                  {"date": "2020-12-25", "yearly": True, "name": "Navidad"}])
    db.session.commit()
    found = staff.company_calendar(sla_helpers.tenant().id, today=date(2026, 12, 4))
    assert found.hours_by_weekday == (Decimal("7.5"),) * 5 + (Decimal(4), Decimal(0))
    assert found.capacity(date(2026, 12, 8)) == 0          # a Tuesday holiday
    assert found.capacity(date(2027, 12, 24)) == Decimal("7.5")
    assert found.capacity(date(2027, 12, 25)) == 0         # yearly, next year too
    assert found.capacity(date(2026, 12, 5)) == Decimal(4)  # Saturday morning
