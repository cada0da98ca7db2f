"""The plan's monthly requests against the schedules that file: a paused schedule files
nothing, so it does not count; resuming one checks it again and, when it no longer fits, is
refused with the same message as a new rule (it stays paused), on the page and in the API."""

import pytest

from app.extensions import db
from app.recurring import schedules
from tests.recurring.helpers import ADMIN, REQUESTER, category, schedule, tenant, user

URL = "/api/v1/admin/recurring"
# Professional plan (the demo's): 5,000 requests a month; every 15 minutes is 2,976 a month
EVERY_15 = "FREQ=MINUTELY;INTERVAL=15"
# Basic plan (no API: the page): 300 a month; every 4 hours is 186 a month
EVERY_4_HOURS = "FREQ=HOURLY;INTERVAL=4"


def data(rule: str, title: str = "Ronda de vigilancia") -> schedules.ScheduleInput:
    from app.tenancy import clock

    db.session.rollback()
    return schedules.ScheduleInput(
        title=title, description="Ronda por las bodegas", category_id=category().id,
        requester_id=user(REQUESTER).id, rule=rule, starts_on=clock.today(tenant()))


def paused_one(rule: str):
    row = schedules.create(user(ADMIN), data(rule, "Ronda pausada"))
    schedules.pause(user(ADMIN), row)
    db.session.commit()
    return row.id


def test_a_paused_schedule_leaves_room_for_another(demo):
    paused_id = paused_one(EVERY_15)
    other = schedules.create(user(ADMIN), data(EVERY_15))  # 2,976 + 2,976 > 5,000 if counted
    db.session.commit()
    assert other.id != paused_id


def test_an_active_schedule_still_counts(demo):
    schedules.create(user(ADMIN), data(EVERY_15))
    db.session.commit()
    with pytest.raises(schedules.Refused) as refused:
        schedules.create(user(ADMIN), data(EVERY_15))
    assert "2976" in str(refused.value.errors["rule"])


def test_a_paused_schedule_may_be_edited_and_is_checked_when_resumed(demo):
    paused_id = paused_one(EVERY_15)
    schedules.create(user(ADMIN), data(EVERY_15))
    db.session.commit()
    row = schedule(paused_id)
    schedules.update(user(ADMIN), row, data(EVERY_15, "Ronda pausada y cambiada"))
    db.session.commit()
    with pytest.raises(schedules.Refused) as refused:
        schedules.resume(user(ADMIN), schedule(paused_id))
    db.session.rollback()
    assert "demás solicitudes recurrentes" in refused.value.errors["rule"][0]
    assert schedule(paused_id).paused


def test_resuming_within_the_plan_still_works(demo):
    paused_id = paused_one(EVERY_15)
    assert schedules.resume(user(ADMIN), schedule(paused_id))
    db.session.commit()
    assert not schedule(paused_id).paused


def test_the_api_refuses_a_resume_past_the_plan(demo, api):
    client = api(ADMIN)
    first = client.post(URL, {"title": "Ronda uno", "description": "Ronda por las bodegas",
                              "category_id": category().id,
                              "requester_id": user(REQUESTER).id, "rrule": EVERY_15}).json
    assert client.post(f"{URL}/{first['id']}/pause").json["state"] == "paused"
    second = client.post(URL, {"title": "Ronda dos", "description": "Ronda por las bodegas",
                               "category_id": category().id,
                               "requester_id": user(REQUESTER).id, "rrule": EVERY_15})
    assert second.status_code == 201, second.json  # the paused one does not count
    refused = client.post(f"{URL}/{first['id']}/resume")
    assert refused.status_code == 422, refused.json
    assert "5000" in refused.json["errors"]["rule"][0]
    assert client.get(f"{URL}/{first['id']}").json["state"] == "paused"
    assert client.delete(f"{URL}/{second.json['id']}").status_code == 204
    assert client.post(f"{URL}/{first['id']}/resume").json["state"] == "active"


def test_the_page_refuses_a_resume_past_the_plan(demo, browser):
    tenant().plan = "basico"
    db.session.commit()
    paused_id = paused_one(EVERY_4_HOURS)
    schedules.create(user(ADMIN), data(EVERY_4_HOURS))  # 186 + 186 > 300 if counted
    db.session.commit()
    b = browser(ADMIN)
    answer = b.post(f"/recurring/{paused_id}/resume")
    assert answer.status_code == 303
    page = b.get(f"/recurring/{paused_id}").get_data(as_text=True)
    assert 'class="flash error"' in page and "300" in page and "186" in page
    assert schedule(paused_id).paused
