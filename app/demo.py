"""Demo data: two tenants, their people, a catalog, and requests at different stages."""

from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache

from werkzeug.security import generate_password_hash

from app.extensions import db
from app.models import Category, HumanTask, Membership, Tenant, Unit, User
from app.services import definitions, requests, workflow

PASSWORD = "demo1234"

TENANTS = [
    {
        "slug": "acme",
        "name": "Acme Industrial S.A.",
        "units": [
            ("Finanzas", False, "jefe.finanzas@acme.test", ["ana@acme.test", "luis@acme.test"]),
            ("Producción", False, "jefe.produccion@acme.test", ["maria@acme.test"]),
        ],
        "service_unit": ("Servicios Generales", "director@acme.test",
                         ["tecnico1@acme.test", "tecnico2@acme.test"]),
        "admin": "admin@acme.test",
        "categories": [("Electricidad", "high"), ("Plomería", "normal"), ("Limpieza", "low"),
                       ("Transporte", "normal"), ("Soporte TI", "normal")],
    },
    {
        "slug": "globex",
        "name": "Globex Ltda.",
        "units": [("Operaciones", False, "jefe@globex.test", ["pedro@globex.test"])],
        "service_unit": ("Mantenimiento", "director@globex.test", ["tecnico@globex.test"]),
        "admin": None,
        "categories": [("Mantenimiento locativo", "normal"), ("Aire acondicionado", "high")],
    },
]

# A category's own fields, asked when filing (app.request_fields): the demo shows them on
# Transporte, optional so that a quick request still needs only a title and a description
CATEGORY_FIELDS = {
    "Transporte": [
        {"name": "origin", "type": "text", "label": "Origen", "maxLength": 120},
        {"name": "destination", "type": "text", "label": "Destino", "maxLength": 120},
        {"name": "trip_date", "type": "date", "label": "Fecha del viaje"},
        {"name": "passengers", "type": "number", "label": "Pasajeros", "min": 1, "max": 60},
        {"name": "luggage", "type": "boolean", "label": "¿Con equipaje?"},
    ],
}

NAMES = {
    "jefe.finanzas@acme.test": "Julia Ríos (Jefa de Finanzas)",
    "ana@acme.test": "Ana Gómez",
    "luis@acme.test": "Luis Pérez",
    "jefe.produccion@acme.test": "Jorge Díaz (Jefe de Producción)",
    "maria@acme.test": "María López",
    "director@acme.test": "Diana Castro (Directora de Servicios Generales)",
    "tecnico1@acme.test": "Tomás Herrera (Técnico)",
    "tecnico2@acme.test": "Teresa Mora (Técnica)",
    "admin@acme.test": "Adrián Vela (Administrador)",
    "jefe@globex.test": "Gabriel Soto (Jefe de Operaciones)",
    "pedro@globex.test": "Pedro Ruiz",
    "director@globex.test": "Daniela Paz (Directora de Mantenimiento)",
    "tecnico@globex.test": "Tito Ramos (Técnico)",
}


@lru_cache(maxsize=1)
def _password_hash() -> str:
    """Every demo person shares the password; hashing it once keeps seeding fast."""
    return generate_password_hash(PASSWORD)


def _user(tenant, email) -> User:
    user = User(tenant_id=tenant.id, email=email, name=NAMES.get(email, email),
                password_hash=_password_hash())
    db.session.add(user)
    return user


def _member(tenant, user, role, unit=None) -> None:
    db.session.add(Membership(tenant_id=tenant.id, user=user, role=role,
                              unit_id=unit.id if unit else None))


def _tenant(spec, category_fields: bool = False) -> dict:
    tenant = Tenant(slug=spec["slug"], name=spec["name"], locale="es")
    db.session.add(tenant)
    db.session.flush()
    people = {}
    su_name, director_email, worker_emails = spec["service_unit"]
    service_unit = Unit(tenant_id=tenant.id, name=su_name, is_service_unit=True)
    db.session.add(service_unit)
    db.session.flush()
    for name, _, head_email, staff in spec["units"]:
        unit = Unit(tenant_id=tenant.id, name=name)
        db.session.add(unit)
        db.session.flush()
        people[head_email] = head = _user(tenant, head_email)
        _member(tenant, head, "unit_head", unit)
        for email in staff:
            people[email] = staff_user = _user(tenant, email)
            _member(tenant, staff_user, "requester", unit)
    people[director_email] = director = _user(tenant, director_email)
    _member(tenant, director, "service_director", service_unit)
    for email in worker_emails:
        people[email] = worker = _user(tenant, email)
        _member(tenant, worker, "worker", service_unit)
    if spec["admin"]:
        people[spec["admin"]] = admin = _user(tenant, spec["admin"])
        _member(tenant, admin, "tenant_admin")
        _member(tenant, admin, "process_owner")
    for name, priority in spec["categories"]:
        db.session.add(Category(tenant_id=tenant.id, name=name, service_unit_id=service_unit.id,
                                default_priority=priority,
                                description=f"Solicitudes de {name.lower()}",
                                request_fields=CATEGORY_FIELDS.get(name, [])
                                if category_fields else []))
    db.session.flush()
    definitions.active_definition(tenant.id)
    return {"tenant": tenant, "people": people}


