"""What the indicator tests with a database share: requests filed and walked through the real
workflow at chosen instants (time_machine), by the people the demo gives each role."""

from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

import time_machine
from sqlalchemy import select

from app.extensions import db
from app.models import ServiceRequest, User
from app.services import workflow
from tests import factories

# Who decides for whom in the demo: the head of the requester's unit, the director of the
# company's service unit and its first worker
HEADS = {"ana@acme.test": "jefe.finanzas@acme.test", "luis@acme.test": "jefe.finanzas@acme.test",
         "maria@acme.test": "jefe.produccion@acme.test", "pedro@globex.test": "jefe@globex.test",
         "teo@acme.test": "jefe.finanzas@acme.test"}  # Tesorería, under Finanzas (more_acme)
DIRECTORS = {"acme.test": "director@acme.test", "globex.test": "director@globex.test"}
WORKERS = {"acme.test": "tecnico1@acme.test", "globex.test": "tecnico@globex.test"}


def bogota(month: int, day: int, hour: int = 0, minute: int = 0, year: int = 2026) -> datetime:
    """Bogotá's wall clock (UTC-5 all year) as a UTC instant: the demo companies' zone."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC) + timedelta(hours=5)


@contextmanager
def at(moment: datetime):
    with time_machine.travel(moment, tick=False):
        yield


def file_at(moment: datetime, requester: str = "ana@acme.test", category: str | None = None,
            title: str = "Cambiar bombillo") -> ServiceRequest:
    with at(moment):
        return factories.file(requester, category=category, title=title)


def _domain(email: str) -> str:
    return email.split("@", 1)[1]


def _worker_of(req: ServiceRequest) -> str:
    return db.session.get(User, req.ticket.worker_id).email


MOVES = {
    # action: (task, who, handler, form)
    "authorize": ("Task_Authorize", "head", "authorize", {"decision": "authorize"}),
    "reject_head": ("Task_Authorize", "head", "authorize",
                    {"decision": "reject", "comment": "No procede"}),
    "approve": ("Task_Evaluate", "director", "evaluate",
                {"decision": "approve", "estimated_cost": "100", "estimated_hours": "8",
                 "justification": "Aprobada en una prueba"}),
    "reject": ("Task_Evaluate", "director", "evaluate",
               {"decision": "reject", "comment": "No es viable"}),
    "return": ("Task_Evaluate", "director", "evaluate",
               {"decision": "return", "comment": "¿En qué piso?"}),
    "resubmit": ("Task_ProvideInformation", "requester", "resubmit", {"comment": "Piso 3"}),
    "assign": ("Task_Assign", "director", "assign", {}),
    "start": ("Task_Start", "worker", "start", {}),
    "hold": ("Task_Work", "worker", "hold", {"reason": "Falta material"}),
    "resume": ("Task_OnHold", "worker", "resume", {}),
    "finish": ("Task_Work", "worker", "finish",
               {"resolution": "Listo", "hours_spent": "1", "materials_cost": "0"}),
    "confirm": ("Task_Confirm", "requester", "confirm", {"rating": "5"}),
}


def act(moment: datetime, req: ServiceRequest, action: str, director: str | None = None,
        worker: str | None = None, **form) -> None:
    """``action`` (a key of MOVES, or "cancel") on ``req`` at ``moment``, by the person whose
    step it is; ``form`` overrides the form's fields. "assign" plans the work from the day of
    ``moment`` to two days later unless told otherwise."""
    with at(moment):
        db.session.rollback()
        req = db.session.get(ServiceRequest, req.id)
        requester = req.requester.email
        if action == "cancel":
            workflow.cancel_request(req.requester, req, form.get("reason", "Ya no hace falta"))
            db.session.commit()
            return
        spec_id, who, handler, base = MOVES[action]
        data = {**base}
        if action == "assign":
            worker = worker or WORKERS[_domain(requester)]
            today = moment.date()
            data = {"worker_id": str(factories.user(worker).id),
                    "planned_start": today.isoformat(),
                    "planned_end": (today + timedelta(days=2)).isoformat()}
        data.update({k: v.isoformat() if isinstance(v, date) else v for k, v in form.items()})
        email = {"head": lambda: HEADS[requester],
                 "director": lambda: director or DIRECTORS[_domain(requester)],
                 "requester": lambda: requester,
                 "worker": lambda: _worker_of(req)}[who]()
        workflow.complete(factories.user(email), factories.open_task(req, spec_id), handler,
                          data)
        db.session.commit()


def walk(req: ServiceRequest, *moves) -> ServiceRequest:
    """Each (moment, action[, form]) in turn; returns the request read afresh."""
    for moment, action, *extra in moves:
        act(moment, req, action, **(extra[0] if extra else {}))
    return reload(req)


def reload(req: ServiceRequest) -> ServiceRequest:
    db.session.expire_all()
    return db.session.get(ServiceRequest, req.id)


# --- more of acme: a second service unit and a unit under Finanzas ---------------------------

def _person(tenant_id: int, email: str, name: str, role: str, unit_id: int | None) -> User:
    from app.demo import _password_hash
    from app.models import Membership

    person = User(tenant_id=tenant_id, email=email, name=name, password_hash=_password_hash())
    db.session.add(person)
    db.session.flush()
    db.session.add(Membership(tenant_id=tenant_id, user_id=person.id, role=role,
                              unit_id=unit_id))
    return person


def more_acme() -> dict:
    """Acme gets a second service unit, Sistemas (director.sistemas@, its worker
    tecnico.sistemas@, the category Redes it attends), and Tesorería, a unit under Finanzas
    with no head of its own (teo@ files from it; Finanzas' head authorizes). Committed; ids."""
    from app.models import Category, Tenant, Unit

    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == "acme"))
    finanzas = db.session.scalar(select(Unit).where(Unit.tenant_id == tenant.id,
                                                    Unit.name == "Finanzas"))
    sistemas = Unit(tenant_id=tenant.id, name="Sistemas", is_service_unit=True)
    tesoreria = Unit(tenant_id=tenant.id, name="Tesorería", parent_id=finanzas.id)
    db.session.add_all([sistemas, tesoreria])
    db.session.flush()
    _person(tenant.id, "director.sistemas@acme.test", "Sara Díaz (Directora de Sistemas)",
            "service_director", sistemas.id)
    _person(tenant.id, "tecnico.sistemas@acme.test", "Iván Rey (Técnico)", "worker",
            sistemas.id)
    _person(tenant.id, "teo@acme.test", "Teo Martín", "requester", tesoreria.id)
    redes = Category(tenant_id=tenant.id, name="Redes", service_unit_id=sistemas.id,
                     default_priority="normal", description="Solicitudes de redes")
    db.session.add(redes)
    db.session.commit()
    return {"sistemas": sistemas.id, "tesoreria": tesoreria.id, "finanzas": finanzas.id,
            "redes": redes.id}


def ids(tenant_slug: str) -> dict:
    """The demo company's ids by name: units, categories, people (by e-mail)."""
    from app.models import Category, Tenant, Unit

    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == tenant_slug))
    found = {"tenant": tenant.id}
    for model in (Unit, Category):
        for row_id, name in db.session.execute(
                select(model.id, model.name).where(model.tenant_id == tenant.id)):
            found[name] = row_id
    for row_id, email in db.session.execute(
            select(User.id, User.email).where(User.tenant_id == tenant.id)):
        found[email] = row_id
    return found
