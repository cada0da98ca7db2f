"""Learning and predicting, pure (no database): TF-IDF over a request's words and one linear
model per target (category, priority), and the model's own serialization.

scikit-learn fits (``fit``); predicting needs only NumPy (``Model.predict``), so a page that
asks for a suggestion never trains nor imports scikit-learn. What is stored is plain data that
this module writes and reads back: the vocabulary (a list of stems), the IDF weights and each
target's coefficients as little-endian float32 arrays (base64) with their shapes. No pickle:
reading a stored model runs no code, whatever the database holds.

Accuracy is measured on a time-ordered hold-out: the model is fit on the older part of the
history and scored on the newest ``hold_out`` share, as it will be used (on requests filed
after its training), next to the majority-class baseline of the same split (always answering
the most common category or priority of the older part). The stored model is then fit again on
the whole history, so the newest requests count too; the figures shown are those of the split.
"""

import base64
import math
import warnings
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from app.suggestions.features import terms

FORMAT = 1
TARGETS = ("category", "priority")
C = 4.0             # inverse regularization of the linear models
TOLERANCE = 1e-3    # loose: the ranking settles long before the last digits do


@dataclass
class Vectorizer:
    """Stems -> TF-IDF vector (sublinear tf, smoothed idf, l2 norm), as scikit-learn's
    ``TfidfVectorizer(sublinear_tf=True)`` computes it."""

    vocabulary: dict[str, int]
    idf: np.ndarray

    def transform(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        counts = Counter(self.vocabulary[t] for t in terms(text) if t in self.vocabulary)
        if not counts:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        index = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
        tf = 1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))
        values = tf * self.idf[index]
        return index, values / np.linalg.norm(values)


@dataclass
class Target:
    """One target's linear model: classes (as text), coefficients (k x n, or 1 x n for two
    classes) and intercepts."""

    classes: list[str]
    coef: np.ndarray
    intercept: np.ndarray

    def probabilities(self, index: np.ndarray, values: np.ndarray) -> dict[str, float]:
        scores = self.coef[:, index] @ values + self.intercept
        if len(self.classes) == 2:  # binary: one score, the second class's log-odds
            second = 1.0 / (1.0 + math.exp(-float(scores[0])))
            return {self.classes[0]: 1.0 - second, self.classes[1]: second}
        scores = scores - scores.max()
        exp = np.exp(scores)
        return dict(zip(self.classes, (exp / exp.sum()).tolist(), strict=True))


@dataclass
class Model:
    vectorizer: Vectorizer
    targets: dict[str, Target]

    def predict(self, text: str) -> dict[str, tuple[str, float]]:
        """Each target's most likely class and its probability; {} when no word of ``text``
        is known (nothing to go on)."""
        index, values = self.vectorizer.transform(text)
        if index.size == 0:
            return {}
        out = {}
        for name, target in self.targets.items():
            probs = target.probabilities(index, values)
            best = max(probs, key=probs.get)
            out[name] = (best, probs[best])
        return out

    def ranked(self, name: str, text: str) -> list[tuple[str, float]]:
        """One target's classes, most likely first (empty when no word is known)."""
        index, values = self.vectorizer.transform(text)
        if index.size == 0 or name not in self.targets:
            return []
        probs = self.targets[name].probabilities(index, values)
        return sorted(probs.items(), key=lambda item: -item[1])


@dataclass
class Score:
    """A target's figures on the hold-out."""

    accuracy: float | None
    baseline: float | None
    held_out: int
    classes: dict[str, int] = field(default_factory=dict)  # class -> training rows

    @property
    def useful(self) -> bool:
        """Better than always answering the most common class: only then is it proposed."""
        return (self.accuracy is not None and self.baseline is not None
                and self.accuracy > self.baseline)

    def to_json(self) -> dict:
        return {"accuracy": self.accuracy, "baseline": self.baseline,
                "held_out": self.held_out, "classes": self.classes, "useful": self.useful}


@dataclass
class Trained:
    model: Model
    scores: dict[str, Score]
    rows: int


def _given(tokens: list[str]) -> list[str]:
    """The analyzer of already split documents (each is split once, by ``terms``)."""
    return tokens


def _fit_vectorizer(documents: list[list[str]], max_features: int):
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(analyzer=_given, sublinear_tf=True, min_df=2,
                                 max_features=max_features, dtype=np.float32)
    try:
        matrix = vectorizer.fit_transform(documents)
    except ValueError:  # no word seen twice: nothing to learn from
        return None, None
    return vectorizer, matrix


