"""Two runners at once (two threads, each with its own app context and database session, as
two nodes would be): every occurrence is filed exactly once. On PostgreSQL the schedule is
claimed with FOR UPDATE SKIP LOCKED, on SQLite with the writing lock; the unique
(schedule, occurrence) row guards both."""

import threading
from datetime import timedelta

from app.extensions import db
from app.recurring import runner
from tests.recurring.helpers import filed, make, occurrences
from tests.recurring.test_runner import NINE


def _race(app, now, runners=2, rounds=1):
    barrier = threading.Barrier(runners)
    results, errors = [], []

    def run():
        try:
            with app.app_context():
                try:
                    barrier.wait(timeout=30)
                    for _ in range(rounds):
                        results.append(runner.run_due(now))
                finally:
                    db.session.remove()
        except Exception as exc:  # reported below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(runners)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    return results


def test_two_runners_file_each_occurrence_once(app, demo):
    ids = [make(title=f"Tarea {n}").id for n in range(3)]
    db.session.remove()
    results = _race(app, NINE + timedelta(days=2, hours=1), rounds=2)
    assert sum(results) == 9  # three schedules, three occurrences each
    for schedule_id in ids:
        requests = filed(schedule_id)
        assert len(requests) == 3
        assert [o.occurrence_at for o in occurrences(schedule_id)] == [
            NINE + timedelta(days=n) for n in range(3)]
        assert len({r.number for r in requests}) == 3


def test_four_runners_with_skipping_file_the_latest_once(app, demo):
    schedule_id = make(catch_up="latest").id
    db.session.remove()
    results = _race(app, NINE + timedelta(days=5, hours=1), runners=4)
    assert sum(results) == 1
    [occ] = occurrences(schedule_id)
    assert occ.skipped == 5 and len(filed(schedule_id)) == 1
