"""Another tenant's or unit's ids answer 404 on every page and action, and change nothing."""

import pytest

from app.extensions import db
from app.models import HistoryEvent, HumanTask, ProcessInstance, Unit
from tests.factories import request_at, user, work_in_both_tenants
from tests.views.helpers import html

GET_ROUTES = ["/requests/{req}", "/tasks/{task}", "/tickets/{ticket}"]
POST_ROUTES = ["/tasks/{task}", "/tasks/{task}/claim", "/tasks/{task}/release"]


def fingerprint():
    db.session.rollback()
    return (
        db.session.query(HistoryEvent).count(),
        sorted((t.id, t.status, t.claimed_by_id) for t in db.session.query(HumanTask)),
        sorted((i.id, i.version) for i in db.session.query(ProcessInstance)),
    )


@pytest.fixture
def targets(demo):
    """Objects at a worker step in each tenant, keyed by tenant slug."""
    return work_in_both_tenants()


# Who looks, and whose objects they must not reach.
OUTSIDERS = [
    ("ana@acme.test", "globex"),           # another tenant
    ("director@acme.test", "globex"),
    ("tecnico1@acme.test", "globex"),
    ("admin@acme.test", "globex"),
    ("tecnico@globex.test", "acme"),
    ("director@globex.test", "acme"),
    ("jefe.produccion@acme.test", "acme"),  # same tenant, another unit
    ("maria@acme.test", "acme"),            # same tenant, not her request
    ("luis@acme.test", "acme"),             # same unit, not his request
    ("tecnico2@acme.test", "acme"),         # same service unit, not her ticket
]


@pytest.mark.parametrize("email,tenant", OUTSIDERS)
def test_pages_and_actions_answer_404(targets, browser, email, tenant):
    ids = targets[tenant]
    client = browser(email)
    before = fingerprint()
    for route in GET_ROUTES:
        assert client.get(route.format(**ids)).status_code == 404, route
    for route in POST_ROUTES:
        response = client.post(route.format(**ids), {"handler": "finish", "resolution": "x",
                                                     "hours_spent": "1", "materials_cost": "1"})
        assert response.status_code == 404, route
    assert fingerprint() == before


@pytest.mark.parametrize("email", ["ana@acme.test", "jefe.finanzas@acme.test",
                                   "director@acme.test", "tecnico1@acme.test"])
def test_lists_show_nothing_of_another_tenant(targets, browser, email):
    client = browser(email)
    pages = ["/inbox", "/requests", "/unit/requests", "/director/requests", "/director/tickets",
             "/director/workload", "/my/tickets"]
    for page in pages:
        body = html(client.get(page))
        assert f"/requests/{targets['globex']['req']}\"" not in body, page
        assert "Globex" not in body and "Tito Ramos" not in body, page


def test_role_pages_refuse_units_the_user_does_not_lead(targets, browser):
    finance = db.session.query(Unit).filter_by(name="Finanzas").one().id
    production = db.session.query(Unit).filter_by(name="Producción").one().id
    globex_su = db.session.query(Unit).filter_by(name="Mantenimiento").one().id
    head = browser("jefe.produccion@acme.test")
    assert head.get(f"/unit/requests?unit_id={finance}").status_code == 404
    assert head.get(f"/unit/requests?unit_id={production}").status_code == 200
    director = browser("director@acme.test")
    for page in ("/director/requests", "/director/tickets", "/director/workload"):
        assert director.get(f"{page}?service_unit_id={globex_su}").status_code == 404
    requester = browser("ana@acme.test")
    for page in ("/unit/requests", "/director/requests", "/my/tickets"):
        assert requester.get(page).status_code == 404


def test_unit_head_sees_own_units_requests_only(demo, browser):
    finance_req, _ = request_at("Task_Authorize", requester="ana@acme.test")
    production_req, _ = request_at("Task_Authorize", requester="maria@acme.test",
                                   head="jefe.produccion@acme.test")
    body = html(browser("jefe.finanzas@acme.test").get("/unit/requests"))
    assert f"/requests/{finance_req.id}\"" in body
    assert f"/requests/{production_req.id}\"" not in body


def test_requester_cannot_complete_the_heads_task(demo, browser):
    req, task = request_at("Task_Authorize")
    before = fingerprint()
    ana = browser("ana@acme.test")
    assert ana.get(f"/tasks/{task.id}").status_code == 200  # she may follow her request...
    response = ana.post(f"/tasks/{task.id}", {"handler": "authorize", "decision": "authorize"})
    assert response.status_code == 403                       # ...but not decide on it
    assert fingerprint() == before


def test_unknown_ids_are_404(demo, browser):
    client = browser("director@acme.test")
    for route in ("/requests/999999", "/tasks/999999", "/tickets/999999"):
        assert client.get(route).status_code == 404
    assert user("director@acme.test").tenant.slug == "acme"


def test_lists_filter_in_the_database_before_the_page_limit(demo, app):
    """A worker's open ticket shows even when older closed tickets exceed the page size."""
    from app.services import inbox
    from tests.factories import request_at

    done, _ = request_at("Task_Confirm")
    fresh, _ = request_at("Task_Start")
    worker = user("tecnico1@acme.test")
    listed = inbox.list_tickets(worker, mine_only=True, open_only=True)
    assert fresh.ticket.id in [t.id for t in listed]
    assert done.ticket.id not in [t.id for t in listed]
    assert {t.status for t in listed} <= {"pending", "in_progress", "on_hold"}
    director = user("director@acme.test")
    other_unit = db.session.query(Unit).filter_by(name="Mantenimiento").one()
    assert inbox.list_tickets(director, service_unit_id=other_unit.id) == []
    assert done.ticket.id in [t.id for t in inbox.list_tickets(director)]


def test_odd_filter_values_are_ignored_not_errors(demo, browser):
    director = browser("director@acme.test")
    for query in ("worker_id=²", "worker_id=-1", "category_id=9" * 30, "status=<b>",
                  "worker_id=99999999999", "service_unit_id=2147483648"):
        assert director.get(f"/director/tickets?{query}").status_code == 200


def test_ids_beyond_the_integer_range_are_not_found(demo, browser, app):
    huge = 2**31
    client = browser("director@acme.test")
    for route in ("/requests/{}", "/tasks/{}", "/tickets/{}"):
        assert client.get(route.format(huge)).status_code == 404
    assert client.post(f"/tasks/{huge}/claim").status_code == 404
