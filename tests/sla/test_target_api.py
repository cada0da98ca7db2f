"""SLA targets over the API (/api/v1/admin/sla/targets): the same rules as the pages; the
default calendar when none is given (none: refused); one per kind, category and priority;
``apply_to_open`` flags exactly the open requests in the target's scope; 422 by field and
nothing changed on bad input, 404 for another company's ids, 403 for roles that may not;
directors read."""

import pytest

from app.extensions import db
from app.models import ServiceRequest
from tests import factories
from tests.sla.admin_helpers import (
    add_calendar,
    add_target,
    clocks_of,
    stale,
    target_rows,
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
)

URL = "/api/v1/admin/sla/targets"


def test_create_read_list_change_and_delete(demo, app):
    cal = add_calendar("Oficina")
    planta = add_calendar("Planta")
    api = api_as(app, ADMIN)
    created = api.post(URL, {"kind": "resolution", "minutes": 270})
    assert created.status_code == 201, created.json
    target = created.json
    assert {k: target[k] for k in ("kind", "category_id", "category_name", "priority",
                                    "minutes", "warn_percent", "pause_statuses",
                                    "calendar_id", "calendar_name")} == {
        "kind": "resolution", "category_id": None, "category_name": None, "priority": None,
        "minutes": 270, "warn_percent": 75, "pause_statuses": ["returned", "on_hold"],
        "calendar_id": cal.id, "calendar_name": "Oficina"}
    url = f"{URL}/{target['id']}"
    assert api.get(url).json == target
    electric = category("Electricidad").id
    second = api.post(URL, {"kind": "decision", "category_id": electric, "priority": "high",
                            "minutes": 60, "warn_percent": 50, "pause_statuses": [],
                            "calendar_id": planta.id})
    assert second.status_code == 201, second.json
    assert (second.json["category_name"], second.json["calendar_name"]) == (
        "Electricidad", "Planta")
    listed = api.get(URL).json
    assert [t["kind"] for t in listed["items"]] == ["decision", "resolution"]
    assert api.get(f"{URL}?kind=resolution").json["total"] == 1
    patched = api.patch(url, {"minutes": 480, "pause_statuses": ["on_hold", "returned",
                                                                  "on_hold"]})
    assert patched.status_code == 200, patched.json
    assert (patched.json["minutes"], patched.json["pause_statuses"]) == (
        480, ["returned", "on_hold"])
    replaced = api.put(url, {"kind": "start", "minutes": 120, "calendar_id": planta.id})
    assert replaced.status_code == 200, replaced.json
    assert (replaced.json["kind"], replaced.json["warn_percent"],
            replaced.json["calendar_id"]) == ("start", 75, planta.id)
    assert api.delete(url).status_code == 204
    assert api.get(url).status_code == 404
    assert [e.action for e in entries("sla_target.")] == [
        "sla_target.created", "sla_target.created", "sla_target.updated",
        "sla_target.updated", "sla_target.deleted"]
    update = entries("sla_target.")[2]
    assert (update.before, update.after) == ({"minutes": 270}, {"minutes": 480})


def test_without_a_calendar_a_target_is_refused(demo, app):
    response = api_as(app, ADMIN).post(URL, {"kind": "decision", "minutes": 60})
    assert response.status_code == 422
    assert list(response.json["errors"]) == ["calendar_id"]
    assert target_rows() == []


