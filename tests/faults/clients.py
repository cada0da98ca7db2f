"""A REST API client for the fault tests (one connection per call, each call timed) and the
demo company's lifecycle: who completes each step, with what (tests/multinode walks it too)."""

import http.client
import json
import time
import uuid
from dataclasses import dataclass
from datetime import date, timedelta

PASSWORD = "demo1234"
HEADS = {"ana@acme.test": "jefe.finanzas@acme.test", "luis@acme.test": "jefe.finanzas@acme.test",
         "maria@acme.test": "jefe.produccion@acme.test"}
REQUESTERS = list(HEADS)
DIRECTOR = "director@acme.test"
WORKERS = ["tecnico1@acme.test", "tecnico2@acme.test"]
PEOPLE = sorted({*REQUESTERS, *HEADS.values(), DIRECTOR, *WORKERS})
# The straight path of the default diagram, by the kind of each step.
KINDS = ("authorize", "evaluate", "assign", "start", "finish", "confirm")


class Unanswered(Exception):
    """A call that got no answer: it may or may not have been done."""


@dataclass
class Answer:
    status: int
    content_type: str
    headers: dict
    data: dict
    seconds: float
    request_id: str  # sent as X-Request-ID: the server's log lines about the call carry it

    @property
    def is_problem(self) -> bool:
        return self.content_type.startswith("application/problem+json")


class Api:
    """Calls to one node's /api/v1, a new connection each (no keep-alive to go stale)."""

    def __init__(self, port: int, timeout: float = 60):
        self.port = port
        self.timeout = timeout

    def call(self, method: str, path: str, token: str | None = None, body=None) -> Answer:
        request_id = uuid.uuid4().hex
        headers = {"Content-Type": "application/json", "Connection": "close",
                   "X-Request-ID": request_id}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        started = time.monotonic()
        try:
            conn.request(method, f"/api/v1{path}", headers=headers,
                         body=json.dumps(body) if body is not None else None)
            response = conn.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException) as exc:
            raise Unanswered(f"{method} {path}: {exc!r}") from exc
        finally:
            conn.close()
        try:
            data = json.loads(raw) if raw else {}
        except ValueError:
            data = {"raw": raw[:300].decode(errors="replace")}
        return Answer(response.status, response.getheader("Content-Type", ""),
                      dict(response.getheaders()), data, time.monotonic() - started, request_id)

    def tokens(self) -> dict[str, str]:
        tokens = {}
        for email in PEOPLE:
            answer = self.call("POST", "/tokens", body={"email": email, "password": PASSWORD})
            assert answer.status == 201, (email, answer)
            tokens[email] = answer.data["token"]
        return tokens

    def references(self, tokens: dict) -> dict:
        categories = self.call("GET", "/categories?per_page=100", tokens[REQUESTERS[0]]).data
        workers = self.call("GET", "/users?role=worker&per_page=100", tokens[DIRECTOR]).data
        return {
            "category_id": next(c["id"] for c in categories["items"]
                                if c["name"] == "Electricidad"),
            "workers": {w["email"]: w["id"] for w in workers["items"]},
        }

    def file(self, token: str, refs: dict, title: str) -> dict:
        """File a request; its JSON (``id``, ``current_steps``)."""
        answer = self.call("POST", "/requests", token, {
            "title": title, "description": "Prueba de fallas", "priority": "normal",
            "category_id": refs["category_id"]})
        assert answer.status == 201, answer
        return answer.data


def step(kind: str, requester: str, worker: str, refs: dict) -> tuple[str, dict]:
    """(who completes a step of ``kind``, the body they send)."""
    if kind == "authorize":
        return HEADS[requester], {"decision": "authorize", "comment": "Adelante"}
    if kind == "evaluate":
        # Hundreds of approvals at once outrun the demo's budget and book every worker: the
        # director says why (kept only when the budget or the staff picture asks for it)
        return DIRECTOR, {"decision": "approve", "estimated_cost": 1000, "estimated_hours": 8,
                          "justification": "Prueba de carga"}
    if kind == "assign":
        return DIRECTOR, {"worker_id": refs["workers"][worker],
                          "planned_start": date.today().isoformat(),
                          "planned_end": (date.today() + timedelta(days=1)).isoformat()}
    if kind == "start":
        return worker, {"comment": "En camino"}
    if kind == "finish":
        return worker, {"kind": "finish", "resolution": "Listo", "hours_spent": 1,
                        "materials_cost": 0}
    if kind == "confirm":
        return requester, {"rating": 5}
    raise ValueError(kind)


def next_step(current_steps: list[dict]) -> tuple[int, str] | None:
    """(task id, kind) of the step a request waits on next on the straight path, or None."""
    for s in current_steps:
        kind = next((k for k in KINDS if k in s["kinds"]), None)
        if kind:
            return s["task_id"], kind
    return None
