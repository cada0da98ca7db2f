"""Who is told of what: one notice per person and request per step, never of one's own step,
nothing for deactivated people, nothing across tenants; the diagram's ``notify`` operation and
the authorization reminder; outbox keys unique per person and channel; and a task's notice
candidates computed in one query agree with the policy's predicate, person by person."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from app import policy
from app.extensions import db
from app.models import (
    Category,
    HumanTask,
    Membership,
    Notification,
    NotificationTemplate,
    OutboxMessage,
    ProcessIncident,
    ServiceRequest,
    Tenant,
    Unit,
    User,
)
from app.notifications import notices, service
from app.services import background, requests, workflow
from app.services.background import run_due_timers
from tests.factories import assignment_form, file, open_task, request_at, user
from tests.incidents import store_version

REQUESTER, HEAD, DIRECTOR = "ana@acme.test", "jefe.finanzas@acme.test", "director@acme.test"
WORKER, ADMIN = "tecnico1@acme.test", "admin@acme.test"
GLOBEX = ("pedro@globex.test", "jefe@globex.test", "director@globex.test",
          "tecnico@globex.test")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

WALK = [
    (HEAD, "Task_Authorize", "authorize", {"decision": "authorize"}),
    (DIRECTOR, "Task_Evaluate", "evaluate",
     {"decision": "approve", "estimated_cost": "100",
         "estimated_hours": "8", "staff_available": "true"}),
    (DIRECTOR, "Task_Assign", "assign", None),
    (WORKER, "Task_Start", "start", {}),
    (WORKER, "Task_Work", "hold", {"reason": "Falta el repuesto"}),
    (WORKER, "Task_OnHold", "resume", {}),
    (WORKER, "Task_Work", "finish",
     {"resolution": "Listo", "hours_spent": "1", "materials_cost": "0"}),
    (REQUESTER, "Task_Confirm", "confirm", {"rating": "5"}),
]


def _diagram(name: str, service_task: str, lane: str = "UnitHead") -> str:
    """Start, ``service_task`` (a serviceTask element), a user task of ``lane``, end."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
  id="Definitions_{name}" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="service_request" isExecutable="true">
    <bpmn:laneSet id="LaneSet_1">
      <bpmn:lane id="Lane_1" name="{lane}">
        <bpmn:flowNodeRef>Start_1</bpmn:flowNodeRef><bpmn:flowNodeRef>Service_1</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Task_H</bpmn:flowNodeRef><bpmn:flowNodeRef>End_1</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="Start_1" />
    <bpmn:sequenceFlow id="Flow_1" sourceRef="Start_1" targetRef="Service_1" />
    {service_task}
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Service_1" targetRef="Task_H" />
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


def operation(operator: str, **params: str) -> str:
    listed = "".join(f'<spiffworkflow:parameter id="{k}" type="str" value="{v!r}" />'
                     for k, v in params.items())
    return f"""<bpmn:serviceTask id="Service_1" name="Operación">
      <bpmn:extensionElements>
        <spiffworkflow:serviceTaskOperator id="{operator}" resultVariable="result">
          <spiffworkflow:parameters>{listed}</spiffworkflow:parameters>
        </spiffworkflow:serviceTaskOperator>
      </bpmn:extensionElements>
    </bpmn:serviceTask>"""


def notify_at_filing(to: str, template: str) -> None:
    """The tenant's diagram: at filing, ``notify`` ``to`` with ``template``; then the unit
    head's review."""
    store_version(_diagram("Notify", operation("notify", to=to, template=template)))


def notices_of(req_id: int) -> list[Notification]:
    db.session.rollback()
    return list(db.session.scalars(select(Notification).where(
        Notification.request_id == req_id).order_by(Notification.id)))


def by_person(req_id: int) -> dict[str, list[str]]:
    """{email: [event, ...]} of the notices about the request."""
    found: dict[str, list[str]] = {}
    for notice in notices_of(req_id):
        found.setdefault(notice.user.email, []).append(notice.event)
    return found


def step(email, req, spec_id, handler, form) -> set[int]:
    """Complete the step; returns the ids of the notices it wrote."""
    before = {n.id for n in notices_of(req.id)}
    workflow.complete(user(email), open_task(req, spec_id), handler,
                      form if form is not None else assignment_form())
    db.session.commit()
    return {n.id for n in notices_of(req.id)} - before


