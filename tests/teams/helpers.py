"""The change template deployed for a category of acme, its board, and steps through the real
services (each step restores the instance from the database and saves it again)."""

from pathlib import Path

from sqlalchemy import select

from app.extensions import db
from app.models import Category, HistoryEvent, HumanTask, ServiceRequest
from app.services import definitions, requests, workflow
from app.teams import service as teams
from tests.factories import user

TEMPLATE = Path(__file__).resolve().parents[2] / "processes" / "change_request.bpmn"
CATEGORY = "Cambios de TI"
BOARD = ["jefe.finanzas@acme.test", "jefe.produccion@acme.test", "tecnico2@acme.test"]
ASSESSMENT = {"risk": "medium", "impact": "high", "change_plan": "Actualizar el servidor",
              "rollback_plan": "Restaurar la copia de ayer"}


def template(rule: str = "majority") -> str:
    xml = TEMPLATE.read_text(encoding="utf-8")
    return xml.replace('name="approval_rule" value="majority"',
                       f'name="approval_rule" value="{rule}"', 1)


def deploy_change(rule: str = "majority", members=BOARD, tenant_email="admin@acme.test"):
    """Deploy the change template (with ``rule``) for a new category; the board's members."""
    admin = user(tenant_email)
    definitions.deploy(admin.tenant_id, template(rule), process_key="change_request",
                       user=admin)
    first = db.session.scalar(select(Category).where(Category.tenant_id == admin.tenant_id)
                              .order_by(Category.id))
    if db.session.scalar(select(Category).where(Category.tenant_id == admin.tenant_id,
                                                Category.name == CATEGORY)) is None:
        db.session.add(Category(tenant_id=admin.tenant_id, name=CATEGORY,
                                service_unit_id=first.service_unit_id,
                                default_priority="normal", description="Cambios",
                                process_key="change_request"))
    team = teams.ensure(admin.tenant_id, "change_board", {"es": "Comité de cambios"})
    for email in members:
        teams.add_member(team, user(email))
    db.session.commit()
    return team


def file_change(requester="ana@acme.test") -> ServiceRequest:
    db.session.rollback()
    person = user(requester)
    cat = db.session.scalar(select(Category).where(Category.tenant_id == person.tenant_id,
                                                   Category.name == CATEGORY))
    req = requests.file_request(person, {"title": "Actualizar el servidor de correo",
                                         "description": "Versión nueva", "category_id": cat.id,
                                         "location": "Centro de datos"})
    db.session.commit()
    return req


def open_tasks(req, spec_id=None) -> list[HumanTask]:
    query = select(HumanTask).where(HumanTask.request_id == req.id, HumanTask.status == "open")
    if spec_id:
        query = query.where(HumanTask.spec_id == spec_id)
    return list(db.session.scalars(query.order_by(HumanTask.id)))


def waiting(req) -> list[str]:
    return sorted(t.spec_id for t in open_tasks(req))


def step(req, spec_id, email, form):
    (task,) = open_tasks(req, spec_id)
    result = workflow.complete(user(email), task, "form", form)
    db.session.commit()
    return result


def assess(req):
    return step(req, "Task_Assess", req.requester.email, ASSESSMENT)


def vote_task(req, email) -> HumanTask:
    person = user(email)
    (task,) = [t for t in open_tasks(req, "Task_BoardVote") if t.assigned_user_id == person.id]
    return task


def vote(req, email, answer, comment=""):
    result = workflow.complete(user(email), vote_task(req, email), "form",
                               {"vote": answer, "vote_comment": comment})
    db.session.commit()
    return result


def actions(req) -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(select(HistoryEvent.action).where(
        HistoryEvent.request_id == req.id).order_by(HistoryEvent.id)))


def history(req, action) -> list[HistoryEvent]:
    return list(db.session.scalars(select(HistoryEvent).where(
        HistoryEvent.request_id == req.id, HistoryEvent.action == action)
        .order_by(HistoryEvent.id)))


def board_data(req) -> dict:
    """The board as the instance's saved state has it (votes, counts, outcome)."""
    from app.handlers.base import OperationContext
    from app.services.workflow import restore_instance

    db.session.expire_all()
    instance = restore_instance(req.instance, OperationContext(req, None))
    for task in instance.ready_tasks():
        data = instance.loop_data(task.uuid)
        if data is not None:
            return data["board"]
    return instance.data().get("board") or {}
