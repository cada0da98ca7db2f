"""The SLA target pages (/sla/targets): a tenant admin sets one target per kind, category and
priority on a calendar (the default unless chosen), its length in hours and minutes, its
warning threshold and its pauses; each change is audited field by field; a zero or negative
length, a duplicate or a stranger's id is refused and changes nothing; "apply to open
requests" flags exactly the open requests the target may match, otherwise they keep their
terms; directors read the list, others find nothing; other companies' targets are not
found."""

from html import unescape

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import ServiceRequest, SlaTarget
from tests import factories
from tests.accounts.conftest import english
from tests.sla.admin_helpers import (
    add_calendar,
    add_target,
    clocks_of,
    stale,
    target_form,
    target_rows,
    with_pauses,
)
from tests.viability.budget_helpers import (
    ADMIN,
    DIRECTOR,
    HEAD,
    REQUESTER,
    WORKER,
    category,
    entries,
)


def only_target() -> SlaTarget:
    db.session.rollback()
    return db.session.scalars(select(SlaTarget)).one()


def test_without_a_calendar_the_page_asks_for_one_first(demo, browser):
    admin = english(browser(ADMIN))
    listing = admin.get("/sla/targets").get_data(as_text=True)
    assert "create a calendar first" in listing and "New target</a>" not in listing
    page = admin.get("/sla/targets/new").get_data(as_text=True)
    assert "create a calendar first" in page and 'name="hours"' not in page
    refused = admin.post("/sla/targets/new", target_form())
    assert refused.status_code == 422
    assert "create a calendar first" in refused.get_data(as_text=True)
    assert target_rows() == []


def test_the_new_target_form_starts_from_the_defaults(demo, browser):
    add_calendar("Oficina")
    planta = add_calendar("Planta")
    html = english(browser(ADMIN)).get("/sla/targets/new").get_data(as_text=True)
    for label in ("Time to decision", "Time to start", "Time to resolution"):
        assert label in html
    assert 'name="warn_percent" min="1" max="100" step="1" inputmode="numeric" value="75"' \
        in html
    assert 'value="returned" checked> Returned for information' in html
    assert 'value="on_hold" checked> On hold' in html
    assert 'value="pending_assignment" > Pending assignment' in html
    assert '(default)</option>' in html
    assert f'<option value="{planta.id}" >Planta</option>' in html
    assert "Apply to open requests" in html and "keep the terms they were filed with" in html


def test_the_admin_creates_a_target_shown_by_kind_with_its_length(demo, browser):
    cal = add_calendar("Oficina")
    admin = browser(ADMIN)
    form = with_pauses(target_form(category_id=str(category("Electricidad").id),
                                   priority="high", warn_percent="80"),
                       "returned", "on_hold", "pending")
    response = admin.post("/sla/targets/new", form)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"].endswith("/sla/targets")
    target = only_target()
    assert (target.kind, target.category_id, target.priority, target.minutes,
            target.warn_percent, target.pause_statuses, target.calendar_id) == (
        "resolution", category("Electricidad").id, "high", 270, 80,
        ["returned", "on_hold", "pending"], cal.id)
    [entry] = entries("sla_target.")
    assert (entry.action, entry.target_type, entry.target_id, entry.target_label) == (
        "sla_target.created", "sla_target", target.id, "resolution · Electricidad · high")
    assert entry.after == {"kind": "resolution", "category_id": category("Electricidad").id,
                           "priority": "high", "minutes": 270, "warn_percent": 80,
                           "pause_statuses": ["returned", "on_hold", "pending"],
                           "calendar_id": cal.id}
    add_target(cal, "decision", 60)
    add_target(cal, "resolution", 2400)
    add_target(cal, "resolution", 90, priority="urgent")
    listing = english(admin).get("/sla/targets").get_data(as_text=True)
    assert "4 h 30 min" in listing and "1 h" in listing and "40 h" in listing \
        and "1 h 30 min" in listing and "Oficina" in listing
    decision, resolution = listing.index("Time to decision"), listing.index(
        "Time to resolution")
    anything, urgent, electric = (listing.index(text) for text in (
        "40 h", "1 h 30 min", "4 h 30 min"))
    assert decision < resolution < anything < urgent < electric  # any first, by priority
    only_decisions = english(admin).get("/sla/targets?kind=decision").get_data(as_text=True)
    assert "Time to decision" in only_decisions and "4 h 30 min" not in only_decisions