def _fit_target(matrix, labels: list[str], max_iter: int):
    """A fitted classifier, or None when there is a single class (nothing to tell apart).
    Bounded: at most ``max_iter`` iterations at a loose tolerance; stopping there is on
    purpose, so scikit-learn's warning about it is not one."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    if len(set(labels)) < 2:
        return None
    classifier = LogisticRegression(C=C, max_iter=max_iter, tol=TOLERANCE, solver="lbfgs")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        classifier.fit(matrix, labels)
    return classifier


def _score(documents, labels, cut: int, max_features: int, max_iter: int) -> Score:
    """Fit on documents[:cut], score on documents[cut:] next to the majority class."""
    train, test = labels[:cut], labels[cut:]
    counts = Counter(train)
    if not test or not counts:
        return Score(None, None, len(test), dict(counts))
    majority = counts.most_common(1)[0][0]
    baseline = sum(label == majority for label in test) / len(test)
    vectorizer, matrix = _fit_vectorizer(documents[:cut], max_features)
    classifier = _fit_target(matrix, train, max_iter) if vectorizer is not None else None
    if classifier is None:
        predicted = [majority] * len(test)
    else:
        predicted = classifier.predict(vectorizer.transform(documents[cut:])).tolist()
    accuracy = sum(p == t for p, t in zip(predicted, test, strict=True)) / len(test)
    return Score(round(accuracy, 4), round(baseline, 4), len(test),
                 {str(k): v for k, v in counts.most_common()})


def fit(texts: list[str], labels: dict[str, list[str]], *, max_features: int = 10000,
        hold_out: float = 0.2, max_iter: int = 100) -> Trained | None:
    """Score each target on the newest ``hold_out`` share, then fit the model on all rows.
    ``texts`` are in the order they were filed (oldest first); ``labels`` per target, in
    the same order. None when no word repeats (nothing to learn)."""
    documents = [terms(text) for text in texts]  # split once, for both fits
    rows = len(documents)
    cut = rows - max(1, math.ceil(rows * hold_out)) if rows > 1 else rows
    scores = {name: _score(documents, values, cut, max_features, max_iter)
              for name, values in labels.items()}
    vectorizer, matrix = _fit_vectorizer(documents, max_features)
    if vectorizer is None:
        return None
    targets = {}
    for name, values in labels.items():
        classifier = _fit_target(matrix, values, max_iter)
        if classifier is not None:
            targets[name] = Target([str(c) for c in classifier.classes_],
                                   classifier.coef_.astype(np.float32),
                                   classifier.intercept_.astype(np.float64))
    vocabulary = {str(term): int(i) for term, i in vectorizer.vocabulary_.items()}
    model = Model(Vectorizer(vocabulary, vectorizer.idf_.astype(np.float64)), targets)
    return Trained(model, scores, rows)


# -- serialization: plain data, no code ------------------------------------------------------

def _pack(array: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(array, dtype="<f4").tobytes()).decode("ascii")


def _unpack(data: str, shape: tuple[int, ...]) -> np.ndarray:
    array = np.frombuffer(base64.b64decode(data), dtype="<f4")
    if array.size != math.prod(shape):
        raise ValueError("stored model: an array does not match its shape")
    return array.reshape(shape).astype(np.float64)


def dump(model: Model) -> dict:
    """The model as JSON-ready data."""
    terms_in_order = sorted(model.vectorizer.vocabulary, key=model.vectorizer.vocabulary.get)
    return {
        "format": FORMAT,
        "vocabulary": terms_in_order,
        "idf": _pack(model.vectorizer.idf),
        "targets": {name: {"classes": t.classes, "shape": list(t.coef.shape),
                           "coef": _pack(t.coef), "intercept": [float(v) for v in t.intercept]}
                    for name, t in model.targets.items()},
    }


def load(data: dict) -> Model:
    """A model from ``dump``'s data (ValueError if it is not such data)."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError("stored model: unknown format")
    vocabulary = {str(term): i for i, term in enumerate(data["vocabulary"])}
    features = len(vocabulary)
    idf = _unpack(data["idf"], (features,))
    targets = {}
    for name, spec in data["targets"].items():
        rows, columns = (int(n) for n in spec["shape"])
        classes = [str(c) for c in spec["classes"]]
        if columns != features or rows != (1 if len(classes) == 2 else len(classes)):
            raise ValueError("stored model: coefficients do not match the vocabulary")
        intercept = np.asarray(spec["intercept"], dtype=np.float64)
        if intercept.shape != (rows,):
            raise ValueError("stored model: intercepts do not match the classes")
        targets[name] = Target(classes, _unpack(spec["coef"], (rows, columns)), intercept)
    return Model(Vectorizer(vocabulary, idf), targets)
