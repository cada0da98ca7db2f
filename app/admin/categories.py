"""The service catalog as its tenant admin keeps it: a category's name in each language, its
description, the service unit that attends it, its default priority, the process its new
requests follow, the extra fields they are filed with, and whether it is offered at all.

``create`` and ``update`` check everything (raising ``marshmallow.ValidationError``, field ->
messages) and write an audit entry with the before and after; they only flush.
"""

from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError
from sqlalchemy import func, select

from app.admin import audit
from app.extensions import db
from app.models import PRIORITIES, Category, Tenant, Unit
from app.request_fields import specs as request_fields
from app.services import processes

LOCALES = ("es", "en")
NAME_MAX = 120
DESCRIPTION_MAX = 2000
FIELDS = ("names", "description", "service_unit_id", "default_priority", "process_key",
          "active", "request_fields")
AUDITED = ("name", *FIELDS)


def of_tenant(tenant_id: int, *, active: bool | None = None):
    """A SELECT of the tenant's categories, by name (``active``: only those, or the others)."""
    stmt = select(Category).where(Category.tenant_id == tenant_id)
    if active is not None:
        stmt = stmt.where(Category.active.is_(active))
    return stmt.order_by(func.lower(Category.name), Category.id)


def get(tenant_id: int, category_id: int) -> Category | None:
    return db.session.scalar(select(Category).where(Category.tenant_id == tenant_id,
                                                    Category.id == category_id))


def service_units(tenant_id: int) -> list[Unit]:
    """The units a category may be attended by: the tenant's service units, not archived."""
    return list(db.session.scalars(select(Unit).where(
        Unit.tenant_id == tenant_id, Unit.is_service_unit.is_(True),
        Unit.archived_at.is_(None)).order_by(Unit.name)))


def process_keys(tenant_id: int) -> list[str]:
    """The processes a category may follow: those the tenant has deployed."""
    return processes.deployed_keys(tenant_id)


def _text(value) -> str:
    return value.strip() if isinstance(value, str) else ""


def _clean(tenant: Tenant, data: dict, category: Category | None) -> dict:
    """``data`` checked against the tenant's units, processes and other categories; every
    problem at once."""
    errors: dict[str, list[str]] = {}
    out: dict = {}
    if "names" in data or category is None:
        names_in = data.get("names") if isinstance(data.get("names"), dict) else {}
        names = {lang: _text(names_in.get(lang)) for lang in LOCALES}
        for lang in LOCALES:
            if len(names[lang]) > NAME_MAX:
                errors[f"names.{lang}"] = [str(_l("At most %(n)s characters.", n=NAME_MAX))]
        if not names.get(tenant.locale):
            errors[f"names.{tenant.locale}"] = [str(_l(
                "Give the name in the company's language."))]
        unknown = set(names_in) - set(LOCALES)
        if unknown:
            errors["names"] = [str(_l("Names are given in Spanish (es) and English (en)."))]
        out["names"] = {lang: name for lang, name in names.items() if name}
        if not errors:
            errors.update(_name_clashes(tenant, out["names"], category))
    if "description" in data or category is None:
        description = _text(data.get("description"))
        if len(description) > DESCRIPTION_MAX:
            errors["description"] = [str(_l("At most %(n)s characters.", n=DESCRIPTION_MAX))]
        out["description"] = description
    if "service_unit_id" in data or category is None:
        unit_id = data.get("service_unit_id")
        if not any(unit.id == unit_id for unit in service_units(tenant.id)):
            errors["service_unit_id"] = [str(_l(
                "Choose one of the company's service units (not archived)."))]
        out["service_unit_id"] = unit_id
    if "default_priority" in data or category is None:
        priority = data.get("default_priority") or "normal"
        if priority not in PRIORITIES:
            errors["default_priority"] = [str(_l("Choose low, normal, high or urgent."))]
        out["default_priority"] = priority
    if "process_key" in data or category is None:
        key = data.get("process_key") or processes.definitions.DEFAULT_PROCESS_KEY
        if key not in process_keys(tenant.id):
            errors["process_key"] = [str(_l("Choose a process the company has deployed."))]
        out["process_key"] = key
    if "active" in data or category is None:
        active = data.get("active", True)
        if not isinstance(active, bool):
            errors["active"] = [str(_l("Yes or no."))]
        out["active"] = active
    if "request_fields" in data or category is None:
        try:  # the fields asked when filing (app.request_fields), as diagram forms' fields
            out["request_fields"] = request_fields.clean(data.get("request_fields") or [])
        except ValidationError as exc:
            errors.update(exc.messages)
    if errors:
        raise ValidationError(errors)
    return out


def _name_clashes(tenant: Tenant, names: dict, category: Category | None) -> dict:
    """A category's name is unique in each language within the tenant (compared without
    regard to case), its name in the tenant's language included."""
    errors: dict[str, list[str]] = {}
    others = db.session.scalars(select(Category).where(
        Category.tenant_id == tenant.id,
        Category.id != (category.id if category is not None else -1)))
    taken = {lang: set() for lang in LOCALES}
    for other in others:
        for lang in LOCALES:
            taken[lang].add(other.label(lang).casefold())
            if lang == tenant.locale:
                taken[lang].add(other.name.casefold())
    for lang in LOCALES:
        label = names.get(lang) or names.get(tenant.locale, "")
        if label and label.casefold() in taken[lang]:
            field = f"names.{lang}" if names.get(lang) else f"names.{tenant.locale}"
            errors.setdefault(field, [str(_l("Another category is already called '%(name)s'.",
                                             name=label))])
    return errors


def _assign(category: Category, tenant: Tenant, values: dict) -> None:
    for key, value in values.items():
        setattr(category, key, value)
    if "names" in values:
        category.name = values["names"][tenant.locale]


def create(actor, tenant: Tenant, data: dict) -> Category:
    values = _clean(tenant, data, None)
    category = Category(tenant_id=tenant.id)
    _assign(category, tenant, values)
    db.session.add(category)
    db.session.flush()
    audit.record(tenant.id, actor, "category.created", "category", category.id,
                 target_label=category.name, after=audit.snapshot(category, AUDITED))
    return category


def update(actor, tenant: Tenant, category: Category, data: dict) -> bool:
    """Change what ``data`` gives; False (and no audit entry) when nothing changed."""
    values = _clean(tenant, data, category)
    before = audit.snapshot(category, AUDITED)
    _assign(category, tenant, values)
    after = audit.snapshot(category, AUDITED)
    changed = [key for key in AUDITED if before[key] != after[key]]
    if not changed:
        return False
    db.session.flush()
    audit.record(tenant.id, actor, "category.updated", "category", category.id,
                 target_label=category.name, before={k: before[k] for k in changed},
                 after={k: after[k] for k in changed})
    return True