def add_person(email: str, tenant_slug: str = "acme", active: bool = True,
               **roles: Unit | None) -> User:
    """A person with ``role=unit`` memberships (a unit, or None for a tenant-wide role)."""
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == tenant_slug))
    person = User(tenant_id=tenant.id, email=email, name=email.split("@")[0].title(),
                  password_hash=generate_password_hash("demo1234", method="pbkdf2:sha256:1"),
                  active=active)
    db.session.add(person)
    db.session.flush()
    for role, unit in roles.items():
        db.session.add(Membership(tenant_id=tenant.id, user_id=person.id, role=role,
                                  unit_id=unit.id if unit else None))
    db.session.flush()
    return person


def unit(name: str, tenant_slug: str = "acme", parent: Unit | None = None) -> Unit:
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == tenant_slug))
    found = db.session.scalar(select(Unit).where(Unit.tenant_id == tenant.id, Unit.name == name))
    if found is None:
        found = Unit(tenant_id=tenant.id, name=name, parent_id=parent.id if parent else None)
        db.session.add(found)
        db.session.flush()
    return found


# -- one notice per person and request per step; never one's own --------------------------------

def test_the_assigned_worker_hears_once_linking_to_their_start_task(demo):
    req, _ = request_at("Task_Assign")
    written = step(DIRECTOR, req, "Task_Assign", "assign", None)
    new = [n for n in notices_of(req.id) if n.id in written]
    start = open_task(req, "Task_Start")
    assert sorted((n.user.email, n.event) for n in new) == [
        (REQUESTER, "ticket.assigned"), (WORKER, "ticket.assigned_to_you")]
    (worker_notice,) = [n for n in new if n.user.email == WORKER]
    assert worker_notice.task_id == start.id
    assert worker_notice.params["path"] == f"/tasks/{start.id}"
    assert worker_notice.params["ticket_number"] == db.session.get(
        ServiceRequest, req.id).ticket.number


def test_the_requester_asked_to_confirm_hears_once_linking_to_the_confirm_task(demo):
    req, _ = request_at("Task_Work")
    written = step(WORKER, req, "Task_Work", "finish",
                   {"resolution": "Listo", "hours_spent": "1", "materials_cost": "0"})
    (notice,) = [n for n in notices_of(req.id) if n.id in written]
    confirm = open_task(req, "Task_Confirm")
    assert (notice.user.email, notice.event, notice.task_id) == (
        REQUESTER, "ticket.finished", confirm.id)


def test_through_the_lifecycle_nobody_hears_of_their_own_step_and_nothing_leaves_the_tenant(
        demo):
    req = file(REQUESTER)
    acme_id = req.tenant_id
    for email, spec_id, handler, form in WALK:
        written = step(email, req, spec_id, handler, form)
        new = [n for n in notices_of(req.id) if n.id in written]
        assert all(n.user.email != email for n in new), (spec_id, email)
        assert len({n.user_id for n in new}) == len(new), spec_id  # one each
    # Comments: the author is never told; the requester and the ticket's worker are.
    db.session.rollback()
    for author, expected in ((WORKER, {REQUESTER}), (REQUESTER, {WORKER}),
                             (HEAD, {REQUESTER, WORKER})):
        before = {n.id for n in notices_of(req.id)}
        requests.add_comment(user(author), db.session.get(ServiceRequest, req.id),
                             {"comment": f"Nota de {author}"})
        db.session.commit()
        new = [n for n in notices_of(req.id) if n.id not in before]
        assert {n.user.email for n in new} == expected, author
    everyone = notices_of(req.id)
    assert everyone
    assert {(n.tenant_id, n.user.tenant_id) for n in everyone} == {(acme_id, acme_id)}
    messages = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.notification_id.in_([n.id for n in everyone]))).all()
    assert {m.tenant_id for m in messages} == {acme_id}
    globex_ids = [user(email).id for email in GLOBEX]
    assert db.session.query(Notification).filter(
        Notification.user_id.in_(globex_ids),
        Notification.request_id == req.id).count() == 0


@pytest.mark.parametrize("first_of_the_year", [
    False, True])
def test_a_director_who_assigns_themselves_is_not_told_of_it(demo, first_of_the_year):
    """The director who is also a worker assigns themselves: their own step, so no notice
    (not the ticket, not the start task it gives them), whether or not the ticket is the first
    one numbered this year."""
    director = user(DIRECTOR)
    service_unit = db.session.get(Unit, file(REQUESTER).service_unit_id)
    db.session.add(Membership(tenant_id=director.tenant_id, user_id=director.id, role="worker",
                              unit_id=service_unit.id))
    db.session.commit()
    now = datetime.now(UTC)
    when = datetime(now.year + 1, 1, 5, 9, 0, tzinfo=UTC) if first_of_the_year else now
    with time_machine.travel(when, tick=True):
        req, _ = request_at("Task_Assign")
        written = step(DIRECTOR, req, "Task_Assign", "assign", assignment_form(DIRECTOR))
    new = [n for n in notices_of(req.id) if n.id in written]
    assert [(n.user.email, n.event) for n in new] == [(REQUESTER, "ticket.assigned")]


