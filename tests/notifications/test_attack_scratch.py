from sqlalchemy import select

from app.extensions import db
from app.models import Notification, OutboxMessage, ProcessIncident
from tests.factories import file
from tests.incidents import store_version
from tests.notifications.test_notices_rules import custom_message

LOOP = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
  id="Definitions_Loop" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="service_request" isExecutable="true">
    <bpmn:laneSet id="LaneSet_1">
      <bpmn:lane id="Lane_1" name="UnitHead">
        <bpmn:flowNodeRef>Start_1</bpmn:flowNodeRef><bpmn:flowNodeRef>Service_1</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Gw_1</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Task_H</bpmn:flowNodeRef><bpmn:flowNodeRef>End_1</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="Start_1" />
    <bpmn:sequenceFlow id="Flow_1" sourceRef="Start_1" targetRef="Service_1" />
    <bpmn:serviceTask id="Service_1" name="Avisar">
      <bpmn:extensionElements>
        <spiffworkflow:serviceTaskOperator id="notify" resultVariable="result">
          <spiffworkflow:parameters>
            <spiffworkflow:parameter id="to" type="str" value="'requester'" />
            <spiffworkflow:parameter id="template" type="str" value="'custom.aviso'" />
          </spiffworkflow:parameters>
        </spiffworkflow:serviceTaskOperator>
      </bpmn:extensionElements>
    </bpmn:serviceTask>
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Service_1" targetRef="Gw_1" />
    <bpmn:exclusiveGateway id="Gw_1" default="Flow_Out" />
    <bpmn:sequenceFlow id="Flow_Back" sourceRef="Gw_1" targetRef="Service_1">
      <bpmn:conditionExpression>True</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="Flow_Out" sourceRef="Gw_1" targetRef="Task_H" />
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

def test_loop(demo):
    custom_message("acme", "custom.aviso", "Aviso de {{ request_number }}")
    store_version(LOOP)
    req = file("ana@acme.test")
    db.session.rollback()
    n = db.session.scalar(select(db.func.count(Notification.id)).where(Notification.request_id == req.id, Notification.event == "process.message"))
    m = db.session.scalar(select(db.func.count(OutboxMessage.id)).where(OutboxMessage.event == "process.message"))
    inc = db.session.scalars(select(ProcessIncident).where(ProcessIncident.request_id == req.id)).all()
    print("notices", n, "messages", m, [i.error for i in inc])
    assert 0
