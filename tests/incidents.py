"""Requests stopped by a process error (incidents), for the tests of services, pages and API."""

from sqlalchemy import select

from app.engine.specs import checksum_of
from app.extensions import db
from app.models import HistoryEvent, ProcessDefinition, ProcessIncident, ServiceRequest, Tenant
from app.services import definitions, processes, workflow
from app.services.definitions import default_diagram
from tests.factories import open_task, user

# Conditions deploy would now refuse (they fail on some request's data): a version deployed
# before this check existed, or one whose failure deploy could not foresee, looks like this.
AUTHORIZED = "decision == 'authorize'"
FAILING_AFTER_AUTHORIZE = "decision == 'authorize' and 1 / (len(decision) - 9) > 0"
FAILING_AT_FILING = "1 / 0 > 1 or requester_is_head == True"


def store_version(xml: str, tenant_slug: str = "acme") -> ProcessDefinition:
    """Make ``xml`` the active version of the tenant's default process without deploy's
    checks (as versions deployed before them are)."""
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == tenant_slug))
    definitions.active_definition(tenant.id)  # the default version first, if none yet
    last = db.session.scalar(select(ProcessDefinition).where(
        ProcessDefinition.tenant_id == tenant.id, ProcessDefinition.is_active.is_(True)))
    last.is_active = False
    stored = ProcessDefinition(
        tenant_id=tenant.id, process_key="service_request", version=last.version + 1,
        bpmn_process_id="service_request", bpmn_xml=xml, checksum=checksum_of(xml),
        is_active=True, note="stored as is")
    db.session.add(stored)
    db.session.commit()
    return stored


def failing_after_authorize() -> ProcessDefinition:
    return store_version(default_diagram().replace(AUTHORIZED, FAILING_AFTER_AUTHORIZE, 1))


def failing_at_filing() -> ProcessDefinition:
    return store_version(default_diagram().replace("requester_is_head == True",
                                                   FAILING_AT_FILING, 1))


def deploy_fix() -> None:
    """The process owner deploys the default diagram and moves every request to it."""
    db.session.rollback()  # a fresh snapshot: an old one cannot become a writer (SQLite WAL)
    admin = user("admin@acme.test")
    definitions.deploy(admin.tenant_id, default_diagram(), user=admin, note="fix")
    db.session.commit()
    processes.move_all(admin, admin.tenant_id)
    db.session.commit()


def state(req_id: int):
    """(request, its instance, its incidents oldest first), read afresh."""
    db.session.rollback()
    req = db.session.get(ServiceRequest, req_id)
    incidents = list(db.session.scalars(
        select(ProcessIncident).where(ProcessIncident.request_id == req_id)
        .order_by(ProcessIncident.id)))
    return req, req.instance, incidents


def actions(req_id: int) -> list[str]:
    return list(db.session.scalars(select(HistoryEvent.action).where(
        HistoryEvent.request_id == req_id).order_by(HistoryEvent.id)))


def authorize(req) -> workflow.Completion:
    done = workflow.complete(user("jefe.finanzas@acme.test"), open_task(req, "Task_Authorize"),
                             "authorize", {"decision": "authorize", "comment": "Adelante"})
    db.session.commit()
    return done
