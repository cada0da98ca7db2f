"""Matching requests against classification rules: whole words without accents or case,
phrases, any/all, the requester's unit with or without its sub-units, answers to category
fields, the order (first match wins), inactive rules, other tenants' rules."""

import pytest

from app.classification import rules, text
from app.extensions import db
from app.models import Unit
from tests.classification.helpers import category, rule, tenant, unit


def test_normalize_drops_accents_case_and_punctuation():
    assert text.normalize("  ¡Impresión ROTA!  Ñandú_2 ") == "impresion rota nandu 2"


@pytest.mark.parametrize("phrase, found", [
    ("impresora", True), ("IMPRESORA", True), ("impresóra", True),
    ("impresoras", False),     # whole words only
    ("presora", False),
    ("no enciende", True),     # a phrase: its words one after the other
    ("enciende no", False),
    ("toner", True),           # "tóner" without its accent
])
def test_words_match_whole_without_accents_or_case(phrase, found):
    words = text.Words("La Impresora no enciende; cambiar el tóner.")
    assert words.has(text.normalize(phrase)) is found


def test_any_and_all():
    words = text.Words("La red del piso 3 está caída")
    assert words.matches(["red", "wifi"], "any")
    assert not words.matches(["red", "wifi"], "all")
    assert words.matches(["red", "caida"], "all")


@pytest.mark.parametrize("answer, expected, same", [
    ("Aeropuerto El Dorado", "aeropuerto el dorado", True),
    ("Aeropuerto", "aeropuerto el dorado", False),
    (True, "sí", True), (True, "no", False), (False, "No", True),
    (3, "3", True), ("3.0", "3", True), ("4", "3", False),
    (["a", "b"], "B", True), (None, "", True), ("sNaN", "1", False),
])
def test_field_answers(answer, expected, same):
    assert text.same_answer(answer, expected) is same


@pytest.fixture
def acme(demo):
    return tenant("acme").id


def _match(tenant_id, title="", description="", unit_id=None, fields=None):
    return rules.match(tenant_id, title, description, unit_id, fields or {})


def test_the_first_matching_rule_in_order_wins(acme):
    plumbing, electricity = category("Plomería"), category("Electricidad")
    rule("Segunda", position=2, words=["fuga"], category_id=electricity.id)
    first = rule("Primera", position=1, words=["fuga", "goteo"], category_id=plumbing.id,
                 priority="urgent")
    outcome = _match(acme, "Fuga de agua", "En el baño")
    assert outcome == rules.Outcome(rule_id=first.id, rule_name="Primera",
                                    category_id=plumbing.id, priority="urgent",
                                    service_unit_id=None)
    first.position = 3
    db.session.commit()
    assert _match(acme, "Fuga de agua").rule_name == "Segunda"


def test_words_are_looked_for_in_the_title_and_the_description(acme):
    rule("Tóner", words=["tóner"], priority="high")
    assert _match(acme, "Impresora", "Se acabó el TONER").rule_name == "Tóner"
    assert _match(acme, "Tonerías", "") is None


def test_inactive_rules_and_rules_without_conditions_never_match(acme):
    rule("Inactiva", words=["fuga"], priority="high", active=False)
    rule("Vacía", priority="low")
    assert _match(acme, "Fuga") is None


def test_the_requesters_unit_with_or_without_its_sub_units(acme):
    finanzas = unit("Finanzas")
    caja = Unit(tenant_id=acme, name="Caja", parent_id=finanzas.id)
    db.session.add(caja)
    db.session.commit()
    strict = rule("Solo Finanzas", position=1, unit_id=finanzas.id, include_subunits=False,
                  priority="high")
    assert _match(acme, "x", unit_id=finanzas.id).rule_id == strict.id
    assert _match(acme, "x", unit_id=caja.id) is None
    rule("Finanzas y debajo", position=2, unit_id=finanzas.id, priority="normal")
    assert _match(acme, "x", unit_id=caja.id).rule_name == "Finanzas y debajo"
    assert _match(acme, "x", unit_id=unit("Producción").id) is None
    assert _match(acme, "x", unit_id=None) is None


def test_every_condition_given_must_hold(acme):
    rule("Fuga en Finanzas", words=["fuga"], unit_id=unit("Finanzas").id,
         field_conditions=[{"name": "piso", "value": "3"}], priority="urgent")
    finanzas = unit("Finanzas").id
    assert _match(acme, "Fuga", unit_id=finanzas, fields={"piso": 3}) is not None
    assert _match(acme, "Fuga", unit_id=finanzas, fields={"piso": 2}) is None
    assert _match(acme, "Fuga", unit_id=finanzas, fields={}) is None
    assert _match(acme, "Goteo", unit_id=finanzas, fields={"piso": 3}) is None
    assert _match(acme, "Fuga", unit_id=unit("Producción").id, fields={"piso": 3}) is None


def test_field_conditions_on_template_fields(acme):
    transport = category("Transporte")
    rule("Aeropuerto", field_conditions=[{"name": "destination", "value": "Aeropuerto"},
                                         {"name": "luggage", "value": "sí"}],
         category_id=transport.id, priority="high")
    assert _match(acme, fields={"destination": "aeropuerto", "luggage": True}) is not None
    assert _match(acme, fields={"destination": "AEROPUERTO", "luggage": False}) is None


def test_another_companys_rules_do_not_apply(acme):
    globex = tenant("globex").id
    rule("De Globex", slug="globex", words=["fuga"], priority="urgent")
    assert _match(acme, "Fuga") is None
    assert _match(globex, "Fuga").rule_name == "De Globex"