def test_one_target_per_kind_category_and_priority(demo, browser):
    cal = add_calendar("Oficina")
    add_target(cal, "resolution", 600, category_name="Plomería")
    admin = english(browser(ADMIN))
    before = target_rows()
    response = admin.post("/sla/targets/new", target_form(
        category_id=str(category("Plomería").id)))
    assert response.status_code == 422
    assert "There is already a target for Time to resolution, Plomería, any priority" \
        in response.get_data(as_text=True)
    assert target_rows() == before and len(entries("sla_target.")) == 1
    for other in ({"kind": "decision", "category_id": str(category("Plomería").id)},
                  {"category_id": str(category("Plomería").id), "priority": "low"},
                  {"category_id": ""}):
        assert admin.post("/sla/targets/new", target_form(**other)).status_code == 302


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"hours": "0", "minutes": "0"}, "minutes", "Give a length of more than zero."),
    ({"hours": "", "minutes": ""}, "minutes", "Give a length of more than zero."),
    ({"hours": "-4", "minutes": "0"}, "minutes", "Give a length of more than zero."),
    ({"hours": "0", "minutes": "-30"}, "minutes", "Give a length of more than zero."),
    ({"hours": "cuatro"}, "minutes", "Enter a whole number."),
    ({"hours": "4.5"}, "minutes", "Enter a whole number."),
    ({"hours": "1441"}, "minutes", "At most 60 days"),
    ({"hours": "1440", "minutes": "1"}, "minutes", "At most 60 days"),
    ({"hours": "9" * 40}, "minutes", "At most 60 days"),
    ({"minutes": "٣"}, "minutes", "Enter a whole number."),
    ({"warn_percent": "0"}, "warn_percent", "a percentage from 1 to 100"),
    ({"warn_percent": "101"}, "warn_percent", "a percentage from 1 to 100"),
    ({"warn_percent": ""}, "warn_percent", "a percentage from 1 to 100"),
    ({"warn_percent": "-5"}, "warn_percent", "a percentage from 1 to 100"),
    ({"kind": "speed"}, "kind", "Choose what the target measures."),
    ({"kind": ""}, "kind", "Choose what the target measures."),
    ({"priority": "extreme"}, "priority", "Choose a priority from the list, or any."),
    ({"category_id": "abc"}, "category_id", "Choose one of the company's categories"),
    ({"category_id": "0"}, "category_id", "Choose one of the company's categories"),
    ({"category_id": "999999"}, "category_id", "Choose one of the company's categories"),
    ({"category_id": "9" * 30}, "category_id", "Choose one of the company's categories"),
    ({"calendar_id": "999999"}, "calendar_id", "Choose one of the company's calendars."),
    ({"calendar_id": "x"}, "calendar_id", "Choose one of the company's calendars."),
    ({"pause_statuses": ["returned", "cancelled"]}, "pause_statuses",
     "Choose among the statuses listed."),
])
def test_a_wrong_target_is_refused_on_its_field_and_changes_nothing(demo, browser, change,
                                                                    field, message):
    add_calendar("Oficina")
    admin = english(browser(ADMIN))
    response = admin.post("/sla/targets/new", target_form(**change))
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert message in html
    assert 'class="field has-error"' in html
    assert target_rows() == [] and entries("sla_target.") == []


def test_another_companys_category_and_calendar_are_refused(demo, browser):
    add_calendar("Oficina")
    theirs = add_calendar("Oficina", slug="globex")
    admin = english(browser(ADMIN))
    for change, message in (
            ({"category_id": str(category("Aire acondicionado", "globex").id)},
             "Choose one of the company's categories"),
            ({"calendar_id": str(theirs.id)}, "Choose one of the company's calendars.")):
        response = admin.post("/sla/targets/new", target_form(**change))
        assert response.status_code == 422
        assert message in unescape(response.get_data(as_text=True))
    assert target_rows() == []


