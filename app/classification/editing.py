"""Classification rules as the tenant admin edits them, shared by the pages and the API.

Bounds (a rule is tried on every filing): at most ``MAX_RULES`` rules a company, ``MAX_WORDS``
words a rule, each at most ``WORD_CHARS`` characters and ``PHRASE_WORDS`` words, at most
``MAX_FIELD_CONDITIONS`` field conditions of ``FIELD_VALUE_CHARS`` characters. No regular
expressions: words match whole, without accents or case (``app.classification.text``).

Rules keep a dense order 1..n: a new rule goes last unless given a position; moving one
renumbers the rest. Anything wrong raises ``Refused`` (messages by field) and changes nothing;
every change writes an audit entry with the fields before and after. Only flushes.
"""

from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.admin import audit
from app.classification import text
from app.classification.models import ClassificationRule
from app.engine.forms import MAX_NAME, NAME_RE
from app.extensions import db
from app.models import PRIORITIES, Category, Unit

MAX_RULES = 200
MAX_WORDS = 20
WORD_CHARS = 60
PHRASE_WORDS = 5
MAX_FIELD_CONDITIONS = 5
FIELD_VALUE_CHARS = 200
NAME_CHARS = 120
WORDS_MODES = ("any", "all")
AUDITED = ("name", "position", "active", "words", "words_mode", "unit_id", "include_subunits",
           "field_conditions", "category_id", "priority", "service_unit_id")
LIST_LOAD = (selectinload(ClassificationRule.unit), selectinload(ClassificationRule.category),
             selectinload(ClassificationRule.service_unit))

MESSAGES = {
    "name": _l("Give the rule a name of at most 120 characters."),
    "too_many_rules": _l("A company may have at most %(max)s rules: delete one first.",
                         max=MAX_RULES),
    "too_many_words": _l("At most %(max)s words.", max=MAX_WORDS),
    "word_length": _l("Each word or phrase at most %(chars)s characters and %(words)s words.",
                      chars=WORD_CHARS, words=PHRASE_WORDS),
    "word_empty": _l("Each word needs letters or digits."),
    "words_mode": _l("Choose whether any word or all of them must appear."),
    "unit": _l("Choose one of the company's units."),
    "too_many_fields": _l("At most %(max)s field conditions.", max=MAX_FIELD_CONDITIONS),
    "field_name": _l("A field's name: lower-case letters, digits and _, starting with a "
                     "letter."),
    "field_value": _l("A field's value at most %(max)s characters.", max=FIELD_VALUE_CHARS),
    "no_condition": _l("Give at least one condition: words, a unit or a field's value."),
    "category": _l("Choose an active category of the company."),
    "priority": _l("Choose a priority from the list."),
    "service_unit": _l("Choose an active service unit of the company."),
    "no_action": _l("Give at least one action: a category, a priority or a service unit."),
    "position": _l("A position from 1 to the number of rules."),
}


class Refused(Exception):
    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors)
        self.errors = errors


@dataclass
class RuleInput:
    name: str = ""
    active: bool = True
    words: list = field(default_factory=list)
    words_mode: str = "any"
    unit_id: int | None = None
    include_subunits: bool = True
    field_conditions: list = field(default_factory=list)
    category_id: int | None = None
    priority: str | None = None
    service_unit_id: int | None = None
    position: int | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)  # what could not be read


def _add(errors: dict, key: str, message) -> None:
    errors.setdefault(key, []).append(str(message))


# --- reading ---------------------------------------------------------------------------

def search(tenant_id: int):
    return (select(ClassificationRule).where(ClassificationRule.tenant_id == tenant_id)
            .order_by(ClassificationRule.position, ClassificationRule.id))


def find(tenant_id: int, rule_id: int) -> ClassificationRule | None:
    return db.session.scalar(select(ClassificationRule).where(
        ClassificationRule.tenant_id == tenant_id, ClassificationRule.id == rule_id))


def count(tenant_id: int) -> int:
    return db.session.scalar(select(func.count(ClassificationRule.id)).where(
        ClassificationRule.tenant_id == tenant_id)) or 0


# --- checking --------------------------------------------------------------------------

def _words(values, errors: dict) -> list[str]:
    kept: dict[str, str] = {}
    for value in list(values or [])[:MAX_WORDS * 5]:
        word = " ".join(str(value).split())
        if not word:
            continue
        normalized = text.normalize(word)
        if len(word) > WORD_CHARS or len(normalized.split()) > PHRASE_WORDS:
            _add(errors, "words", MESSAGES["word_length"])
            return []
        if not normalized:
            _add(errors, "words", MESSAGES["word_empty"])
            return []
        kept.setdefault(normalized, word)
    if len(kept) > MAX_WORDS:
        _add(errors, "words", MESSAGES["too_many_words"])
    return list(kept.values())


def _field_conditions(values, errors: dict) -> list[dict]:
    values = list(values or [])
    if len(values) > MAX_FIELD_CONDITIONS:
        _add(errors, "field_conditions", MESSAGES["too_many_fields"])
        return []
    kept = []
    for item in values:
        name = str((item or {}).get("name") or "").strip() if isinstance(item, dict) else ""
        value = item.get("value") if isinstance(item, dict) else None
        if len(name) > MAX_NAME or not NAME_RE.match(name):
            _add(errors, "field_conditions", MESSAGES["field_name"])
            return []
        if isinstance(value, bool):
            value = "sí" if value else "no"
        value = "" if value is None else str(value).strip()
        if len(value) > FIELD_VALUE_CHARS:
            _add(errors, "field_conditions", MESSAGES["field_value"])
            return []
        kept.append({"name": name, "value": value})
    return kept


