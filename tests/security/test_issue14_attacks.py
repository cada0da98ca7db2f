"""Attacks on issue 14's new code (business calendars, SLA targets, the clocks kept with the
requests, their recompute): each test is one class of attempt by a malicious or careless
tenant user, with its variants; it passes when every attempt is refused cleanly (a clear 4xx,
never a 500, nothing changed, no audit entry), when nobody reads or changes another company's
service levels, and when no input makes a step, a page or the recompute do unbounded work."""

import os
import sys
import threading
import unicodedata
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    BusinessCalendar,
    Category,
    HistoryEvent,
    Membership,
    ServiceRequest,
    SlaClock,
    SlaTarget,
    User,
)
from app.sla import calendar as cal
from app.sla import calendars, service, targets
from app.sla.calendar import Calendar
from app.sla.cli import recompute_tenant
from tests import factories
from tests.sla.admin_helpers import (
    OFFICE_WEEK,
    add_calendar,
    add_target,
    calendar_form,
    calendar_rows,
    target_form,
    target_rows,
    with_pauses,
)
from tests.viability.budget_helpers import (
    ADMIN,
    DIRECTOR,
    GLOBEX_DIRECTOR,
    HEAD,
    REQUESTER,
    WORKER,
    api_as,
    category,
    entries,
    tenant,
)
from tests.views.helpers import html, reload

CALENDARS = "/api/v1/admin/sla/calendars"
TARGETS = "/api/v1/admin/sla/targets"
GLOBEX_ADMIN = "admin@globex.test"
SECOND_ADMIN = "admin2@acme.test"
MAX_ID = 2**31 - 1
SCRIPT = '<script>alert("x")</script>'
IMG = '"><img src=x onerror=alert(1)>'
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Monday 2026-12-07 09:00 in Bogotá (UTC-5, no daylight saving)
MONDAY_9 = datetime(2026, 12, 7, 14, 0, tzinfo=UTC)
POSTGRESQL_ONLY = pytest.mark.skipif(
    "postgresql" not in (os.environ.get("TEST_DATABASE_URL") or ""),
    reason="SQLite takes one writer at a time: the interleaving cannot happen")


# --- people and snapshots --------------------------------------------------------------------

def person(email: str, slug: str, role: str, unit_id: int | None = None) -> None:
    """A new person of company ``slug`` holding ``role`` (in ``unit_id``)."""
    company = tenant(slug)
    someone = User(tenant_id=company.id, email=email, name=email.split("@")[0])
    someone.set_password("demo1234")
    db.session.add(someone)
    db.session.flush()
    db.session.add(Membership(tenant_id=company.id, user_id=someone.id, role=role,
                              unit_id=unit_id))
    db.session.commit()


@pytest.fixture
def admins(demo):
    """A tenant admin of globex, and a second tenant admin of acme."""
    person(GLOBEX_ADMIN, "globex", "tenant_admin")
    person(SECOND_ADMIN, "acme", "tenant_admin")


def audited() -> list[tuple]:
    return [(e.action, e.target_id) for e in entries("sla_")]


def snapshot() -> tuple:
    """Everything an SLA edit could change: equal before and after means nothing changed."""
    return calendar_rows(), target_rows(), audited()


def clock_rows() -> list[tuple]:
    db.session.rollback()
    return sorted((c.request_id, c.kind, c.target_id, c.calendar_id, c.minutes, c.warn_percent,
                   repr(c.pause_statuses), c.state, c.due_at, c.elapsed_seconds)
                  for c in db.session.scalars(select(SlaClock)))


def globex_calendar() -> BusinessCalendar:
    return add_calendar("Globex", slug="globex", zone="America/Lima")


def week_json(**days) -> dict:
    return {day: days.get(day, [["08:00", "18:00"]] if day not in ("sat", "sun") else [])
            for day in WEEKDAYS}


def calendar_body(**over) -> dict:
    return {"name": "Planta", "time_zone": "America/Bogota", "week": week_json(),
            "holidays": [], **over}


def calendar_writes(api, row: BusinessCalendar, **change):
    """``change`` sent as a new calendar, a replacement of ``row`` and a patch of it."""
    yield api.post(CALENDARS, calendar_body(**change))
    yield api.put(f"{CALENDARS}/{row.id}", calendar_body(**change))
    yield api.patch(f"{CALENDARS}/{row.id}", change)


def assert_clean(response, *allowed: int, what=None) -> None:
    """A refusal the caller can read: one of ``allowed`` (never a 500)."""
    assert response.status_code in allowed, (what, response.status_code,
                                              response.get_data(as_text=True)[:300])


# --- another company's ids -------------------------------------------------------------------

def test_another_companys_calendars_targets_and_categories_are_never_reached(app, browser,
                                                                             admins):
    mine = add_calendar("Oficina")
    my_target = add_target(mine, "decision", 480)
    theirs = globex_calendar()
    their_target = add_target(theirs, "resolution", 600, slug="globex")
    their_category = category("Aire acondicionado", "globex")
    before = snapshot()
    # Each admin finds nothing of the other company, on pages or the API
    for email, cal_id, target_id in ((ADMIN, theirs.id, their_target.id),
                                     (GLOBEX_ADMIN, mine.id, my_target.id)):
        page, api = browser(email), api_as(app, email)
        for path in (f"/sla/calendars/{cal_id}", f"/sla/calendars/{cal_id}/edit",
                     f"/sla/calendars/{cal_id}/delete", f"/sla/targets/{target_id}/edit",
                     f"/sla/targets/{target_id}/delete"):
            assert page.get(path).status_code == 404, (email, path)
        for path, form in ((f"/sla/calendars/{cal_id}/edit", calendar_form(name="Robado")),
                           (f"/sla/calendars/{cal_id}/default", {}),
                           (f"/sla/calendars/{cal_id}/delete", {}),
                           (f"/sla/targets/{target_id}/edit", target_form(hours="1")),
                           (f"/sla/targets/{target_id}/delete", {})):
            assert page.post(path, form).status_code == 404, (email, path)
        assert api.get(f"{CALENDARS}/{cal_id}").status_code == 404
        assert api.put(f"{CALENDARS}/{cal_id}", calendar_body()).status_code == 404
        assert api.patch(f"{CALENDARS}/{cal_id}", {"is_default": True}).status_code == 404
        assert api.delete(f"{CALENDARS}/{cal_id}").status_code == 404
        assert api.get(f"{TARGETS}/{target_id}").status_code == 404
        assert api.put(f"{TARGETS}/{target_id}", {"kind": "start", "minutes": 1}) \
            .status_code == 404
        assert api.patch(f"{TARGETS}/{target_id}", {"minutes": 1}).status_code == 404
        assert api.delete(f"{TARGETS}/{target_id}").status_code == 404
        listed = api.get(CALENDARS).json["items"] + api.get(TARGETS).json["items"]
        assert cal_id not in [c["id"] for c in listed if "time_zone" in c]
        assert target_id not in [t["id"] for t in listed if "kind" in t]
        for url in ("/sla/calendars", "/sla/targets", "/sla/targets/new"):
            text = html(page.get(url))
            assert ("Globex" in text) == (email == GLOBEX_ADMIN), url
    assert snapshot() == before
    # acme's admin gives its own target globex's calendar or category, on a new or old one
    page, api = browser(ADMIN), api_as(app, ADMIN)
    for field, value in (("calendar_id", theirs.id), ("category_id", their_category.id)):
        form = target_form(kind="start", **{field: str(value)})
        assert page.post("/sla/targets/new", form).status_code == 422, field
        assert page.post(f"/sla/targets/{my_target.id}/edit",
                         target_form(kind="decision", **{field: str(value)})).status_code == 422
        assert api.post(TARGETS, {"kind": "start", "minutes": 60, field: value}) \
            .status_code == 422, field
        assert api.patch(f"{TARGETS}/{my_target.id}", {field: value}).status_code == 422
        assert api.put(f"{TARGETS}/{my_target.id}", {"kind": "decision", "minutes": 60,
                                                      field: value}).status_code == 422
    # Ids no row has, or no column holds, in forms and JSON
    for bad in ("0", "-1", str(MAX_ID + 1), "9" * 30, "1.5", "1e3", "x", " 1 2", "١",
                "0x10", "+1"):
        for field in ("calendar_id", "category_id"):
            assert page.post("/sla/targets/new", target_form(
                kind="start", **{field: bad})).status_code == 422, (field, bad)
    for bad in (0, -1, MAX_ID + 1, 2**63, "x", True, [1], {"id": 1}):
        for field in ("calendar_id", "category_id"):
            assert api.post(TARGETS, {"kind": "start", "minutes": 60, field: bad}) \
                .status_code == 422, (field, bad)
    for bad in (0, MAX_ID, MAX_ID + 1, 10**40):
        for path in (f"/sla/calendars/{bad}", f"/sla/targets/{bad}/edit"):
            assert page.get(path).status_code == 404, path
        assert api.get(f"{CALENDARS}/{bad}").status_code == 404
        assert api.delete(f"{TARGETS}/{bad}").status_code == 404
    assert snapshot() == before
    # The row-level security of the database agrees: globex's rows are not acme's to read
    assert theirs.id not in [c.id for c in calendars.all_of(factories.user(ADMIN).tenant_id)]


def test_a_target_never_runs_a_request_on_another_companys_calendar(app, admins):
    """Globex's targets (of any category and priority) do not measure acme's requests, and
    acme's requests never run on globex's calendar."""
    theirs = globex_calendar()
    add_target(theirs, "resolution", 600, slug="globex")
    req = factories.file()
    assert reload(req.id).sla_clocks == []
    assert api_as(app, REQUESTER).get(f"/api/v1/requests/{req.id}").status_code == 200
    mine = add_calendar("Oficina")
    add_target(mine, "resolution", 60)
    req = factories.file()
    assert {c.calendar_id for c in reload(req.id).sla_clocks} == {mine.id}