def _open_task(req, spec_id) -> HumanTask:
    return db.session.query(HumanTask).filter_by(
        request_id=req.id, spec_id=spec_id, status="open").one()


def _step(user, req, spec_id, handler, form) -> None:
    workflow.complete(user, _open_task(req, spec_id), handler, form)


def _category(tenant, name) -> int:
    return db.session.query(Category).filter_by(tenant_id=tenant.id, name=name).one().id


def _rates_and_budget(acme: dict) -> None:
    """Acme's service unit charges 35.000 an hour, Teresa 40.000; this month it may commit
    1.500.000 (its requests then use part of it)."""
    from app.tenancy import clock
    from app.viability import budgets

    tenant, people = acme["tenant"], acme["people"]
    unit = db.session.query(Unit).filter_by(tenant_id=tenant.id, is_service_unit=True).one()
    unit.hourly_rate = Decimal("35000")
    people["tecnico2@acme.test"].hourly_rate = Decimal("40000")
    budgets.save(tenant.id, budgets.BudgetInput(
        service_unit_id=unit.id, period="month", amount=Decimal("1500000"),
        starts_on=budgets.period_start("month", clock.today(tenant)),
        note="Mantenimiento y servicios del mes"))


def _service_levels(acme: dict) -> None:
    """Acme's office hours (Monday to Friday, 08:00-12:00 and 14:00-18:00, Colombian holidays
    of December and January) and its targets: a decision within a working day, a start within
    another, a resolution within a working week; urgent requests within half a day."""
    from app.sla.models import BusinessCalendar, SlaTarget

    tenant = acme["tenant"]
    office = [["08:00", "12:00"], ["14:00", "18:00"]]
    calendar = BusinessCalendar(
        tenant_id=tenant.id, name="Horario de oficina", is_default=True,
        time_zone=tenant.timezone or "America/Bogota",
        week={"mon": office, "tue": office, "wed": office, "thu": office, "fri": office,
              "sat": [], "sun": []},
        holidays=[{"date": "2026-12-08", "yearly": False, "name": "Inmaculada Concepción"},
                  {"date": "2026-12-25", "yearly": True, "name": "Navidad"},
                  {"date": "2027-01-01", "yearly": True, "name": "Año Nuevo"},
                  {"date": "2027-01-11", "yearly": False, "name": "Reyes Magos"}])
    db.session.add(calendar)
    db.session.flush()
    for kind, minutes, priority in (("decision", 8 * 60, None), ("start", 8 * 60, None),
                                    ("resolution", 40 * 60, None),
                                    ("resolution", 4 * 60, "urgent")):
        db.session.add(SlaTarget(tenant_id=tenant.id, kind=kind, minutes=minutes,
                                 priority=priority, calendar_id=calendar.id, warn_percent=75,
                                 pause_statuses=["returned", "on_hold"]))
    db.session.flush()


