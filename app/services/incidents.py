"""Incidents: steps of a request's workflow that failed at run time.

A deployed diagram can still fail for a request deploy could not foresee (a condition that
raises on this request's data, a timer value out of bounds, an operation that refuses). The
person who acted must not pay for it: their action is saved, the workflow is saved up to the
failing element (``engine.runner.StepFailed``), the instance is marked ``incident`` (its timers
wait) and an incident row tells the process owner what failed, where, and for which request.
The owner fixes the diagram, deploys it, moves the request to the new version and retries
(``services.workflow.retry_incident``). Only flushes; the caller commits.
"""

from sqlalchemy import select

from app.engine.runner import Instance, StepFailed
from app.extensions import db
from app.models import ProcessIncident, ProcessInstance, ServiceRequest, User
from app.models.base import utcnow
from app.services import history

PAGE = 50


def _open(tenant_id: int, request_id: int) -> list[ProcessIncident]:
    """A request's open incidents, oldest first (a request has one instance)."""
    return list(db.session.scalars(
        select(ProcessIncident).where(ProcessIncident.tenant_id == tenant_id,
                                      ProcessIncident.request_id == request_id,
                                      ProcessIncident.status == "open")
        .order_by(ProcessIncident.id)))


def _open_of(row: ProcessInstance) -> list[ProcessIncident]:
    return _open(row.tenant_id, row.request_id)


def _record(row: ProcessInstance, req: ServiceRequest, failure: StepFailed, during: str,
            actor: User | None, existing: list[ProcessIncident]) -> ProcessIncident:
    """An open incident for the failing element: the one already open (one more attempt),
    or a new one, with a history entry on the request."""
    element = failure.element_id or "?"
    incident = next((i for i in existing if i.element_id == element), None)
    now = utcnow()
    if incident is not None:
        incident.attempts += 1
        incident.error = failure.reason
        incident.last_failed_at = now
        incident.occurred_during = during
        incident.definition_id = row.definition_id
        return incident
    incident = ProcessIncident(
        tenant_id=row.tenant_id, instance_id=row.id, request_id=req.id,
        definition_id=row.definition_id, element_id=element[:255],
        element_name=(failure.element_name or element)[:255], error=failure.reason,
        occurred_during=during, actor_id=actor.id if actor else None, created_at=now,
        last_failed_at=now)
    db.session.add(incident)
    history.record(req, "process_stopped", None, step=incident.element_name)
    existing.append(incident)
    return incident


def after_step(row: ProcessInstance, instance: Instance, req: ServiceRequest,
               failure: StepFailed | None, during: str, actor: User | None) -> bool:
    """Bring the instance's incidents in step with what the engine just did; True while the
    instance is stopped by one. Called after a step only when it failed or the instance had
    an incident already, so an ordinary step costs nothing here."""
    existing = _open_of(row)
    if failure is not None:
        _record(row, req, failure, during, actor, existing)
    live = instance.live_elements()
    still_open = []
    for incident in existing:
        if incident.element_id in live:
            still_open.append(incident)
        else:  # the request left the failing element another way (e.g. a person's step)
            resolve(incident, "gone", actor)
    return bool(still_open) and not instance.is_completed


def resolve(incident: ProcessIncident, resolution: str, user: User | None) -> None:
    incident.status = "resolved"
    incident.resolution = resolution
    incident.resolved_at = utcnow()
    incident.resolved_by_id = user.id if user else None


def resolve_all(row: ProcessInstance, resolution: str, user: User | None) -> None:
    for incident in _open_of(row):
        resolve(incident, resolution, user)


def open_of_request(req: ServiceRequest) -> list[ProcessIncident]:
    return _open(req.tenant_id, req.id)


def of_tenant(tenant_id: int, status: str | None = "open"):
    """The tenant's incidents, newest first (a query, to page)."""
    query = (select(ProcessIncident).where(ProcessIncident.tenant_id == tenant_id)
             .order_by(ProcessIncident.last_failed_at.desc(), ProcessIncident.id.desc()))
    if status:
        query = query.where(ProcessIncident.status == status)
    return query


def get(tenant_id: int, incident_id: int) -> ProcessIncident | None:
    return db.session.scalar(select(ProcessIncident).where(
        ProcessIncident.tenant_id == tenant_id, ProcessIncident.id == incident_id))
