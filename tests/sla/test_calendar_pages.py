"""The business calendar pages (/sla/calendars): a tenant admin creates, edits, makes default
and deletes calendars, each change audited field by field; a calendar with no working time,
overlapping shifts, an unknown time zone or unreadable holidays is refused on its field and
changes nothing; the default and calendars in use are not deleted; directors read the pages,
others find nothing there; other companies' calendars are not found."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import SlaClock
from app.models.base import utcnow
from app.sla import calendars
from tests import factories
from tests.accounts.conftest import english
from tests.sla.admin_helpers import (
    add_calendar,
    add_target,
    calendar_form,
    calendar_rows,
    clocks_of,
    only_calendar,
)
from tests.viability.budget_helpers import ADMIN, DIRECTOR, HEAD, REQUESTER, WORKER, entries


def test_the_new_calendar_form_offers_office_hours_in_the_companys_zone(demo, browser):
    page = english(browser(ADMIN)).get("/sla/calendars/new")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    for day in ("mon", "tue", "wed", "thu", "fri"):
        assert f'name="week_{day}" maxlength="200" placeholder="Day off" ' \
               f'value="08:00-12:00, 14:00-18:00"' in html
    assert 'name="week_sat" maxlength="200" placeholder="Day off" value=""' in html
    assert 'value="America/Bogota"' in html  # the company's zone
    assert '<option value="Europe/Madrid">' in html and 'list="zones"' in html
    assert 'name="viewport" content="width=device-width' in html


def test_the_admin_creates_a_calendar_and_the_first_is_the_default(demo, browser):
    admin = browser(ADMIN)
    form = calendar_form(week_mon="8:00-12:00,14:00 - 18:00", week_sat="09:00–13:00",
                         holidays="  2026-12-08 Inmaculada Concepción\n\n12-25 Navidad\n"
                                  "02-29 Bisiesto\n")
    response = admin.post("/sla/calendars/new", form)
    assert response.status_code == 302, response.get_data(as_text=True)
    row = only_calendar("Oficina")
    assert response.headers["Location"].endswith(f"/sla/calendars/{row.id}")
    assert (row.time_zone, row.is_default) == ("America/Bogota", True)
    assert row.week["mon"] == [["08:00", "12:00"], ["14:00", "18:00"]]
    assert row.week["sat"] == [["09:00", "13:00"]] and row.week["sun"] == []
    assert row.holidays == [
        {"date": "2000-02-29", "yearly": True, "name": "Bisiesto"},
        {"date": "2000-12-25", "yearly": True, "name": "Navidad"},
        {"date": "2026-12-08", "yearly": False, "name": "Inmaculada Concepción"}]
    [entry] = entries("sla_calendar.")
    assert (entry.action, entry.target_type, entry.target_id, entry.target_label) == (
        "sla_calendar.created", "business_calendar", row.id, "Oficina")
    assert entry.after["is_default"] is True and entry.after["week"] == row.week
    detail = english(admin).get(f"/sla/calendars/{row.id}").get_data(as_text=True)
    assert "12-25" in detail and "Navidad" in detail and "Every year" in detail
    assert "44 h" in detail  # 8 h x 5 + Saturday's 4 h
    second = admin.post("/sla/calendars/new", calendar_form(name="Turno de noche"))
    assert second.status_code == 302
    assert only_calendar("Turno de noche").is_default is False


def test_making_another_calendar_the_default_unsets_the_old_one(demo, browser):
    first = add_calendar("Oficina")
    other = add_calendar("Planta")
    admin = browser(ADMIN)
    response = admin.post(f"/sla/calendars/{other.id}/default")
    assert response.status_code == 302 and response.headers["Location"].endswith(
        "/sla/calendars")
    assert (only_calendar("Oficina").is_default, only_calendar("Planta").is_default) == (
        False, True)
    changes = [(e.target_id, e.before, e.after) for e in entries("sla_calendar.updated")]
    assert changes == [(first.id, {"is_default": True}, {"is_default": False}),
                       (other.id, {"is_default": False}, {"is_default": True})]
    admin.post(f"/sla/calendars/{other.id}/default")  # already: nothing more
    assert len(entries("sla_calendar.updated")) == 2
    listing = english(admin).get("/sla/calendars").get_data(as_text=True)
    assert listing.index("Planta") < listing.index("Oficina")  # the default first


def test_editing_records_only_what_changed_and_recomputes_clocks_only_for_time(demo, browser):
    cal = add_calendar("Oficina", holidays=[])
    add_target(cal, "resolution", 600)
    req = factories.file(REQUESTER)
    [clock] = clocks_of(req)
    assert clock.computed_at is not None
    admin = english(browser(ADMIN))
    same = calendar_form(holidays="")
    assert admin.post(f"/sla/calendars/{cal.id}/edit", same).status_code == 302
    assert entries("sla_calendar.") == entries("sla_calendar.created")  # nothing new
    renamed = calendar_form(name="Horario de oficina", holidays="")
    assert admin.post(f"/sla/calendars/{cal.id}/edit", renamed).status_code == 302
    [entry] = entries("sla_calendar.updated")
    assert (entry.before, entry.after) == ({"name": "Oficina"},
                                           {"name": "Horario de oficina"})
    assert clocks_of(req)[0].computed_at is not None  # a name moves no clock
    saved = admin.get(f"/sla/calendars/{cal.id}").get_data(as_text=True)
    assert "The calendar was saved." in saved and "recomputed" not in saved
    longer = calendar_form(name="Horario de oficina", holidays="",
                           week_fri="08:00-12:00, 14:00-17:00")
    assert admin.post(f"/sla/calendars/{cal.id}/edit", longer).status_code == 302
    last = entries("sla_calendar.updated")[-1]
    assert set(last.before) == {"week"} and last.after["week"]["fri"] == [
        ["08:00", "12:00"], ["14:00", "17:00"]]
    assert clocks_of(req)[0].computed_at is None  # marked for the runner
    assert "will be recomputed" in admin.get(f"/sla/calendars/{cal.id}").get_data(as_text=True)


def field_block(html: str, field: str) -> str:
    """The page's part for ``field``: from its label to the next field."""
    start = html.index('<legend>Working hours</legend>' if field == "week"
                       else f'<label for="{field}">')
    ends = [i for i in (html.find('<div class="field', start + 1),
                        html.find('<button type="submit"', start)) if i > 0]
    return html[start:min(ends)]


