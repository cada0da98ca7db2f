"""The conversation tests: an API client (bearer token) beside the logged-in browser, and a
request at the worker's step in the demo company."""

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Notification, OutboxMessage, ServiceRequest
from tests.api.conftest import ApiClient
from tests.factories import request_at, user

REQUESTER, HEAD, DIRECTOR = "ana@acme.test", "jefe.finanzas@acme.test", "director@acme.test"
WORKER, OTHER_WORKER, ADMIN = "tecnico1@acme.test", "tecnico2@acme.test", "admin@acme.test"
OUTSIDER, OTHER_TENANT = "maria@acme.test", "pedro@globex.test"
SECRET = "NOTA-INTERNA-7f3a"


@pytest.fixture
def api(app):
    def make(email=None, password="demo1234"):
        client = ApiClient(app)
        if email:
            response = client.post("/api/v1/tokens", {"email": email, "password": password})
            assert response.status_code == 201, response.json
            client.token = response.json["token"]
        return client

    return make


@pytest.fixture
def working(demo):
    """Ana's request at the worker's step (tecnico1 works on it): its id."""
    req, _task = request_at("Task_Work")
    return req.id


def reload(request_id: int) -> ServiceRequest:
    db.session.rollback()
    return db.session.get(ServiceRequest, request_id)


def notices(request_id: int, event: str | None = None) -> list[Notification]:
    db.session.rollback()
    stmt = select(Notification).where(Notification.request_id == request_id)
    if event:
        stmt = stmt.where(Notification.event == event)
    return list(db.session.scalars(stmt.order_by(Notification.id)))


def notices_of(email: str, request_id: int) -> list[str]:
    person = user(email)
    return [n.event for n in notices(request_id) if n.user_id == person.id]


def messages_of(email: str) -> list[OutboxMessage]:
    db.session.rollback()
    person = user(email)
    return list(db.session.scalars(
        select(OutboxMessage).join(Notification, Notification.id == OutboxMessage.notification_id)
        .where(Notification.user_id == person.id)))
