"""Business calendars over the API (/api/v1/admin/sla/calendars): the same rules as the pages;
week and holidays as JSON, stored as sent; 422 by field and nothing changed on bad input, 409
for a calendar in use or the default, 404 for another company's ids, 403 for roles that may
not; directors read."""

import pytest

from app.extensions import db
from app.models import SlaClock
from app.models.base import utcnow
from tests import factories
from tests.sla.admin_helpers import (
    OFFICE,
    OFFICE_WEEK,
    add_calendar,
    add_target,
    calendar_rows,
    clocks_of,
)
from tests.viability.budget_helpers import (
    ADMIN,
    DIRECTOR,
    GLOBEX_DIRECTOR,
    HEAD,
    REQUESTER,
    WORKER,
    api_as,
    entries,
)

URL = "/api/v1/admin/sla/calendars"


def body(**over) -> dict:
    values = {"name": "Oficina", "time_zone": "America/Bogota", "week": OFFICE_WEEK,
              "holidays": [{"date": "2026-12-08", "name": "Inmaculada Concepción"},
                           {"date": "2026-12-25", "yearly": True, "name": "Navidad"}]}
    values.update(over)
    return values


def test_create_read_list_change_make_default_and_delete(demo, app):
    api = api_as(app, ADMIN)
    created = api.post(URL, body())
    assert created.status_code == 201, created.json
    calendar = created.json
    assert (calendar["name"], calendar["time_zone"], calendar["is_default"]) == (
        "Oficina", "America/Bogota", True)
    assert calendar["week"] == OFFICE_WEEK
    assert calendar["holidays"] == [
        {"date": "2000-12-25", "yearly": True, "name": "Navidad"},
        {"date": "2026-12-08", "yearly": False, "name": "Inmaculada Concepción"}]
    url = f"{URL}/{calendar['id']}"
    assert api.get(url).json == calendar
    second = api.post(URL, body(name="Planta", week={"mon": [["22:00", "24:00"]]}))
    assert second.status_code == 201, second.json
    assert second.json["is_default"] is False
    assert second.json["week"] == {"mon": [["22:00", "24:00"]], "tue": [], "wed": [],
                                   "thu": [], "fri": [], "sat": [], "sun": []}
    listed = api.get(URL).json
    assert listed["total"] == 2 and [c["name"] for c in listed["items"]] == [
        "Oficina", "Planta"]
    patched = api.patch(url, {"name": "Horario de oficina", "holidays": []})
    assert patched.status_code == 200, patched.json
    assert (patched.json["name"], patched.json["holidays"], patched.json["week"]) == (
        "Horario de oficina", [], OFFICE_WEEK)
    replaced = api.put(url, body(name="Horario", time_zone="Europe/Madrid"))
    assert replaced.status_code == 200, replaced.json
    assert replaced.json["time_zone"] == "Europe/Madrid"
    made = api.patch(f"{URL}/{second.json['id']}", {"is_default": True})
    assert made.status_code == 200 and made.json["is_default"] is True
    assert api.get(url).json["is_default"] is False
    assert api.delete(url).status_code == 204
    assert api.get(url).status_code == 404
    assert [e.action for e in entries("sla_calendar.")] == [
        "sla_calendar.created", "sla_calendar.created", "sla_calendar.updated",
        "sla_calendar.updated", "sla_calendar.updated", "sla_calendar.updated",
        "sla_calendar.deleted"]
    patch = entries("sla_calendar.")[2]
    assert patch.before == {"name": "Oficina", "holidays": calendar["holidays"]}
    assert patch.after == {"name": "Horario de oficina", "holidays": []}


def test_the_zone_defaults_to_the_companys_and_the_holidays_to_none(demo, app):
    created = api_as(app, ADMIN).post(URL, {"name": "Oficina", "week": OFFICE_WEEK})
    assert created.status_code == 201, created.json
    assert (created.json["time_zone"], created.json["holidays"]) == ("America/Bogota", [])


def test_a_week_change_marks_the_open_clocks_on_it_for_recomputing(demo, app):
    cal = add_calendar("Oficina")
    add_target(cal, "resolution", 600)
    req = factories.file(REQUESTER)
    assert clocks_of(req)[0].computed_at is not None
    api = api_as(app, ADMIN)
    assert api.patch(f"{URL}/{cal.id}", {"name": "Otra"}).status_code == 200
    assert clocks_of(req)[0].computed_at is not None
    shorter = {**OFFICE_WEEK, "fri": [["08:00", "12:00"]]}
    assert api.patch(f"{URL}/{cal.id}", {"week": shorter}).status_code == 200
    assert clocks_of(req)[0].computed_at is None