# --- roles -----------------------------------------------------------------------------------

def test_only_tenant_admins_change_service_levels_and_directors_only_read(app, browser,
                                                                          admins):
    cal_row = add_calendar("Oficina")
    add_calendar("Planta")
    target = add_target(cal_row, "decision", 480)
    before = snapshot()
    posts = (("/sla/calendars/new", calendar_form(name="Nueva")),
             (f"/sla/calendars/{cal_row.id}/edit", calendar_form(name="Cambiada")),
             (f"/sla/calendars/{cal_row.id}/default", {}),
             (f"/sla/calendars/{cal_row.id}/delete", {}),
             ("/sla/targets/new", target_form(kind="start")),
             (f"/sla/targets/{target.id}/edit", target_form(kind="decision", hours="1")),
             (f"/sla/targets/{target.id}/delete", {}))
    api_writes = (("post", CALENDARS, calendar_body(name="Nueva")),
                  ("put", f"{CALENDARS}/{cal_row.id}", calendar_body(name="Cambiada")),
                  ("patch", f"{CALENDARS}/{cal_row.id}", {"is_default": True}),
                  ("delete", f"{CALENDARS}/{cal_row.id}", None),
                  ("post", TARGETS, {"kind": "start", "minutes": 60}),
                  ("put", f"{TARGETS}/{target.id}", {"kind": "decision", "minutes": 1}),
                  ("patch", f"{TARGETS}/{target.id}", {"apply_to_open": True}),
                  ("delete", f"{TARGETS}/{target.id}", None))
    # Directors read (pages and API) and change nothing: 403
    for email in (DIRECTOR, GLOBEX_DIRECTOR):
        page, api = browser(email), api_as(app, email)
        mine = email == DIRECTOR
        assert page.get("/sla/calendars").status_code == 200
        assert page.get(f"/sla/calendars/{cal_row.id}").status_code == (200 if mine else 404)
        for url, form in posts:
            expected = (403,) if mine or url.endswith("/new") else (403, 404)
            assert_clean(page.post(url, form), *expected)
        for method, url, body in api_writes:
            expected = (403,) if mine or url in (CALENDARS, TARGETS) else (403, 404)
            args = (url, body) if body is not None else (url,)
            assert_clean(getattr(api, method)(*args), *expected)
        for url in ("/sla/calendars/new", f"/sla/calendars/{cal_row.id}/edit",
                    "/sla/targets/new", f"/sla/targets/{target.id}/edit",
                    f"/sla/targets/{target.id}/delete"):
            assert page.get(url).status_code in (403, 404), (email, url)
        shown = html(page.get("/sla/targets"))
        assert f"/sla/targets/{target.id}/edit" not in shown
    # Requesters, heads and workers: the pages are not there (404), the API refuses (403)
    for email in (REQUESTER, HEAD, WORKER):
        page, api = browser(email), api_as(app, email)
        for url in ("/sla", "/sla/calendars", "/sla/targets", f"/sla/calendars/{cal_row.id}"):
            assert page.get(url).status_code in (302, 404), (email, url)
        for url, form in posts:
            assert page.post(url, form).status_code == 404, (email, url)
        for method, url, body in api_writes:
            args = (url, body) if body is not None else (url,)
            assert getattr(api, method)(*args).status_code == 403, (email, method, url)
        assert api.get(CALENDARS).status_code == 403 and api.get(TARGETS).status_code == 403
        assert api.get(f"{TARGETS}/{target.id}").status_code == 403
    # An admin whose membership was removed meanwhile, and a deactivated one
    page, api = browser(SECOND_ADMIN), api_as(app, SECOND_ADMIN)
    db.session.rollback()
    second = factories.user(SECOND_ADMIN)
    db.session.query(Membership).filter_by(user_id=second.id).delete()
    db.session.commit()
    for url, form in posts:
        assert page.post(url, form).status_code in (302, 403, 404), url
    for method, url, body in api_writes:
        args = (url, body) if body is not None else (url,)
        assert getattr(api, method)(*args).status_code in (401, 403), (method, url)
    assert snapshot() == before


def test_every_sla_form_refuses_missing_forged_or_another_sessions_csrf_token(app, browser,
                                                                                admins):
    cal_row = add_calendar("Oficina")
    other = add_calendar("Planta")
    target = add_target(cal_row, "decision", 480)
    admin, second = browser(ADMIN), browser(SECOND_ADMIN)
    before = snapshot()
    posts = (("/sla/calendars/new", calendar_form(name="Nueva")),
             (f"/sla/calendars/{cal_row.id}/edit", calendar_form(name="Cambiada")),
             (f"/sla/calendars/{other.id}/default", {}),
             (f"/sla/calendars/{other.id}/delete", {}),
             ("/sla/targets/new", target_form(kind="start")),
             (f"/sla/targets/{target.id}/edit", target_form(kind="decision", hours="1")),
             (f"/sla/targets/{target.id}/delete", {}))
    for url, form in posts:
        for token in ("", "forged", admin.token[:-2] + "xx", second.token, " " + admin.token):
            response = admin.post(url, {**form, "csrf_token": token})
            assert response.status_code == 400, (url, token[:8])
        with app.app_context():
            missing = admin.client.post(url, data=form)
        assert missing.status_code == 400, url
        # A cross-site JSON post to a page is no way around it either
        with app.app_context():
            as_json = admin.client.post(url, json={**form, "csrf_token": admin.token})
        assert as_json.status_code in (400, 415, 422), url
    # The API takes no cookie: a logged-in browser's session is not a token
    with app.app_context():
        for method, url in (("post", CALENDARS), ("patch", f"{CALENDARS}/{cal_row.id}"),
                            ("delete", f"{TARGETS}/{target.id}")):
            response = getattr(admin.client, method)(url, json=calendar_body(name="Cookie"))
            assert response.status_code == 401, (method, url)
    assert snapshot() == before


# --- bad input -------------------------------------------------------------------------------

BAD_DAYS = [
    "8-12", "08:00", "08:00-", "-12:00", "08:00-12:00-14:00", "08:00--12:00", "25:00-26:00",
    "08:00-25:00", "23:60-24:00", "08:60-09:00", "24:01-24:02", "12:00-08:00", "08:00-08:00",
    "08:00-12:00, 11:00-13:00", "08:00-12:00, 08:00-12:00", "00:00-24:00, 23:59-24:00",
    "8h-12h", "08.00-12.00", "08:00:00-12:00:00", "+8:00-12:00", "-8:00-12:00", "0x8:00-9:00",
    "٠٨:٠٠-١٢:٠٠x", "08:0-12:00", "008:00-12:00", "08:000-12:00", "²:00-3:00",
    "08:00 12:00", "08:00-12:00 14:00-18:00", "08:00/12:00", "1e1:00-12:00", "nan:00-12:00",
    ", ".join(f"{h:02d}:00-{h:02d}:30" for h in range(7)),  # 7 shifts: at most 6
    "08:00-12:00," * 30,  # longer than a day's line holds
    "0" * 5000, SCRIPT, "\u202e08:00-12:00", "08:00\u200b-12:00",
]
BAD_HOLIDAYS = [
    "2026-02-30 Nunca", "2026-13-01 Nunca", "0000-01-01 Cero", "10000-01-01 Lejos",
    "2026-00-10 Nada", "02-30 Nunca", "13-01 Nunca", "2026/12/25 Navidad", "25-12-2026 Navidad",
    "Navidad", "2026-12-25x", "12-25\n12-25 Otra vez", "2026-12-25 " + "N" * 121,
    "\n".join(f"2026-{1 + i // 28:02d}-{1 + i % 28:02d}" for i in range(336)) + "\n"
    + "\n".join(f"2027-{1 + i // 28:02d}-{1 + i % 28:02d}" for i in range(70)),  # 406
    "x\n" * 20_000, "2026-12-25 a\n" * 3000, "9" * 70_000,
]


def test_malformed_shifts_and_holidays_are_refused_and_change_nothing(app, browser, demo):
    row = add_calendar("Oficina")
    admin = browser(ADMIN)
    before = snapshot()
    for typed in BAD_DAYS:
        for url in ("/sla/calendars/new", f"/sla/calendars/{row.id}/edit"):
            response = admin.post(url, calendar_form(name="Nueva", week_mon=typed))
            assert response.status_code == 422, (typed[:40], url, response.status_code)
            assert "Nueva" in html(response)  # the page shows again what was typed
    for typed in BAD_HOLIDAYS:
        for url in ("/sla/calendars/new", f"/sla/calendars/{row.id}/edit"):
            response = admin.post(url, calendar_form(name="Nueva", holidays=typed))
            assert response.status_code == 422, (typed[:40], url, response.status_code)
            # Whatever is typed, the answer stays the size of a page, not of the mistakes
            assert len(response.get_data()) < 200_000, (typed[:20], len(typed),
                                                        len(response.get_data()))
    # No working time at all, or no working time once the holidays are taken out
    every_day = "\n".join(f"{(date(2000, 1, 1) + timedelta(days=i)):%m-%d} Libre"
                          for i in range(366))
    for form in ({f"week_{day}": "" for day in WEEKDAYS},
                 {"week_mon": "08:00-08:00", **{f"week_{d}": "" for d in WEEKDAYS[1:]}},
                 {"holidays": every_day}):
        for url in ("/sla/calendars/new", f"/sla/calendars/{row.id}/edit"):
            response = admin.post(url, calendar_form(name="Nueva", **form))
            assert response.status_code == 422, (url, sorted(form))
    # Control characters are refused before any form is read
    for typed in ("08:00\x00-12:00", "\x0812:00", "\x1b[31m"):
        assert admin.post("/sla/calendars/new", calendar_form(week_tue=typed)).status_code \
            == 400
        assert admin.post("/sla/calendars/new", calendar_form(
            holidays=f"2026-12-24 Noche{typed}")).status_code == 400
    # Names: empty, blank, too long, another calendar's in another case
    for name in ("", "   ", "\t\n", "N" * 121, "oficina", "OFICINA", " Oficina "):
        response = admin.post("/sla/calendars/new", calendar_form(name=name))
        assert response.status_code == 422, repr(name[:20])
    assert snapshot() == before
    # What a careful admin types is accepted: 24:00 ends the day, shifts out of order, en dashes
    response = admin.post("/sla/calendars/new", calendar_form(
        name="Turnos ☀️ 夜班", week_mon="18:00-24:00; 00:00-06:00", week_tue="08:00 – 12:00",
        time_zone="Asia/Kathmandu", holidays="02-29 Bisiesto\n2028-02-29 Bisiesto 2028"))
    assert response.status_code == 302, html(response)[:500]
    made = calendars.all_of(tenant().id)[-1]
    assert made.week["mon"] == [["00:00", "06:00"], ["18:00", "24:00"]]
    assert made.week["tue"] == [["08:00", "12:00"]]
    # Digits of other scripts are read as the digits they are, and stored in ASCII
    response = admin.post(f"/sla/calendars/{made.id}/edit", calendar_form(
        name="Turnos", week_wed="٠٨:٠٠-١٢:٠٠, １４:００-１８:００"))
    assert response.status_code == 302
    db.session.rollback()
    assert db.session.get(BusinessCalendar, made.id).week["wed"] == [["08:00", "12:00"],
                                                                      ["14:00", "18:00"]]


