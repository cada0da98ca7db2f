"""Unit nesting: heads see nested units; a unit without a head is authorized one level up."""

from app import policy
from app.extensions import db
from app.models import Membership, Unit, User
from tests.factories import file, open_task, user


def _nested_unit(parent_name: str, name: str) -> Unit:
    parent = db.session.query(Unit).filter_by(name=parent_name).one()
    unit = Unit(tenant_id=parent.tenant_id, name=name, parent_id=parent.id)
    db.session.add(unit)
    db.session.flush()
    return unit


def test_request_of_a_headless_subunit_goes_to_the_parents_head(demo):
    treasury = _nested_unit("Finanzas", "Tesorería")
    clerk = User(tenant_id=treasury.tenant_id, email="caja@acme.test", name="Carla Caja",
                 password_hash=user("ana@acme.test").password_hash)
    db.session.add_all([clerk, Membership(tenant_id=treasury.tenant_id, user=clerk,
                                          unit_id=treasury.id, role="requester")])
    db.session.commit()
    req = file("caja@acme.test")
    task = open_task(req, "Task_Authorize")
    finance = db.session.query(Unit).filter_by(name="Finanzas").one()
    assert task.unit_id == finance.id
    head = user("jefe.finanzas@acme.test")
    assert policy.can_complete_task(head, task)
    assert policy.can_view_request(head, req)
    assert not policy.can_view_request(user("jefe.produccion@acme.test"), req)


def test_a_head_filing_for_their_own_unit_skips_authorization(demo):
    req = file("jefe.finanzas@acme.test")
    assert req.status == "pending_evaluation"
    assert open_task(req, "Task_Evaluate").role == "service_director"


def _member_of(unit: Unit, email: str, name: str, role: str) -> User:
    person = User(tenant_id=unit.tenant_id, email=email, name=name,
                  password_hash=user("ana@acme.test").password_hash)
    db.session.add_all([person, Membership(tenant_id=unit.tenant_id, user=person,
                                           unit_id=unit.id, role=role)])
    db.session.flush()
    return person


def test_nobody_authorizes_their_own_request(demo):
    """The head of Finanzas is also staff of Tesorería (with its own head) and files there."""
    treasury = _nested_unit("Finanzas", "Tesorería")
    _member_of(treasury, "jefe.tesoreria@acme.test", "Tesorero", "unit_head")
    boss = user("jefe.finanzas@acme.test")
    db.session.query(Membership).filter_by(user_id=boss.id, role="unit_head").delete()
    db.session.add_all([Membership(tenant_id=boss.tenant_id, user=boss, unit_id=treasury.id,
                                   role="requester"),
                        Membership(tenant_id=boss.tenant_id, user=boss,
                                   unit_id=treasury.parent_id, role="unit_head")])
    db.session.commit()
    assert boss.home_unit_id == treasury.id
    req = file("jefe.finanzas@acme.test")
    task = open_task(req, "Task_Authorize")
    assert task.unit_id == treasury.id
    assert not policy.can_complete_task(boss, task)
    from app.services import inbox
    assert task.id not in [t.id for t in inbox.my_tasks(boss)]
    assert policy.can_complete_task(user("jefe.tesoreria@acme.test"), task)


def test_without_any_head_above_authorization_is_skipped(demo):
    orphan = Unit(tenant_id=user("ana@acme.test").tenant_id, name="Archivo")
    db.session.add(orphan)
    db.session.flush()
    _member_of(orphan, "archivo@acme.test", "Ana Archivo", "requester")
    db.session.commit()
    req = file("archivo@acme.test")
    assert req.status == "pending_evaluation"


def test_a_tenant_admin_can_release_a_stuck_claim(demo):
    from app.services import workflow
    from tests.factories import request_at

    req, task = request_at("Task_Evaluate")
    director = user("director@acme.test")
    workflow.claim(director, task)
    workflow.claim(director, task)   # claiming again changes nothing
    db.session.commit()
    from app.models import HistoryEvent
    assert db.session.query(HistoryEvent).filter_by(request_id=req.id,
                                                    action="claimed").count() == 1
    director.active = False
    db.session.commit()
    admin = user("admin@acme.test")
    assert policy.can_release_task(admin, task)
    assert not policy.can_release_task(user("tecnico1@acme.test"), task)
    workflow.release(admin, task)
    db.session.commit()
    assert task.claimed_by_id is None
