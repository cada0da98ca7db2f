"""Everyone's inbox holds exactly the open tasks the access rule lets them complete
(policy.task_inbox_filter against policy.can_complete_task), over tasks of every kind: pooled
per role and unit (rows made here for the Worker and Requester lanes, which the default diagram
always assigns), assigned, claimed, a head's own request waiting on the head of a unit nested
under theirs, a head of the service unit, and another tenant's."""

import uuid

from sqlalchemy import select

from app import policy
from app.extensions import db
from app.models import HumanTask, Membership, Unit, User
from app.services import workflow
from tests.factories import file, open_task, request_at, user


def person(email: str, memberships: list[tuple[str, str]]) -> None:
    """A new person of acme with (role, unit name) memberships."""
    acme = user("ana@acme.test").tenant_id
    new = User(tenant_id=acme, email=email, name=email.split("@")[0],
               password_hash=user("ana@acme.test").password_hash)
    db.session.add(new)
    for role, unit_name in memberships:
        unit = db.session.query(Unit).filter_by(tenant_id=acme, name=unit_name).one()
        db.session.add(Membership(tenant_id=acme, user=new, unit_id=unit.id, role=role))
    db.session.commit()


def pooled_row(like: HumanTask, role: str, unit_name: str) -> None:
    """An unassigned task row of ``role`` in ``unit_name``, on the instance of ``like``."""
    unit = db.session.query(Unit).filter_by(tenant_id=like.tenant_id, name=unit_name).one()
    db.session.add(HumanTask(
        tenant_id=like.tenant_id, instance_id=like.instance_id, request_id=like.request_id,
        task_uuid=str(uuid.uuid4()), spec_id=f"Task_{role}", name=f"Pooled {role}",
        handlers="form", lane=role, role=role, unit_id=unit.id, assigned_user_id=None))
    db.session.commit()


def test_every_inbox_is_what_the_access_rule_allows(demo):
    acme = user("ana@acme.test").tenant_id
    finance = db.session.query(Unit).filter_by(tenant_id=acme, name="Finanzas").one()
    db.session.add(Unit(tenant_id=acme, name="Tesorería", parent_id=finance.id))
    db.session.commit()
    person("jefe.tesoreria@acme.test", [("unit_head", "Tesorería")])
    # Heads Finanzas and works in Tesorería: her own request waits on Tesorería's head.
    person("doble@acme.test", [("requester", "Tesorería"), ("unit_head", "Finanzas")])
    person("jefe.servicios@acme.test", [("unit_head", "Servicios Generales")])

    own = file("doble@acme.test")
    assert open_task(own, "Task_Authorize").unit.name == "Tesorería"
    _, authorize = request_at("Task_Authorize")
    request_at("Task_Evaluate", requester="maria@acme.test", head="jefe.produccion@acme.test")
    request_at("Task_Start")
    request_at("Task_Confirm", requester="luis@acme.test")
    request_at("Task_Authorize", requester="pedro@globex.test", head="jefe@globex.test")
    _, claimed = request_at("Task_Authorize", requester="luis@acme.test")
    workflow.claim(user("jefe.finanzas@acme.test"), claimed)
    db.session.commit()
    pooled_row(authorize, "worker", "Servicios Generales")
    pooled_row(authorize, "requester", "Finanzas")

    everyone = db.session.scalars(select(User)).all()
    open_tasks = db.session.scalars(select(HumanTask).where(HumanTask.status == "open")).all()
    for who in everyone:
        inbox = set(db.session.scalars(select(HumanTask.id)
                                       .where(policy.task_inbox_filter(who))))
        allowed = {t.id for t in open_tasks if policy.can_complete_task(who, t)}
        assert inbox == allowed, who.email
    doble = user("doble@acme.test")
    assert open_task(own, "Task_Authorize").id not in {
        t.id for t in open_tasks if policy.can_complete_task(doble, t)}
    heads = {u.email for u in everyone
             if policy.can_complete_task(u, open_task(own, "Task_Authorize"))}
    assert heads == {"jefe.tesoreria@acme.test", "jefe.finanzas@acme.test"}
