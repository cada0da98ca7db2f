"""The page /recurring: tenant admins and directors list, create (friendly form or RRULE),
preview, edit, pause, resume and delete; others find nothing (404); bad input is the form
again with its messages (422), nothing saved, never a 500; lists mark the requests filed."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.recurring import runner
from app.recurring.models import RecurringSchedule
from tests.recurring.helpers import ADMIN, DIRECTOR, REQUESTER, WORKER, category, make, user


def form(**overrides):
    db.session.rollback()
    data = {"title": "Limpieza de la bodega", "description": "Barrer y ordenar",
            "category_id": str(category().id), "requester_id": str(user(REQUESTER).id),
            "mode": "friendly", "frequency": "monthly", "interval": "1", "time": "09:00",
            "monthly_by": "weekday", "ordinal": "1", "weekday": "MO", "month_day": "1",
            "month": "1", "starts_on": "2026-12-05", "catch_up": "all", "action": "save"}
    data.update(overrides)
    return data


def rows():
    db.session.rollback()
    return list(db.session.scalars(select(RecurringSchedule).order_by(RecurringSchedule.id)))


def test_an_admin_creates_previews_and_sees_the_next_occurrences(demo, browser):
    b = browser(ADMIN)
    assert b.get("/recurring").status_code == 200
    assert b.get("/recurring/new").status_code == 200
    shown = b.post("/recurring/new", form(action="preview"))
    page = shown.get_data(as_text=True)
    assert shown.status_code == 200 and 'id="preview"' in page
    assert page.count("09:00</li>") == 5
    assert rows() == []  # a preview saves nothing
    saved = b.post("/recurring/new", form())
    assert saved.status_code == 303, saved.get_data(as_text=True)
    [row] = rows()
    assert row.rule == "FREQ=MONTHLY;BYDAY=1MO;BYHOUR=9;BYMINUTE=0"
    assert row.owner_id == user(ADMIN).id
    detail = b.get(f"/recurring/{row.id}").get_data(as_text=True)
    assert detail.count("09:00</li>") == 5
    listing = b.get("/recurring").get_data(as_text=True)
    assert "Limpieza de la bodega" in listing and "09:00" in listing
    assert "Activa" in listing and "Activo<" not in listing  # a schedule: feminine in Spanish


def test_an_rrule_typed_on_the_page(demo, browser):
    saved = browser(DIRECTOR).post("/recurring/new", form(
        mode="rrule", rrule="FREQ=WEEKLY;BYDAY=MO,WE,FR;BYHOUR=7;BYMINUTE=30"))
    assert saved.status_code == 303
    assert rows()[0].rule == "FREQ=WEEKLY;BYDAY=MO,WE,FR;BYHOUR=7;BYMINUTE=30"


@pytest.mark.parametrize("overrides, says", [
    ({"mode": "rrule", "rrule": "FREQ=MINUTELY;INTERVAL=5"}, "15"),
    ({"mode": "rrule", "rrule": "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=31"}, "rrule"),
    ({"mode": "rrule", "rrule": "DTSTART:20200101T000000Z"}, "DTSTART"),
    ({"frequency": "weekly"}, "weekdays"),
    ({"time": "9 am"}, "HH:MM"),
    ({"starts_on": "ayer"}, "AAAA-MM-DD"),
    ({"title": ""}, "title"),
    ({"requester_id": "abc"}, "requester_id"),
    ({"category_id": "99999999999999"}, "category_id"),
    ({"interval": "-4"}, "interval"),
    ({"catch_up": "never"}, "catch_up"),
])
def test_bad_input_is_the_form_again_and_nothing_saved(demo, browser, overrides, says):
    answer = browser(ADMIN).post("/recurring/new", form(**overrides))
    assert answer.status_code == 422, answer.status_code
    assert says in answer.get_data(as_text=True)
    assert rows() == []


def test_edit_pause_resume_delete(demo, browser):
    row = make()
    b = browser(ADMIN)
    edit = b.get(f"/recurring/{row.id}/edit").get_data(as_text=True)
    assert 'value="Limpieza de la bodega"' in edit
    saved = b.post(f"/recurring/{row.id}/edit", form(
        title="Limpieza semanal", frequency="weekly", weekdays=["TU"], time="10:15"))
    assert saved.status_code == 303
    assert rows()[0].rule == "FREQ=WEEKLY;BYDAY=TU;BYHOUR=10;BYMINUTE=15"
    assert b.post(f"/recurring/{row.id}/pause").status_code == 303
    assert rows()[0].paused
    assert b.post(f"/recurring/{row.id}/resume").status_code == 303
    assert not rows()[0].paused
    assert b.post(f"/recurring/{row.id}/delete").status_code == 303
    assert b.get(f"/recurring/{row.id}").status_code == 404
    assert rows()[0].deleted_at is not None


def test_others_find_nothing(demo, browser):
    row = make()
    for email in (REQUESTER, WORKER):
        b = browser(email)
        assert b.get("/recurring").status_code == 404
        assert b.get(f"/recurring/{row.id}").status_code == 404
        assert b.post(f"/recurring/{row.id}/delete").status_code == 404
    globex = browser("director@globex.test")
    assert globex.get(f"/recurring/{row.id}").status_code == 404
    assert globex.post(f"/recurring/{row.id}/pause").status_code == 404
    assert browser(ADMIN).get("/recurring/99999999999999").status_code == 404
    assert not rows()[0].paused and rows()[0].deleted_at is None


def test_a_failure_shows_on_the_schedule(demo, browser):
    row = make("FREQ=DAILY;BYHOUR=9", now=datetime(2026, 12, 7, 12, tzinfo=UTC))
    ana = user(REQUESTER)
    ana.active = False
    db.session.commit()
    runner.run_due(datetime(2026, 12, 7, 14, 1, tzinfo=UTC))
    page = browser(ADMIN).get(f"/recurring/{row.id}").get_data(as_text=True)
    assert 'class="flash error"' in page and 'class="field-error"' in page


def test_the_requests_it_files_are_marked_in_the_lists(demo, browser):
    make("FREQ=DAILY;BYHOUR=9", now=datetime(2026, 12, 7, 12, tzinfo=UTC))
    assert runner.run_due(datetime(2026, 12, 7, 14, 1, tzinfo=UTC)) == 1
    mine = browser(REQUESTER).get("/requests").get_data(as_text=True)
    assert mine.count('class="tag recurring"') == 1


def test_the_cli_runs_the_due_ones(demo, app):
    row_id = make("FREQ=DAILY;BYHOUR=9", now=datetime(2026, 12, 7, 12, tzinfo=UTC)).id
    db.session.remove()
    result = app.test_cli_runner().invoke(args=["recurring", "run",
                                                 "--now", "2026-12-09T14:30:00+00:00"])
    assert result.exit_code == 0, result.output
    assert "filed 3" in result.output
    bad = app.test_cli_runner().invoke(args=["recurring", "run", "--now", "mañana"])
    assert bad.exit_code != 0
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(RecurringSchedule)) == 1
    assert db.session.get(RecurringSchedule, row_id).next_at == datetime(
        2026, 12, 7, 14, tzinfo=UTC) + timedelta(days=3)


def test_the_menu_leads_there_for_those_who_may(demo, browser):
    assert 'href="/recurring"' in browser(ADMIN).get("/inbox").get_data(as_text=True)
    assert 'href="/recurring"' in browser(DIRECTOR).get("/inbox").get_data(as_text=True)
    assert 'href="/recurring"' not in browser(REQUESTER).get("/inbox").get_data(as_text=True)


def test_a_bad_rule_previewed_is_the_form_again(demo, browser):
    answer = browser(ADMIN).post("/recurring/new", form(
        action="preview", mode="rrule", rrule="FREQ=DAILY;BYSETPOS=1"))
    assert answer.status_code == 422 and "BYSETPOS" in answer.get_data(as_text=True)
    assert rows() == []
