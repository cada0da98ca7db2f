"""/api/v1/admin/recurring: the same rules and policy as the page. Tenant admins (every
category) and directors (their units' categories) schedule; others 403; another company's,
or another unit's, schedule 404; bad input 422 by field, nothing changed, never a 500."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.recurring.models import RecurringSchedule
from tests.recurring.helpers import (
    ADMIN,
    DIRECTOR,
    GLOBEX_DIRECTOR,
    REQUESTER,
    WORKER,
    category,
    make,
    tenant,
    user,
)
from tests.viability.budget_helpers import make_other_unit

URL = "/api/v1/admin/recurring"


def body(**overrides):
    db.session.rollback()
    data = {"title": "Limpieza mensual de la bodega", "description": "Barrer y ordenar",
            "category_id": category().id, "requester_id": user(REQUESTER).id,
            "rrule": "FREQ=MONTHLY;BYDAY=1MO;BYHOUR=9"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def schedules_count() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count(RecurringSchedule.id)))


def test_create_read_list_change_pause_resume_delete(demo, api):
    client = api(ADMIN)
    created = client.post(URL, body())
    assert created.status_code == 201, created.json
    row = created.json
    assert row["rule"] == "FREQ=MONTHLY;BYDAY=1MO;BYHOUR=9;BYMINUTE=0"
    assert row["time_zone"] == "America/Bogota" and row["state"] == "active"
    assert row["catch_up"] == "all" and row["per_month"] == 1
    assert len(row["upcoming"]) == 5
    assert all(o["local"].endswith("T09:00:00") for o in row["upcoming"])
    url = f"{URL}/{row['id']}"
    assert client.get(url).json["id"] == row["id"]
    assert client.get(URL).json["total"] == 1
    patched = client.patch(url, {"title": "Limpieza de la bodega", "catch_up": "latest"})
    assert patched.status_code == 200, patched.json
    assert (patched.json["title"], patched.json["catch_up"], patched.json["rule"]) == (
        "Limpieza de la bodega", "latest", row["rule"])
    paused = client.post(f"{url}/pause")
    assert paused.json["state"] == "paused"
    assert client.post(f"{url}/resume").json["state"] == "active"
    assert client.delete(url).status_code == 204
    assert client.get(url).status_code == 404
    assert client.get(URL).json["total"] == 0


def test_the_friendly_form_in_json(demo, api):
    created = api(DIRECTOR).post(URL, body(rrule=None, recurrence={
        "frequency": "weekly", "interval": 2, "time": "07:30", "weekdays": ["MO", "TH"]}))
    assert created.status_code == 201, created.json
    assert created.json["rule"] == "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH;BYHOUR=7;BYMINUTE=30"


def test_preview_saves_nothing(demo, api):
    shown = api(ADMIN).post(f"{URL}/preview", {"rrule": "FREQ=DAILY;BYHOUR=9"})
    assert shown.status_code == 200, shown.json
    assert len(shown.json["upcoming"]) == 5 and shown.json["per_month"] == 31
    assert schedules_count() == 0
    refused = api(ADMIN).post(f"{URL}/preview", {"rrule": "FREQ=MINUTELY;INTERVAL=1"})
    assert refused.status_code == 422


@pytest.mark.parametrize("overrides, field", [
    ({"rrule": "FREQ=MINUTELY;INTERVAL=10"}, "rrule"),
    ({"rrule": "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30"}, "rule"),
    ({"rrule": "DTSTART:19700101T000000Z\nRRULE:FREQ=DAILY"}, "rrule"),
    ({"rrule": "FREQ=DAILY;UNTIL=20990101"}, "rrule"),
    ({"rrule": "FREQ=DAILY;COUNT=5000"}, "rrule"),
    ({"rrule": None}, "rrule"),
    ({"recurrence": {"frequency": "weekly", "time": "09:00"}}, "rrule"),  # both sent
    ({"requester_id": 999999}, "requester_id"),
    ({"category_id": 999999}, "category_id"),
    ({"ends_on": "2026-01-01", "starts_on": "2026-12-01"}, "ends_on"),
    ({"starts_on": "2020-01-01"}, "starts_on"),
    ({"fields": {"nope": 1}}, "fields"),
])
def test_refusals_are_422_by_field_and_change_nothing(demo, api, overrides, field):
    refused = api(ADMIN).post(URL, body(**overrides))
    assert refused.status_code == 422, refused.json
    assert any(key.split(".")[0] == field for key in refused.json["errors"]), refused.json
    assert schedules_count() == 0


@pytest.mark.parametrize("junk", [
    {"rrule": 123}, {"rrule": ["FREQ=DAILY"]}, {"starts_on": "mañana"}, {"fields": "x"},
    {"category_id": "uno"}, {"category_id": 2**40}, {"recurrence": {"frequency": "daily"}},
    {"recurrence": {"frequency": "daily", "time": "9h", "interval": -1}},
    {"catch_up": "some"}, {"priority": "now"}, {"title": "x" * 500},
    {"rrule": "FREQ=DAILY;BYHOUR=" + ",".join(["1"] * 200)}, {"rrule": "\x00"},
])
def test_junk_is_a_4xx_never_a_500(demo, api, junk):
    answer = api(ADMIN).post(URL, body(**junk))
    assert 400 <= answer.status_code < 500, answer.json
    assert schedules_count() == 0


def test_the_plans_monthly_requests_bound_the_rules(demo):
    """On the Basic plan (300 requests a month, no API: the page path, same service)."""
    from app.recurring import schedules

    tenant().plan = "basico"
    db.session.commit()
    data = schedules.ScheduleInput(
        title="Ronda", description="Ronda de vigilancia", category_id=category().id,
        requester_id=user(REQUESTER).id, rule="FREQ=HOURLY", starts_on=tenant_today())
    with pytest.raises(schedules.Refused) as too_many:
        schedules.create(user(ADMIN), data)
    assert "744" in str(too_many.value.errors["rule"]) and "300" in str(
        too_many.value.errors["rule"])
    db.session.rollback()
    data.rule = "FREQ=HOURLY;INTERVAL=4"  # 186 a month
    schedules.create(user(ADMIN), data)
    db.session.commit()
    with pytest.raises(schedules.Refused) as together:
        schedules.create(user(ADMIN), data)
    assert "186" in str(together.value.errors["rule"])
    db.session.rollback()
    assert schedules_count() == 1


def tenant_today():
    from app.tenancy import clock

    return clock.today(tenant())


def test_who_may(demo, api):
    row_id = make().id
    for email in (REQUESTER, WORKER, "jefe.finanzas@acme.test"):
        client = api(email)
        assert client.get(URL).status_code == 403
        assert client.post(URL, body()).status_code == 403
        assert client.get(f"{URL}/{row_id}").status_code == 403
    globex = api(GLOBEX_DIRECTOR)
    for method, path in (("get", ""), ("patch", ""), ("delete", ""), ("post", "/pause")):
        answer = getattr(globex, method)(f"{URL}/{row_id}{path}", **(
            {"json": {"title": "Robada"}} if method == "patch" else {}))
        assert answer.status_code == 404
    assert globex.get(URL).json["total"] == 0
    assert api(ADMIN).get(f"{URL}/{2**40}").status_code == 404


def test_a_director_schedules_only_their_units_categories(demo, api):
    other = make_other_unit()
    from app.models import Category

    redes = db.session.scalar(select(Category).where(Category.service_unit_id == other.id))
    it_row = api(ADMIN).post(URL, body(category_id=redes.id)).json
    director = api(DIRECTOR)
    assert director.get(f"{URL}/{it_row['id']}").status_code == 404
    assert director.get(URL).json["total"] == 0
    refused = director.post(URL, body(category_id=redes.id))
    assert refused.status_code == 422 and "category_id" in refused.json["errors"]


def test_the_runner_files_what_the_api_scheduled(demo, api):
    from datetime import UTC, datetime

    from app.recurring import runner
    from tests.recurring.helpers import filed

    row = api(ADMIN).post(URL, body(rrule="FREQ=DAILY;BYHOUR=9")).json
    first = datetime.fromisoformat(row["upcoming"][0]["at"])
    assert runner.run_due(first.astimezone(UTC) + timedelta(seconds=1)) == 1
    assert len(filed(row["id"])) == 1


@pytest.mark.parametrize("junk", [
    {}, {"rrule": ""}, {"rrule": 5}, {"rrule": "FREQ=DAILY;BYDAY=MO;" * 30},
    {"rrule": "FREQ=MONTHLY;BYMONTHDAY=1;BYDAY=2MO"}, {"rrule": "RRULE:FREQ=YEARLY;BYMONTH=2;"
                                                            "BYMONTHDAY=30"},
    {"recurrence": {"frequency": "yearly", "time": "09:00", "month": 2, "month_day": 30}},
    {"rrule": "FREQ=DAILY", "ends_on": "1999-01-01"}, {"rrule": "FREQ=DAILY", "starts_on": 7},
])
def test_preview_junk_is_a_4xx_never_a_500(demo, api, junk):
    answer = api(ADMIN).post(f"{URL}/preview", junk)
    assert 400 <= answer.status_code < 500, answer.json
