"""Small helpers for page tests."""

from app.extensions import db
from app.models import HumanTask, ServiceRequest


def open_task(req_id: int, spec_id: str) -> HumanTask:
    db.session.rollback()  # a new snapshot, as a new request would see
    return db.session.query(HumanTask).filter_by(
        request_id=req_id, spec_id=spec_id, status="open").one()


def reload(req_id: int) -> ServiceRequest:
    db.session.rollback()  # a new snapshot, as a new request would see
    return db.session.get(ServiceRequest, req_id)


def html(response) -> str:
    return response.get_data(as_text=True)
