"""A help-desk unit of the demo's Acme for classification and auto-assignment tests: service
unit "Mesa TI" with three workers (ids in creation order), its categories "Redes" and
"Impresoras", a diagram that classifies, assigns and creates the ticket with no director, and
tickets of known hours to give workers a load."""

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from werkzeug.security import generate_password_hash

from app.classification.models import ClassificationRule, WorkerSkill
from app.extensions import db
from app.models import Category, Membership, ServiceRequest, Tenant, Ticket, Unit, User
from app.services import definitions, requests
from app.services.numbering import next_number

AUTO_KEY = "auto_desk"

AUTO_DIAGRAM = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
  id="Definitions_Auto" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="auto_desk" isExecutable="true">
    <bpmn:laneSet id="LaneSet_1">
      <bpmn:lane id="Lane_Worker" name="Worker">
        <bpmn:flowNodeRef>Start_1</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Service_Classify</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Service_AutoAssign</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Service_CreateTicket</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Task_Start</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Task_Work</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>End_1</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="Start_1"><bpmn:outgoing>Flow_1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:serviceTask id="Service_Classify" name="Clasificar">
      <bpmn:extensionElements>
        <spiffworkflow:serviceTaskOperator id="classify" resultVariable="classification" />
      </bpmn:extensionElements>
      <bpmn:incoming>Flow_1</bpmn:incoming><bpmn:outgoing>Flow_2</bpmn:outgoing>
    </bpmn:serviceTask>
    <bpmn:serviceTask id="Service_AutoAssign" name="Asignar automáticamente">
      <bpmn:extensionElements>
        <spiffworkflow:serviceTaskOperator id="auto_assign" resultVariable="assignment" />
      </bpmn:extensionElements>
      <bpmn:incoming>Flow_2</bpmn:incoming><bpmn:outgoing>Flow_3</bpmn:outgoing>
    </bpmn:serviceTask>
    <bpmn:serviceTask id="Service_CreateTicket" name="Crear ticket">
      <bpmn:extensionElements>
        <spiffworkflow:serviceTaskOperator id="create_ticket" resultVariable="ticket" />
      </bpmn:extensionElements>
      <bpmn:incoming>Flow_3</bpmn:incoming><bpmn:outgoing>Flow_4</bpmn:outgoing>
    </bpmn:serviceTask>
    <bpmn:userTask id="Task_Start" name="Iniciar trabajo">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="handlers" value="start" />
        <spiffworkflow:property name="request_status" value="in_service" />
        <spiffworkflow:property name="ticket_status" value="pending" />
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>Flow_4</bpmn:incoming><bpmn:outgoing>Flow_5</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:userTask id="Task_Work" name="Ejecutar el trabajo">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="handlers" value="finish" />
        <spiffworkflow:property name="ticket_status" value="in_progress" />
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>Flow_5</bpmn:incoming><bpmn:outgoing>Flow_6</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="End_1"><bpmn:incoming>Flow_6</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="Start_1" targetRef="Service_Classify" />
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Service_Classify" targetRef="Service_AutoAssign" />
    <bpmn:sequenceFlow id="Flow_3" sourceRef="Service_AutoAssign"
      targetRef="Service_CreateTicket" />
    <bpmn:sequenceFlow id="Flow_4" sourceRef="Service_CreateTicket" targetRef="Task_Start" />
    <bpmn:sequenceFlow id="Flow_5" sourceRef="Task_Start" targetRef="Task_Work" />
    <bpmn:sequenceFlow id="Flow_6" sourceRef="Task_Work" targetRef="End_1" />
  </bpmn:process>
