"""Rules of app/policy.py that the page and API tests reach only partly: whose tickets a worker
sees (helpers included, nobody else's), what a ticket list holds, who may withdraw a request,
who may release a claim, and that nothing of another tenant (or nothing at all) is visible."""

import pytest
from sqlalchemy import select

from app import policy
from app.extensions import db
from app.models import Membership, ServiceRequest, Unit, User
from app.services import inbox, workflow
from tests.factories import assignment_form, open_task, request_at, user

DIRECTOR = "director@acme.test"


def visible_request_ids(email: str) -> set[int]:
    who = user(email)
    return set(db.session.scalars(select(ServiceRequest.id)
                                  .where(policy.request_visibility(who))))


def listed_ticket_ids(email: str, among: set[int]) -> set[int]:
    """Which of the tickets ``among`` (made by the test; the demo has tickets too) the
    person's ticket list holds."""
    return {t.id for t in inbox.list_tickets(user(email))} & among


@pytest.fixture
def third_worker(demo):
    """Servicios Generales gets a third worker, to help on tickets."""
    first = user("tecnico1@acme.test")
    unit = db.session.query(Unit).filter_by(tenant_id=first.tenant_id,
                                            name="Servicios Generales").one()
    helper = User(tenant_id=first.tenant_id, email="tecnico3@acme.test", name="Hugo Ayudante",
                  password_hash=first.password_hash)
    db.session.add_all([helper, Membership(tenant_id=first.tenant_id, user=helper,
                                           unit_id=unit.id, role="worker")])
    db.session.commit()
    return helper.email


def test_a_worker_sees_the_tickets_they_work_or_help_on_and_no_other(third_worker):
    req, task = request_at("Task_Assign")
    form = {**assignment_form("tecnico1@acme.test"),
            "helper_ids": [str(user(third_worker).id)]}
    workflow.complete(user(DIRECTOR), task, "assign", form)
    db.session.commit()
    helped = req.id
    alone, _ = request_at("Task_Start", worker="tecnico1@acme.test")
    ticket_of = {r: db.session.get(ServiceRequest, r).ticket.id for r in (helped, alone.id)}

    assert {helped, alone.id} <= visible_request_ids("tecnico1@acme.test")
    assert helped in visible_request_ids(third_worker)
    assert alone.id not in visible_request_ids(third_worker)
    assert not visible_request_ids("tecnico2@acme.test") & {helped, alone.id}
    made = set(ticket_of.values())
    assert listed_ticket_ids(third_worker, made) == {ticket_of[helped]}
    assert listed_ticket_ids("tecnico2@acme.test", made) == set()
    assert policy.can_view_request(user(third_worker), db.session.get(ServiceRequest, helped))
    assert not policy.can_view_request(user("tecnico2@acme.test"),
                                       db.session.get(ServiceRequest, helped))


def test_a_ticket_list_holds_only_the_tickets_of_requests_one_may_see(demo):
    ana_req, _ = request_at("Task_Start")
    maria_req, _ = request_at("Task_Start", requester="maria@acme.test",
                              head="jefe.produccion@acme.test")
    ana_ticket, maria_ticket = ana_req.ticket.id, maria_req.ticket.id
    made = {ana_ticket, maria_ticket}
    assert listed_ticket_ids("ana@acme.test", made) == {ana_ticket}
    assert listed_ticket_ids("maria@acme.test", made) == {maria_ticket}
    assert listed_ticket_ids("jefe.produccion@acme.test", made) == {maria_ticket}
    assert listed_ticket_ids(DIRECTOR, made) == made
    assert listed_ticket_ids("director@globex.test", made) == set()


@pytest.mark.parametrize("email", ["luis@acme.test", "jefe.finanzas@acme.test", DIRECTOR,
                                   "admin@acme.test", "pedro@globex.test"])
def test_only_the_requester_may_withdraw_a_request(demo, email):
    req, _ = request_at("Task_Authorize")
    assert policy.can_cancel_request(user("ana@acme.test"), req)
    assert not policy.can_cancel_request(user(email), req)
    with pytest.raises(workflow.TaskConflict):
        workflow.cancel_request(user(email), req, "no")
    db.session.rollback()
    assert db.session.get(ServiceRequest, req.id).status == "pending_authorization"


def test_a_request_with_a_ticket_or_closed_cannot_be_withdrawn(demo):
    ana = user("ana@acme.test")
    with_ticket, _ = request_at("Task_Start")
    assert not policy.can_cancel_request(ana, with_ticket)
    rejected, task = request_at("Task_Authorize")
    workflow.complete(user("jefe.finanzas@acme.test"), task, "authorize",
                      {"decision": "reject", "comment": "No"})
    db.session.commit()
    assert rejected.ticket is None and rejected.status == "rejected"
    assert not policy.can_cancel_request(ana, rejected)


def test_nothing_of_another_tenant_and_nothing_at_all_is_visible(demo):
    req, task = request_at("Task_Start")
    outsider = user("director@globex.test")
    assert not policy.can_view_task(outsider, task)
    assert not policy.can_view_request(outsider, req)
    assert not policy.can_view_ticket(outsider, req.ticket)
    for email in ("ana@acme.test", DIRECTOR, "admin@acme.test"):
        assert not policy.can_view_task(user(email), None)
        assert not policy.can_view_request(user(email), None)
        assert not policy.can_view_ticket(user(email), None)
    assert policy.can_view_task(user("ana@acme.test"), task)  # her own request's step


def test_a_claim_is_released_by_its_holder_or_a_tenant_admin_only(demo):
    _, task = request_at("Task_Authorize")
    head = user("jefe.finanzas@acme.test")
    workflow.claim(head, task)
    db.session.commit()
    assert policy.can_release_task(head, task)
    assert policy.can_release_task(user("admin@acme.test"), task)
    for email in (DIRECTOR, "ana@acme.test", "jefe@globex.test"):
        assert not policy.can_release_task(user(email), task), email
    workflow.release(user("admin@acme.test"), open_task(task.request, "Task_Authorize"))
    db.session.commit()
    assert open_task(task.request, "Task_Authorize").claimed_by_id is None
    assert not policy.can_release_task(head, task)  # nothing held: nothing to release


def test_who_manages_webhooks_processes_and_tokens(demo):
    from app.api import tokens_service

    admin, director, ana = (user(e) for e in ("admin@acme.test", DIRECTOR, "ana@acme.test"))
    assert policy.can_manage_webhooks(admin) and policy.can_own_processes(admin)
    for other in (director, ana, user("jefe@globex.test")):
        assert not policy.can_manage_webhooks(other) and not policy.can_own_processes(other)
    _, mine = tokens_service.issue(ana, "mío", 1)
    _, luis = tokens_service.issue(user("luis@acme.test"), "de Luis", 1)
    assert policy.can_manage_token(ana, mine)
    assert not policy.can_manage_token(ana, luis) and not policy.can_manage_token(ana, None)
    assert not policy.can_manage_token(user("pedro@globex.test"), mine)
    assert policy.can_file_request(ana) and policy.can_file_request(user("jefe@globex.test"))
    assert not policy.can_file_request(director)  # no unit of her own to file from
