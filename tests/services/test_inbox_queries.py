"""Inbox and list queries: same answers as the access rules, a fixed number of statements."""

from contextlib import contextmanager

from sqlalchemy import event, select

from app import policy
from app.extensions import db
from app.models import Membership, ServiceRequest, Unit
from app.services import inbox, workflow
from tests.factories import assignment_form, file, open_task, request_at, user


@contextmanager
def counted():
    statements = []

    def record(conn, cursor, statement, params, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def _visible_by_rule(person) -> set[int]:
    return {r.id for r in db.session.scalars(select(ServiceRequest))
            if policy.can_view_request(person, r)}


def test_lists_match_the_access_rule_for_everyone_including_helpers(demo):
    req, task = request_at("Task_Assign")
    form = assignment_form("tecnico1@acme.test")
    form["helper_ids"] = [str(user("tecnico2@acme.test").id)]
    workflow.complete(user("director@acme.test"), task, "assign", form)
    db.session.commit()
    request_at("Task_Work", worker="tecnico2@acme.test")
    file("maria@acme.test")
    helper = user("tecnico2@acme.test")
    assert req.id in {r.id for r in inbox.list_requests(helper)}
    for email in ("ana@acme.test", "jefe.finanzas@acme.test", "director@acme.test",
                  "tecnico1@acme.test", "tecnico2@acme.test", "admin@acme.test",
                  "tecnico@globex.test", "jefe.produccion@acme.test"):
        person = user(email)
        assert {r.id for r in inbox.list_requests(person)} == _visible_by_rule(person), email


def test_a_head_sees_units_nested_two_levels_down_and_new_ones_at_once(demo):
    finance = db.session.query(Unit).filter_by(name="Finanzas").one()
    treasury = Unit(tenant_id=finance.tenant_id, name="Tesorería", parent_id=finance.id)
    db.session.add(treasury)
    db.session.flush()
    head = user("jefe.finanzas@acme.test")
    assert policy.headed_unit_ids(head) == {finance.id, treasury.id}
    with counted() as statements:
        policy.headed_unit_ids(head)
        policy.headed_unit_ids(head)
    assert statements == []  # remembered within the transaction
    cash = Unit(tenant_id=finance.tenant_id, name="Caja", parent_id=treasury.id)
    db.session.add(cash)
    db.session.flush()  # a write forgets what was remembered
    assert policy.headed_unit_ids(head) == {finance.id, treasury.id, cash.id}
    db.session.commit()
    assert policy.headed_unit_ids(head) == {finance.id, treasury.id, cash.id}


def test_candidates_follow_membership_changes(demo):
    req = file("ana@acme.test")
    task = open_task(req, "Task_Authorize")
    assert [u.email for u in inbox.candidates(task)] == ["jefe.finanzas@acme.test"]
    second = user("luis@acme.test")
    db.session.add(Membership(tenant_id=second.tenant_id, user=second, role="unit_head",
                              unit_id=task.unit_id))
    db.session.commit()
    assert {u.email for u in inbox.candidates(task)} == {"jefe.finanzas@acme.test",
                                                         "luis@acme.test"}


def _inbox_page_statements(person) -> tuple[int, int]:
    db.session.rollback()
    with counted() as statements:
        tasks = inbox.my_tasks(person)
        for task in tasks:
            inbox.candidates(task)
            _ = task.request.requester.name, task.claimed_by
    return len(tasks), len(statements)


def test_an_inbox_page_costs_the_same_statements_for_two_tasks_or_six(demo):
    director = user("director@acme.test")
    for _ in range(2):
        request_at("Task_Evaluate")
    few, cost_few = _inbox_page_statements(director)
    for _ in range(4):
        request_at("Task_Evaluate", requester="maria@acme.test",
                   head="jefe.produccion@acme.test")
    many, cost_many = _inbox_page_statements(director)
    assert many >= few + 4
    assert cost_many == cost_few


def _list_statements(person) -> tuple[int, int]:
    db.session.rollback()
    with counted() as statements:
        items = inbox.list_requests(person)
        for req in items:
            _ = (req.requester.name, req.category.name, req.unit.name, req.service_unit.name,
                 req.ticket.worker.name if req.ticket else None)
    return len(items), len(statements)


def test_a_request_list_costs_the_same_statements_for_three_requests_or_six(demo):
    director = user("director@acme.test")
    for step in ("Task_Start", "Task_Work", "Task_Confirm"):
        request_at(step)
    few, cost_few = _list_statements(director)
    for step in ("Task_Start", "Task_Work", "Task_Confirm"):
        request_at(step, worker="tecnico2@acme.test")
    many, cost_many = _list_statements(director)
    assert many == few + 3
    assert cost_many == cost_few
