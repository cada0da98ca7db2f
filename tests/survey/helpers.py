"""A request whose work is finished and waits for the requester's confirmation, and the survey
link of the e-mail the requester got for it (read from what the SMTP server received)."""

import re

from sqlalchemy import select

from app.extensions import db
from app.models import HumanTask, ServiceRequest
from app.services import background
from tests.factories import request_at

REQUESTER = "ana@acme.test"
LINK = re.compile(r"http://mesa\.test(/survey/[A-Za-z0-9_.\-]+)")


def finished_request():
    """A request at its confirmation (the finish done); returns (request, confirm task)."""
    return request_at("Task_Confirm")


def body(message) -> str:
    return message.get_body(("plain",)).get_content()


def survey_path(smtp, req: ServiceRequest) -> str:
    """Deliver the outbox and return the survey path of the finish's e-mail about ``req``."""
    background.deliver_messages(limit=500)
    mails = [m for m in smtp.to(REQUESTER) if req.number in str(m["Subject"])
             and "terminada" in str(m["Subject"])]
    assert len(mails) == 1, [str(m["Subject"]) for m in smtp.to(REQUESTER)]
    found = LINK.findall(body(mails[0]))
    assert len(found) == 1, body(mails[0])
    return found[0]


def reload(req_id: int) -> ServiceRequest:
    db.session.rollback()
    return db.session.get(ServiceRequest, req_id)


def task_of(req_id: int, spec_id="Task_Confirm") -> HumanTask:
    db.session.rollback()
    return db.session.scalar(select(HumanTask).where(HumanTask.request_id == req_id,
                                                     HumanTask.spec_id == spec_id))