TIME_ZONES = ["localtime", "../etc/passwd", "/etc/localtime", "UTC ", " UTC", "utc",
              "america/bogota", "America/Bogota\n", "America/../America/Bogota",
              "America//Bogota", "Factory", "posixrules", "right/UTC", "posix/UTC",
              "Europe/" + "A" * 60, "A" * 5000, "", "   ", "GMT+5", "UTC+05:00", "+05:00",
              "EST5EDT,M3.2.0,M11.1.0", "zone.tab", "tzdata.zi", "leapseconds", ".",
              "..", "America", "\u0041merica/Bogot\u00e1", "America/Bogota\u200b", "Z"]


def test_unknown_or_odd_time_zones_are_refused_on_pages_and_api(app, browser, demo):
    row = add_calendar("Oficina")
    admin, api = browser(ADMIN), api_as(app, ADMIN)
    before = snapshot()
    for zone in TIME_ZONES:
        for url in ("/sla/calendars/new", f"/sla/calendars/{row.id}/edit"):
            if zone.strip() in ("UTC", "America/Bogota"):
                continue  # the page trims what is typed (below)
            response = admin.post(url, calendar_form(name="Nueva", time_zone=zone))
            assert response.status_code == 422, (repr(zone), url)
        for response in calendar_writes(api, row, time_zone=zone):
            assert_clean(response, 422, what=zone)
    for zone in (None, 5, True, ["UTC"], {"name": "UTC"}):
        assert_clean(api.patch(f"{CALENDARS}/{row.id}", {"time_zone": zone}), 422)
    assert snapshot() == before
    # Spaces typed around a known zone on the page are trimmed; the zone stored is a place
    assert admin.post("/sla/calendars/new", calendar_form(name="Nueva", time_zone=" UTC ")) \
        .status_code == 302
    assert {c.time_zone for c in calendars.all_of(tenant().id)} == {"America/Bogota", "UTC"}


WRONG_WEEKS = [
    [], [["08:00", "12:00"]], "08:00-12:00", 40, None, True,
    {"mon": "08:00-12:00"}, {"mon": [["08:00"]]}, {"mon": [["08:00", "12:00", "14:00"]]},
    {"mon": [[8, 12]]}, {"mon": [[480, 720]]}, {"mon": [[None, "12:00"]]},
    {"mon": [["08:00", "12:00"]] * 7}, {"mon": [["08:00", "12:00"]] * 5000},
    {"mon": [{"start": "08:00", "end": "12:00"}]}, {"mon": [["08:00", "25:00"]]},
    {"mon": [["23:60", "24:00"]]}, {"mon": [["24:00", "24:00"]]}, {"mon": [["12:00", "08:00"]]},
    {"mon": [["08:00", "12:00"], ["11:59", "13:00"]]}, {"mon": [["-1:00", "12:00"]]},
    {"mon": [["8:00:00", "12:00"]]}, {"mon": [["08:00", "12:00"]], "lun": []},
    {"mon": [["08:00", "12:00"]], "MON": []}, {"mon": [["0800", "1200"]]},
    {"mon": [["08:00", "1" * 10_000]]}, {"mon": [["8", "12"]]}, {"mon": [["", ""]]},
    {"mon": [[" 8:0", "12:00"]]}, {"mon": [["08:00", "12:00"]], "sun": None},
    {day: [] for day in WEEKDAYS},
]
WRONG_HOLIDAYS = [
    {}, "2026-12-25", [["2026-12-25", "Navidad"]], ["2026-12-25"], [{"date": "2026-02-30"}],
    [{"date": "12-25", "yearly": True}], [{"date": 20261225}], [{"date": None}],
    [{"name": "Sin fecha"}], [{"date": "2026-12-25", "yearly": "sometimes"}],
    [{"date": "2026-12-25", "yearly": 2}], [{"date": "2026-12-25", "name": 5}],
    [{"date": "2026-12-25", "name": "N" * 121}], [{"date": "2026-12-25", "color": "red"}],
    [{"date": "2026-12-25"}, {"date": "2026-12-25"}],
    [{"date": "2026-12-25", "yearly": True}, {"date": "2031-12-25", "yearly": True}],
    [{"date": (date(2026, 1, 1) + timedelta(days=i)).isoformat()} for i in range(401)],
    [{"date": (date(2026, 1, 1) + timedelta(days=i)).isoformat()} for i in range(20_000)],
    [{"date": "2026-12-25T00:00:00"}], [{"date": "+02026-12-25"}], [{"date": "0000-12-25"}],
    [{"date": (date(2000, 1, 1) + timedelta(days=i)).isoformat(), "yearly": True}
     for i in range(366)],  # every day of the year off: no working time left
]


def test_calendar_json_of_the_wrong_shapes_is_a_422_and_changes_nothing(app, demo):
    row = add_calendar("oficina")
    api = api_as(app, ADMIN)
    before = snapshot()
    for week in WRONG_WEEKS:
        for response in calendar_writes(api, row, week=week):
            assert_clean(response, 422, what=week)
    for holidays in WRONG_HOLIDAYS:
        for response in calendar_writes(api, row, holidays=holidays):
            assert_clean(response, 422, what=str(holidays)[:80])
            assert len(response.get_data()) < 200_000
    for name in ("", " ", "N" * 121, None, 5, ["Planta"], {"es": "Planta"}):
        assert_clean(api.post(CALENDARS, calendar_body(name=name)), 422)
        assert_clean(api.patch(f"{CALENDARS}/{row.id}", {"name": name}), 422)
    for name in ("oficina", " OFICINA ", "Oficina"):  # taken (by this one), in any case
        assert_clean(api.post(CALENDARS, calendar_body(name=name)), 422)
    for default in (None, "yes please", 2, [], {"v": True}):
        assert_clean(api.patch(f"{CALENDARS}/{row.id}", {"is_default": default}), 422)
    assert_clean(api.patch(f"{CALENDARS}/{row.id}", {"is_default": False}), 422)
    for body in ([], "x", 5, None, {"name": "Planta", "unknown": 1}, {"id": 999}):
        assert_clean(api.post(CALENDARS, body), 400, 422)
        if body is not None:  # a PATCH with no body changes nothing (200)
            assert_clean(api.patch(f"{CALENDARS}/{row.id}", body), 400, 422, what=body)
    for headers in ({"Content-Type": "text/plain"}, {"Content-Type": "application/xml"}):
        with app.app_context():
            response = api.client.post(CALENDARS, data='{"name": "X"}', headers={
                **api._headers(), **headers})
        assert_clean(response, 400, 415, 422)
    assert snapshot() == before