TOO_MANY_SHIFTS = ", ".join(f"{h:02d}:00-{h:02d}:30" for h in range(8, 15))


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"week_mon": "08:00-12:00, 11:00-14:00"}, "week_mon", "The shifts of this day overlap."),
    ({"week_tue": "12:00-08:00"}, "week_tue", "A shift must end after it starts (12:00-08:00)"),
    ({"week_wed": "10:00-10:00"}, "week_wed", "A shift must end after it starts"),
    ({"week_thu": "8h-12h"}, "week_thu", "Write times as HH:MM"),
    ({"week_thu": "08:00-24:30"}, "week_thu", "Write times as HH:MM"),
    ({"week_fri": "08:00 12:00"}, "week_fri", "Write each shift as 08:00-12:00"),
    ({"week_fri": "08:00-10:00-12:00"}, "week_fri", "Write each shift as 08:00-12:00"),
    ({"week_sat": TOO_MANY_SHIFTS}, "week_sat", "At most 6 shifts a day."),
    ({"week_sun": "0" * 201}, "week_sun", "Too long: at most 200 characters."),
    ({f"week_{d}": "" for d in ("mon", "tue", "wed", "thu", "fri")}, "week",
     "Give the calendar some working time in the week."),
    ({"time_zone": "Mars/Olympus_Mons"}, "time_zone", "Unknown time zone"),
    ({"time_zone": ""}, "time_zone", "Unknown time zone"),
    ({"time_zone": "../../etc/passwd"}, "time_zone", "Unknown time zone"),
    ({"name": "   "}, "name", "Give the calendar a name of at most 120 characters."),
    ({"name": "x" * 121}, "name", "Give the calendar a name of at most 120 characters."),
    ({"holidays": "Navidad 25/12"}, "holidays", "Line 1: write a date and its name"),
    ({"holidays": "12-25 Navidad\n2026-02-30 Nunca"}, "holidays", "2026-02-30 is not a date."),
    ({"holidays": "12-25 Navidad\n12-25 Otra vez"}, "holidays", "12-25 is listed twice."),
    ({"holidays": "12-25 " + "x" * 121}, "holidays", "at most 120 characters (12-25)"),
    ({"holidays": "\n".join(f"{date(2027, 1, 1) + timedelta(days=i)} D" for i in range(401))},
     "holidays", "At most 400 holidays."),
])
def test_a_wrong_calendar_is_refused_on_its_field_and_changes_nothing(demo, browser, change,
                                                                      field, message):
    admin = english(browser(ADMIN))
    before = calendar_rows()
    response = admin.post("/sla/calendars/new", calendar_form(**change))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in field_block(html, field)
    assert calendar_rows() == before and entries("sla_calendar.") == []


