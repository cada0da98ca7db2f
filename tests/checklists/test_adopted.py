"""A company adopts the security-incident process from the catalog (app.process_catalog),
gives it to a category, fills its team, and an incident filed there is triaged, alerted and
worked to its close with every checklist ticked: as a new company would."""

from sqlalchemy import select

from app.checklists import service
from app.extensions import db
from app.models import Category, HistoryEvent, Notification, ServiceRequest
from app.process_catalog import adopt
from app.services import processes
from app.teams import service as teams
from app.teams.models import TeamMember
from tests.checklists.conftest import ADMIN, RESPONDERS, do
from tests.factories import file, user


def test_adopted_from_the_catalog_it_runs_with_its_checklists_and_alerts(demo):
    owner = user(ADMIN)  # the demo's tenant admin is its process owner too
    adopted = adopt(owner.tenant_id, "security_incident", owner, process_key="seguridad",
                    deploy=True)
    assert adopted.definition.version == 1
    assert {c.key for c in service.list_for(owner.tenant_id, "seguridad")} == {
        "triage", "containment", "eradication", "recovery", "lessons_learned"}
    team = teams.get(owner.tenant_id, "security")
    for email in RESPONDERS:
        db.session.add(TeamMember(tenant_id=owner.tenant_id, team_id=team.id,
                                  user_id=user(email).id))
    category = db.session.scalars(select(Category).where(
        Category.tenant_id == owner.tenant_id).order_by(Category.name)).first()
    processes.set_category_process(category, "seguridad", owner)
    db.session.commit()

    req = file("luis@acme.test", category=category.name, title="Ransomware en un portátil")
    assert req.kind == "security_incident"
    do(req, "Task_Triage", {"severity": "medium", "false_positive": "false"})
    for step, form in (("Task_Contain", {}), ("Task_Eradicate", {}),
                       ("Task_Recover", {"restored": "true"}),
                       ("Task_Lessons", {"lessons": "Copias fuera de línea"})):
        do(req, step, form, RESPONDERS[1])
    db.session.rollback()
    req = db.session.get(ServiceRequest, req.id)
    assert req.status == "completed"
    ticks = db.session.scalar(select(db.func.count(HistoryEvent.id)).where(
        HistoryEvent.request_id == req.id, HistoryEvent.action == "checklist_ticked"))
    assert ticks == 4 + 4 + 4 + 3 + 4
    alerted = set(db.session.scalars(select(Notification.user_id).where(
        Notification.request_id == req.id, Notification.event == "security.alert")))
    assert user("director@acme.test").id in alerted and user(RESPONDERS[1]).id in alerted
