"""Matching a request against the tenant's classification rules.

Rules are tried in their order (``position``, then id); the **first** active rule whose
conditions all hold wins, and only its actions apply (no merging of several rules). A rule's
conditions, each optional but at least one given:

- ``words`` (``words_mode`` "any" or "all"): words or short phrases of the title or the
  description, whole, without accents or case (``app.classification.text``);
- ``unit_id``: the requester's unit, or (``include_subunits``, the default) any unit under it;
- ``field_conditions``: answers to the category's own fields (``app.request_fields``),
  ``[{"name": "equipo", "value": "impresora"}]``, compared as ``text.same_answer`` does.

Its actions (at least one): ``category_id``, ``priority``, ``service_unit_id``.

``match`` is the public helper (the ``classify`` operation and the learned suggestion, which
defers to it, call it): one query for the rules, one for the unit tree when a rule names a unit
with its sub-units, none per rule.
"""

from dataclasses import dataclass

from sqlalchemy import select

from app import policy
from app.classification import text
from app.classification.models import ClassificationRule
from app.extensions import db


@dataclass(frozen=True)
class Outcome:
    """What the winning rule says: each action None when the rule leaves it as it is."""

    rule_id: int
    rule_name: str
    category_id: int | None
    priority: str | None
    service_unit_id: int | None


def active_rules(tenant_id: int) -> list[ClassificationRule]:
    return list(db.session.scalars(
        select(ClassificationRule)
        .where(ClassificationRule.tenant_id == tenant_id, ClassificationRule.active.is_(True))
        .order_by(ClassificationRule.position, ClassificationRule.id)))


class _Units:
    """The requester's unit and the units above it, read once, only when a rule asks."""

    def __init__(self, tenant_id: int, unit_id: int | None):
        self.tenant_id, self.unit_id = tenant_id, unit_id
        self._under: dict[int, set[int]] = {}

    def within(self, rule_unit_id: int, include_subunits: bool) -> bool:
        if self.unit_id is None:
            return False
        if self.unit_id == rule_unit_id:
            return True
        if not include_subunits:
            return False
        if rule_unit_id not in self._under:
            self._under[rule_unit_id] = policy.descendant_unit_ids(self.tenant_id,
                                                                   {rule_unit_id})
        return self.unit_id in self._under[rule_unit_id]


def _fields_hold(conditions: list, answers: dict) -> bool:
    for condition in conditions or []:
        name = str(condition.get("name") or "")
        if name not in answers or not text.same_answer(answers[name], str(condition.get(
                "value") or "")):
            return False
    return True


def holds(rule: ClassificationRule, words: text.Words, units: _Units, answers: dict) -> bool:
    """Do all the rule's conditions hold? (A rule with none never matches.)"""
    if not (rule.words or rule.unit_id or rule.field_conditions):
        return False
    if rule.words and not words.matches([text.normalize(w) for w in rule.words],
                                        rule.words_mode):
        return False
    if rule.unit_id and not units.within(rule.unit_id, rule.include_subunits):
        return False
    return _fields_hold(rule.field_conditions, answers or {})


def first_match(rules: list[ClassificationRule], tenant_id: int, title: str, description: str,
                unit_id: int | None, fields: dict | None) -> ClassificationRule | None:
    words = text.Words(f"{title or ''}\n{description or ''}")
    units = _Units(tenant_id, unit_id)
    for rule in rules:
        if holds(rule, words, units, fields or {}):
            return rule
    return None


def match(tenant_id: int, title: str, description: str, unit_id: int | None,
          fields: dict | None) -> Outcome | None:
    """The first of the tenant's active rules that the request matches, as an Outcome; None
    when none does."""
    rule = first_match(active_rules(tenant_id), tenant_id, title, description, unit_id, fields)
    if rule is None:
        return None
    return Outcome(rule_id=rule.id, rule_name=rule.name, category_id=rule.category_id,
                   priority=rule.priority, service_unit_id=rule.service_unit_id)
