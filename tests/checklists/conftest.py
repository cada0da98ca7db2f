"""A company (acme) that runs the security-incident template: deployed as the process of its
first category, its checklists seeded, its ``security`` team of two workers."""

import pytest
from sqlalchemy import select

from app.checklists import service
from app.extensions import db
from app.models import Category, HumanTask, ServiceRequest
from app.services import definitions, processes, workflow
from app.teams import service as teams
from app.teams.models import TeamMember
from tests.api.conftest import api  # noqa: F401
from tests.factories import file, user

SECURITY = "security_incident"
RESPONDERS = ("tecnico1@acme.test", "tecnico2@acme.test")
ADMIN = "admin@acme.test"
DIRECTOR = "director@acme.test"
REPORTER = "ana@acme.test"


@pytest.fixture
def security(demo):
    """The acme category that now follows the security-incident process (its name)."""
    admin = user(ADMIN)
    tenant_id = admin.tenant_id
    definitions.deploy(tenant_id, definitions.default_diagram(SECURITY), process_key=SECURITY,
                       user=admin)
    service.ensure_defaults(tenant_id, SECURITY, SECURITY, admin)
    team = teams.ensure(tenant_id, "security", {"es": "Seguridad", "en": "Security"})
    for email in RESPONDERS:
        db.session.add(TeamMember(tenant_id=tenant_id, team_id=team.id, user_id=user(email).id))
    category = db.session.scalars(select(Category).where(Category.tenant_id == tenant_id)
                                  .order_by(Category.name)).first()
    processes.set_category_process(category, SECURITY, admin)
    db.session.commit()
    return category.name


def report_incident(category: str, title="Correo sospechoso con enlace") -> ServiceRequest:
    return file(REPORTER, category=category, title=title)


def open_task(req: ServiceRequest, spec_id: str) -> HumanTask:
    db.session.rollback()  # a fresh transaction: what the pages committed since
    return db.session.scalars(select(HumanTask).where(
        HumanTask.request_id == req.id, HumanTask.spec_id == spec_id,
        HumanTask.status == "open")).one()


def tick_all(task: HumanTask, email=RESPONDERS[0]) -> None:
    from app.checklists import tasks

    person = user(email)
    for item in tasks.items(task):
        tasks.tick(person, task, item.position, True)
    db.session.commit()


def do(req, spec_id, form, email=RESPONDERS[0]):
    """Tick the step's checklist and complete it, as a responder."""
    task = open_task(req, spec_id)
    tick_all(task, email)
    task = open_task(req, spec_id)
    workflow.complete(user(email), task, "form", form)
    db.session.commit()
    return task