# -- deactivated people ------------------------------------------------------------------------

def test_a_deactivated_person_gets_nothing_written(demo):
    req = file(REQUESTER)
    user(REQUESTER).active = False
    db.session.commit()
    written = step(HEAD, req, "Task_Authorize", "authorize", {"decision": "authorize"})
    assert [n.user.email for n in notices_of(req.id) if n.id in written] == [DIRECTOR]
    assert by_person(req.id).get(REQUESTER) is None


def test_a_person_deactivated_between_writing_and_sending_gets_nothing_sent(demo, smtp_server):
    req = file(REQUESTER)
    background.deliver_messages(limit=100)
    step(HEAD, req, "Task_Authorize", "authorize", {"decision": "authorize"})
    (notice,) = [n for n in notices_of(req.id) if n.user.email == REQUESTER]
    (mail,) = notice.messages
    assert mail.status == "pending"
    user(REQUESTER).active = False
    db.session.commit()
    background.deliver_messages(limit=100)
    db.session.refresh(mail)
    assert (mail.status, mail.last_error) == ("unsent", "The person's account is deactivated.")
    assert smtp_server.to(REQUESTER) == []
    assert {m["To"].addresses[0].addr_spec for m in smtp_server.messages} == {HEAD, DIRECTOR}


# -- tenants -------------------------------------------------------------------------------------

def test_a_notice_addressed_to_another_tenants_people_is_not_written(demo):
    req = file(REQUESTER)
    outsiders = [user(email).id for email in GLOBEX]
    notices.announce(notices.Notice("process.message", db.session.get(ServiceRequest, req.id),
                                    [*outsiders, user(REQUESTER).id], key="crafted"))
    db.session.commit()
    assert by_person(req.id) == {HEAD: ["task.waiting"], REQUESTER: ["process.message"]}


def test_one_transaction_with_two_tenants_requests_tells_each_tenants_people(demo):
    """Filing in two tenants and committing once (as a seed or an import does): each head is
    told of their own tenant's request, in their own tenant."""
    db.session.rollback()
    mine, theirs = [], []
    for requester, found in (("ana@acme.test", mine), ("pedro@globex.test", theirs)):
        person = user(requester)
        category = db.session.scalars(select(Category).where(
            Category.tenant_id == person.tenant_id)).first()
        found.append(requests.file_request(person, {
            "title": "Pedido", "description": "Detalle", "category_id": category.id,
            "location": "Piso 1"}))
    db.session.commit()
    assert by_person(mine[0].id) == {HEAD: ["task.waiting"]}
    assert by_person(theirs[0].id) == {"jefe@globex.test": ["task.waiting"]}
    for notice in notices_of(theirs[0].id):
        assert notice.tenant_id == theirs[0].tenant_id


# -- the diagram's notify operation --------------------------------------------------------------

def custom_message(tenant_slug: str, key: str, subject: str) -> None:
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == tenant_slug))
    db.session.add(NotificationTemplate(tenant_id=tenant.id, event=key, locale="es",
                                        subject=subject, text="Hola {{ recipient_name }}.",
                                        html="", sms=""))
    db.session.commit()


@pytest.mark.parametrize(("to", "expected"), [
    ("requester", {REQUESTER: ["process.message"], HEAD: ["task.waiting"]}),
    ("service_director", {DIRECTOR: ["process.message"], HEAD: ["task.waiting"]}),
    ("unit_head", {HEAD: ["process.message"]}),  # one notice, linking to their task
    ("worker", {HEAD: ["task.waiting"]}),         # no ticket yet: no worker may see it
])
def test_notify_tells_the_roles_people_who_may_see_the_request(demo, to, expected):
    custom_message("acme", "custom.aviso", "Aviso de {{ request_number }}")
    # A membership row that crosses tenants must not carry the notice to the other tenant.
    acme_service_unit = file(REQUESTER).service_unit_id
    intruder = user("director@globex.test")
    db.session.add(Membership(tenant_id=user(DIRECTOR).tenant_id, user_id=intruder.id,
                              role="service_director", unit_id=acme_service_unit))
    db.session.commit()
    notify_at_filing(to, "custom.aviso")
    req = file(REQUESTER)
    assert by_person(req.id) == expected
    task = open_task(req, "Task_H")
    for notice in notices_of(req.id):
        if notice.event == "process.message":
            assert all(m.payload == {"template": "custom.aviso"} for m in notice.messages)
            assert notice.messages, "sent by the person's channels (e-mail by default)"
        if notice.user.email == HEAD:
            assert notice.task_id == task.id
    assert db.session.query(ProcessIncident).filter_by(request_id=req.id).count() == 0


