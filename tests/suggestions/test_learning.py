"""The pure part: words, fitting, scoring against the majority class, serialization."""

import numpy as np
import pytest

from app.suggestions import features, learning
from tests.suggestions.history import generate


def fit(rows, **kwargs):
    documents = [features.document(r["title"], r["description"]) for r in rows]
    return learning.fit(documents, {"category": [r["category"] for r in rows],
                                    "priority": [r["priority"] for r in rows]}, **kwargs)


def test_accents_case_and_common_words_do_not_matter():
    assert features.terms("Vehículo CAMIÓN") == features.terms("vehiculo camion")
    assert features.terms("el de la por the and 42") == []
    assert set(features.terms("reparaciones")) & set(features.terms("Reparación"))


def test_the_model_beats_the_majority_class_on_held_out_requests():
    trained = fit(generate(600, seed=7))
    category, priority = trained.scores["category"], trained.scores["priority"]
    assert category.held_out == 120
    # The generated history: 34 % of the most common category, 10 % mislabeled
    assert category.baseline < 0.45
    assert category.accuracy >= category.baseline + 0.35
    assert category.useful and priority.useful
    assert priority.accuracy > priority.baseline + 0.2


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_margin_holds_for_other_histories(seed):
    score = fit(generate(600, seed=seed)).scores["category"]
    assert score.accuracy >= score.baseline + 0.35


def test_the_hold_out_is_the_newest_share():
    rows = generate(100, seed=4)
    # The newest 20 all of one category nobody filed before: the model cannot know it
    for row in rows[80:]:
        row["category"] = "Nueva"
    score = fit(rows).scores["category"]
    assert score.held_out == 20
    assert score.accuracy == 0.0 and score.baseline == 0.0
    assert not score.useful


def test_what_is_stored_predicts_as_scikit_learn_does():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    rows = generate(300, seed=5)
    documents = [features.document(r["title"], r["description"]) for r in rows]
    labels = [r["category"] for r in rows]
    model = learning.load(learning.dump(fit(rows).model))
    vectorizer = TfidfVectorizer(analyzer=features.terms, sublinear_tf=True, min_df=2,
                                 max_features=10000)
    reference = LogisticRegression(C=learning.C, tol=learning.TOLERANCE, max_iter=100).fit(
        vectorizer.fit_transform(documents), labels)
    for text in ("El camión no arranca", "printer password server", "fuga en la tubería"):
        expected = reference.predict_proba(vectorizer.transform([text]))[0]
        ranked = dict(model.ranked("category", text))
        got = [ranked[c] for c in reference.classes_]
        assert np.allclose(got, expected, atol=1e-4)


def test_two_classes_and_one_class():
    rows = generate(200, seed=6)
    for row in rows:
        row["priority"] = "normal"
        row["category"] = "Transporte" if row["category"] == "Transporte" else "Otra"
    trained = fit(rows)
    assert "priority" not in trained.model.targets  # one class: nothing to tell apart
    assert not trained.scores["priority"].useful
    assert trained.model.targets["category"].coef.shape[0] == 1
    best, probability = trained.model.predict("camión conductor gasolina")["category"]
    assert best == "Transporte" and 0.5 < probability <= 1.0
    model = learning.load(learning.dump(trained.model))
    assert model.predict("camión conductor gasolina")["category"][0] == "Transporte"


def test_nothing_known_nothing_predicted():
    model = fit(generate(200, seed=8)).model
    assert model.predict("xyzzy quux") == {}
    assert model.ranked("category", "") == []
    assert learning.fit(["uno", "dos"], {"category": ["a", "b"]}) is None


def test_features_are_capped():
    rows = generate(400, seed=9)
    trained = fit(rows, max_features=20)
    assert len(trained.model.vectorizer.vocabulary) == 20


@pytest.mark.parametrize("broken", [
    {}, {"format": 2}, "text", None,
])
def test_a_stored_model_of_another_shape_is_refused(broken):
    with pytest.raises((ValueError, KeyError, TypeError)):
        learning.load(broken)


def test_coefficients_that_do_not_match_the_vocabulary_are_refused():
    data = learning.dump(fit(generate(200, seed=3)).model)
    data["vocabulary"] = data["vocabulary"][:-1]
    with pytest.raises(ValueError):
        learning.load(data)