@pytest.mark.parametrize(("change", "field"), [
    ({"week": {**OFFICE_WEEK, "mon": [["08:00", "12:00"], ["11:00", "14:00"]]}}, "week.mon"),
    ({"week": {**OFFICE_WEEK, "tue": [["12:00", "08:00"]]}}, "week.tue"),
    ({"week": {**OFFICE_WEEK, "wed": [["8h", "12h"]]}}, "week.wed"),
    ({"week": {**OFFICE_WEEK, "wed": [["08:00", "24:01"]]}}, "week.wed"),
    ({"week": {**OFFICE_WEEK, "thu": [["08:00"]]}}, "week.thu.0"),
    ({"week": {**OFFICE_WEEK, "thu": [["08:00", "09:00", "10:00"]]}}, "week.thu.0"),
    ({"week": {**OFFICE_WEEK, "fri": [["08:00", "08:30"]] * 7}}, "week.fri"),
    ({"week": {**OFFICE_WEEK, "sat": "08:00-12:00"}}, "week.sat"),
    ({"week": {**OFFICE_WEEK, "someday": []}}, "week.someday"),
    ({"week": {day: [] for day in OFFICE_WEEK}}, "week"),
    ({"week": {}}, "week"),
    ({"week": None}, "week"),
    ({"week": [OFFICE] * 7}, "week._schema"),
    ({"time_zone": "Mars/Olympus_Mons"}, "time_zone"),
    ({"time_zone": ""}, "time_zone"),
    ({"time_zone": " America/Bogota"}, "time_zone"),
    ({"time_zone": "America/../Bogota"}, "time_zone"),
    ({"time_zone": 5}, "time_zone"),
    ({"time_zone": "x" * 65}, "time_zone"),
    ({"name": ""}, "name"),
    ({"name": "x" * 121}, "name"),
    ({"name": None}, "name"),
    ({"holidays": [{"date": "2026-02-30", "name": "Nunca"}]}, "holidays.0.date"),
    ({"holidays": [{"date": "25/12", "name": "Navidad"}]}, "holidays.0.date"),
    ({"holidays": [{"name": "Sin fecha"}]}, "holidays.0.date"),
    ({"holidays": [{"date": "2026-12-25", "name": "x" * 121}]}, "holidays.0.name"),
    ({"holidays": [{"date": "2026-12-25"}, {"date": "2026-12-25"}]}, "holidays"),
    ({"holidays": [{"date": "2026-12-25", "yearly": True},
                   {"date": "2030-12-25", "yearly": True}]}, "holidays"),
    ({"holidays": [{"date": f"2027-{1 + i // 28:02d}-{1 + i % 28:02d}"} for i in range(336)]
      + [{"date": f"2028-{1 + i // 28:02d}-{1 + i % 28:02d}"} for i in range(65)]},
     "holidays"),
    ({"holidays": "12-25 Navidad"}, "holidays"),
    ({"is_default": "maybe"}, "is_default"),
])
def test_a_wrong_calendar_is_refused_by_field_and_changes_nothing(demo, app, change, field):
    add_calendar("Existente")
    api = api_as(app, ADMIN)
    before = calendar_rows()
    response = api.post(URL, body(**change))
    assert response.status_code == 422, response.json
    assert response.headers["Content-Type"] == "application/problem+json"
    assert field in response.json["errors"], response.json
    assert calendar_rows() == before and len(entries("sla_calendar.")) == 1


def test_a_change_refused_leaves_the_calendar_as_it_was(demo, app):
    cal = add_calendar("Oficina")
    add_calendar("Planta")
    api = api_as(app, ADMIN)
    before = calendar_rows()
    for change in ({"name": "planta"}, {"time_zone": "Nowhere/City"},
                   {"week": {"mon": [["09:00", "10:00"], ["09:30", "11:00"]]}},
                   {"is_default": False}, {"name": "Nuevo", "week": {}}):
        response = api.patch(f"{URL}/{cal.id}", change)
        assert response.status_code == 422, (change, response.json)
    assert api.put(f"{URL}/{cal.id}", {"name": "Sin semana"}).status_code == 422
    assert calendar_rows() == before and len(entries("sla_calendar.")) == 2
    taken = api.patch(f"{URL}/{cal.id}", {"name": "PLANTA"}).json
    assert list(taken["errors"]) == ["name"]
    default = api.patch(f"{URL}/{cal.id}", {"is_default": False}).json
    assert list(default["errors"]) == ["is_default"]