def test_target_input_of_the_wrong_kinds_or_sizes_is_refused_and_changes_nothing(
        app, browser, demo):
    row = add_calendar("Oficina")
    other = add_calendar("Planta")
    target = add_target(row, "decision", 480)
    admin, api = browser(ADMIN), api_as(app, ADMIN)
    # A deleted calendar's id, on the page and over the API
    gone = other.id
    assert api.delete(f"{CALENDARS}/{gone}").status_code == 204
    before = snapshot()
    bad_json = [
        {"minutes": 0}, {"minutes": -1}, {"minutes": 1.5}, {"minutes": 60.0}, {"minutes": "60"},
        {"minutes": True}, {"minutes": None}, {"minutes": 10**30}, {"minutes": 2**31},
        {"minutes": 86_401}, {"minutes": [60]}, {"minutes": "1e3"}, {"minutes": float("1e308")},
        {"warn_percent": 0}, {"warn_percent": 101}, {"warn_percent": -1}, {"warn_percent": 75.5},
        {"warn_percent": "75"}, {"warn_percent": None}, {"warn_percent": False},
        {"pause_statuses": ["paused"]}, {"pause_statuses": ["on_hold", "ON_HOLD"]},
        {"pause_statuses": "on_hold"}, {"pause_statuses": [None]}, {"pause_statuses": [1]},
        {"pause_statuses": ["on_hold"] * 11}, {"pause_statuses": ["in_progress"]},
        {"pause_statuses": ["cancelled"]}, {"pause_statuses": {"on_hold": True}},
        {"pause_statuses": None}, {"kind": "deadline"}, {"kind": None}, {"kind": ""},
        {"kind": ["decision"]}, {"priority": "URGENT"}, {"priority": "critical"},
        {"priority": 1}, {"calendar_id": gone}, {"calendar_id": 0},
        {"category_id": MAX_ID}, {"apply_to_open": "maybe"}, {"apply_to_open": 2},
        {"apply_to_open": None}, {"apply_to_open": []}, {"apply_to_open": "2"},
        {"id": 5}, {"tenant_id": 2}, {"unknown": 1},
    ]
    for change in bad_json:
        body = {"kind": "start", "minutes": 60, **change}
        assert_clean(api.post(TARGETS, body), 422)
        assert_clean(api.patch(f"{TARGETS}/{target.id}", change), 422)
        assert_clean(api.put(f"{TARGETS}/{target.id}", {"kind": "decision", "minutes": 60,
                                                        **change}), 422)
    bad_forms = [
        {"hours": "0", "minutes": "0"}, {"hours": "", "minutes": ""}, {"hours": "-1"},
        {"minutes": "-5"}, {"hours": "1441"}, {"hours": "1440", "minutes": "1"},
        {"minutes": "86401"}, {"hours": "1.5"}, {"hours": "1,5"}, {"hours": "1e3"},
        {"hours": "٣"}, {"hours": "３"}, {"hours": "9" * 5000}, {"minutes": "0" * 11 + "1"},
        {"hours": "NaN"}, {"hours": "Infinity"}, {"warn_percent": "0"},
        {"warn_percent": "101"}, {"warn_percent": "-1"}, {"warn_percent": ""},
        {"warn_percent": "75.5"}, {"warn_percent": "75%"}, {"kind": "deadline"}, {"kind": ""},
        {"priority": "URGENT"}, {"priority": SCRIPT}, {"calendar_id": str(gone)},
        {"category_id": str(MAX_ID)},
    ]
    for change in bad_forms:
        for url in ("/sla/targets/new", f"/sla/targets/{target.id}/edit"):
            form = target_form(**{"kind": "start" if url.endswith("new") else "decision",
                                  **change})
            response = admin.post(url, form)
            assert_clean(response, 422)
            assert SCRIPT not in html(response)
    for statuses in (["paused"], ["on_hold", "nope"], ["x"] * 500, [SCRIPT]):
        for url in ("/sla/targets/new", f"/sla/targets/{target.id}/edit"):
            response = admin.post(url, with_pauses(target_form(kind="start"), *statuses))
            assert_clean(response, 422)
            assert SCRIPT not in html(response)
    assert snapshot() == before
    # Duplicated pause statuses are kept once; odd checkbox values leave open requests alone
    response = admin.post("/sla/targets/new", {
        **with_pauses(target_form(kind="start"), "on_hold", "on_hold", "returned"),
        "apply_to_open": "yes please"})
    assert response.status_code == 302
    db.session.rollback()
    made = db.session.scalars(select(SlaTarget).where(SlaTarget.kind == "start")).one()
    assert made.pause_statuses == ["returned", "on_hold"]
    assert "applied_to_open" not in entries("sla_target.created")[-1].after
    patched = api.patch(f"{TARGETS}/{made.id}", {
        "pause_statuses": ["on_hold", "on_hold", "pending", "pending"]})
    assert patched.status_code == 200 and patched.json["pause_statuses"] == ["on_hold",
                                                                             "pending"]


# --- bounded work ----------------------------------------------------------------------------

class DayCounter:
    """Counts the days the pure calendar looks at (its one unit of work): a clock's cost."""

    def __init__(self, monkeypatch):
        self.days = 0
        original = Calendar.intervals_on

        def counted(calendar, day):
            self.days += 1
            return original(calendar, day)

        monkeypatch.setattr(Calendar, "intervals_on", counted)

    def take(self) -> int:
        days, self.days = self.days, 0
        return days


# A clock's computation walks at most MAX_DAYS_WALKED days for each of its two thresholds
# (warning and due), plus the days it has run; three clocks a request.
PER_REQUEST = 3 * (2 * cal.MAX_DAYS_WALKED + 400)


def test_the_longest_target_on_a_minute_a_week_never_makes_a_step_or_page_unbounded(
        app, browser, demo, monkeypatch):
    minute_a_week = {day: [] for day in WEEKDAYS} | {"mon": [["10:00", "10:01"]]}
    row = add_calendar("Un minuto", week=minute_a_week)
    api = api_as(app, ADMIN)
    for kind in ("decision", "start", "resolution"):
        assert api.post(TARGETS, {"kind": kind, "minutes": targets.MAX_MINUTES,
                                  "calendar_id": row.id}).status_code == 201
    counter = DayCounter(monkeypatch)
    with time_machine.travel(MONDAY_9, tick=False):
        req = factories.file()
    assert 0 < counter.take() <= PER_REQUEST
    clocks = {c.kind: c for c in reload(req.id).sla_clocks}
    assert clocks["decision"].state == "running" and clocks["decision"].due_at is None
    # A step, the request page, its JSON, the lists: each bounded as one computation is
    task = factories.open_task(reload(req.id), "Task_Authorize")
    with time_machine.travel(MONDAY_9 + timedelta(days=30), tick=False):
        head = browser(HEAD)
        counter.take()
        assert head.post(f"/tasks/{task.id}", {"handler": "authorize",
                                                "decision": "authorize"}).status_code == 302
        assert counter.take() <= PER_REQUEST
        for email in (REQUESTER, DIRECTOR, ADMIN):
            page = browser(email)
            counter.take()
            for url in (f"/requests/{req.id}", "/inbox", "/requests",
                        "/director/requests?sort=sla", "/director/requests?sla=at_risk",
                        "/unit/requests?sort=sla", "/director/tickets?sort=sla"):
                response = page.get(url)
                assert response.status_code in (200, 404), (email, url)
                assert counter.take() <= PER_REQUEST, (email, url)
            response = api_as(app, email).get(f"/api/v1/requests/{req.id}")
            assert response.status_code == 200
            assert counter.take() <= PER_REQUEST, email
    # Recomputing forty such requests: forty times one, not more
    for _ in range(39):
        with time_machine.travel(MONDAY_9, tick=False):
            factories.file()
    counter.take()
    with time_machine.travel(MONDAY_9 + timedelta(days=60), tick=False):
        assert recompute_tenant(tenant().id) == 40
    assert counter.take() <= 40 * PER_REQUEST
    # The runner's pass over them (all flagged by a calendar change): the same bound
    assert api.patch(f"{CALENDARS}/{row.id}", {"name": "Un minuto a la semana"}) \
        .status_code == 200
    assert api.patch(f"{CALENDARS}/{row.id}", {"holidays": [
        {"date": "2027-01-04", "name": "Cerrado"}]}).status_code == 200
    counter.take()
    db.session.rollback()  # the runner starts a pass afresh
    with time_machine.travel(MONDAY_9 + timedelta(days=61), tick=False):
        from app.sla import signals
        signals.run()
    assert counter.take() <= 40 * PER_REQUEST
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(SlaClock).where(
        SlaClock.computed_at.is_(None))) == 0


def test_a_request_held_and_resumed_many_times_costs_one_walk(app, demo, monkeypatch):
    """Hundreds of pauses in a request's history: the clock looks at each day a bounded
    number of times (not once per pause)."""
    sla_row = add_calendar("Oficina")
    add_target(sla_row, "resolution", 60 * 40)
    with time_machine.travel(MONDAY_9, tick=False):
        req, _task = factories.request_at("Task_Work")
    db.session.rollback()
    req = reload(req.id)
    started = MONDAY_9 + timedelta(minutes=1)
    for i in range(400):  # held and resumed every minute for hours, in its history
        for to in ("on_hold", "in_progress"):
            db.session.add(HistoryEvent(
                tenant_id=req.tenant_id, request_id=req.id, action="ticket_status",
                created_at=started + timedelta(seconds=60 * i + (30 if to == "in_progress"
                                                                 else 0)),
                changes={"ticket_status": ["x", to]}))
    db.session.commit()
    counter = DayCounter(monkeypatch)
    with time_machine.travel(MONDAY_9 + timedelta(days=3), tick=False):
        results = service.refresh(reload(req.id))
    db.session.rollback()
    clock = next(result for row, result in results if row.kind == "resolution")
    assert clock.state in ("running", "warning") and len(clock.pauses) == 400
    # 800 spans of a few days at most: each looks at a few days, never the whole history
    assert counter.take() <= 800 * 4 + 2 * cal.MAX_DAYS_WALKED


# --- deleting what is in use -----------------------------------------------------------------

def test_the_default_and_calendars_in_use_are_never_deleted(app, browser, demo):
    default = add_calendar("Oficina")
    by_target = add_calendar("Planta")
    by_clock = add_calendar("Bodega")
    free = add_calendar("Libre")
    target = add_target(by_target, "decision", 480)
    clocked = add_target(by_clock, "resolution", 600)
    req = factories.file()
    api, admin = api_as(app, ADMIN), browser(ADMIN)
    # The clock keeps its calendar once its target moves to another one, or is deleted
    assert api.patch(f"{TARGETS}/{clocked.id}", {"calendar_id": free.id}).status_code == 200
    assert api.delete(f"{TARGETS}/{clocked.id}").status_code == 204
    before, clocks = snapshot(), clock_rows()
    for row in (default, by_target, by_clock):
        assert api.delete(f"{CALENDARS}/{row.id}").status_code == 409, row.name
        response = admin.post(f"/sla/calendars/{row.id}/delete")
        assert response.status_code == 409, row.name
        assert admin.get(f"/sla/calendars/{row.id}/delete").status_code == 200
    # Unsetting the default leaves the company without one: refused too
    assert api.patch(f"{CALENDARS}/{default.id}", {"is_default": False}).status_code == 422
    assert api.put(f"{CALENDARS}/{default.id}", calendar_body(
        name="Oficina", week=OFFICE_WEEK, is_default=False)).status_code == 422
    assert snapshot() == before and clock_rows() == clocks
    # Once another is the default, the old one is deletable only if nothing uses it
    assert api.patch(f"{CALENDARS}/{free.id}", {"is_default": True}).status_code == 200
    assert api.delete(f"{CALENDARS}/{default.id}").status_code == 204
    assert api.delete(f"{CALENDARS}/{by_clock.id}").status_code == 409
    # The request goes on under its clock's calendar, and recomputes
    assert {c.calendar_id for c in reload(req.id).sla_clocks} >= {by_clock.id}
    assert recompute_tenant(tenant().id) == 1
    assert api_as(app, REQUESTER).get(f"/api/v1/requests/{req.id}").status_code == 200
    assert browser(REQUESTER).get(f"/requests/{req.id}").status_code == 200
    assert target.id in [t["id"] for t in api.get(TARGETS).json["items"]]


