"""A company's checklists: read, write (validated, audited), and the template's defaults.

Everything only flushes: the view (or the adopting caller) commits.
"""

import re
import unicodedata

from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from marshmallow import ValidationError
from sqlalchemy import select

from app.admin import audit
from app.checklists import defaults
from app.checklists.models import Checklist
from app.extensions import db
from app.models import Tenant, User

KEY_RE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
PROCESS_KEY_RE = re.compile(r"^[a-z][a-z0-9_]{1,79}$")
MAX_ITEMS = 30
MAX_ITEM_CHARS = 300
MAX_CHECKLISTS = 200  # per company: far above any real catalog, bounds every page and list


def _clean_item(value) -> str:
    if not isinstance(value, str):
        raise ValidationError({"items": [str(_l("Each item must be text."))]})
    text = "".join(" " if ch.isspace() else ch for ch in value
                   if ch.isspace() or unicodedata.category(ch)[0] != "C")
    return " ".join(text.split())


def _at_most_items() -> str:
    return ngettext("At most %(num)s item.", "At most %(num)s items.", MAX_ITEMS)


def clean_items(values) -> list[str]:
    """The items as they are kept: trimmed, blank ones dropped, in the order given; raises
    ValidationError (field ``items``) for too many, too long or none at all."""
    if not isinstance(values, (list, tuple)):
        raise ValidationError({"items": [str(_l("Send the items as a list of texts."))]})
    if len(values) > MAX_ITEMS * 4:  # refused before any work on a huge list
        raise ValidationError({"items": [_at_most_items()]})
    items = [item for item in (_clean_item(v) for v in values) if item]
    if not items:
        raise ValidationError({"items": [str(_l("Write at least one item."))]})
    if len(items) > MAX_ITEMS:
        raise ValidationError({"items": [_at_most_items()]})
    too_long = [i for i, item in enumerate(items, 1) if len(item) > MAX_ITEM_CHARS]
    if too_long:
        raise ValidationError({"items": [ngettext(
            "Item %(n)s is longer than %(num)s character.",
            "Item %(n)s is longer than %(num)s characters.", MAX_ITEM_CHARS, n=too_long[0])]})
    return items


def items_from_text(text: str) -> list[str]:
    """A page's textarea: one item per line."""
    return (text or "").splitlines()[: MAX_ITEMS * 4 + 1]


def check_keys(process_key, key) -> None:
    errors = {}
    if not isinstance(process_key, str) or not PROCESS_KEY_RE.match(process_key):
        errors["process_key"] = [str(_l("Lowercase letters, digits and _; it starts with a "
                                        "letter."))]
    if not isinstance(key, str) or not KEY_RE.match(key):
        errors["key"] = [str(_l("Lowercase letters, digits and _ (2 to 40); it starts with a "
                                "letter."))]
    if errors:
        raise ValidationError(errors)


def list_for(tenant_id: int, process_key: str | None = None) -> list[Checklist]:
    stmt = select(Checklist).where(Checklist.tenant_id == tenant_id)
    if process_key:
        stmt = stmt.where(Checklist.process_key == process_key)
    return list(db.session.scalars(
        stmt.order_by(Checklist.process_key, Checklist.key).limit(MAX_CHECKLISTS)))


def get(tenant_id: int, process_key: str, key: str) -> Checklist | None:
    return db.session.scalar(select(Checklist).where(
        Checklist.tenant_id == tenant_id, Checklist.process_key == process_key,
        Checklist.key == key))


def items_of(tenant_id: int, process_key: str, key: str) -> list[str]:
    found = get(tenant_id, process_key, key)
    return list(found.items) if found is not None else []


def save(user: User, process_key: str, key: str, items) -> tuple[Checklist, bool]:
    """Create or replace the items of (process key, key) in the user's company; returns the
    row and whether it was created. Tasks already open keep the items they started with."""
    check_keys(process_key, key)
    items = clean_items(items)
    row = get(user.tenant_id, process_key, key)
    created = row is None
    if created:
        count = db.session.scalar(select(db.func.count(Checklist.id)).where(
            Checklist.tenant_id == user.tenant_id))
        if count >= MAX_CHECKLISTS:
            raise ValidationError({"key": [ngettext(
                "A company keeps at most %(num)s checklist.",
                "A company keeps at most %(num)s checklists.", MAX_CHECKLISTS)]})
        row = Checklist(tenant_id=user.tenant_id, process_key=process_key, key=key, items=[])
        db.session.add(row)
    before = list(row.items or [])
    if not created and before == items:
        return row, False
    row.items = items
    row.updated_by_id = user.id
    db.session.flush()
    audit.record(user.tenant_id, user, "checklist.created" if created else "checklist.updated",
                 "checklist", row.id, target_label=f"{process_key} / {key}",
                 before=None if created else {"items": before}, after={"items": items})
    return row, created


def delete(user: User, row: Checklist) -> None:
    audit.record(user.tenant_id, user, "checklist.deleted", "checklist", row.id,
                 target_label=f"{row.process_key} / {row.key}", before={"items": row.items})
    db.session.delete(row)
    db.session.flush()


def ensure_defaults(tenant_id: int, process_key: str, template_key: str,
                    user: User | None = None) -> list[Checklist]:
    """Seed the checklists ``template_key`` ships for the company's process ``process_key``
    (in the company's language), keeping any it has already: idempotent. Called when a
    company adopts a template (app.process_catalog), in its transaction; audited."""
    by_language = defaults.DEFAULTS.get(template_key)
    if not by_language:
        return []
    check_keys(process_key, "ok")
    language = db.session.scalar(select(Tenant.locale).where(Tenant.id == tenant_id))
    have = {c.key: c for c in list_for(tenant_id, process_key)}
    seeded = []
    for key in defaults.CHECKLIST_KEYS[template_key]:
        if key in have:
            continue
        row = Checklist(tenant_id=tenant_id, process_key=process_key, key=key,
                        items=defaults.items_for(template_key, key, language),
                        updated_by_id=user.id if user is not None else None)
        db.session.add(row)
        seeded.append(row)
    if seeded:
        db.session.flush()
        for row in seeded:
            audit.record(tenant_id, user, "checklist.created", "checklist", row.id,
                         target_label=f"{process_key} / {row.key}", after={"items": row.items},
                         actor_label=None if user is not None else "template")
    return seeded