@pytest.mark.parametrize(("change", "field"), [
    ({"minutes": 0}, "minutes"),
    ({"minutes": -30}, "minutes"),
    ({"minutes": 86_401}, "minutes"),
    ({"minutes": 10**30}, "minutes"),
    ({"minutes": 4.5}, "minutes"),
    ({"minutes": "240"}, "minutes"),
    ({"minutes": True}, "minutes"),
    ({"minutes": None}, "minutes"),
    ({"kind": "speed"}, "kind"),
    ({"kind": None}, "kind"),
    ({"priority": "extreme"}, "priority"),
    ({"category_id": 0}, "category_id"),
    ({"category_id": 999_999}, "category_id"),
    ({"category_id": "abc"}, "category_id"),
    ({"calendar_id": 999_999}, "calendar_id"),
    ({"calendar_id": -1}, "calendar_id"),
    ({"warn_percent": 0}, "warn_percent"),
    ({"warn_percent": 101}, "warn_percent"),
    ({"warn_percent": 7.5}, "warn_percent"),
    ({"pause_statuses": ["returned", "cancelled"]}, "pause_statuses.1"),
    ({"pause_statuses": "returned"}, "pause_statuses"),
    ({"pause_statuses": ["returned"] * 11}, "pause_statuses"),
    ({"apply_to_open": "maybe"}, "apply_to_open"),
    ({"surprise": 1}, "surprise"),
])
def test_a_wrong_target_is_refused_by_field_and_changes_nothing(demo, app, change, field):
    add_calendar("Oficina")
    api = api_as(app, ADMIN)
    response = api.post(URL, {"kind": "resolution", "minutes": 240, **change})
    assert response.status_code == 422, response.json
    assert response.headers["Content-Type"] == "application/problem+json"
    assert field in response.json["errors"], response.json
    assert target_rows() == [] and entries("sla_target.") == []


def test_another_companys_category_and_calendar_are_refused(demo, app):
    add_calendar("Oficina")
    theirs = add_calendar("Oficina", slug="globex")
    api = api_as(app, ADMIN)
    for change in ({"category_id": category("Aire acondicionado", "globex").id},
                   {"calendar_id": theirs.id}):
        response = api.post(URL, {"kind": "decision", "minutes": 60, **change})
        assert response.status_code == 422 and list(response.json["errors"]) == list(change)
    assert target_rows() == []


def test_one_target_per_kind_category_and_priority(demo, app):
    cal = add_calendar("Oficina")
    add_target(cal, "decision", 60, priority="urgent")
    other = add_target(cal, "decision", 120)
    api = api_as(app, ADMIN)
    before = target_rows()
    twin = api.post(URL, {"kind": "decision", "priority": "urgent", "minutes": 30})
    assert twin.status_code == 422 and list(twin.json["errors"]) == ["_schema"]
    moved = api.patch(f"{URL}/{other.id}", {"priority": "urgent"})
    assert moved.status_code == 422 and list(moved.json["errors"]) == ["_schema"]
    assert target_rows() == before and len(entries("sla_target.")) == 2
    assert api.patch(f"{URL}/{other.id}", {"priority": "high"}).status_code == 200


def test_a_change_refused_leaves_the_target_as_it_was(demo, app):
    target = add_target(add_calendar("Oficina"), "resolution", 240)
    api = api_as(app, ADMIN)
    before = target_rows()
    for change in ({"minutes": 0}, {"warn_percent": 0}, {"calendar_id": 999_999},
                   {"minutes": 60, "kind": "nope"}):
        assert api.patch(f"{URL}/{target.id}", change).status_code == 422, change
    assert api.put(f"{URL}/{target.id}", {"minutes": 60}).status_code == 422  # no kind
    assert target_rows() == before and len(entries("sla_target.")) == 1


def test_apply_to_open_flags_the_open_requests_in_scope_only(demo, app):
    cal = add_calendar("Oficina")
    add_target(cal, "resolution", 240)
    electric = factories.file(REQUESTER, category="Electricidad")   # priority high
    plumbing = factories.file(REQUESTER, category="Plomería")       # priority normal
    done = factories.file(REQUESTER, category="Electricidad")
    db.session.get(ServiceRequest, done.id).status = "completed"
    db.session.commit()
    api = api_as(app, ADMIN)
    kept = api.post(URL, {"kind": "decision", "priority": "high", "minutes": 60})
    assert kept.status_code == 201
    assert stale(electric, plumbing, done) == [False, False, False]
    applied = api.post(URL, {"kind": "start", "priority": "high", "minutes": 60,
                             "apply_to_open": True})
    assert applied.status_code == 201 and "apply_to_open" not in applied.json
    assert stale(electric, plumbing, done) == [True, False, False]
    assert entries("sla_target.created")[-1].after["applied_to_open"] is True
    old = api.patch(f"{URL}/{kept.json['id']}", {"minutes": 90})
    assert old.status_code == 200 and stale(plumbing) == [False]
    assert [c.minutes for c in clocks_of(electric)] == [240]  # its terms until re-matched
    widened = api.patch(f"{URL}/{kept.json['id']}", {"priority": None,
                                                      "apply_to_open": True})
    assert widened.status_code == 200, widened.json
    assert stale(electric, plumbing, done) == [True, True, False]


