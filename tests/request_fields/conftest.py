"""A company whose Transporte category asks for origin, destination, date, passengers, a kind
of vehicle and whether luggage goes too (every type of field)."""

import pytest

from app.admin import categories
from app.extensions import db
from app.models import Category, Tenant
from tests.api.conftest import api  # noqa: F401  (the API client fixture)
from tests.factories import user

TRANSPORT_FIELDS = [
    {"name": "origin", "type": "text", "label": "Origen", "required": True, "minLength": 3,
     "maxLength": 80},
    {"name": "destination", "type": "text", "label": "Destino", "required": True},
    {"name": "trip_date", "type": "date", "label": "Fecha del viaje", "required": True,
     "min": "2026-01-01", "max": "2030-12-31"},
    {"name": "passengers", "type": "number", "label": "Pasajeros", "required": True,
     "min": 1, "max": 40},
    {"name": "vehicle", "type": "choice", "label": "Vehículo",
     "options": [{"value": "van", "label": "Camioneta"}, {"value": "bus", "label": "Bus"}]},
    {"name": "luggage", "type": "boolean", "label": "¿Con equipaje?"},
    {"name": "notes", "type": "longtext", "label": "Indicaciones", "maxLength": 500},
]

VALID = {"origin": "Sede norte", "destination": "Aeropuerto", "trip_date": "2026-06-05",
         "passengers": "12", "vehicle": "bus", "luggage": "true"}


def transport() -> Category:
    db.session.rollback()
    admin = user("admin@acme.test")
    return db.session.query(Category).filter_by(tenant_id=admin.tenant_id,
                                                name="Transporte").one()


def set_fields(items, name="Transporte") -> Category:
    """``name``'s fields become ``items``, saved as the tenant admin saves them."""
    admin = user("admin@acme.test")
    category = db.session.query(Category).filter_by(tenant_id=admin.tenant_id, name=name).one()
    categories.update(admin, db.session.get(Tenant, admin.tenant_id), category,
                      {"request_fields": items})
    db.session.commit()
    return category


@pytest.fixture
def transport_fields(demo):
    return set_fields(TRANSPORT_FIELDS)