@pytest.mark.parametrize(("to", "template", "said"), [
    ("janitor", "custom.aviso", "'to' must be one of"),
    ("", "custom.aviso", "'to' must be one of"),
    ("requester", "custom.nada", "no message 'custom.nada'"),
    ("requester", "custom.de_globex", "no message 'custom.de_globex'"),  # another tenant's
    ("requester", "", "no message ''"),
])
def test_notify_with_an_unknown_role_or_message_stops_with_an_incident_and_writes_nothing(
        demo, to, template, said):
    custom_message("acme", "custom.aviso", "Aviso")
    custom_message("globex", "custom.de_globex", "Mensaje de Globex")
    notify_at_filing(to, template)
    req = file(REQUESTER)
    (incident,) = db.session.scalars(select(ProcessIncident).where(
        ProcessIncident.request_id == req.id)).all()
    assert incident.element_id == "Service_1" and said in incident.error
    assert notices_of(req.id) == []
    assert db.session.query(OutboxMessage).filter(OutboxMessage.channel != "webhook").filter(
        OutboxMessage.event == "process.message").count() == 0


# -- the authorization reminder ------------------------------------------------------------------

def test_the_reminder_timer_writes_one_reminder_per_active_head(demo):
    finanzas = db.session.get(Unit, user(REQUESTER).home_unit_id)
    second = add_person("jefa2.finanzas@acme.test", unit_head=finanzas)
    add_person("jefe.inactivo@acme.test", active=False, unit_head=finanzas)
    db.session.commit()
    with time_machine.travel(T0, tick=False) as clock:
        req, task = request_at("Task_Authorize")
        waiting = by_person(req.id)
        assert waiting == {HEAD: ["task.waiting"], second.email: ["task.waiting"]}
        clock.move_to(T0 + timedelta(hours=49))
        assert run_due_timers() == 1
        assert run_due_timers() == 0
    reminders = [n for n in notices_of(req.id) if n.event == "task.reminder"]
    assert sorted(n.user.email for n in reminders) == sorted([HEAD, second.email])
    assert {n.task_id for n in reminders} == {task.id}
    assert all(n.params["path"] == f"/tasks/{task.id}" for n in reminders)
    keys = [m.idempotency_key for n in reminders for m in n.messages]
    assert len(keys) == 2 and len(set(keys)) == 2


# -- outbox keys ---------------------------------------------------------------------------------

def everyone_by_every_channel() -> None:
    """Every acme person chose every channel for every group, with a phone of their own."""
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == "acme"))
    people = db.session.scalars(select(User).where(User.tenant_id == tenant.id)).all()
    for index, person in enumerate(people):
        service.set_phone(person, f"+5730012345{index:02d}")
        service.set_preferences(person, {group: ["inapp", "email", "sms", "whatsapp"]
                                         for group in ("tasks", "requests", "tickets",
                                                       "comments", "process")})
    db.session.commit()


def last_message_id() -> int:
    return db.session.scalar(select(func.max(OutboxMessage.id))) or 0


def check_keys(since: int) -> int:
    """Each notice written after outbox row ``since``: one row per channel; every key
    unique, so no two people or channels share one. Returns how many rows."""
    db.session.rollback()
    rows = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.channel != "webhook", OutboxMessage.id > since)).all()
    keys = [m.idempotency_key for m in rows]
    assert len(keys) == len(set(keys))
    per_notice: dict[int, list[str]] = {}
    for message in rows:
        per_notice.setdefault(message.notification_id, []).append(message.channel)
        assert message.address in (message.notification.user.email,
                                   message.notification.user.phone)
    assert all(sorted(c) == ["email", "sms", "whatsapp"] for c in per_notice.values())
    notices = db.session.scalars(select(Notification).where(
        Notification.id.in_(per_notice))).all()
    assert len({n.key for n in notices}) == len(notices)
    return len(rows)


