"""What the SLA list, page and API tests share: requests filed and walked at chosen times, and
clients that log in at those times."""

from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import time_machine

from app.extensions import db
from app.models import ServiceRequest, User
from app.services import workflow
from tests import factories
from tests.api.conftest import ApiClient


def bogota(day: int, hour: int, minute: int = 0) -> datetime:
    """December 2026, Bogotá's wall clock (UTC-5, no daylight saving) as a UTC instant.
    The 7th is a Monday."""
    return datetime(2026, 12, day, hour, minute, tzinfo=UTC) + timedelta(hours=5)


@contextmanager
def at(moment: datetime):
    with time_machine.travel(moment, tick=False):
        yield


def file_at(moment: datetime, title: str, requester: str = "ana@acme.test") -> ServiceRequest:
    with at(moment):
        return factories.file(requester, title=title)


def step_at(moment: datetime, req: ServiceRequest, spec_id: str, email: str, handler: str,
            form: dict) -> None:
    with at(moment):
        db.session.rollback()
        workflow.complete(factories.user(email), factories.open_task(req, spec_id), handler,
                          form)
        db.session.commit()


def approve_at(moment: datetime, req: ServiceRequest, head="jefe.finanzas@acme.test",
               director="director@acme.test") -> None:
    step_at(moment, req, "Task_Authorize", head, "authorize", {"decision": "authorize"})
    step_at(moment, req, "Task_Evaluate", director, "evaluate",
            {"decision": "approve", "estimated_cost": "100", "estimated_hours": "8",
             "justification": "Aprobada en una prueba"})


def assign_at(moment: datetime, req: ServiceRequest, planned_end: str,
              worker="tecnico1@acme.test", director="director@acme.test") -> None:
    step_at(moment, req, "Task_Assign", director, "assign",
            {"worker_id": str(factories.user(worker).id), "planned_start": "2026-12-07",
             "planned_end": planned_end})


def in_english(*emails: str) -> None:
    """These people read pages in English (the strings the tests look for)."""
    for email in emails:
        db.session.query(User).filter_by(email=email).one().locale = "en"
    db.session.commit()


def api_client(app, email: str) -> ApiClient:
    client = ApiClient(app)
    response = client.post("/api/v1/tokens", {"email": email, "password": "demo1234"})
    assert response.status_code == 201, response.json
    client.token = response.json["token"]
    return client


def reload(req: ServiceRequest) -> ServiceRequest:
    db.session.expire_all()
    return db.session.get(ServiceRequest, req.id)