def test_an_edit_refused_leaves_the_calendar_as_it_was_and_shows_what_was_typed(demo,
                                                                               browser):
    cal = add_calendar("Oficina")
    before = calendar_rows()
    admin = english(browser(ADMIN))
    response = admin.post(f"/sla/calendars/{cal.id}/edit", calendar_form(
        name="Nuevo", time_zone="Nowhere/City", week_mon="08:00-12:00, 11:00-13:00"))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Unknown time zone" in html and "The shifts of this day overlap." in html
    assert 'value="Nuevo"' in html and 'value="08:00-12:00, 11:00-13:00"' in html
    assert calendar_rows() == before and entries("sla_calendar.updated") == []


def test_a_name_is_taken_once_per_company_whatever_its_case(demo, browser):
    add_calendar("Oficina")
    add_calendar("Oficina", slug="globex")  # another company's: no clash
    admin = english(browser(ADMIN))
    before = calendar_rows()
    response = admin.post("/sla/calendars/new", calendar_form(name="OFICINA"))
    assert response.status_code == 422
    assert "Another calendar of the company has this name." in response.get_data(as_text=True)
    assert calendar_rows() == before


def test_delete_refuses_the_default_and_calendars_in_use_and_removes_a_free_one(demo,
                                                                                browser):
    default = add_calendar("Oficina")
    planta = add_calendar("Planta")
    free_id = add_calendar("Libre").id
    target = add_target(planta, "resolution", 600)
    admin = english(browser(ADMIN))
    refusals = {
        default.id: "The default calendar cannot be deleted",
        planta.id: "SLA targets use this calendar (1)",
    }
    for cal_id, message in refusals.items():
        confirm = admin.get(f"/sla/calendars/{cal_id}/delete")
        assert confirm.status_code == 200 and message in confirm.get_data(as_text=True)
        assert "Delete the calendar</button>" not in confirm.get_data(as_text=True)
        refused = admin.post(f"/sla/calendars/{cal_id}/delete")
        assert refused.status_code == 409 and message in refused.get_data(as_text=True)
    assert len(calendar_rows()) == 3 and entries("sla_calendar.deleted") == []
    confirm = admin.get(f"/sla/calendars/{free_id}/delete").get_data(as_text=True)
    assert "No target and no request uses it." in confirm and "csrf_token" in confirm
    response = admin.post(f"/sla/calendars/{free_id}/delete")
    assert response.status_code == 302 and response.headers["Location"].endswith(
        "/sla/calendars")
    assert [row[2] for row in calendar_rows()] == ["Oficina", "Planta"]
    [entry] = entries("sla_calendar.deleted")
    assert (entry.target_id, entry.before["name"]) == (free_id, "Libre")
    assert admin.get(f"/sla/calendars/{free_id}").status_code == 404
    assert target.calendar_id == planta.id


def test_a_calendar_an_open_or_a_past_clock_runs_on_is_not_deleted(demo, browser):
    add_calendar("Oficina")
    planta = add_calendar("Planta")
    target = add_target(planta, "resolution", 600)
    req = factories.file(REQUESTER)
    assert [c.calendar_id for c in clocks_of(req)] == [planta.id]
    db.session.delete(db.session.merge(target))  # the target goes; the clock keeps its terms
    db.session.commit()
    admin = english(browser(ADMIN))
    refused = admin.post(f"/sla/calendars/{planta.id}/delete")
    assert refused.status_code == 409
    assert "Open requests are measured by this calendar (1)" in refused.get_data(as_text=True)
    clock = db.session.scalars(select(SlaClock)).one()
    clock.stopped_at = utcnow()
    db.session.commit()
    refused = admin.post(f"/sla/calendars/{planta.id}/delete")
    assert refused.status_code == 409
    assert "Requests were measured by this calendar (1)" in refused.get_data(as_text=True)
    assert len(calendar_rows()) == 2