def test_a_company_that_deleted_all_its_targets_keeps_measuring_what_was_filed(app, browser,
                                                                               demo):
    row = add_calendar("Oficina")
    made = [add_target(row, kind, 480) for kind in ("decision", "start", "resolution")]
    with time_machine.travel(MONDAY_9, tick=False):
        filed = factories.file()
        working, _task = factories.request_at("Task_Work")
    api = api_as(app, ADMIN)
    for target in made:
        assert api.delete(f"{TARGETS}/{target.id}").status_code == 204
    # Applying "nothing" to open requests is not possible, and a new request has no clocks
    for target in made:
        assert api.patch(f"{TARGETS}/{target.id}", {"apply_to_open": True}).status_code == 404
    with time_machine.travel(MONDAY_9 + timedelta(hours=1), tick=False):
        bare = factories.file()
    assert reload(bare.id).sla_clocks == [] and reload(bare.id).sla_state is None
    # The others: their clocks keep their terms through steps, pages and recompute
    kept = clock_rows()
    assert {c[2] for c in kept} == {None}  # no target any more
    with time_machine.travel(MONDAY_9 + timedelta(hours=2), tick=False):
        head = browser(HEAD)
        task = factories.open_task(reload(filed.id), "Task_Authorize")
        assert head.post(f"/tasks/{task.id}", {"handler": "authorize",
                                                "decision": "authorize"}).status_code == 302
        worker = browser(WORKER)
        task = factories.open_task(reload(working.id), "Task_Work")
        assert worker.post(f"/tasks/{task.id}", {"handler": "hold",
                                                  "reason": "Falta material"}).status_code == 302
        assert recompute_tenant(tenant().id, include_closed=True) >= 2
    db.session.rollback()
    states = {(c.request_id, c.kind): c for c in db.session.scalars(select(SlaClock))}
    assert states[(working.id, "resolution")].state == "paused"
    assert states[(filed.id, "decision")].state in ("running", "warning")
    for email in (REQUESTER, DIRECTOR, ADMIN):
        for req in (filed, working, bare):
            assert browser(email).get(f"/requests/{req.id}").status_code == 200
            assert api_as(app, email).get(f"/api/v1/requests/{req.id}").status_code == 200
    # A target applied to open requests, then deleted before the runner matched them again
    again = add_target(row, "decision", 60)
    assert api.patch(f"{TARGETS}/{again.id}", {"apply_to_open": True}).status_code == 200
    assert api.delete(f"{TARGETS}/{again.id}").status_code == 204
    with time_machine.travel(MONDAY_9 + timedelta(hours=3), tick=False):
        assert recompute_tenant(tenant().id) >= 1
    db.session.rollback()
    assert not db.session.scalar(select(func.count()).select_from(ServiceRequest).where(
        ServiceRequest.sla_rematch.is_not(None)))
    assert db.session.scalar(select(func.count()).select_from(SlaClock).where(
        SlaClock.minutes == 60)) == 0


# --- at the same moment ----------------------------------------------------------------------

def calendar_row(calendar_id: int) -> BusinessCalendar:
    db.session.rollback()
    return db.session.get(BusinessCalendar, calendar_id)


