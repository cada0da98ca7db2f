"""The people and structure of one seeded tenant: units (two nested), heads, staff, service units
with a director and workers, a catalog, an admin, and the default process deployed."""

from dataclasses import dataclass, field

from werkzeug.security import generate_password_hash

from app.extensions import db
from app.models import Category, Membership, Tenant, Unit, User
from app.services import definitions

PASSWORD = "demo1234"

SERVICE_UNITS = [
    # name, workers, categories (name, default priority)
    ("Servicios Generales", 6, [("Electricidad", "high"), ("Plomería", "normal"),
                                ("Limpieza", "low"), ("Transporte", "normal")]),
    ("Tecnología", 4, [("Soporte TI", "normal"), ("Redes", "high")]),
]
OPERATING_UNITS = 10  # units 9 and 10 nest under unit 1; unit 10 has no head of its own
STAFF_PER_UNIT = 8

TITLES = {
    "Electricidad": ["Cambiar lámpara", "Revisar tomacorriente", "Instalar reflector"],
    "Plomería": ["Fuga en el lavamanos", "Destapar sanitario", "Cambiar llave de paso"],
    "Limpieza": ["Limpieza profunda de bodega", "Lavar alfombras", "Limpiar ventanales"],
    "Transporte": ["Transporte al aeropuerto", "Traslado de mobiliario", "Envío de equipos"],
    "Soporte TI": ["Instalar impresora", "Equipo no enciende", "Configurar correo"],
    "Redes": ["Punto de red sin señal", "Wi-Fi lento en sala", "Nuevo punto de red"],
}


@dataclass
class ServiceUnitInfo:
    id: int
    director_id: int
    worker_ids: list[int]


@dataclass
class TenantOrg:
    """Ids the row generator needs, so it never queries while it writes."""

    tenant_id: int
    slug: str
    definition_id: int
    # requester id -> (home unit id, authorizing unit id, head id)
    staff: dict[int, tuple[int, int, int]] = field(default_factory=dict)
    categories: list[tuple[int, str, str, int]] = field(default_factory=list)  # id, name, prio, su
    service_units: dict[int, ServiceUnitInfo] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)


def tenant_slug(number: int) -> str:
    return f"t{number:03d}"


def create_tenant(number: int, password_hash: str) -> TenantOrg:
    """Create tenant ``number`` with its people, units and catalog (flushes, does not commit)."""
    slug = tenant_slug(number)
    tenant = Tenant(slug=slug, name=f"Empresa {number:03d} S.A.", locale="es")
    db.session.add(tenant)
    db.session.flush()
    names: dict[int, str] = {}

    def person(email: str, name: str, *roles) -> User:
        user = User(tenant_id=tenant.id, email=f"{email}@{slug}.test", name=name,
                    password_hash=password_hash)
        db.session.add(user)
        for role, unit in roles:
            db.session.add(Membership(tenant_id=tenant.id, user=user, role=role,
                                      unit_id=unit.id if unit else None))
        return user

    units = []
    for index in range(1, OPERATING_UNITS + 1):
        parent = units[0] if index > OPERATING_UNITS - 2 else None
        unit = Unit(tenant_id=tenant.id, name=f"Unidad {index:02d}",
                    parent_id=parent.id if parent else None)
        db.session.add(unit)
        db.session.flush()
        units.append(unit)
    heads = {}
    staff_units = []
    for index, unit in enumerate(units, start=1):
        if index < OPERATING_UNITS:
            heads[unit.id] = person(f"jefe{index:02d}", f"Jefe de la unidad {index:02d}",
                                    ("unit_head", unit))
        for k in range(1, STAFF_PER_UNIT + 1):
            staff_units.append((person(f"empleado{index:02d}{k}", f"Empleado {index:02d}-{k}",
                                       ("requester", unit)), unit))
    service = []
    for number_su, (name, workers, categories) in enumerate(SERVICE_UNITS, start=1):
        unit = Unit(tenant_id=tenant.id, name=name, is_service_unit=True)
        db.session.add(unit)
        db.session.flush()
        director = person(f"director{number_su}", f"Director(a) de {name}",
                          ("service_director", unit))
        crew = [person(f"tecnico{number_su}{k}", f"Técnico {number_su}-{k}", ("worker", unit))
                for k in range(1, workers + 1)]
        cats = [Category(tenant_id=tenant.id, name=cat, service_unit_id=unit.id,
                         default_priority=priority, description=f"Solicitudes de {cat.lower()}")
                for cat, priority in categories]
        db.session.add_all(cats)
        service.append((unit, director, crew, cats))
    person("admin", "Administrador(a)", ("tenant_admin", None), ("process_owner", None))
    db.session.flush()
    definition = definitions.active_definition(tenant.id)

    org = TenantOrg(tenant.id, slug, definition.id)
    for user, unit in staff_units:
        authorizing = unit if unit.id in heads else units[0]  # unit 10 -> its parent, unit 1
        org.staff[user.id] = (unit.id, authorizing.id, heads[authorizing.id].id)
    for unit, director, crew, cats in service:
        org.service_units[unit.id] = ServiceUnitInfo(unit.id, director.id, [w.id for w in crew])
        names.update({w.id: w.name for w in crew})
        org.categories.extend((c.id, c.name, c.default_priority, unit.id) for c in cats)
    org.names = names
    return org


def password_hash() -> str:
    return generate_password_hash(PASSWORD)