def seed(budgets: bool = False, service_levels: bool = False,
         category_fields: bool = False) -> None:
    """Create both demo tenants and walk some requests through the lifecycle. ``budgets``,
    ``service_levels`` and ``category_fields`` (``flask seed-demo``, the quick start): acme
    also gets hourly rates and this month's budget of its service unit, so an evaluation
    shows them, office hours with SLA targets, so its requests run clocks, and Transporte's
    own fields, answered by its airport request (the tests set their own)."""
    acme = _tenant(TENANTS[0], category_fields)
    globex = _tenant(TENANTS[1], category_fields)
    p, t = acme["people"], acme["tenant"]
    today = date.today()
    if budgets:
        _rates_and_budget(acme)
    if service_levels:
        _service_levels(acme)

    def file(email, title, description, category, location="", fields=None):
        return requests.file_request(p[email], {
            "title": title, "description": description,
            "category_id": _category(t, category), "location": location,
            **({"fields": fields} if fields else {}),
        })

    file("ana@acme.test", "Cambiar lámpara de la oficina 204",
         "La lámpara del techo parpadea desde el lunes.", "Electricidad", "Piso 2, oficina 204")
    r2 = file("luis@acme.test", "Fuga en el baño del segundo piso",
              "Gotea el lavamanos de la derecha.", "Plomería", "Piso 2, baño de hombres")
    _step(p["jefe.finanzas@acme.test"], r2, "Task_Authorize", "authorize",
          {"decision": "authorize", "comment": "Urgente, por favor."})
    r3 = file("maria@acme.test", "Limpieza profunda de la bodega",
              "Antes de la auditoría del mes.", "Limpieza", "Bodega principal")
    _step(p["jefe.produccion@acme.test"], r3, "Task_Authorize", "authorize",
          {"decision": "authorize"})
    _step(p["director@acme.test"], r3, "Task_Evaluate", "evaluate",
          {"decision": "approve", "estimated_cost": "350000", "estimated_hours": "12"})
    _step(p["director@acme.test"], r3, "Task_Assign", "assign", {
        "worker_id": str(p["tecnico1@acme.test"].id),
        "planned_start": today.isoformat(),
        "planned_end": (today + timedelta(days=2)).isoformat(),
    })
    _step(p["tecnico1@acme.test"], r3, "Task_Start", "start", {"comment": "Empiezo hoy."})
    # Demo only: pretend this job was planned last week, so the boards show an overdue ticket.
    r3.ticket.planned_start = today - timedelta(days=6)
    r3.ticket.planned_end = today - timedelta(days=1)
    r4 = file("ana@acme.test", "Revisar tomacorrientes de la sala de juntas",
              "Dos tomacorrientes no tienen energía.", "Electricidad", "Sala de juntas")
    _step(p["jefe.finanzas@acme.test"], r4, "Task_Authorize", "authorize",
          {"decision": "authorize"})
    _step(p["director@acme.test"], r4, "Task_Evaluate", "evaluate",
          {"decision": "approve", "estimated_cost": "120000", "estimated_hours": "3"})
    _step(p["director@acme.test"], r4, "Task_Assign", "assign", {
        "worker_id": str(p["tecnico2@acme.test"].id),
        "planned_start": today.isoformat(),
        "planned_end": (today + timedelta(days=1)).isoformat(),
    })
    _step(p["tecnico2@acme.test"], r4, "Task_Start", "start", {})
    _step(p["tecnico2@acme.test"], r4, "Task_Work", "finish", {
        "resolution": "Se cambió el breaker del circuito 3.", "hours_spent": "2.5",
        "materials_cost": "45000"})
    r5 = file("luis@acme.test", "Transporte al aeropuerto el viernes",
              "Para el gerente, vuelo a las 6 am.", "Transporte",
              fields={"origin": "Sede principal", "destination": "Aeropuerto El Dorado",
                      "trip_date": (today + timedelta(days=3)).isoformat(), "passengers": 2,
                      "luggage": True} if category_fields else None)
    _step(p["jefe.finanzas@acme.test"], r5, "Task_Authorize", "authorize",
          {"decision": "reject", "comment": "Se usará el servicio de taxi contratado."})

    r6 = file("maria@acme.test", "Reparar la silla del puesto 12",
              "El mecanismo de altura no funciona.", "Soporte TI", "Producción, puesto 12")
    _step(p["jefe.produccion@acme.test"], r6, "Task_Authorize", "authorize",
          {"decision": "authorize"})
    _step(p["director@acme.test"], r6, "Task_Evaluate", "evaluate",
          {"decision": "approve", "estimated_cost": "60000", "estimated_hours": "4"})
    _step(p["director@acme.test"], r6, "Task_Assign", "assign", {
        "worker_id": str(p["tecnico2@acme.test"].id),
        "planned_start": today.isoformat(),
        "planned_end": (today + timedelta(days=5)).isoformat(),
    })
    _step(p["tecnico2@acme.test"], r6, "Task_Start", "start", {})
    _step(p["tecnico2@acme.test"], r6, "Task_Work", "hold",
          {"reason": "Esperando el repuesto del proveedor."})

    g, gt = globex["people"], globex["tenant"]
    requests.file_request(g["pedro@globex.test"], {
        "title": "Aire acondicionado no enfría",
        "description": "La sala de control está a 29 grados.",
        "category_id": _category(gt, "Aire acondicionado"), "location": "Sala de control",
    })
    db.session.flush()
