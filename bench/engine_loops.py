"""What one task completion costs after 1, 10, 50 and 100 hold/resume loops, in the engine
alone and through ``app.services.workflow.complete`` on SQLite and PostgreSQL.

    .venv/bin/python bench/engine_loops.py [--repeat 200] [--requests 3]
                                           [--only engine,sqlite,postgres] [--database-url URL]

engine: restore the saved JSON, complete Task_Work ("hold") and dump again, timed ``--repeat``
times from the same saved state at each loop count (so every sample does the same work).
sqlite / postgres: ``bench/loops.py`` (the benchmark engineer's, used as is) on a fresh database
with the demo data; PostgreSQL is a throw-away cluster unless --database-url names a server,
on which a sibling database ``<name>_loops`` is created afresh.
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import loops  # noqa: E402
from bench.common import Cluster, flask, log, sibling_database  # noqa: E402

LOOPS = loops.LOOPS
START = {"authorization_reminder_after": "PT48H", "auto_close_after": "P7D",
         "priority": "normal", "requester_is_head": False}
TO_WORK = [
    ("Task_Authorize", {"decision": "authorize"}),
    ("Task_Evaluate", {"decision": "approve", "estimated_cost": 100.0, "estimated_hours": 8.0,
                       "staff_available": True, "over_budget": False,
                       "over_budget_approval": False}),
    ("Task_Assign", {"assignment": {"worker_id": 1, "helper_ids": [],
                                    "planned_start": "2026-01-01",
                                    "planned_end": "2026-01-02"}}),
    ("Task_Start", {}),
]


def _step(compiled, state: str, spec_id: str, data: dict) -> str:
    from app.engine.runner import Instance

    instance = Instance.restore(compiled, state, lambda name, params, task_data: {"ok": True})
    (task,) = [t for t in instance.ready_tasks() if t.spec_id == spec_id]
    instance.complete(task.uuid, data)
    return instance.dump()


def engine(repeat: int) -> dict:
    """{loops: {"ms": median of restore + complete + dump, "state_kb": saved size}}."""
    from app.engine.runner import Instance
    from app.engine.specs import compile_process
    from app.handlers.operations import OPERATIONS
    from app.handlers.registry import TASK_HANDLERS
    from app.services.definitions import default_diagram

    compiled = compile_process(default_diagram(), set(TASK_HANDLERS), set(OPERATIONS))
    state = Instance.start(compiled, START, lambda *args: {"ok": True}).dump()
    for spec_id, data in TO_WORK:
        state = _step(compiled, state, spec_id, data)
    results, done = {}, 0
    for target in LOOPS:
        while done < target - 1:
            state = _step(compiled, state, "Task_Work", {"action": "hold"})
            state = _step(compiled, state, "Task_OnHold", {})
            done += 1
        # The hold that makes loop ``target``, timed from the same saved state every time.
        samples = []
        for _ in range(repeat):
            started = time.perf_counter()
            _step(compiled, state, "Task_Work", {"action": "hold"})
            samples.append((time.perf_counter() - started) * 1000)
        results[target] = {"ms": statistics.median(samples), "state_kb": len(state) / 1024}
    return results


def service(url: str, requests: int) -> dict:
    flask(url, "db", "upgrade")
    flask(url, "seed-demo")
    return loops.run(url, requests)


def render(results: dict, command: str) -> str:
    lines = [f"`{command}`", "",
             "| path | " + " | ".join(f"loop {n}" for n in LOOPS) + " | loop 100 / loop 1 |",
             "| --- |" + " --- |" * (len(LOOPS) + 1)]
    for name, figures in results.items():
        cells = [f"{figures[n]['ms']:.2f} ms ({figures[n]['state_kb']:.1f} KB)" for n in LOOPS]
        ratio = figures[LOOPS[-1]]["ms"] / figures[LOOPS[0]]["ms"]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {ratio:.2f}x |")
    lines.append("")
    lines.append("Medians; in brackets the saved instance state at that loop.")
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--requests", type=int, default=3)
    parser.add_argument("--only", default="engine,sqlite,postgres")
    parser.add_argument("--database-url", help="a PostgreSQL server to use instead of a "
                                               "throw-away cluster")
    args = parser.parse_args(argv)
    parts = set(args.only.split(","))
    results = {}
    if "engine" in parts:
        log("engine alone")
        results["engine: restore + complete + dump"] = engine(args.repeat)
    if "sqlite" in parts:
        log("workflow.complete on SQLite")
        url = f"sqlite:///{tempfile.mkdtemp(prefix='mesa-loops-')}/loops.db"
        results["workflow.complete, SQLite"] = service(url, args.requests)
    if "postgres" in parts:
        log("workflow.complete on PostgreSQL")
        cluster = None
        try:
            if args.database_url:
                base = args.database_url
            else:
                cluster = Cluster()
                base = cluster.url
            name = base.rsplit("/", 1)[1].split("?")[0]
            url = sibling_database(base, f"{name}_loops")
            results["workflow.complete, PostgreSQL"] = service(url, args.requests)
        finally:
            if cluster is not None:
                cluster.stop()
    command = " ".join([".venv/bin/python", Path(sys.argv[0]).as_posix(), *sys.argv[1:]])
    print(render(results, command))


if __name__ == "__main__":
    main()
