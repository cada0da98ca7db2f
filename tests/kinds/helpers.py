"""An incident process for the kinds tests: the default diagram naming ``kind = incident``,
deployed under its own key and followed by one of acme's categories."""

from sqlalchemy import select

from app.extensions import db
from app.kinds.diagram import with_kind
from app.models import Category, Tenant
from app.services import definitions, processes
from tests.factories import file

INCIDENT_CATEGORY = "Soporte TI"


def acme() -> Tenant:
    return db.session.scalar(select(Tenant).where(Tenant.slug == "acme"))


def incident_process(category: str = INCIDENT_CATEGORY, key: str = "incidente",
                     kind: str = "incident"):
    """Deploy the default diagram as ``key`` of kind ``kind`` and point ``category`` at it."""
    tenant = acme()
    definition = processes.deploy(tenant.id, key, with_kind(definitions.default_diagram(), kind),
                                  None)
    cat = db.session.scalar(select(Category).where(Category.tenant_id == tenant.id,
                                                   Category.name == category))
    processes.set_category_process(cat, key)
    db.session.commit()
    return definition


def file_incident(title="Se cayó el correo", requester="ana@acme.test"):
    return file(requester, category=INCIDENT_CATEGORY, title=title)