def test_editing_records_only_what_changed_and_a_refusal_keeps_what_was_typed(demo, browser):
    cal = add_calendar("Oficina")
    planta = add_calendar("Planta")
    target = add_target(cal, "resolution", 240)
    admin = english(browser(ADMIN))
    form = admin.get(f"/sla/targets/{target.id}/edit").get_data(as_text=True)
    assert 'name="hours" min="0" max="1440" step="1" inputmode="numeric" value="4"' in form
    same = with_pauses(target_form(hours="4", minutes="0"), "returned", "on_hold")
    assert admin.post(f"/sla/targets/{target.id}/edit", same).status_code == 302
    assert entries("sla_target.updated") == []
    changed = with_pauses(target_form(hours="8", minutes="0", calendar_id=str(planta.id)),
                          "returned")
    assert admin.post(f"/sla/targets/{target.id}/edit", changed).status_code == 302
    [entry] = entries("sla_target.updated")
    assert entry.before == {"minutes": 240, "pause_statuses": ["returned", "on_hold"],
                            "calendar_id": cal.id}
    assert entry.after == {"minutes": 480, "pause_statuses": ["returned"],
                           "calendar_id": planta.id}
    before = target_rows()
    refused = admin.post(f"/sla/targets/{target.id}/edit", target_form(hours="0", minutes="0",
                                                                       warn_percent="150"))
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'value="150"' in html
    assert "Give a length of more than zero." in html and "from 1 to 100" in html
    assert target_rows() == before and len(entries("sla_target.updated")) == 1


def test_open_requests_keep_their_terms_unless_the_change_is_applied(demo, browser):
    cal = add_calendar("Oficina")
    add_target(cal, "resolution", 240)
    electric = factories.file(REQUESTER, category="Electricidad")
    plumbing = factories.file(REQUESTER, category="Plomería")
    closed = factories.file(REQUESTER, category="Electricidad")
    db.session.get(ServiceRequest, closed.id).status = "completed"
    db.session.commit()
    admin = english(browser(ADMIN))
    kept = target_form(category_id=str(category("Electricidad").id), hours="2", minutes="0")
    assert admin.post("/sla/targets/new", kept).status_code == 302
    assert stale(electric, plumbing, closed) == [False, False, False]
    assert [c.minutes for c in clocks_of(electric)] == [240]  # the terms it was filed with
    applied = target_form(kind="decision", category_id=str(category("Electricidad").id),
                          hours="1", minutes="0", apply_to_open="1")
    response = admin.post("/sla/targets/new", applied)
    assert response.status_code == 302
    assert stale(electric, plumbing, closed) == [True, False, False]
    [entry] = entries("sla_target.created")[-1:]
    assert entry.after["applied_to_open"] is True
    assert "will be measured again by the targets" in admin.get(
        "/sla/targets").get_data(as_text=True)


def test_an_applied_edit_that_moves_the_scope_flags_both_scopes(demo, browser):
    cal = add_calendar("Oficina")
    target = add_target(cal, "resolution", 240, category_name="Plomería")
    plumbing = factories.file(REQUESTER, category="Plomería")
    cleaning = factories.file(REQUESTER, category="Limpieza")
    electric = factories.file(REQUESTER, category="Electricidad")
    admin = browser(ADMIN)
    moved = with_pauses(target_form(category_id=str(category("Limpieza").id), hours="4",
                                    minutes="0", apply_to_open="1"), "returned", "on_hold")
    assert admin.post(f"/sla/targets/{target.id}/edit", moved).status_code == 302
    assert stale(plumbing, cleaning, electric) == [True, True, False]
    [entry] = entries("sla_target.updated")
    assert entry.after == {"category_id": category("Limpieza").id, "applied_to_open": True}


def test_applying_an_unchanged_target_flags_its_requests_and_is_audited(demo, browser):
    cal = add_calendar("Oficina")
    target = add_target(cal, "resolution", 240, priority="high")
    high = factories.file(REQUESTER, category="Electricidad")  # high by default
    normal = factories.file(REQUESTER, category="Plomería")
    admin = browser(ADMIN)
    same = with_pauses(target_form(priority="high", hours="4", minutes="0",
                                   apply_to_open="on"), "returned", "on_hold")
    assert admin.post(f"/sla/targets/{target.id}/edit", same).status_code == 302
    assert stale(high, normal) == [True, False]
    assert entries("sla_target.updated") == []
    [entry] = entries("sla_target.applied")
    assert entry.after == {"applied_to_open": True}


