"""Attacking the diagram's ``notify`` operation as a hostile process owner: what a deployed
diagram can make the system send, and to whom. Defences that hold are plain tests; each finding
is a strict xfail."""

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from app.engine.xml import DiagramError
from app.extensions import db
from app.handlers.operations import NOTIFY_MAX_PER_HOUR
from app.models import Membership, Notification, OutboxMessage, ProcessIncident, Unit
from app.models.base import utcnow
from app.services import definitions
from app.services.background import run_due_timers
from tests.factories import file, user
from tests.notifications.test_notices_rules import custom_message

REQUESTER, HEAD, ADMIN = "ana@acme.test", "jefe.finanzas@acme.test", "admin@acme.test"
_GATEWAY = """<bpmn:exclusiveGateway id="Gw_1" default="Flow_Out" />
    <bpmn:sequenceFlow id="Flow_Back" sourceRef="Gw_1" targetRef="Service_1">
      <bpmn:conditionExpression>result['notified'] &gt;= 0</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="Flow_Out" sourceRef="Gw_1" targetRef="Task_H" />"""


def _diagram(flow: str, to: str = "requester", loop: bool = True) -> str:
    """Start, notify ``to``, ``flow`` on from the notify; with ``loop``, a gateway back to the
    notify (else straight on) before the head's review."""
    gateway = _GATEWAY if loop else ""
    nodes = "".join(f"<bpmn:flowNodeRef>{node}</bpmn:flowNodeRef>" for node, present in
                    (("Wait_1", 'id="Wait_1"' in flow), ("Gw_1", loop)) if present)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
  id="Definitions_Loop" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="service_request" isExecutable="true">
    <bpmn:laneSet id="LaneSet_1">
      <bpmn:lane id="Lane_1" name="UnitHead">
        <bpmn:flowNodeRef>Start_1</bpmn:flowNodeRef><bpmn:flowNodeRef>Service_1</bpmn:flowNodeRef>
        {nodes}
        <bpmn:flowNodeRef>Task_H</bpmn:flowNodeRef><bpmn:flowNodeRef>End_1</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="Start_1" />
    <bpmn:sequenceFlow id="Flow_1" sourceRef="Start_1" targetRef="Service_1" />
    <bpmn:serviceTask id="Service_1" name="Avisar">
      <bpmn:extensionElements>
        <spiffworkflow:serviceTaskOperator id="notify" resultVariable="result">
          <spiffworkflow:parameters>
            <spiffworkflow:parameter id="to" type="str" value="{to!r}" />
            <spiffworkflow:parameter id="template" type="str" value="'custom.aviso'" />
          </spiffworkflow:parameters>
        </spiffworkflow:serviceTaskOperator>
      </bpmn:extensionElements>
    </bpmn:serviceTask>
    {flow}
    {gateway}
    <bpmn:userTask id="Task_H" name="Revisar">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="handlers" value="authorize" />
      </spiffworkflow:properties></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="Flow_3" sourceRef="Task_H" targetRef="End_1" />
    <bpmn:endEvent id="End_1" />
  </bpmn:process>
</bpmn:definitions>
"""


# The notify goes to a timer of one second, then back to the notify: a loop with a wait in it.
TIMER_LOOP = _diagram("""
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Service_1" targetRef="Wait_1" />
    <bpmn:intermediateCatchEvent id="Wait_1" name="Esperar">
      <bpmn:timerEventDefinition id="TimerDef_1">
        <bpmn:timeDuration xsi:type="bpmn:tFormalExpression">'PT1S'</bpmn:timeDuration>
      </bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="Flow_W" sourceRef="Wait_1" targetRef="Gw_1" />""")
# The notify goes straight back to itself through the gateway: nobody ever waits.
TIGHT_LOOP = _diagram("""
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Service_1" targetRef="Gw_1" />""")
STRAIGHT = """
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Service_1" targetRef="Task_H" />"""


def deploy(xml: str) -> None:
    admin = user(ADMIN)
    definitions.deploy(admin.tenant_id, xml, user=admin, note="attack")
    db.session.commit()


def process_messages(req_id: int) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count(Notification.id)).where(
        Notification.request_id == req_id, Notification.event == "process.message"))


def test_a_notify_loop_that_waits_for_nobody_is_refused_at_deploy(demo):
    custom_message("acme", "custom.aviso", "Aviso de {{ request_number }}")
    with pytest.raises(DiagramError, match="loop"):
        deploy(TIGHT_LOOP)


def test_a_notify_loop_on_a_short_timer_cannot_flood_a_person(demo):
    custom_message("acme", "custom.aviso", "Aviso de {{ request_number }}")
    try:
        deploy(TIMER_LOOP)
    except DiagramError:
        return  # refused at deploy: nothing can flood
    with time_machine.travel(utcnow(), tick=False) as clock:
        req = file(REQUESTER)
        for _ in range(30):
            clock.shift(timedelta(seconds=2))
            run_due_timers()
    # Each pass is a new message (a loop may mean to remind), but a request's notify tasks
    # write at most NOTIFY_MAX_PER_HOUR notices an hour: then the request stops, an incident.
    assert process_messages(req.id) <= NOTIFY_MAX_PER_HOUR, process_messages(req.id)
    (incident,) = db.session.query(ProcessIncident).filter_by(request_id=req.id).all()
    assert "loops through notify" in incident.error


def test_notify_never_reaches_another_tenants_person_whatever_their_memberships(demo):
    custom_message("acme", "custom.aviso", "Aviso de {{ request_number }}")
    acme_unit = db.session.get(Unit, user(REQUESTER).home_unit_id)
    outsider = user("jefe@globex.test")
    db.session.add(Membership(tenant_id=acme_unit.tenant_id, user_id=outsider.id,
                              role="unit_head", unit_id=acme_unit.id))
    db.session.commit()
    for to in ("unit_head", "requester", "service_director"):
        deploy(_diagram(STRAIGHT, to=to, loop=False))
        req = file(REQUESTER)
        db.session.rollback()
        people = set(db.session.scalars(select(Notification.user_id).where(
            Notification.request_id == req.id)))
        assert outsider.id not in people, to
        assert db.session.query(ProcessIncident).filter_by(request_id=req.id).count() == 0
    tenants = set(db.session.scalars(select(OutboxMessage.tenant_id).where(
        OutboxMessage.event == "process.message")))
    assert tenants == {acme_unit.tenant_id}


@pytest.mark.parametrize("to", ["Requester", "requester ", "tenant_admin", "process_owner",
                                "unit_head,worker", "__class__"])
def test_notify_to_anything_but_its_four_roles_stops_with_an_incident(demo, to):
    custom_message("acme", "custom.aviso", "Aviso")
    deploy(_diagram(STRAIGHT, to=to, loop=False))
    req = file(REQUESTER)
    db.session.rollback()
    (incident,) = db.session.scalars(select(ProcessIncident).where(
        ProcessIncident.request_id == req.id)).all()
    assert "'to' must be one of" in incident.error
    assert process_messages(req.id) == 0