def run_together(*calls) -> list:
    """Run ``calls`` at the same moment, each in its own thread; their results."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)
    errors: list = []

    def run(index, call):
        try:
            barrier.wait(timeout=30)
            results[index] = call()
        except Exception as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    return results


def test_two_admins_saving_at_once_never_lose_an_edit_or_make_two_of_one(app, browser,
                                                                         admins):
    row = add_calendar("Oficina").id
    other = add_calendar("Planta").id
    target = add_target(calendar_row(row), "decision", 480).id
    first, second = api_as(app, ADMIN), api_as(app, SECOND_ADMIN)
    admin, admin2 = browser(ADMIN), browser(SECOND_ADMIN)
    url = f"{TARGETS}/{target}"
    # The same target saved by both: both saved, one after the other, and the audit chains
    results = run_together(lambda: first.patch(url, {"minutes": 60}).status_code,
                           lambda: second.patch(url, {"warn_percent": 50}).status_code,
                           lambda: admin.post(f"/sla/targets/{target}/edit", {
                               **target_form(kind="decision", hours="2", minutes="0",
                                             warn_percent="90")}).status_code)
    assert results == [200, 200, 302], results
    db.session.rollback()
    saved = db.session.get(SlaTarget, target)
    changes = [e for e in entries("sla_target.updated") if e.target_id == target]
    assert len(changes) == 3
    final = {"minutes": saved.minutes, "warn_percent": saved.warn_percent}
    for change in changes:  # each saw what the previous one left
        for key, value in change.after.items():
            if key in final and change is changes[-1]:
                assert final[key] == value
    for earlier, later in zip(changes, changes[1:], strict=False):
        for key in set(earlier.after) & set(later.before):
            assert later.before[key] == earlier.after[key], (key, earlier.after, later.before)
    # One scope created twice at once, over the API and the page: one of each pair
    body = {"kind": "start", "minutes": 60, "priority": "high"}
    form = target_form(kind="start", priority="high")
    results = run_together(lambda: first.post(TARGETS, body).status_code,
                           lambda: second.post(TARGETS, body).status_code,
                           lambda: admin.post("/sla/targets/new", form).status_code,
                           lambda: admin2.post("/sla/targets/new",
                                                               form).status_code)
    assert sorted(results) == [201, 302, 422, 422] or sorted(results) == [201, 422, 422, 422] \
        or sorted(results) == [302, 422, 422, 422], results
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(SlaTarget).where(
        SlaTarget.kind == "start", SlaTarget.priority == "high")) == 1
    # Two targets moved into one scope at once: one is refused
    a = add_target(calendar_row(row), "resolution", 60, priority="low").id
    b = add_target(calendar_row(row), "resolution", 60, priority="normal").id
    results = run_together(
        lambda: first.patch(f"{TARGETS}/{a}", {"priority": "urgent"}).status_code,
        lambda: second.patch(f"{TARGETS}/{b}", {"priority": "urgent"}).status_code)
    assert sorted(results) == [200, 422], results
    # Two calendars of one name, two defaults at once: one of each
    results = run_together(
        lambda: first.post(CALENDARS, calendar_body(name="Turno")).status_code,
        lambda: second.post(CALENDARS, calendar_body(name="turno")).status_code,
        lambda: admin.post("/sla/calendars/new",
                                    calendar_form(name="TURNO")).status_code)
    assert sorted(results) in ([201, 422, 422], [302, 422, 422]), results
    results = run_together(
        lambda: first.patch(f"{CALENDARS}/{other}", {"is_default": True}).status_code,
        lambda: second.patch(f"{CALENDARS}/{row}", {"is_default": True}).status_code,
        lambda: admin.post(f"/sla/calendars/{other}/default").status_code)
    assert results[:2] == [200, 200] and results[2] == 302, results
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(BusinessCalendar).where(
        BusinessCalendar.is_default.is_(True))) == 1
    # A calendar deleted while another admin gives a target to it: never both
    spare = add_calendar("Repuesto").id
    results = run_together(
        lambda: first.delete(f"{CALENDARS}/{spare}").status_code,
        lambda: second.patch(f"{TARGETS}/{target}", {"calendar_id": spare}).status_code)
    assert sorted(results) in ([204, 422], [200, 409]), results
    db.session.rollback()
    saved = db.session.get(SlaTarget, target)
    assert db.session.get(BusinessCalendar, saved.calendar_id) is not None


def filing_form() -> dict:
    return {"title": "Cambiar bombillo", "description": "Detalle del pedido",
            "category_id": str(category("Electricidad").id), "location": "Piso 1"}


def file_into(requester, form: dict, results: list) -> None:
    """File a request on the page; its status (or the error that escaped) into ``results``."""
    try:
        results.append(requester.post("/requests/new", form).status_code)
    except Exception as exc:  # noqa: BLE001 (the test client raises what a server answers 500)
        results.append(type(exc).__name__)


def pause_filing_after_reading_targets(monkeypatch):
    """Make the next filing wait after it read its targets until ``go`` is set; ``read`` is
    set when it got there."""
    read, go = threading.Event(), threading.Event()
    original = service.matching_targets

    def paused(req, found=None):
        matched = original(req, found)
        if found is None and not read.is_set():
            read.set()
            assert go.wait(30)
        return matched

    monkeypatch.setattr(service, "matching_targets", paused)
    return read, go


@POSTGRESQL_ONLY
def test_a_calendar_deleted_while_a_request_is_filed_on_it(app, browser, demo, monkeypatch):
    """The filing read its target (on calendar A); meanwhile the admin moves the target to B
    and deletes A. The filing holds A (FOR KEY SHARE, 16fb2c5) so the delete waits for it,
    then finds A in use by the new clock: refused (409); the request is filed."""
    old = add_calendar("Vieja")
    new = add_calendar("Nueva")
    target = add_target(old, "resolution", 600)
    api = api_as(app, ADMIN)
    assert api.patch(f"{CALENDARS}/{new.id}", {"is_default": True}).status_code == 200
    requester, form = browser(REQUESTER), filing_form()
    read, go = pause_filing_after_reading_targets(monkeypatch)
    results: list = []
    filer = threading.Thread(target=file_into, args=(requester, form, results))
    filer.start()
    assert read.wait(30)
    assert api.patch(f"{TARGETS}/{target.id}", {"calendar_id": new.id}).status_code == 200
    deleted: list = []
    url = f"{CALENDARS}/{old.id}"
    deleter = threading.Thread(target=lambda: deleted.append(api.delete(url).status_code))
    deleter.start()
    deleter.join(1.5)  # it waits for the filing, or (without the filing's hold) is done
    go.set()
    filer.join(60)
    deleter.join(60)
    assert results == [302], results
    assert deleted == [409], deleted
    db.session.rollback()
    for clock in db.session.scalars(select(SlaClock)):
        assert db.session.get(BusinessCalendar, clock.calendar_id) is not None


@POSTGRESQL_ONLY
def test_a_calendar_a_filing_starts_a_clock_on_while_it_is_deleted_is_kept(app, browser, demo,
                                                                          monkeypatch):
    """The delete checked that nothing used the calendar; a filing that had read its target
    before the target moved then writes its clock on it and commits first. The delete must be
    refused (409), not fail (500)."""
    old = add_calendar("Vieja")
    new = add_calendar("Nueva")
    target = add_target(old, "resolution", 600)
    api = api_as(app, ADMIN)
    assert api.patch(f"{CALENDARS}/{new.id}", {"is_default": True}).status_code == 200
    requester, form = browser(REQUESTER), filing_form()
    read, go = pause_filing_after_reading_targets(monkeypatch)
    results: list = []
    filer = threading.Thread(target=file_into, args=(requester, form, results))
    filer.start()
    assert read.wait(30)
    assert api.patch(f"{TARGETS}/{target.id}", {"calendar_id": new.id}).status_code == 200
    original = calendars.refusals

    def then_the_filing_commits(row):
        reasons = original(row)
        go.set()
        filer.join(60)
        return reasons

    monkeypatch.setattr(calendars, "refusals", then_the_filing_commits)
    deleted = api.delete(f"{CALENDARS}/{old.id}")
    assert results == [302], results
    assert deleted.status_code == 409, deleted.get_data(as_text=True)[:300]
    db.session.rollback()
    assert db.session.get(BusinessCalendar, old.id) is not None


def test_names_of_other_alphabets_are_taken_once_whatever_their_case(app, browser, demo):
    """SQLite's lower() knows only ASCII letters: the name check must not let an exact
    duplicate through to the unique index (a 500), nor "ÁREA" beside "Área"."""
    api, admin = api_as(app, ADMIN), browser(ADMIN)
    for name in ("Área técnica", "Ωmega", "Straße", "İstanbul"):
        assert api.post(CALENDARS, calendar_body(name=name)).status_code == 201, name
        before = snapshot()
        for again in (name, name.upper(), name.lower(), f" {name} ",
                      unicodedata.normalize("NFD", name)):
            assert_clean(api.post(CALENDARS, calendar_body(name=again)), 422, what=again)
            assert_clean(admin.post("/sla/calendars/new", calendar_form(name=again)), 422,
                         what=again)
        assert snapshot() == before


# --- lists, filters, the request JSON --------------------------------------------------------

LIST_PAGES = ("/inbox", "/requests", "/unit/requests", "/director/requests",
              "/director/tickets", "/my/tickets")
LIST_APIS = ("/api/v1/requests", "/api/v1/tasks", "/api/v1/tickets")
SLA_QUERIES = ("sla=overdue", "sla=at_risk", "sort=sla", "sla=overdue&sort=sla",
               "sla=at_risk&sort=sla", "sort=resolution", "sort=planned_end")


def overdue_everywhere() -> dict:
    """Targets of one business minute in both companies, and a request of each at every step
    from filing to work: once a day has passed, all of them are overdue."""
    from tests.sla import sla_helpers

    sla_helpers.targets("acme", decision=1, start=1, resolution=2)
    sla_helpers.targets("globex", decision=1, start=1, resolution=2)
    made = {"acme": [], "globex": []}
    with time_machine.travel(MONDAY_9, tick=False):
        for step in ("Task_Authorize", "Task_Evaluate", "Task_Start", "Task_Work"):
            made["acme"].append(factories.request_at(step)[0].id)
            made["globex"].append(factories.request_at(
                step, requester="pedro@globex.test", head="jefe@globex.test",
                director="director@globex.test", worker="tecnico@globex.test")[0].id)
    return made


def test_sla_filters_sorts_and_the_sla_object_never_show_another_companys_requests(
        app, browser, demo):
    made = overdue_everywhere()
    theirs = {f"/requests/{i}" for i in made["globex"]}
    mine = {f"/requests/{i}" for i in made["acme"]}
    with time_machine.travel(MONDAY_9 + timedelta(days=2), tick=False):
        for email, hidden, own_ids, other_ids in (
                (DIRECTOR, theirs, made["acme"], made["globex"]),
                (GLOBEX_DIRECTOR, mine, made["globex"], made["acme"]),
                (REQUESTER, theirs, made["acme"], made["globex"]),
                (HEAD, theirs, made["acme"], made["globex"]),
                (WORKER, theirs, made["acme"], made["globex"]),
                ("pedro@globex.test", mine, made["globex"], made["acme"])):
            page = browser(email)
            for path in LIST_PAGES:
                for query in SLA_QUERIES + ("",):
                    response = page.get(f"{path}?{query}")
                    assert response.status_code in (200, 302, 403, 404), (email, path, query)
                    text = html(response)
                    for link in hidden:
                        assert f'{link}"' not in text, (email, path, query, link)
            api = api_as(app, email)
            for path in LIST_APIS:
                for query in SLA_QUERIES:
                    response = api.get(f"{path}?{query}")
                    if response.status_code == 422:
                        continue  # an order this list does not offer
                    assert response.status_code == 200, (email, path, query, response.json)
                    for item in response.json["items"]:
                        request_id = item.get("request_id", item["id"])
                        assert request_id not in other_ids, (email, path, query)
            for other in other_ids:
                response = api.get(f"/api/v1/requests/{other}")
                assert response.status_code == 404 and "sla" not in response.json, email
            # Their own requests' clocks they may see: overdue, in their lists too
            seen = api.get("/api/v1/requests?sla=overdue&per_page=100").json["items"]
            if email in (DIRECTOR, GLOBEX_DIRECTOR):
                assert set(own_ids) <= {item["id"] for item in seen}, email
            for item in seen:
                assert item["id"] not in other_ids
                assert "breached" in {c["state"] for c in item["sla"].values()}, item["sla"]


def test_unknown_sla_filters_and_orders_are_ignored_on_pages_and_refused_by_the_api(
        app, browser, demo):
    overdue_everywhere()
    odd = (SCRIPT, IMG, "OVERDUE", "overdue ", "at-risk", "1", "", "x" * 5000, "overdue;--",
           "%00", "at_risk%0d%0aSet-Cookie:x=1", "sla", "☠", "resolution", "newest")
    with time_machine.travel(MONDAY_9 + timedelta(days=2), tick=False):
        director = browser(DIRECTOR)
        api = api_as(app, DIRECTOR)
        for path in LIST_PAGES:
            for value in odd:
                for name in ("sla", "sort"):
                    response = director.get(f"{path}?{name}={value}&{name}=overdue")
                    expected = (400,) if value == "%00" else (200, 302, 403, 404)
                    assert response.status_code in expected, (path, name, value)
                    text = html(response)
                    assert SCRIPT not in text and IMG not in text, (path, name)
        for path in LIST_APIS:
            for value in odd:
                for name in ("sla", "sort"):
                    response = api.get(f"{path}?{name}={value}")
                    assert response.status_code in (400, 200, 422), (path, name, value)
                    assert SCRIPT not in response.get_data(as_text=True)
            for query in ("sla=overdue&sla=at_risk", "sort=sla&sort=newest", "page=0&sort=sla",
                          "per_page=1000&sla=overdue", "sla[]=overdue", "sla=overdue&q=" +
                          "%25" * 200):
                assert api.get(f"{path}?{query}").status_code in (200, 422), (path, query)


def test_a_list_of_requests_due_decades_away_costs_little_per_row(app, browser, demo,
                                                                  monkeypatch):
    """A list row brings a running clock to now with the business time until its due time:
    on a calendar with a minute of work a week that was a walk of ~12,000 days a row (a page
    of 200: 2.4 million days, over a second of CPU) until the running totals of 2242087."""
    minute_a_week = {day: [] for day in WEEKDAYS} | {"mon": [["10:00", "10:01"]]}
    row = add_calendar("Un minuto", week=minute_a_week)
    add_target(row, "decision", 1500)  # 1,500 working minutes: due in 29 years
    with time_machine.travel(MONDAY_9, tick=False):
        filed = [factories.file(title=f"Pedido {i}").id for i in range(20)]
    clock = reload(filed[0]).sla_clocks[0]
    assert clock.due_at is not None and clock.due_at.year > 2050
    counter = DayCounter(monkeypatch)
    with time_machine.travel(MONDAY_9 + timedelta(days=1), tick=False):
        director = browser(DIRECTOR)
        api = api_as(app, DIRECTOR)
        for get in (lambda: director.get("/director/requests?sort=sla"),
                    lambda: api.get("/api/v1/requests?sort=sla&per_page=100")):
            counter.take()
            assert get().status_code == 200
            # a row: the days since its clock was last computed, and a few around them
            assert counter.take() <= len(filed) * 40


# --- escaping --------------------------------------------------------------------------------

def test_html_in_calendar_holiday_category_and_typed_values_is_shown_as_text(app, browser,
                                                                             demo):
    db.session.rollback()
    electricity = db.session.scalar(select(Category).where(Category.name == "Electricidad"))
    electricity.name = f"Electricidad {IMG}"
    db.session.commit()
    admin = browser(ADMIN)
    response = admin.post("/sla/calendars/new", calendar_form(
        name=f"Turno {SCRIPT}", holidays=f"12-24 Noche {IMG}\n2027-01-06 {SCRIPT}"))
    assert response.status_code == 302
    row = calendars.all_of(tenant().id)[0]
    other = add_calendar(f"Planta {IMG}")
    target = add_target(row, "resolution", 60, category_name=f"Electricidad {IMG}")
    with time_machine.travel(MONDAY_9, tick=False):
        req = factories.file(category=f"Electricidad {IMG}")
    pages = [admin.get(url) for url in (
        "/sla/calendars", f"/sla/calendars/{row.id}", f"/sla/calendars/{row.id}/edit",
        f"/sla/calendars/{row.id}/delete", f"/sla/calendars/{other.id}",
        "/sla/targets", f"/sla/targets/{target.id}/edit", f"/sla/targets/{target.id}/delete",
        "/sla/targets/new", "/admin/audit", f"/requests/{req.id}")]
    # Flashes that name a calendar, and refusals that show what was typed back
    made_default = admin.post(f"/sla/calendars/{other.id}/default")
    assert made_default.status_code == 302
    pages.append(admin.get("/sla/calendars"))
    pages.append(admin.post("/sla/calendars/new", calendar_form(
        name=SCRIPT, week_mon=f"08:00-{IMG}", holidays=f"{SCRIPT}\n2026-99-99 {IMG}",
        time_zone=IMG)))
    pages.append(admin.post("/sla/targets/new", {
        **target_form(kind=SCRIPT, priority=IMG, hours=IMG, minutes=SCRIPT,
                      warn_percent=IMG, calendar_id=IMG, category_id=SCRIPT),
        "pause_statuses": [SCRIPT, IMG]}))
    for email in (DIRECTOR, REQUESTER):
        pages.append(browser(email).get(f"/requests/{req.id}"))
    pages.append(browser(DIRECTOR).get("/sla/calendars"))
    pages.append(browser(DIRECTOR).get("/director/requests?sort=sla"))
    for response in pages:
        text = html(response)
        assert response.status_code in (200, 422), (response.request.path, response.status_code)
        assert SCRIPT not in text and IMG not in text, response.request.path
    assert "&lt;script&gt;" in html(pages[1]) and "&lt;img" in html(pages[1])
    # JSON carries the text as it was typed
    shown = api_as(app, ADMIN).get(f"{CALENDARS}/{row.id}").json
    assert shown["name"] == f"Turno {SCRIPT}"
    assert {h["name"] for h in shown["holidays"]} == {f"Noche {IMG}", SCRIPT}


# --- recompute on odd data -------------------------------------------------------------------

ODD_HISTORY = [
    # (seconds after filing, action, to_status, changes)
    (-3600, "commented", None, {}),                               # before its filing
    (60, "ticket_status", None, {"ticket_status": ["x", "on_hold", "extra"]}),
    (120, "ticket_status", None, {"ticket_status": "on_hold"}),
    (180, "ticket_status", None, {"ticket_status": [None, None]}),
    (240, "weird", "unheard_of_status", None),
    (300, "ticket_status", None, ["not", "a", "dict"]),
    (360, "returned", "returned", {}),
    (360, "resubmitted", "pending_authorization", {}),           # the same instant
    (10**8, "commented", "pending_evaluation", {}),               # years in the future
]


def test_recompute_on_a_company_with_odd_histories_is_right_and_touches_no_other(app, demo):
    from tests.sla import sla_helpers

    sla_helpers.targets("acme", decision=240, start=480, resolution=2400)
    sla_helpers.targets("globex", decision=240, start=480, resolution=2400)
    with time_machine.travel(MONDAY_9, tick=False):
        odd = factories.file()
        plain = factories.file()
        working, _task = factories.request_at("Task_Work")
        globex = factories.file("pedro@globex.test")
    db.session.rollback()
    req = reload(odd.id)
    for seconds, action, to_status, changes in ODD_HISTORY:
        db.session.add(HistoryEvent(tenant_id=req.tenant_id, request_id=req.id, action=action,
                                    to_status=to_status, changes=changes,
                                    created_at=MONDAY_9 + timedelta(seconds=seconds)))
    # A request whose clocks lost their history (an import that kept only the request)
    db.session.query(SlaClock).filter_by(request_id=plain.id).update({"computed_at": None})
    reload(working.id).sla_rematch = "decision"
    db.session.commit()
    db.session.rollback()
    globex_before = [(c.id, c.computed_at, c.state) for c in db.session.scalars(
        select(SlaClock).where(SlaClock.request_id == globex.id))]
    later = MONDAY_9 + timedelta(days=3)
    runner = app.test_cli_runner()
    with time_machine.travel(later, tick=False):
        result = runner.invoke(args=["sla", "recompute", "--tenant", "acme", "--all"])
        assert result.exit_code == 0, result.output
        first = clock_rows()
        result = runner.invoke(args=["sla", "recompute", "--tenant", "acme", "--all",
                                     "--batch", "1"])
        assert result.exit_code == 0, result.output
        assert clock_rows() == first  # recomputing again changes nothing
    db.session.rollback()
    assert [(c.id, c.computed_at, c.state) for c in db.session.scalars(
        select(SlaClock).where(SlaClock.request_id == globex.id))] == globex_before
    for clock in db.session.scalars(select(SlaClock)):
        assert clock.state in ("not_started", "running", "warning", "paused", "breached",
                               "met", "cancelled")
        assert 0 <= clock.elapsed_seconds <= (later - MONDAY_9).total_seconds() + 3600
        if clock.started_at is not None:
            assert clock.started_at <= later
    # The odd request's page, its JSON, the lists: all still answer
    with time_machine.travel(later, tick=False):
        for email in (REQUESTER, DIRECTOR):
            assert api_as(app, email).get(f"/api/v1/requests/{odd.id}").status_code == 200
            assert api_as(app, email).get("/api/v1/requests?sort=sla").status_code == 200
    for bad in (["sla", "recompute", "--tenant", "../acme"], ["sla", "recompute", "--batch",
                                                                 "0"],
                ["sla", "recompute", "--batch", "999999"], ["sla", "recompute", "--tenant",
                                                            "x" * 5000]):
        result = runner.invoke(args=bad)
        assert result.exit_code != 0 and "Traceback" not in result.output, bad


# --- the runner --------------------------------------------------------------------------

def zone_forgotten(calendar_id: int) -> None:
    """The calendar's stored zone is one this machine no longer knows (an upgrade of the zone
    database dropped a legacy name): written to the row as such data would be."""
    db.session.rollback()
    db.session.query(BusinessCalendar).filter_by(id=calendar_id).update(
        {"time_zone": "America/Forgotten_Zone"})
    db.session.commit()


def test_clocks_that_fail_every_pass_do_not_hold_back_another_companys_breaches(app, demo):
    """A pass looks at the first ``limit`` due clocks; clocks of one company that fail every
    time (here: their calendar's zone is no longer known) must not fill every pass and hold
    back another company's breaches for good (fixed by 86aac1f)."""
    from app.sla import signals
    from tests.sla import sla_helpers

    acme = sla_helpers.targets("acme", decision=1, start=1, resolution=2)
    sla_helpers.targets("globex", decision=1, start=1, resolution=2)
    with time_machine.travel(MONDAY_9, tick=False):
        stuck = [factories.file().id for _ in range(2)]
        theirs = factories.file("pedro@globex.test").id
    zone_forgotten(acme["calendar"].id)
    with time_machine.travel(MONDAY_9 + timedelta(days=1), tick=False):
        for _ in range(5):
            signals.run(limit=2)
    db.session.rollback()
    breached = db.session.scalars(select(SlaClock.breach_sent_at).where(
        SlaClock.request_id == theirs, SlaClock.kind == "decision")).one()
    assert breached is not None, "globex's breach never sent"
    assert all(reload(i).sla_clocks for i in stuck)


def test_a_calendar_whose_zone_was_forgotten_can_be_opened_and_repaired(app, browser, demo):
    row = add_calendar("Oficina")
    add_target(row, "decision", 240)
    with time_machine.travel(MONDAY_9, tick=False):
        req = factories.file()
    zone_forgotten(row.id)
    admin, api = browser(ADMIN), api_as(app, ADMIN)
    for url in ("/sla/calendars", f"/sla/calendars/{row.id}", f"/sla/calendars/{row.id}/edit",
                f"/sla/calendars/{row.id}/delete", "/sla/targets"):
        assert admin.get(url).status_code == 200, url
    assert api.get(f"{CALENDARS}/{row.id}").status_code == 200
    # Saving it as it is asks for a zone; with one, it is repaired and its clocks recomputed
    assert admin.post(f"/sla/calendars/{row.id}/edit", calendar_form(
        time_zone="America/Forgotten_Zone")).status_code == 422
    assert api.patch(f"{CALENDARS}/{row.id}", {"name": "Oficina 2"}).status_code == 422
    assert admin.post(f"/sla/calendars/{row.id}/edit", calendar_form()).status_code == 302
    with time_machine.travel(MONDAY_9 + timedelta(hours=1), tick=False):
        assert recompute_tenant(tenant().id) == 1
    assert reload(req.id).sla_clocks[0].state in ("running", "warning", "breached")


def test_a_calendar_whose_zone_was_forgotten_stops_no_step_page_or_list(app, browser, demo):
    """Once a calendar's stored zone is unknown to the machine (an upgrade of the zone
    database dropping a legacy name), its clocks keep their cached values (logged): no step,
    page, JSON or list of the company answers 500 until an admin repairs it."""
    row = add_calendar("Oficina")
    add_target(row, "decision", 240)
    with time_machine.travel(MONDAY_9, tick=False):
        req = factories.file()
    zone_forgotten(row.id)
    failures = []
    for email in (REQUESTER, DIRECTOR):
        page = browser(email)
        for url in (f"/requests/{req.id}", "/requests", "/director/requests", "/inbox"):
            try:
                status = page.get(url).status_code
            except Exception as exc:  # noqa: BLE001 (the test client raises a server's 500)
                status = type(exc).__name__
            if status not in (200, 302, 404):
                failures.append((email, url, status))
    task = factories.open_task(reload(req.id), "Task_Authorize")
    try:
        status = browser(HEAD).post(f"/tasks/{task.id}", {"handler": "authorize",
                                                          "decision": "authorize"}).status_code
    except Exception as exc:  # noqa: BLE001
        status = type(exc).__name__
    if status != 302:
        failures.append(("step", status))
    assert failures == [], failures



def test_a_calendar_shared_by_threads_keeps_right_business_times():
    """service.calendar_of shares one Calendar per row version between a process's threads
    (gunicorn's gthread workers, the embedded runner): extending its running totals at once
    appended days twice and shifted every later total, for good (fixed by 63b3166)."""
    week = (((480, 720), (840, 1080)),) * 5 + ((), ())
    start = datetime(2026, 1, 5, 13, tzinfo=UTC)
    ends = [start + timedelta(days=400 + 37 * i) for i in range(8)]
    fresh = Calendar("America/Bogota", week)
    expected = [fresh.business_time(start, end) for end in ends]
    wrong = []
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads take turns as often as a busy server's would
    try:
        for _ in range(20):
            shared = Calendar("America/Bogota", week)
            barrier = threading.Barrier(len(ends))
            got: dict = {}

            def measure(i, shared=shared, barrier=barrier, got=got):
                barrier.wait(timeout=30)
                got[i] = shared.business_time(start, ends[i])

            threads = [threading.Thread(target=measure, args=(i,)) for i in range(len(ends))]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
            wrong += [i for i in range(len(ends)) if got.get(i) != expected[i]]
            wrong += [i for i, end in enumerate(ends)
                      if shared.business_time(start, end) != expected[i]]
            if wrong:
                break
    finally:
        sys.setswitchinterval(switch)
    assert wrong == []



def test_a_clock_whose_calendar_zone_was_forgotten_still_sends_its_breach(app, demo):
    from app.sla import signals
    from tests.sla import sla_helpers

    acme = sla_helpers.targets("acme", decision=1, start=1, resolution=2)
    with time_machine.travel(MONDAY_9, tick=False):
        req = factories.file().id
    zone_forgotten(acme["calendar"].id)
    with time_machine.travel(MONDAY_9 + timedelta(days=1), tick=False):
        signals.run()
    db.session.rollback()
    sent = db.session.scalar(select(SlaClock.breach_sent_at).where(
        SlaClock.request_id == req, SlaClock.kind == "decision"))
    assert sent is not None


def test_a_suspended_companys_warnings_and_breaches_wait_for_its_resumption(app, demo):
    from app.sla import signals
    from tests.sla import sla_helpers

    sla_helpers.targets("globex", decision=1, start=1, resolution=2)
    with time_machine.travel(MONDAY_9, tick=False):
        req = factories.file("pedro@globex.test").id
    db.session.rollback()
    globex = tenant("globex")
    globex.status = "suspended"
    db.session.commit()
    with time_machine.travel(MONDAY_9 + timedelta(days=1), tick=False):
        signals.run()
    db.session.rollback()
    written = db.session.scalar(select(func.count()).select_from(HistoryEvent).where(
        HistoryEvent.request_id == req, HistoryEvent.action.like("sla_%")))
    assert written == 0, "a suspended company's breach was written"
    globex = tenant("globex")
    globex.status = "active"
    db.session.commit()
    with time_machine.travel(MONDAY_9 + timedelta(days=1, minutes=1), tick=False):
        signals.run()
        signals.run()
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(HistoryEvent).where(
        HistoryEvent.request_id == req, HistoryEvent.action == "sla_breached")) == 2


