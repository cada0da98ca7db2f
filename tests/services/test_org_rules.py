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