def test_deleting_a_target_leaves_the_clocks_it_set_as_they_are(demo, browser):
    cal = add_calendar("Oficina")
    target_id = add_target(cal, "resolution", 240).id
    req = factories.file(REQUESTER)
    [clock] = clocks_of(req)
    terms = (clock.calendar_id, clock.minutes, clock.warn_percent, clock.pause_statuses,
             clock.due_at)
    admin = english(browser(ADMIN))
    confirm = admin.get(f"/sla/targets/{target_id}/delete").get_data(as_text=True)
    assert "4 h" in confirm and "keep their clocks and terms" in confirm
    response = admin.post(f"/sla/targets/{target_id}/delete")
    assert response.status_code == 302 and target_rows() == []
    [clock] = clocks_of(req)
    assert (clock.calendar_id, clock.minutes, clock.warn_percent, clock.pause_statuses,
            clock.due_at) == terms
    assert clock.target_id is None
    [entry] = entries("sla_target.deleted")
    assert (entry.target_id, entry.before["minutes"]) == (target_id, 240)
    assert admin.get(f"/sla/targets/{target_id}/edit").status_code == 404


def test_another_companys_target_is_not_found(demo, browser):
    add_calendar("Oficina")
    theirs = add_target(add_calendar("Oficina", slug="globex"), "resolution", 60,
                        slug="globex")
    admin = browser(ADMIN)
    before = target_rows()
    for url in (f"/sla/targets/{theirs.id}/edit", f"/sla/targets/{theirs.id}/delete",
                "/sla/targets/99999999999999999999/edit"):
        assert admin.get(url).status_code == 404, url
        assert admin.post(url, target_form()).status_code == 404, url
    assert target_rows() == before
    assert "1 h" not in admin.get("/sla/targets").get_data(as_text=True)


def test_directors_read_the_targets_and_change_nothing(demo, browser):
    cal = add_calendar("Oficina")
    target = add_target(cal, "decision", 480)
    director = english(browser(DIRECTOR))
    html = director.get("/sla/targets").get_data(as_text=True)
    assert "Time to decision" in html and "8 h" in html
    assert "New target" not in html and f"/sla/targets/{target.id}/edit" not in html
    before = target_rows()
    for url in ("/sla/targets/new", f"/sla/targets/{target.id}/edit",
                f"/sla/targets/{target.id}/delete"):
        assert director.get(url).status_code == 403, url
        assert director.post(url, target_form(hours="1")).status_code == 403, url
    assert target_rows() == before


@pytest.mark.parametrize("email", [REQUESTER, HEAD, WORKER])
def test_others_find_no_target_pages(demo, browser, email):
    target = add_target(add_calendar("Oficina"), "decision", 480)
    person = browser(email)
    for url in ("/sla", "/sla/targets", "/sla/targets/new", f"/sla/targets/{target.id}/edit"):
        assert person.get(url).status_code == 404, url
    assert person.post("/sla/targets/new", target_form()).status_code == 404


@pytest.mark.parametrize("url", ["/sla/targets/new", "/sla/targets/{id}/edit",
                                 "/sla/targets/{id}/delete"])
def test_every_target_form_refuses_a_post_without_csrf(demo, browser, url):
    target = add_target(add_calendar("Oficina"), "decision", 480)
    admin = browser(ADMIN)
    before = target_rows()
    with admin.app.app_context():
        response = admin.client.post(url.format(id=target.id), data=target_form(hours="9"))
    assert response.status_code == 400
    assert target_rows() == before


def test_the_list_pages(demo, browser):
    cal = add_calendar("Oficina")
    from app.models import Category

    names = [c.name for c in db.session.scalars(select(Category).where(
        Category.tenant_id == cal.tenant_id))]
    made = 0
    for kind in ("decision", "start", "resolution"):
        for name in names:
            for priority in (None, "low", "normal", "high", "urgent"):
                if made < 52:
                    add_target(cal, kind, 60 + made, category_name=name, priority=priority)
                    made += 1
    admin = english(browser(ADMIN))
    first = admin.get("/sla/targets").get_data(as_text=True)
    assert "Page 1 of 2" in first and "Time to decision" in first
    second = admin.get("/sla/targets?page=2").get_data(as_text=True)
    assert "Page 2 of 2" in second and "Time to resolution" in second
    assert admin.get("/sla").status_code == 302
