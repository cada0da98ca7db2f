"""A company's generated history inserted as settled requests, and the API client."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select

from app.extensions import db
from app.models import Category, ServiceRequest, Tenant, Unit, User
from app.suggestions import service
from tests.api.conftest import api  # noqa: F401
from tests.suggestions.history import generate

START = datetime(2025, 1, 1, tzinfo=UTC)


def category_ids(tenant_id: int, names) -> dict[str, int]:
    """The company's categories by name, created when missing."""
    unit_id = db.session.scalar(select(Unit.id).where(Unit.tenant_id == tenant_id,
                                                      Unit.is_service_unit.is_(True)))
    found = {}
    for name in names:
        category = db.session.scalar(select(Category).where(
            Category.tenant_id == tenant_id, Category.name == name))
        if category is None:
            category = Category(tenant_id=tenant_id, name=name, service_unit_id=unit_id)
            db.session.add(category)
            db.session.flush()
        found[name] = category.id
    return found


def add_history(slug: str, rows: list[dict], status: str = "completed", start=START,
                first_number: int = 0) -> dict[str, int]:
    """Insert ``rows`` (history.generate's) as the company's requests, one a minute from
    ``start``; returns the categories by name."""
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == slug))
    requester = db.session.scalar(select(User).where(
        User.tenant_id == tenant.id, User.email.like("%pedro%") | User.email.like("ana@%")))
    categories = category_ids(tenant.id, sorted({r["category"] for r in rows}))
    service_unit = db.session.get(Category, next(iter(categories.values()))).service_unit_id
    values = [{
        "tenant_id": tenant.id, "number": f"H-{first_number + i:06d}", "title": r["title"][:200],
        "description": r["description"], "category_id": categories[r["category"]],
        "priority": r["priority"], "requester_id": requester.id,
        "unit_id": requester.home_unit_id, "service_unit_id": service_unit, "status": status,
        "created_at": start + timedelta(minutes=i), "updated_at": start + timedelta(minutes=i),
    } for i, r in enumerate(rows)]
    if values:
        db.session.execute(insert(ServiceRequest), values)
    db.session.commit()
    return categories


def spanish(text: str, **values) -> str:
    """``text`` as the demo people read it: the Spanish catalog's, when it has it yet (the
    translator's pass comes after the code), else the English source."""
    from flask_babel import force_locale, gettext

    with force_locale("es"):
        return gettext(text, **values)


def tenant_id(slug: str) -> int:
    return db.session.scalar(select(Tenant.id).where(Tenant.slug == slug))


@pytest.fixture
def history(demo):
    """Give a company a generated history: ``history("acme", 600, seed=7)``."""

    def make(slug="acme", count=600, seed=7, **kwargs):
        return add_history(slug, generate(count, seed), **kwargs)

    return make


@pytest.fixture(autouse=True)
def fresh_cache(monkeypatch):
    """No model kept from another test, and the first pass looks at every company."""
    from app.suggestions import training

    monkeypatch.setitem(training._last_sweep, "at", float("-inf"))
    service.forget_cache()
    yield
    service.forget_cache()