def test_the_signals_command_refuses_a_negative_interval(app, demo):
    result = app.test_cli_runner().invoke(args=["sla", "signals", "--loop", "--every", "-1"])
    assert result.exit_code == 2, (result.exit_code, result.output[-300:])
    assert "sent" not in result.output


@POSTGRESQL_ONLY
def test_a_calendar_edited_while_a_step_computes_its_clocks_is_not_forgotten(app, browser,
                                                                             demo, monkeypatch):
    """A step read the calendar and computed the request's clocks; before it writes them the
    admin saves a new week (flagging the clocks on it for recomputing) and commits. The step
    then writes clocks computed with the old week: they must still end up computed with the
    new one (flagged for the runner, or waited for), not marked fresh for good."""
    row = add_calendar("Oficina")  # 08:00-12:00 and 14:00-18:00
    add_target(row, "resolution", 60 * 10)
    with time_machine.travel(MONDAY_9, tick=False):
        req = factories.file().id
    computed, go = threading.Event(), threading.Event()
    original = service.clocks_of

    def paused(request, events, now):
        found = original(request, events, now)
        if threading.current_thread() is stepper and not computed.is_set():
            computed.set()
            assert go.wait(30)
        return found

    monkeypatch.setattr(service, "clocks_of", paused)
    later = MONDAY_9 + timedelta(hours=1)
    task = factories.open_task(reload(req), "Task_Authorize").id
    results: list = []

    def authorize():
        with time_machine.travel(later, tick=False):
            head = browser(HEAD)
            results.append(head.post(f"/tasks/{task}", {
                "handler": "authorize", "decision": "authorize"}).status_code)

    stepper = threading.Thread(target=authorize)
    stepper.start()
    assert computed.wait(30)
    admin_api, answers = api_as(app, ADMIN), []
    # The admin saves a new week meanwhile: on PostgreSQL it waits for the step (which holds
    # its clocks' calendars), so it runs beside it
    week = week_json(**{day: [["00:00", "24:00"]] for day in WEEKDAYS})
    url = f"{CALENDARS}/{row.id}"

    def edit():
        try:
            answers.append(admin_api.patch(url, {"week": week}).status_code)
        except Exception as exc:  # noqa: BLE001 (the test client raises a server's 500)
            answers.append(repr(exc))

    editor = threading.Thread(target=edit)
    editor.start()
    editor.join(1)
    go.set()
    stepper.join(60)
    editor.join(60)
    assert answers == [200] and results == [302], (answers, results)
    # The runner (or the command) recomputes what is flagged; then it must be the new week's
    monkeypatch.setattr(service, "clocks_of", original)
    with time_machine.travel(later, tick=False):
        from app.sla import signals
        signals.run()
    db.session.rollback()
    clock = db.session.scalars(select(SlaClock).where(SlaClock.request_id == req)).one()
    # Every hour counts now: filed Monday 09:00 (Bogotá), 10 hours later is 19:00
    assert clock.due_at == MONDAY_9 + timedelta(hours=10), clock.due_at


