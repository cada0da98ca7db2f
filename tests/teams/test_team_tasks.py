"""A Team lane's task: its team's active members find it in their inbox, claim and complete
it and see its request; while the team has no active member, the service unit's directors do.
Nobody else, and never another company."""

from sqlalchemy import select

from app import policy
from app.extensions import db
from app.models import Category, HumanTask, ServiceRequest
from app.services import definitions, inbox, requests, workflow
from app.teams import service as teams
from tests.factories import user

DIAGRAM = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:mesa="https://mesa-de-servicios.org/schema/bpmn/1.0"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="D" targetNamespace="x">
  <bpmn:process id="team_test" isExecutable="true">
    <bpmn:laneSet id="LS"><bpmn:lane id="L" name="Team">
      <bpmn:flowNodeRef>Task_Team</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="S"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="Task_Team" name="Resolver en segunda línea">
      <bpmn:extensionElements>
        <spiffworkflow:properties>
          <spiffworkflow:property name="team" value="second_line"/></spiffworkflow:properties>
        <mesa:form><mesa:field name="notes" type="text" label="Notas"/></mesa:form>
      </bpmn:extensionElements>
      <bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="E"><bpmn:incoming>F2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="Task_Team"/>
    <bpmn:sequenceFlow id="F2" sourceRef="Task_Team" targetRef="E"/>
  </bpmn:process>