def test_deleting_a_target_leaves_the_clocks_it_set_as_they_are(demo, app):
    target = add_target(add_calendar("Oficina"), "resolution", 240)
    req = factories.file(REQUESTER)
    [clock] = clocks_of(req)
    terms = (clock.minutes, clock.warn_percent, clock.pause_statuses, clock.calendar_id)
    assert api_as(app, ADMIN).delete(f"{URL}/{target.id}").status_code == 204
    [clock] = clocks_of(req)
    assert (clock.minutes, clock.warn_percent, clock.pause_statuses, clock.calendar_id) == terms
    assert stale(req) == [False]


def test_another_companys_target_is_not_found(demo, app):
    add_calendar("Oficina")
    theirs = add_target(add_calendar("Oficina", slug="globex"), "resolution", 60,
                        slug="globex")
    api = api_as(app, ADMIN)
    before = target_rows()
    url = f"{URL}/{theirs.id}"
    assert api.get(url).status_code == 404
    assert api.put(url, {"kind": "decision", "minutes": 10}).status_code == 404
    assert api.patch(url, {"minutes": 10}).status_code == 404
    assert api.delete(url).status_code == 404
    assert api.get(URL).json["total"] == 0
    assert target_rows() == before


def test_directors_read_and_may_not_change(demo, app):
    target = add_target(add_calendar("Oficina"), "decision", 480)
    director = api_as(app, DIRECTOR)
    assert director.get(URL).json["items"][0]["minutes"] == 480
    assert director.get(f"{URL}/{target.id}").status_code == 200
    before = target_rows()
    assert director.post(URL, {"kind": "start", "minutes": 60}).status_code == 403
    assert director.patch(f"{URL}/{target.id}", {"minutes": 1}).status_code == 403
    assert director.put(f"{URL}/{target.id}", {"kind": "start", "minutes": 1}).status_code \
        == 403
    assert director.delete(f"{URL}/{target.id}").status_code == 403
    assert target_rows() == before
    assert api_as(app, GLOBEX_DIRECTOR).get(f"{URL}/{target.id}").status_code == 404


@pytest.mark.parametrize("email", [REQUESTER, HEAD, WORKER])
def test_others_are_refused(demo, app, email):
    target = add_target(add_calendar("Oficina"), "decision", 480)
    person = api_as(app, email)
    for response in (person.get(URL), person.get(f"{URL}/{target.id}"),
                     person.post(URL, {"kind": "start", "minutes": 60}),
                     person.patch(f"{URL}/{target.id}", {"minutes": 1}),
                     person.delete(f"{URL}/{target.id}")):
        assert response.status_code == 403, response.json
    assert len(target_rows()) == 1


def test_the_list_pages(demo, app):
    cal = add_calendar("Oficina")
    for priority in ("low", "normal", "high", "urgent", None):
        add_target(cal, "resolution", 60, priority=priority)
    api = api_as(app, ADMIN)
    page = api.get(f"{URL}?per_page=2&page=1").json
    assert (page["total"], page["pages"]) == (5, 3)
    assert [t["priority"] for t in page["items"]] == [None, "low"]  # any first
    assert api.get(f"{URL}?kind=nope").status_code == 422


def test_the_openapi_document_describes_the_targets(demo, app):
    from tests.api.conftest import ApiClient

    spec = ApiClient(app).get("/api/v1/openapi.json").json
    assert set(spec["paths"][URL]) >= {"get", "post"}
    assert set(spec["paths"][URL + "/{target_id}"]) >= {"get", "put", "patch", "delete"}
    target_in = spec["components"]["schemas"]["SlaTargetIn"]["properties"]
    assert target_in["minutes"]["minimum"] == 1 and "apply_to_open" in target_in
