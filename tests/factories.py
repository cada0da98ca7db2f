"""Build requests at a given step of the lifecycle, through the real services."""

from datetime import date, timedelta

from app.extensions import db
from app.models import Category, HumanTask, ServiceRequest, User
from app.services import requests, workflow

STEPS = ["Task_Authorize", "Task_Evaluate", "Task_Assign", "Task_Start", "Task_Work",
         "Task_OnHold", "Task_Confirm"]


def user(email: str) -> User:
    return db.session.query(User).filter_by(email=email).one()


def open_task(req: ServiceRequest, spec_id: str) -> HumanTask:
    return db.session.query(HumanTask).filter_by(
        request_id=req.id, spec_id=spec_id, status="open").one()


def assignment_form(worker_email="tecnico1@acme.test") -> dict:
    return {"worker_id": str(user(worker_email).id),
            "planned_start": date.today().isoformat(),
            "planned_end": (date.today() + timedelta(days=2)).isoformat()}


def file(requester="ana@acme.test", category=None, title="Cambiar bombillo") -> ServiceRequest:
    """File a request; ``category`` defaults to the tenant's first category by name."""
    db.session.rollback()  # a fresh transaction: requests made since may have written
    person = user(requester)
    query = db.session.query(Category).filter_by(tenant_id=person.tenant_id)
    if category:
        query = query.filter_by(name=category)
    cat = query.order_by(Category.name).first()
    req = requests.file_request(person, {"title": title, "description": "Detalle del pedido",
                                         "category_id": cat.id, "location": "Piso 1"})
    db.session.commit()
    return req


def request_at(step: str, requester="ana@acme.test", head="jefe.finanzas@acme.test",
               director="director@acme.test", worker="tecnico1@acme.test"):
    """A new request of ``requester`` waiting at ``step``; returns (request, open task)."""
    req = file(requester)
    moves = [
        ("Task_Authorize", head, "authorize", {"decision": "authorize"}),
        ("Task_Evaluate", director, "evaluate",
         # Staff availability as computed; the justification is kept only when a test's
         # budget or its many open tickets ask for one
         {"decision": "approve", "estimated_cost": "100", "estimated_hours": "8",
          "justification": "Aprobada en una prueba"}),
        ("Task_Assign", director, "assign", None),
        ("Task_Start", worker, "start", {}),
        ("Task_Work", worker, "hold", {"reason": "Falta material"}),
        ("Task_OnHold", worker, "resume", {}),
        ("Task_Work", worker, "finish",
         {"resolution": "Listo", "hours_spent": "1", "materials_cost": "0"}),
    ]
    for spec_id, email, handler, form in moves:
        if spec_id == step and not (step == "Task_Work" and handler == "finish"):
            break
        if form is None:
            form = assignment_form(worker)
        workflow.complete(user(email), open_task(req, spec_id), handler, form)
        db.session.commit()
    return req, open_task(req, step)


def work_in_both_tenants() -> dict:
    """A request at the worker's step in each demo tenant: {slug: {req, task, ticket} ids}."""
    acme_req, acme_task = request_at("Task_Work")
    globex_req, globex_task = request_at(
        "Task_Work", requester="pedro@globex.test", head="jefe@globex.test",
        director="director@globex.test", worker="tecnico@globex.test")
    return {
        "acme": {"req": acme_req.id, "task": acme_task.id, "ticket": acme_req.ticket.id},
        "globex": {"req": globex_req.id, "task": globex_task.id,
                   "ticket": globex_req.ticket.id},
    }
