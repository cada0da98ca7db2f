"""The suggestion for a request being written: confidence, threshold, settings, rules first,
and a prediction that trains nothing."""

import sys
import types

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Category, Tenant, User
from app.suggestions import learning, service, training
from tests.suggestions.conftest import tenant_id

TRUCK = ("El camión de entrega no arranca", "El conductor dice que la llanta está pinchada")


def person(email="ana@acme.test") -> User:
    return db.session.scalar(select(User).where(User.email == email))


def set_settings(slug="acme", **values):
    tenant = db.session.get(Tenant, tenant_id(slug))
    tenant.settings = {**(tenant.settings or {}),
                       **{f"suggestions_{k}": v for k, v in values.items()}}
    db.session.commit()


@pytest.fixture
def trained(history):
    categories = history("acme", 600)
    assert training.run(sweep=True) == 1
    return categories


def test_a_typical_request_gets_its_category_and_priority(trained):
    suggestion = service.suggest(person(), *TRUCK, locale="es")
    assert suggestion.source == "model"
    assert suggestion.category.value == str(trained["Transporte"])
    assert suggestion.category.label == "Transporte"
    assert 60 <= suggestion.category.confidence <= 100
    data = suggestion.to_json()
    assert data["category"] == {"id": trained["Transporte"], "label": "Transporte",
                                "confidence": suggestion.category.confidence}
    assert f"Transporte ({suggestion.category.confidence} %)" in data["text"]
    # English works too
    english = service.suggest(person(), "Printer offline", "The network printer needs a "
                                                           "password on the server")
    assert english.category.label == "Sistemas"


def test_below_the_threshold_nothing_is_proposed(trained):
    vague = ("Necesito ayuda", "Por favor revisar hoy en la oficina")
    assert service.suggest(person(), *vague).category is None
    set_settings(min_confidence=99)
    assert service.suggest(person(), *TRUCK).empty
    assert service.suggest(person(), *TRUCK).to_json() == {
        "source": None, "category": None, "priority": None, "text": ""}


def test_disabled_or_untrained_proposes_nothing(history):
    history("acme", 100)
    assert service.suggest(person(), *TRUCK).empty  # no model yet
    history("acme", 300, first_number=1000)
    training.run(sweep=True)
    assert not service.suggest(person(), *TRUCK).empty
    set_settings(enabled=False)
    assert service.suggest(person(), *TRUCK).empty


def test_a_closed_category_is_not_proposed(trained):
    db.session.get(Category, trained["Transporte"]).active = False
    db.session.commit()
    suggestion = service.suggest(person(), *TRUCK)
    assert suggestion.category is None or suggestion.category.value != str(
        trained["Transporte"])


def test_a_target_no_better_than_the_baseline_is_not_proposed(trained):
    from app.suggestions.models import SuggestionModel

    row = db.session.scalar(select(SuggestionModel))
    row.scores = {**row.scores, "category": {**row.scores["category"], "useful": False}}
    db.session.commit()
    suggestion = service.suggest(person(), *TRUCK)
    assert suggestion.category is None and suggestion.priority is not None


def test_another_companys_model_is_not_used(trained):
    globex = person("pedro@globex.test")
    assert service.suggest(globex, *TRUCK).empty


def test_a_prediction_trains_nothing_and_reads_the_model_once(trained, monkeypatch):
    def no_training(*_args, **_kwargs):
        raise AssertionError("a suggestion must not train")

    monkeypatch.setattr(learning, "fit", no_training)
    monkeypatch.setattr(training, "train", no_training)
    loads = []
    real_load = learning.load
    monkeypatch.setattr(learning, "load", lambda data: loads.append(1) or real_load(data))
    for _ in range(3):
        assert service.suggest(person(), *TRUCK).category is not None
    assert len(loads) == 1  # kept in the process while its version stands
    training.run(sweep=False)  # nothing due: no new version
    service.suggest(person(), *TRUCK)
    assert len(loads) == 1


def test_a_new_training_replaces_the_cached_model(trained, monkeypatch):
    service.suggest(person(), *TRUCK)
    loads = []
    real_load = learning.load
    monkeypatch.setattr(learning, "load", lambda data: loads.append(1) or real_load(data))
    from app.tenancy import isolation

    with isolation.tenant(tenant_id("acme")):
        training.request_training(tenant_id("acme"))
        db.session.commit()
    training.run(sweep=False)
    service.suggest(person(), *TRUCK)
    assert len(loads) == 1


class Outcome:
    def __init__(self, category_id=None, priority=None):
        self.rule_id, self.rule_name = 1, "regla"
        self.category_id, self.priority, self.service_unit_id = category_id, priority, None


@pytest.fixture
def rules(monkeypatch):
    """The company's classification rules, answering what the test says."""
    answer = {"outcome": None, "error": None}
    calls = []

    def match(tenant_id, title, description, unit_id, fields):
        calls.append((tenant_id, title, description, unit_id, fields))
        if answer["error"]:
            raise answer["error"]
        return answer["outcome"]

    fake = types.ModuleType("app.classification.rules")
    fake.match = match
    monkeypatch.setitem(sys.modules, "app.classification.rules", fake)
    answer["calls"] = calls
    return answer


def test_rules_win_over_the_model(trained, rules):
    rules["outcome"] = Outcome(category_id=trained["Aseo"], priority="urgent")
    suggestion = service.suggest(person(), *TRUCK, locale="es")
    assert suggestion.source == "rule"
    assert suggestion.category.value == str(trained["Aseo"])
    assert suggestion.category.confidence is None
    assert suggestion.priority.value == "urgent"
    assert rules["calls"][0][0] == tenant_id("acme")
    assert "(" not in suggestion.to_json()["text"]  # a rule has no confidence to show


def test_a_rule_that_decides_nothing_shown_shows_nothing(trained, rules):
    rules["outcome"] = Outcome()  # matched, but sets neither category nor priority
    assert service.suggest(person(), *TRUCK).empty


def test_no_rule_matching_leaves_the_model(trained, rules):
    assert service.suggest(person(), *TRUCK).source == "model"


def test_a_failing_rule_shows_nothing_and_breaks_nothing(trained, rules):
    rules["error"] = RuntimeError("rule failed")
    assert service.suggest(person(), *TRUCK).empty
    assert db.session.scalar(select(Tenant.id).where(Tenant.slug == "acme"))  # still usable


def test_too_little_text_asks_nothing(trained, rules):
    assert service.suggest(person(), "", "  ").empty
    assert rules["calls"] == []