def test_another_companys_calendar_is_not_found(demo, browser):
    theirs = add_calendar("Oficina", slug="globex")
    add_calendar("Nuestra")
    admin = browser(ADMIN)
    before = calendar_rows()
    for url in (f"/sla/calendars/{theirs.id}", f"/sla/calendars/{theirs.id}/edit",
                f"/sla/calendars/{theirs.id}/delete", "/sla/calendars/999999",
                "/sla/calendars/99999999999999999999"):
        assert admin.get(url).status_code == 404, url
    for url in (f"/sla/calendars/{theirs.id}/edit", f"/sla/calendars/{theirs.id}/delete",
                f"/sla/calendars/{theirs.id}/default"):
        assert admin.post(url, calendar_form(name="Robada")).status_code == 404, url
    assert calendar_rows() == before
    assert "Oficina" not in admin.get("/sla/calendars").get_data(as_text=True)


def test_directors_read_the_calendars_and_change_nothing(demo, browser):
    cal = add_calendar("Oficina")
    other = add_calendar("Planta")
    director = english(browser(DIRECTOR))
    listing = director.get("/sla/calendars")
    html = listing.get_data(as_text=True)
    assert listing.status_code == 200 and "Oficina" in html
    assert "New calendar" not in html and "Make default" not in html
    assert 'class="tabs admin-nav"' not in html
    assert director.get(f"/sla/calendars/{cal.id}").status_code == 200
    before = calendar_rows()
    for url in ("/sla/calendars/new", f"/sla/calendars/{cal.id}/edit",
                f"/sla/calendars/{other.id}/delete"):
        assert director.get(url).status_code == 403, url
    for url in ("/sla/calendars/new", f"/sla/calendars/{cal.id}/edit",
                f"/sla/calendars/{other.id}/delete", f"/sla/calendars/{other.id}/default"):
        assert director.post(url, calendar_form(name="Del director")).status_code == 403, url
    assert calendar_rows() == before and len(entries("sla_calendar.")) == 2


@pytest.mark.parametrize("email", [REQUESTER, HEAD, WORKER])
def test_others_find_no_calendar_pages(demo, browser, email):
    cal = add_calendar("Oficina")
    person = browser(email)
    for url in ("/sla/calendars", f"/sla/calendars/{cal.id}", "/sla/calendars/new"):
        assert person.get(url).status_code == 404, url
    assert person.post("/sla/calendars/new", calendar_form(name="X")).status_code == 404
    assert "/sla/" not in person.get("/inbox").get_data(as_text=True)


def test_a_visitor_is_sent_to_log_in(demo, browser):
    response = browser().get("/sla/calendars")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("url", ["/sla/calendars/new", "/sla/calendars/{id}/edit",
                                 "/sla/calendars/{id}/default", "/sla/calendars/{id}/delete"])
def test_every_calendar_form_refuses_a_post_without_csrf(demo, browser, url):
    cal = add_calendar("Oficina")
    add_calendar("Planta")
    admin = browser(ADMIN)
    before = calendar_rows()
    with admin.app.app_context():
        response = admin.client.post(url.format(id=cal.id), data=calendar_form(name="X"))
    assert response.status_code == 400
    assert calendar_rows() == before


def test_the_list_pages(demo, browser):
    for i in range(calendars_per_page() + 2):
        add_calendar(f"Calendario {i:02d}")
    admin = english(browser(ADMIN))
    first = admin.get("/sla/calendars").get_data(as_text=True)
    assert "Page 1 of 2" in first and "Calendario 00" in first
    second = admin.get("/sla/calendars?page=2").get_data(as_text=True)
    assert "Calendario 26" in second and "Calendario 00" not in second
    assert admin.get("/sla/calendars?page=abc").status_code == 200
    assert admin.get("/sla/calendars?page=99999999999").status_code == 200


def calendars_per_page() -> int:
    from app.sla import views

    return views.PER_PAGE


def test_the_admin_menu_and_a_directors_menu_lead_here(demo, browser):
    add_calendar("Oficina")
    assert 'href="/sla/targets"' in browser(ADMIN).get("/admin/people").get_data(as_text=True)
    assert 'href="/sla/targets"' in browser(DIRECTOR).get("/inbox").get_data(as_text=True)


def test_zone_names_are_the_machines(demo):
    assert "America/Bogota" in calendars.zone_names()
    assert list(calendars.zone_names()) == sorted(calendars.zone_names())