</bpmn:definitions>"""

MEMBER, OTHER_WORKER, DIRECTOR = "tecnico2@acme.test", "tecnico1@acme.test", "director@acme.test"


def _file(requester="ana@acme.test", members=(MEMBER,)) -> tuple[ServiceRequest, HumanTask]:
    person = user(requester)
    definitions.deploy(person.tenant_id, DIAGRAM, process_key="team_test")
    first = db.session.scalar(select(Category).where(Category.tenant_id == person.tenant_id))
    category = Category(tenant_id=person.tenant_id, name="Segunda línea",
                        service_unit_id=first.service_unit_id, default_priority="normal",
                        description="x", process_key="team_test")
    db.session.add(category)
    team = teams.ensure(person.tenant_id, "second_line", {"es": "Segunda línea"})
    for email in members:
        teams.add_member(team, user(email))
    db.session.commit()
    req = requests.file_request(person, {"title": "Servidor caído", "description": "No responde",
                                         "category_id": category.id, "location": "TI"})
    db.session.commit()
    task = db.session.scalar(select(HumanTask).where(HumanTask.request_id == req.id,
                                                     HumanTask.status == "open"))
    return req, task


def _inbox(email) -> list[int]:
    db.session.expire_all()
    return [t.id for t in db.session.scalars(inbox.tasks_query(user(email)))
            if t.role == "team"]  # (the demo's own tasks aside)


def test_the_task_is_the_teams(demo):
    req, task = _file()
    assert task.role == "team" and task.team_id == teams.get(req.tenant_id, "second_line").id
    assert task.unit_id == req.service_unit_id and task.assigned_user_id is None
    assert _inbox(MEMBER) == [task.id]
    assert _inbox(OTHER_WORKER) == [] and _inbox(DIRECTOR) == []
    assert policy.task_candidate_ids([task]) == {task.id: [user(MEMBER).id]}
    assert policy.is_task_candidate(user(MEMBER), task)
    assert not policy.is_task_candidate(user(DIRECTOR), task)
    assert policy.can_view_request(user(MEMBER), req)
    assert not policy.can_view_request(user(OTHER_WORKER), req)
    visible = db.session.scalars(select(ServiceRequest.id).where(
        policy.request_visibility(user(MEMBER)))).all()
    assert req.id in visible
    assert req.id not in db.session.scalars(select(ServiceRequest.id).where(
        policy.request_visibility(user(OTHER_WORKER)))).all()


def test_a_member_claims_and_completes_it(demo):
    req, task = _file(members=(MEMBER, "jefe.finanzas@acme.test"))
    workflow.claim(user(MEMBER), task)
    db.session.commit()
    assert _inbox("jefe.finanzas@acme.test") == []  # claimed by another member
    workflow.complete(user(MEMBER), task, "form", {"notes": "Reiniciado"})
    db.session.commit()
    db.session.refresh(req)
    assert req.instance.status == "completed"
    assert policy.can_view_request(user(MEMBER), req)  # still sees what they worked on


def test_outsiders_cannot_claim_or_complete_it(demo):
    _, task = _file()
    import pytest

    for email in (OTHER_WORKER, DIRECTOR):
        with pytest.raises(workflow.NotAllowed):
            workflow.claim(user(email), task)
        db.session.rollback()
        with pytest.raises(workflow.NotAllowed):
            workflow.complete(user(email), task, "form", {"notes": "x"})
        db.session.rollback()


def test_an_empty_team_falls_back_to_the_service_units_directors(demo):
    req, task = _file(members=())
    assert _inbox(DIRECTOR) == [task.id]
    assert policy.task_candidate_ids([task]) == {task.id: [user(DIRECTOR).id]}
    # a member added later takes it over
    teams.add_member(teams.get(req.tenant_id, "second_line"), user(MEMBER))
    db.session.commit()
    assert _inbox(DIRECTOR) == [] and _inbox(MEMBER) == [task.id]


def test_an_inactive_member_counts_for_nothing(demo):
    req, task = _file()
    person = user(MEMBER)
    person.active = False
    db.session.commit()
    assert _inbox(DIRECTOR) == [task.id]  # no active member: the directors
    assert not policy.is_task_candidate(user(MEMBER), task)


def test_another_company_sees_nothing(demo):
    req, task = _file()
    outsider = user("tecnico@globex.test")
    teams.ensure(outsider.tenant_id, "second_line", {"es": "Segunda línea"})
    teams.add_member(teams.get(outsider.tenant_id, "second_line"), outsider)
    db.session.commit()
    assert _inbox("tecnico@globex.test") == []
    assert not policy.is_task_candidate(outsider, task)
    assert not policy.can_view_request(outsider, req)


def test_the_task_page_and_api_work_for_a_member(demo, browser, api):
    req, task = _file()
    page = browser(MEMBER)
    assert page.get(f"/tasks/{task.id}").status_code == 200
    assert page.get(f"/requests/{req.id}").status_code == 200
    assert browser(OTHER_WORKER).get(f"/tasks/{task.id}").status_code == 404
    listed = api(MEMBER).get("/api/v1/tasks")
    assert listed.status_code == 200
    assert task.id in [t["id"] for t in listed.json["items"]]


def _step_of(api, req) -> dict:
    detail = api("ana@acme.test").get(f"/api/v1/requests/{req.id}")
    assert detail.status_code == 200, detail.json
    (step,) = detail.json["current_steps"]
    return step


def test_the_api_says_the_step_waits_on_the_team_and_its_active_members(demo, api):
    req, task = _file(members=(MEMBER, OTHER_WORKER, "jefe.finanzas@acme.test"))
    user("jefe.finanzas@acme.test").active = False
    db.session.commit()
    step = _step_of(api, req)
    assert step["team"] == {"id": task.team_id, "key": "second_line", "name": "Segunda línea",
                            "names": {"es": "Segunda línea"}}
    active = sorted((user(MEMBER), user(OTHER_WORKER)), key=lambda p: p.name)
    assert step["waiting_on"] == [{"id": p.id, "name": p.name, "email": p.email}
                                  for p in active]
    # taken by a member: waits on them, still the team's step
    db.session.rollback()  # (a fresh snapshot after the API's writes)
    workflow.claim(user(MEMBER), db.session.get(HumanTask, task.id))
    db.session.commit()
    step = _step_of(api, req)
    assert [p["email"] for p in step["waiting_on"]] == [MEMBER]
    assert step["team"]["key"] == "second_line"


def test_the_api_says_an_empty_teams_step_waits_on_the_directors(demo, api):
    req, _task = _file(members=())
    step = _step_of(api, req)
    assert [p["email"] for p in step["waiting_on"]] == [DIRECTOR]
    assert step["team"]["key"] == "second_line"


def test_the_openapi_document_describes_the_steps_team(demo, api):
    spec = api().get("/api/v1/openapi.json").json
    step = spec["components"]["schemas"]["StepOut"]["properties"]
    assert "team" in step and "waiting_on" in step
    assert "Team" in step["team"]["description"]
