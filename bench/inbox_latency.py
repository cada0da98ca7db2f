"""Inbox and request-list latency at scale: a unit head, a director and a worker of several
seeded tenants call their inbox (GET /api/v1/tasks) and their request list
(GET /api/v1/requests), one call at a time, first page of 20."""

from bench.common import Client, median, percentile, token

PEOPLE = {"unit head": "jefe01", "director": "director1", "worker": "tecnico11"}
CALLS = {"inbox": "/api/v1/tasks?per_page=20", "request list": "/api/v1/requests?per_page=20"}


def run(base_url: str, tenants: int = 10, rounds: int = 20) -> dict:
    client = Client(base_url)
    people = {role: [token(client, f"{login}@t{n:03d}.test") for n in range(1, tenants + 1)]
              for role, login in PEOPLE.items()}
    for tokens in people.values():  # warm-up: every query planned and cached once
        for who in tokens:
            for path in CALLS.values():
                client.call("GET", path, who)
    timings = {(role, call): [] for role in PEOPLE for call in CALLS}
    totals = {}
    for _ in range(rounds):
        for role, tokens in people.items():
            for who in tokens:
                for call, path in CALLS.items():
                    status, data, ms = client.call("GET", path, who)
                    if status != 200:
                        raise RuntimeError(f"{role} {call}: {status} {data}")
                    timings[(role, call)].append(ms)
                    totals.setdefault((role, call), []).append(data["total"])
    client.close()
    return {key: {"p50": median(v), "p95": percentile(v, 0.95), "n": len(v),
                  "total": median(totals[key])} for key, v in timings.items()}
