"""The whole lifecycle over HTTP, as API clients do it: file, then complete each step
(authorize, evaluate, assign, start, finish, confirm) by the task id the previous answer named,
then read the request once to check it is completed. Several client threads, each with its own
keep-alive connection, drive lifecycles in both demo tenants at once."""

import threading
import time
from datetime import date, timedelta

from bench.common import Client, median, percentile, token

TENANTS = [
    {"requester": "ana@acme.test", "head": "jefe.finanzas@acme.test",
     "director": "director@acme.test", "workers": ["tecnico1@acme.test", "tecnico2@acme.test"]},
    {"requester": "pedro@globex.test", "head": "jefe@globex.test",
     "director": "director@globex.test", "workers": ["tecnico@globex.test"]},
]
STEPS = ["authorize", "evaluate", "assign", "start", "finish", "confirm"]


class Setup:
    """Tokens, a category and the workers' ids per tenant, fetched once through ``client``
    (anything with ``call(method, path, token, body) -> (status, data, ms)``)."""

    def __init__(self, client):
        self.tenants = []
        for spec in TENANTS:
            tokens = {role: token(client, spec[role])
                      for role in ("requester", "head", "director")}
            _, categories, _ = client.call("GET", "/api/v1/categories", tokens["requester"])
            _, users, _ = client.call("GET", "/api/v1/users?role=worker&per_page=100",
                                      tokens["director"])
            ids = {u["email"]: u["id"] for u in users["items"]}
            workers = [(ids[email], token(client, email)) for email in spec["workers"]]
            self.tenants.append({"tokens": tokens, "category": categories["items"][0]["id"],
                                 "workers": workers})


def lifecycle(client, tenant: dict, n: int, record) -> None:
    """One lifecycle through ``client``; ``record(kind, ms)`` after every call."""
    tokens = tenant["tokens"]
    worker_id, worker_token = tenant["workers"][n % len(tenant["workers"])]
    today = date.today()

    def call(kind, method, path, who, body=None, expect=200):
        status, data, ms = client.call(method, path, who, body)
        if status != expect:
            raise RuntimeError(f"{kind}: {status} {data}")
        record(kind, ms)
        return data

    created = call("file request", "POST", "/api/v1/requests", tokens["requester"],
                   {"title": f"Bench {n}", "description": "Carga de prueba",
                    "category_id": tenant["category"]}, expect=201)
    request_id = created["id"]
    steps = created["current_steps"]
    bodies = {
        "authorize": (tokens["head"], {"decision": "authorize"}),
        # (a justification: concurrent lifecycles book every worker, and the budget if set)
        "evaluate": (tokens["director"], {"decision": "approve", "estimated_cost": 100,
                                          "estimated_hours": 8, "justification": "Bench"}),
        "assign": (tokens["director"], {"worker_id": worker_id,
                                        "planned_start": today.isoformat(),
                                        "planned_end": (today + timedelta(days=2)).isoformat()}),
        "start": (worker_token, {}),
        "finish": (worker_token, {"kind": "finish", "resolution": "Listo", "hours_spent": 1,
                                  "materials_cost": 0}),
        "confirm": (tokens["requester"], {"rating": 5}),
    }
    for step in STEPS:
        who, body = bodies[step]
        if len(steps) != 1:
            raise RuntimeError(f"before {step}: expected one open step, got {steps}")
        done = call(f"complete: {step}", "POST", f"/api/v1/tasks/{steps[0]['task_id']}/complete",
                    who, body)
        steps = done["current_steps"]
    detail = call("read request", "GET", f"/api/v1/requests/{request_id}", tokens["requester"])
    if detail["status"] != "completed" or detail["current_steps"]:
        raise RuntimeError(f"request {request_id} ended {detail['status']}, not completed")


def run(base_url: str, lifecycles: int = 300, clients: int = 8, warmup: int = 16,
        cpu_probe=None) -> dict:
    """``cpu_probe()``, if given, returns CPU seconds used so far per part (gunicorn,
    postgres, clients); the run reports each part's CPU per lifecycle, a figure that moves
    much less with the machine's other load than lifecycles/s does."""
    client = Client(base_url)
    setup = Setup(client)
    client.close()
    counter = iter(range(10**9))
    lock = threading.Lock()
    errors: list[str] = []

    def drive(limit: int, timings: dict) -> None:
        client = Client(base_url)
        try:
            while True:
                with lock:
                    n = next(counter)
                if n >= limit or errors:
                    return
                try:
                    lifecycle(client, setup.tenants[n % len(setup.tenants)], n,
                              lambda kind, ms: timings.setdefault(kind, []).append(ms))
                except Exception as exc:  # reported after the run
                    errors.append(str(exc))
        finally:
            client.close()

    def phase(limit: int) -> tuple[float, dict]:
        per_thread = [{} for _ in range(clients)]
        threads = [threading.Thread(target=drive, args=(limit, per_thread[i]))
                   for i in range(clients)]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        merged: dict[str, list[float]] = {}
        for timings in per_thread:
            for kind, values in timings.items():
                merged.setdefault(kind, []).extend(values)
        return time.perf_counter() - started, merged

    phase(warmup)
    counter = iter(range(10**9))
    cpu_before = cpu_probe() if cpu_probe else {}
    elapsed, timings = phase(lifecycles)
    cpu_after = cpu_probe() if cpu_probe else {}
    if errors:
        raise RuntimeError(f"{len(errors)} lifecycle(s) failed, first: {errors[0]}")
    completions = [v for k, values in timings.items() if k.startswith("complete") for v in values]
    every = [v for values in timings.values() for v in values]
    return {
        "lifecycles": lifecycles, "clients": clients, "seconds": elapsed,
        "rate": lifecycles / elapsed, "calls_per_s": len(every) / elapsed,
        "per_call": {kind: (median(v), percentile(v, 0.95)) for kind, v in timings.items()},
        "completion": (median(completions), percentile(completions, 0.95)),
        "all": (median(every), percentile(every, 0.95)),
        "cpu_ms": {part: (cpu_after[part] - cpu_before[part]) * 1000 / lifecycles
                   for part in cpu_after},
    }