def _unit(tenant_id: int, unit_id, service: bool = False) -> Unit | None:
    if unit_id is None:
        return None
    stmt = select(Unit).where(Unit.tenant_id == tenant_id, Unit.id == unit_id)
    if service:
        stmt = stmt.where(Unit.is_service_unit.is_(True), Unit.archived_at.is_(None))
    return db.session.scalar(stmt)


def clean(tenant_id: int, data: RuleInput) -> dict:
    """The rule's values, checked; raises Refused with every problem found."""
    errors = {k: list(v) for k, v in data.errors.items()}
    name = " ".join(str(data.name or "").split())
    if not name or len(name) > NAME_CHARS:
        _add(errors, "name", MESSAGES["name"])
    words = _words(data.words, errors)
    if data.words_mode not in WORDS_MODES:
        _add(errors, "words_mode", MESSAGES["words_mode"])
    unit = _unit(tenant_id, data.unit_id)
    if data.unit_id is not None and unit is None:
        _add(errors, "unit_id", MESSAGES["unit"])
    conditions = _field_conditions(data.field_conditions, errors)
    if not (words or data.unit_id or conditions) and not errors.keys() & {
            "words", "unit_id", "field_conditions"}:
        _add(errors, "_schema", MESSAGES["no_condition"])
    category = db.session.scalar(select(Category).where(
        Category.tenant_id == tenant_id, Category.id == data.category_id,
        Category.active.is_(True))) if data.category_id is not None else None
    if data.category_id is not None and category is None:
        _add(errors, "category_id", MESSAGES["category"])
    if data.priority is not None and data.priority not in PRIORITIES:
        _add(errors, "priority", MESSAGES["priority"])
    service_unit = _unit(tenant_id, data.service_unit_id, service=True)
    if data.service_unit_id is not None and service_unit is None:
        _add(errors, "service_unit_id", MESSAGES["service_unit"])
    if category is not None and service_unit is not None \
            and category.service_unit_id != service_unit.id:
        _add(errors, "service_unit_id", str(_l(
            "The category is attended by %(unit)s: leave the service unit empty or choose "
            "that one.", unit=category.service_unit.name)))
    if data.category_id is None and data.priority is None and data.service_unit_id is None:
        _add(errors, "_schema", MESSAGES["no_action"])
    if errors:
        raise Refused(errors)
    return {"name": name, "active": bool(data.active), "words": words,
            "words_mode": data.words_mode, "unit_id": data.unit_id,
            "include_subunits": bool(data.include_subunits), "field_conditions": conditions,
            "category_id": data.category_id, "priority": data.priority,
            "service_unit_id": data.service_unit_id}


# --- changing --------------------------------------------------------------------------

def _ordered(tenant_id: int) -> list[ClassificationRule]:
    return list(db.session.scalars(search(tenant_id)))


def _place(tenant_id: int, row: ClassificationRule, position: int | None) -> None:
    """Put ``row`` at ``position`` (1-based; None or past the end: last) and renumber."""
    others = [r for r in _ordered(tenant_id) if r.id != row.id]
    if position is None or position > len(others) + 1:
        position = len(others) + 1
    if position < 1:
        raise Refused({"position": [str(MESSAGES["position"])]})
    others.insert(position - 1, row)
    for number, rule in enumerate(others, start=1):
        if rule.position != number:
            rule.position = number


def create(actor, data: RuleInput) -> ClassificationRule:
    tenant_id = actor.tenant_id
    values = clean(tenant_id, data)
    if count(tenant_id) >= MAX_RULES:
        raise Refused({"_schema": [str(MESSAGES["too_many_rules"])]})
    row = ClassificationRule(tenant_id=tenant_id, position=0, **values)
    db.session.add(row)
    db.session.flush()
    _place(tenant_id, row, data.position)
    db.session.flush()
    audit.record(tenant_id, actor, "classification_rule.created", "classification_rule",
                 row.id, target_label=row.name, after=audit.snapshot(row, AUDITED))
    return row


def update(actor, row: ClassificationRule, data: RuleInput) -> list[str]:
    """Change the rule; returns the names of the fields that changed."""
    values = clean(actor.tenant_id, data)
    before = audit.snapshot(row, AUDITED)
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
    if data.position is not None and data.position != row.position:
        _place(actor.tenant_id, row, data.position)
    db.session.flush()
    after = audit.snapshot(row, AUDITED)
    changed = [name for name in AUDITED if before[name] != after[name]]
    if changed:
        audit.record(actor.tenant_id, actor, "classification_rule.updated",
                     "classification_rule", row.id, target_label=row.name,
                     before={k: before[k] for k in changed}, after={k: after[k] for k in changed})
    return changed


def move(actor, row: ClassificationRule, position: int) -> bool:
    before = row.position
    _place(actor.tenant_id, row, position)
    db.session.flush()
    if row.position == before:
        return False
    audit.record(actor.tenant_id, actor, "classification_rule.moved", "classification_rule",
                 row.id, target_label=row.name, before={"position": before},
                 after={"position": row.position})
    return True


def delete(actor, row: ClassificationRule) -> None:
    audit.record(actor.tenant_id, actor, "classification_rule.deleted", "classification_rule",
                 row.id, target_label=row.name, before=audit.snapshot(row, AUDITED))
    tenant_id = row.tenant_id
    db.session.delete(row)
    db.session.flush()
    for number, rule in enumerate(_ordered(tenant_id), start=1):
        if rule.position != number:
            rule.position = number