def test_a_patch_of_one_weekday_leaves_the_other_days_alone(app, demo):
    """A careless PATCH that gives Saturday's shifts (``{"week": {"sat": [...]}}``) must not
    turn Monday to Friday into days off; PUT, which replaces, still takes the week whole."""
    row = add_calendar("Oficina")
    api = api_as(app, ADMIN)
    url = f"{CALENDARS}/{row.id}"
    patched = api.patch(url, {"week": {"sat": [["09:00", "13:00"]]}})
    assert patched.status_code == 200, patched.json
    assert patched.json["week"] == {**OFFICE_WEEK, "sat": [["09:00", "13:00"]]}
    patched = api.patch(url, {"week": {"mon": [], "sat": []}})
    assert patched.json["week"] == {**OFFICE_WEEK, "mon": []}
    # Leaving no working time is still refused, and so is a week that names no day
    assert api.patch(url, {"week": {d: [] for d in WEEKDAYS}}).status_code == 422
    assert api.patch(url, {"week": {}}).status_code == 422
    assert api.patch(url, {"week": {"mon": [["08:00", "25:00"]]}}).status_code == 422
    replaced = api.put(url, calendar_body(name="Oficina", week={"sat": [["09:00", "13:00"]]}))
    assert replaced.status_code == 200
    assert replaced.json["week"] == {**{d: [] for d in WEEKDAYS}, "sat": [["09:00", "13:00"]]}


def test_names_with_line_breaks_or_invisible_characters_are_refused(app, browser, demo):
    """As people's, units' and the company's names: one line of visible text, no direction
    override that would show a calendar or holiday name reversed in lists and the audit."""
    row = add_calendar("Oficina")
    api, admin = api_as(app, ADMIN), browser(ADMIN)
    before = snapshot()
    for name in ("Ofi\ncina", "Oficina\u202etxt.exe", "\u200b", "\u2066Planta\u2069",
                 "Planta\u2028Nocturna", "\u00ad"):
        assert_clean(api.post(CALENDARS, calendar_body(name=name)), 422, what=repr(name))
        assert_clean(api.patch(f"{CALENDARS}/{row.id}", {"name": name}), 422, what=repr(name))
        if "\n" not in name and "\u2028" not in name:
            assert_clean(admin.post("/sla/calendars/new", calendar_form(name=name)), 422,
                         what=repr(name))
        holiday = [{"date": "2026-12-24", "name": f"Noche{name}"}]
        assert_clean(api.patch(f"{CALENDARS}/{row.id}", {"holidays": holiday}), 422,
                     what=repr(name))
    assert_clean(admin.post("/sla/calendars/new", calendar_form(
        name="Nueva", holidays="2026-12-24 Noche\u202ebuena")), 422)
    assert snapshot() == before
