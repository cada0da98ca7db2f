"""Time and memory of one training of the learned suggestion (app.suggestions.learning) on a
generated history, as the README reports them.

    .venv/bin/python scripts/measure_suggestions.py [ROWS] [CATEGORIES]

The history: ROWS requests (default 20,000) over CATEGORIES categories (default 20), each with
30 words of its own among 40-word descriptions drawn mostly from a pool of 30,000 made-up
words (so the vocabulary cap is reached), four priorities. Prints the fit time, the peak
resident memory of the process above what it held before fitting, the stored model's size,
the time to read it back and the time of one prediction.
"""

import json
import random
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.suggestions import features, learning  # noqa: E402


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def history(rows: int, categories: int, seed: int = 1):
    rng = random.Random(seed)
    syllables = ["ka", "lo", "mi", "ne", "ru", "ta", "si", "po", "de", "ga", "ve", "zu"]
    pool = list({"".join(rng.choices(syllables, k=rng.randint(2, 4))) for _ in range(60000)})
    pool = pool[:30000]
    own = {c: rng.sample(pool, 30) for c in range(categories)}
    documents, labels, priorities = [], [], []
    for _ in range(rows):
        category = rng.randrange(categories)
        words = rng.sample(own[category], 6) + rng.choices(pool, k=34)
        rng.shuffle(words)
        documents.append(features.document(" ".join(words[:6]), " ".join(words)))
        labels.append(str(category))
        priorities.append(rng.choice(["low", "normal", "normal", "high", "urgent"]))
    return documents, labels, priorities


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    categories = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    documents, labels, priorities = history(rows, categories)
    import sklearn.linear_model  # noqa: F401  (imported before the baseline is read)

    before = peak_mb()
    started = time.perf_counter()
    trained = learning.fit(documents, {"category": labels, "priority": priorities})
    seconds = time.perf_counter() - started
    peak = peak_mb()
    data = json.dumps(learning.dump(trained.model))
    started = time.perf_counter()
    model = learning.load(json.loads(data))
    load_ms = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    for document in documents[:200]:
        model.predict(document)
    predict_ms = (time.perf_counter() - started) * 1000 / 200
    category = trained.scores["category"]
    print(f"rows {rows}, categories {categories}, features "
          f"{len(trained.model.vectorizer.vocabulary)}")
    print(f"fit (hold-out scoring + final fit, both targets): {seconds:.1f} s")
    print(f"peak memory: {peak:.0f} MB resident, {peak - before:.0f} MB above the "
          f"{before:.0f} MB held before fitting")
    print(f"stored model: {len(data) / 1e6:.1f} MB of JSON; read back in {load_ms:.0f} ms; "
          f"one prediction {predict_ms:.2f} ms")
    print(f"category accuracy {category.accuracy:.3f} vs baseline {category.baseline:.3f} "
          f"on {category.held_out} held out")


if __name__ == "__main__":
    main()
