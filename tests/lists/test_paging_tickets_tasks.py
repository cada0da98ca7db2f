"""Ticket lists (My tickets, the director's) and the task inbox page through every row under
every order; a ticket's helpers find it in My tickets, marked as helping."""

import re

import pytest
from sqlalchemy import or_, select

from app.extensions import db
from app.models import OPEN_TICKET_STATUSES, PRIORITIES, HumanTask, Ticket, Unit
from app.models.ticket import ticket_helpers
from app.services import inbox
from tests import factories
from tests.lists.rows import copies
from tests.lists.walk import body, in_english, tbody, walk

WORKER, OTHER, DIRECTOR, HEAD = ("tecnico1@acme.test", "tecnico2@acme.test",
                                 "director@acme.test", "jefe.finanzas@acme.test")
TICKET_ORDERS = [key for base in inbox.TICKET_ORDERS for key in (base, f"-{base}")]
TASK_ORDERS = [key for base in inbox.TASK_ORDERS for key in (base, f"-{base}")]


@pytest.fixture
def tickets(demo):
    """220 tickets of tecnico1, 12 of tecnico2 that tecnico1 helps with, 6 of tecnico2 alone,
    5 in globex."""
    in_english(WORKER, OTHER, DIRECTOR)
    own, _ = factories.request_at("Task_Work")
    worker = factories.user(WORKER)
    copies(own, 220, prefix="OWN", statuses=("in_service",))
    theirs, _ = factories.request_at("Task_Work", worker=OTHER)
    helped = copies(theirs, 12, prefix="HLP", statuses=("in_service",), helpers=[worker.id])
    alone = copies(theirs, 6, prefix="ALN", statuses=("in_service",))
    globex, _ = factories.request_at(
        "Task_Work", requester="pedro@globex.test", head="jefe@globex.test",
        director="director@globex.test", worker="tecnico@globex.test")
    copies(globex, 5, prefix="GLX", statuses=("in_service",))
    return {"helped": helped, "alone": alone}


def _tickets_of(user, open_only: bool) -> dict[int, Ticket]:
    helped = select(ticket_helpers.c.ticket_id).where(ticket_helpers.c.user_id == user.id)
    stmt = select(Ticket).where(Ticket.tenant_id == user.tenant_id,
                                or_(Ticket.worker_id == user.id, Ticket.id.in_(helped)))
    if open_only:
        stmt = stmt.where(Ticket.status.in_(OPEN_TICKET_STATUSES))
    return {t.id: t for t in db.session.scalars(stmt)}


def test_my_tickets_pages_through_mine_and_those_i_help_with(tickets, browser):
    worker = factories.user(WORKER)
    every = _tickets_of(worker, open_only=False)
    helped_tickets = set(db.session.scalars(select(Ticket.id).where(
        Ticket.request_id.in_(tickets["helped"]))))
    assert helped_tickets <= set(every) and len(every) > 230
    client = browser(WORKER)
    for sort in TICKET_ORDERS:
        ids, counts = walk(client, f"/my/tickets?all=1&per_page=100&sort={sort}", "tickets")
        assert len(ids) == len(set(ids)) == len(every), sort
        assert set(ids) == set(every), sort
        assert counts[0] == f"1–100 of {len(every)}", sort
    open_ids, _ = walk(client, "/my/tickets?per_page=50", "tickets")
    assert sorted(open_ids) == sorted(_tickets_of(worker, open_only=True))
    assert set(open_ids) & helped_tickets


def test_planned_end_orders_across_pages(tickets, browser):
    every = _tickets_of(factories.user(WORKER), open_only=False)
    ids, _ = walk(browser(WORKER), "/my/tickets?all=1&per_page=25&sort=-planned_end",
                  "tickets")
    assert ids == [t.id for t in sorted(every.values(), key=lambda t: (t.planned_end, t.id),
                                        reverse=True)]


def test_helpers_see_the_ticket_marked_as_theirs_to_help(tickets, browser):
    helped_numbers = set(db.session.scalars(select(Ticket.number).where(
        Ticket.request_id.in_(tickets["helped"]))))
    html = body(browser(WORKER), "/my/tickets?all=1&per_page=200&sort=number")
    rows = tbody(html).split("<tr")[1:]
    marked = {re.search(r'/tickets/\d+">([^<]+)<', row).group(1) for row in rows
              if "you help" in row}
    assert marked == helped_numbers
    alone = set(db.session.scalars(select(Ticket.number).where(
        Ticket.request_id.in_(tickets["alone"]))))
    assert not any(number in html for number in alone)
    # the worker of those tickets is not told they help
    assert "you help" not in body(browser(OTHER), "/my/tickets?all=1&per_page=200")


def test_the_directors_tickets_page_through_their_service_unit(tickets, browser):
    unit_id = db.session.scalar(select(Unit.id).filter_by(name="Servicios Generales"))
    wanted = set(db.session.scalars(select(Ticket.id).filter_by(service_unit_id=unit_id)))
    client = browser(DIRECTOR)
    for sort in ("planned_end", "-status", "-number", "sla"):
        ids, counts = walk(client, f"/director/tickets?per_page=100&sort={sort}", "tickets")
        assert len(ids) == len(set(ids)) and set(ids) == wanted, sort
    worker = factories.user(OTHER).id
    ids, _ = walk(client, f"/director/tickets?worker_id={worker}&per_page=5", "tickets")
    assert set(ids) == set(db.session.scalars(select(Ticket.id).filter_by(worker_id=worker)))


@pytest.fixture
def tasks(demo):
    """210 authorizations waiting for the head of Finanzas, 10 for the head of Producción."""
    in_english(HEAD)
    finanzas = copies(factories.file("ana@acme.test"), 210, prefix="FIN",
                      statuses=("pending_authorization",), with_ticket=False)
    produccion = copies(factories.file("maria@acme.test"), 10, prefix="PRO",
                        statuses=("pending_authorization",), with_ticket=False)
    return {"finanzas": finanzas, "produccion": produccion}


def test_the_inbox_pages_through_every_task_under_every_order(tasks, browser):
    head = factories.user(HEAD)
    client = browser(HEAD)
    for sort in TASK_ORDERS:
        expected = [t.id for t in inbox.my_tasks(head, sort=sort)]
        ids, counts = walk(client, f"/inbox?per_page=50&sort={sort}", "tasks")
        assert ids == expected, sort
        assert len(set(ids)) == len(ids) > 210 and counts[0] == f"1–50 of {len(ids)}"
    shown = set(db.session.scalars(select(HumanTask.request_id).where(HumanTask.id.in_(ids))))
    assert set(tasks["finanzas"]) <= shown and not shown & set(tasks["produccion"])


def test_the_inbox_orders_by_priority_then_the_longest_waiting(tasks, browser):
    ids, _ = walk(browser(HEAD), "/inbox?per_page=25&sort=priority", "tasks")
    found = {t.id: t for t in db.session.scalars(select(HumanTask).where(HumanTask.id.in_(ids)))}
    rank = {p: i for i, p in enumerate(reversed(PRIORITIES))}
    keys = [(rank[found[i].request.priority], found[i].created_at, i) for i in ids]
    assert keys == sorted(keys)