def test_each_outbox_row_is_unique_per_person_and_channel(demo):
    everyone_by_every_channel()
    since = last_message_id()
    req = file(REQUESTER)
    for email, spec_id, handler, form in WALK:
        step(email, req, spec_id, handler, form)
    requests.add_comment(user(HEAD), db.session.get(ServiceRequest, req.id), {"comment": "Ok"})
    db.session.commit()
    with time_machine.travel(T0, tick=False) as clock:
        request_at("Task_Authorize")
        clock.move_to(T0 + timedelta(hours=49))
        assert run_due_timers() == 1
    # 8 steps and a filing, a comment to two people, a filing and a reminder: 3 rows each
    assert check_keys(since) >= 3 * 14


LONG_STEP = "Task_AutorizarSolicitudDeCompraDeMaterialesYRepuestosParaMantenimiento" \
            "PreventivoDeLaPlantaPrincipalNorte"


def test_outbox_keys_stay_unique_for_a_reminder_of_a_long_step_id(demo):
    everyone_by_every_channel()
    store_version(_diagram("Remind", operation("send_reminder", step=LONG_STEP)))
    since = last_message_id()
    req = file(REQUESTER)
    assert {n.event for n in notices_of(req.id)} == {"task.reminder"}
    check_keys(since)


# -- candidates: one query, the same rule as the policy ---------------------------------------

POOL = _diagram("Pool", operation("set_status", request_status="pending_evaluation"),
                lane="Worker")


def test_task_candidates_agree_with_the_policy_for_every_person(demo):
    finanzas = db.session.get(Unit, user(REQUESTER).home_unit_id)
    tesoreria = unit("Tesorería", parent=finanzas)           # no head: Finanzas' authorizes
    contabilidad = unit("Contabilidad", parent=finanzas)     # its own head, and Finanzas'
    auditoria = unit("Auditoría", parent=contabilidad)       # two levels under Finanzas
    add_person("teso@acme.test", requester=tesoreria)
    add_person("conta@acme.test", requester=contabilidad)
    add_person("audi@acme.test", requester=auditoria)
    add_person("jefe.conta@acme.test", unit_head=contabilidad)
    # Files from Auditoría and also heads Finanzas: never a candidate of their own request.
    add_person("mixto@acme.test", requester=auditoria, unit_head=finanzas)
    add_person("ex.jefe@acme.test", active=False, unit_head=contabilidad)
    db.session.commit()
    for requester in (REQUESTER, "maria@acme.test", "teso@acme.test", "conta@acme.test",
                      "audi@acme.test", "mixto@acme.test", "pedro@globex.test"):
        file(requester)
    for at in ("Task_Evaluate", "Task_Assign", "Task_Start", "Task_Confirm"):
        request_at(at)
    request_at("Task_Evaluate", requester="pedro@globex.test", head="jefe@globex.test",
               director="director@globex.test")
    store_version(POOL)  # a workers' step before any ticket: for all of the service unit
    file(REQUESTER)
    db.session.rollback()
    people = db.session.scalars(select(User)).all()
    tasks = db.session.scalars(select(HumanTask).where(HumanTask.status == "open")).all()
    assert {t.role for t in tasks} == {"unit_head", "service_director", "worker", "requester"}
    for tenant_id in {t.tenant_id for t in tasks}:
        mine = [t for t in tasks if t.tenant_id == tenant_id]
        found = policy.task_candidate_ids(mine)
        for task in mine:
            expected = {p.id for p in people if p.active and policy.is_task_candidate(p, task)}
            assert set(found[task.id]) == expected, (task.spec_id, task.request.number)
            assert expected, task.spec_id  # every task is someone's
    emails = {p.id: p.email for p in people}

    def candidates_of(requester: str) -> list[str]:
        (task,) = [t for t in tasks if t.request.requester.email == requester]
        return sorted(emails[i] for i in policy.task_candidate_ids([task])[task.id])

    # Auditoría has no head: Contabilidad's and every head above it (not the deactivated one).
    assert candidates_of("audi@acme.test") == sorted(
        ["jefe.conta@acme.test", HEAD, "mixto@acme.test"])
    assert candidates_of("mixto@acme.test") == sorted(["jefe.conta@acme.test", HEAD])
    assert candidates_of("teso@acme.test") == sorted([HEAD, "mixto@acme.test"])
    # And the notices of those tasks went to exactly those people.
    audit_task = next(t for t in tasks if t.request.requester.email == "audi@acme.test")
    assert sorted(by_person(audit_task.request_id)) == candidates_of("audi@acme.test")