</bpmn:definitions>
"""

WORKERS = ("w1@acme.test", "w2@acme.test", "w3@acme.test")
DIRECTOR = "dir.ti@acme.test"
ADMIN = "admin@acme.test"


def tenant(slug: str = "acme") -> Tenant:
    return db.session.scalar(select(Tenant).where(Tenant.slug == slug))


def add_person(email: str, slug: str = "acme", active: bool = True, **roles) -> User:
    """A person with ``role=unit`` memberships (a unit, or None for a company-wide role)."""
    t = tenant(slug)
    person = User(tenant_id=t.id, email=email, name=email.split("@")[0].upper(),
                  password_hash=generate_password_hash("demo1234", method="pbkdf2:sha256:1"),
                  active=active)
    db.session.add(person)
    db.session.flush()
    for role, unit in roles.items():
        db.session.add(Membership(tenant_id=t.id, user_id=person.id, role=role,
                                  unit_id=unit.id if unit else None))
    db.session.flush()
    return person


def by_email(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def category(name: str, slug: str = "acme") -> Category:
    return db.session.scalar(select(Category).where(Category.tenant_id == tenant(slug).id,
                                                    Category.name == name))


def unit(name: str, slug: str = "acme") -> Unit:
    return db.session.scalar(select(Unit).where(Unit.tenant_id == tenant(slug).id,
                                                Unit.name == name))


def help_desk(process_key: str | None = AUTO_KEY) -> dict:
    """Mesa TI, its workers, director and categories; with ``process_key`` its categories run
    the auto diagram (deployed through the same checks as a tenant's). Committed."""
    t = tenant()
    desk = Unit(tenant_id=t.id, name="Mesa TI", is_service_unit=True)
    db.session.add(desk)
    db.session.flush()
    workers = [add_person(email, worker=desk) for email in WORKERS]
    add_person(DIRECTOR, service_director=desk)
    if process_key:
        definitions.deploy(t.id, AUTO_DIAGRAM, process_key=process_key)
    cats = {}
    for name, priority in (("Redes", "normal"), ("Impresoras", "low")):
        cats[name] = Category(tenant_id=t.id, name=name, service_unit_id=desk.id,
                              default_priority=priority, description=name,
                              process_key=process_key or "service_request")
        db.session.add(cats[name])
    db.session.commit()
    return {"desk": desk, "workers": workers, "categories": cats}


def give_load(worker: User, hours: str | None, status: str = "pending",
              requester: str = "maria@acme.test", helpers: tuple[User, ...] = (),
              spent: str | None = None) -> Ticket:
    """An open ticket of ``worker`` in the demo's Servicios Generales whose request was
    estimated at ``hours`` (None: no estimate), with ``helpers`` and ``spent`` hours already
    recorded on it (a reopened ticket); written directly, committed."""
    person = by_email(requester)
    electricity = category("Electricidad")
    req = requests.file_request(person, {"title": "Carga de prueba", "description": "Carga",
                                         "category_id": electricity.id})
    req.estimated_hours = Decimal(hours) if hours is not None else None
    ticket = Ticket(tenant_id=req.tenant_id, number=next_number(req.tenant_id, "TKT", 2026),
                    request=req, service_unit_id=req.service_unit_id, worker_id=worker.id,
                    status=status, planned_start=date.today(),
                    planned_end=date.today() + timedelta(days=3),
                    hours_spent=Decimal(spent) if spent is not None else None,
                    helpers=list(helpers))
    db.session.add(ticket)
    db.session.commit()
    return ticket


def rule(name: str, position: int = 0, slug: str = "acme", **values) -> ClassificationRule:
    row = ClassificationRule(tenant_id=tenant(slug).id, name=name, position=position,
                             **{"words": [], "field_conditions": [], **values})
    db.session.add(row)
    db.session.commit()
    return row


def skill(worker: User, cat: Category) -> None:
    db.session.add(WorkerSkill(tenant_id=worker.tenant_id, user_id=worker.id,
                               category_id=cat.id))
    db.session.commit()


def file_in(cat: Category, title: str = "No hay red", description: str = "Sin conexión",
            requester: str = "ana@acme.test", fields: dict | None = None) -> ServiceRequest:
    db.session.rollback()
    req = requests.file_request(by_email(requester), {
        "title": title, "description": description, "category_id": cat.id,
        **({"fields": fields} if fields else {})})
    db.session.commit()
    return req