def test_the_default_and_calendars_in_use_are_not_deleted(demo, app):
    default = add_calendar("Oficina")
    planta = add_calendar("Planta")
    target = add_target(planta, "resolution", 600)
    api = api_as(app, ADMIN)

    def refused(cal) -> bool:
        response = api.delete(f"{URL}/{cal.id}")
        return (response.status_code == 409 and bool(response.json["detail"])
                and response.headers["Content-Type"] == "application/problem+json")

    assert refused(default) and refused(planta)  # the default; a target's
    req = factories.file(REQUESTER)
    assert [c.calendar_id for c in clocks_of(req)] == [planta.id]
    db.session.merge(target).calendar_id = default.id  # no target uses Planta now
    db.session.commit()
    assert refused(planta)  # the open request's clock runs on it
    for clock in db.session.query(SlaClock).all():
        clock.stopped_at = utcnow()
    db.session.commit()
    assert refused(planta)  # the stopped clock keeps it
    assert len(calendar_rows()) == 2 and entries("sla_calendar.deleted") == []
    free_id = add_calendar("Libre").id
    assert api.delete(f"{URL}/{free_id}").status_code == 204
    assert [e.target_id for e in entries("sla_calendar.deleted")] == [free_id]


def test_another_companys_calendar_is_not_found(demo, app):
    theirs = add_calendar("Oficina", slug="globex")
    api = api_as(app, ADMIN)
    before = calendar_rows()
    url = f"{URL}/{theirs.id}"
    assert api.get(url).status_code == 404
    assert api.put(url, body()).status_code == 404
    assert api.patch(url, {"is_default": True}).status_code == 404
    assert api.delete(url).status_code == 404
    assert api.get(f"{URL}/99999999999").status_code == 404
    assert api.get(URL).json["total"] == 0
    assert calendar_rows() == before


def test_directors_read_and_may_not_change(demo, app):
    cal = add_calendar("Oficina")
    director = api_as(app, DIRECTOR)
    assert director.get(URL).json["total"] == 1
    assert director.get(f"{URL}/{cal.id}").json["name"] == "Oficina"
    before = calendar_rows()
    assert director.post(URL, body(name="Otro")).status_code == 403
    assert director.patch(f"{URL}/{cal.id}", {"name": "X"}).status_code == 403
    assert director.put(f"{URL}/{cal.id}", body()).status_code == 403
    assert director.delete(f"{URL}/{cal.id}").status_code == 403
    assert calendar_rows() == before
    globex = api_as(app, GLOBEX_DIRECTOR)
    assert globex.get(URL).json["total"] == 0
    assert globex.get(f"{URL}/{cal.id}").status_code == 404


@pytest.mark.parametrize("email", [REQUESTER, HEAD, WORKER])
def test_others_are_refused(demo, app, email):
    cal = add_calendar("Oficina")
    person = api_as(app, email)
    for response in (person.get(URL), person.get(f"{URL}/{cal.id}"),
                     person.post(URL, body(name="X")),
                     person.patch(f"{URL}/{cal.id}", {"name": "X"}),
                     person.delete(f"{URL}/{cal.id}")):
        assert response.status_code == 403, response.json
    assert len(calendar_rows()) == 1


def test_without_a_token_nothing_is_answered(demo, app):
    from tests.api.conftest import ApiClient

    assert ApiClient(app).get(URL).status_code == 401


def test_the_list_pages(demo, app):
    for i in range(5):
        add_calendar(f"Calendario {i}")
    api = api_as(app, ADMIN)
    page = api.get(f"{URL}?per_page=2&page=3").json
    assert (page["total"], page["pages"], len(page["items"])) == (5, 3, 1)
    assert api.get(f"{URL}?per_page=1000").status_code == 422


def test_the_openapi_document_describes_the_calendars(demo, app):
    from tests.api.conftest import ApiClient

    spec = ApiClient(app).get("/api/v1/openapi.json").json
    paths = spec["paths"]
    assert set(paths[URL]) >= {"get", "post"}
    assert set(paths[URL + "/{calendar_id}"]) >= {"get", "put", "patch", "delete"}
    assert "409" in paths[URL + "/{calendar_id}"]["delete"]["responses"]
    schemas = spec["components"]["schemas"]
    assert {"SlaCalendarIn", "SlaCalendarOut", "SlaWeek", "SlaHoliday"} <= set(schemas)
