"""PostgreSQL restarted under load: a gunicorn node (2 workers of 4 threads, the embedded
runner on) serves 8 clients completing tasks through the REST API while the server is stopped
twice (``pg_ctl -m fast``, then ``-m immediate``: a crash) and started again on the same port.

Then: the same worker processes serve again, nobody restarted them; every call was answered
within a bound, with what it did or a clear error (503 problem+json while the database was
away, never a 500); every completion a client was told of (200, or 409 on retrying one that
had failed but gone through) happened exactly once, none other did, and every request's
history, task rows, instance version and engine state, and ticket agree; the webhooks of the
run are delivered by the embedded runners that lived through it.

A 500 fails the test, with the errors the node logged for it.
"""

import json
import threading
import time
from collections import Counter, defaultdict

import pytest

from tests.faults.clients import REQUESTERS, WORKERS, Api, Unanswered, next_step, step
from tests.faults.consistency import audit
from tests.multinode.servers import Stack, children, wait_until
from tests.receiver import Receiver

pytestmark = pytest.mark.faults

CLIENTS = 8
REQUESTS_PER_CLIENT = 5        # 6 steps each: more than the run needs
STEPS_BETWEEN_FAULTS = 40      # completions before each stop, and after the last start
DOWN_SECONDS = 2
BOUND_SECONDS = 15             # the longest any call may take, database away or not
RETRY_PAUSE = 0.2
WEBHOOK_LEASE_SECONDS = 25     # the least webhooks.lease_seconds allows


@pytest.fixture
def node(database_url, workdir):
    receiver = Receiver()
    stack = Stack(workdir, database_url, TIMER_POLL_SECONDS="0.5",
                  WEBHOOK_LEASE_SECONDS=str(WEBHOOK_LEASE_SECONDS))
    try:
        stack.sql("INSERT INTO webhook_endpoints (tenant_id, url, secret, events, active, "
                  "description, created_at) SELECT id, %s, 'faults-secret', "
                  "'[\"request.confirmed\"]', true, '', now() FROM tenants WHERE slug = 'acme'",
                  receiver.url)
        stack.start_node("A", workers=2, threads=4)
        stack.wait_healthy("A")
        yield stack, receiver
    finally:
        stack.stop_all()
        receiver.close()


class Run:
    """What the clients did and were told, shared by their threads."""

    def __init__(self, api: Api, tokens: dict, refs: dict):
        self.api, self.tokens, self.refs = api, tokens, refs
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.steps = 0
        self.done: dict[int, list[str]] = defaultdict(list)
        self.statuses: Counter = Counter()
        self.through_despite_error = 0   # a 409 on retrying a step whose call had failed
        self.wrong: list[str] = []       # answers that break the rules
        self.server_errors: list = []    # 500s (and other 5xx but 503), checked against the log
        self.unanswered: list[str] = []
        self.slowest = 0.0

    def call(self, method: str, path: str, who: str, body=None):
        """One call; a 409 or 503 must be problem+json, a 503 with Retry-After. None when
        unanswered."""
        try:
            answer = self.api.call(method, path, self.tokens[who], body)
        except Unanswered as exc:
            with self.lock:
                self.unanswered.append(str(exc))
            return None
        with self.lock:
            self.statuses[answer.status] += 1
            self.slowest = max(self.slowest, answer.seconds)
            if answer.seconds > BOUND_SECONDS:
                self.wrong.append(f"{method} {path}: {answer.seconds:.1f} s")
            unclear = (answer.status in (409, 503) and not answer.is_problem) or (
                answer.status == 503 and "Retry-After" not in answer.headers)
            if unclear:
                self.wrong.append(f"{method} {path}: {answer.status} {answer.content_type} "
                                  f"{answer.headers} {answer.data}")
            if answer.status >= 500 and answer.status != 503:
                self.server_errors.append(answer)
        return answer

    def current_steps(self, request_id: int, who: str) -> list[dict]:
        while True:
            answer = self.call("GET", f"/requests/{request_id}", who)
            if answer is not None and answer.status == 200:
                return answer.data["current_steps"]
            if answer is not None and answer.status not in (500, 503):
                with self.lock:
                    self.wrong.append(f"request {request_id}: {answer.status} {answer.data}")
                return []
            time.sleep(RETRY_PAUSE)

    def complete(self, request_id: int, task_id: int, kind: str, requester: str, worker: str):
        """Complete the step, trying again while the database is away; the next step."""
        who, body = step(kind, requester, worker, self.refs)
        failed = False
        while True:
            answer = self.call("POST", f"/tasks/{task_id}/complete", who, body)
            if answer is None or answer.status in (500, 503):  # done or not: try again
                failed = True
                time.sleep(RETRY_PAUSE)
                continue
            if answer.status == 200 or (answer.status == 409 and failed):
                with self.lock:
                    self.done[request_id].append(kind)
                    self.steps += 1
                    self.through_despite_error += answer.status == 409
                if answer.status == 200:
                    return next_step(answer.data["current_steps"])
                return next_step(self.current_steps(request_id, requester))
            with self.lock:
                self.wrong.append(f"complete {kind} of {request_id}: {answer.status} "
                                  f"{answer.data}")
            return None

    def client(self, requests: list[tuple[int, str, str, tuple[int, str] | None]]) -> None:
        for request_id, requester, worker, upcoming in requests:
            while upcoming is not None and not self.stop.is_set():
                upcoming = self.complete(request_id, *upcoming, requester, worker)


def logged_errors(log, answers) -> list:
    """Each 500 of ``answers`` with the errors the node logged for its request."""
    errors = defaultdict(list)
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("{") and '"level": "ERROR"' in line:
            record = json.loads(line)
            errors[record.get("request_id")].append((record["msg"], record.get("exc", "")))
    return [(answer.status, answer.data, errors[answer.request_id]) for answer in answers]


def test_clients_complete_tasks_while_postgresql_restarts(pg, node, database_url):
    stack, receiver = node
    api = Api(stack.ports["A"], timeout=BOUND_SECONDS * 4)
    tokens = api.tokens()
    refs = api.references(tokens)
    run = Run(api, tokens, refs)
    plans = []
    for c in range(CLIENTS):
        plan = []
        for i in range(REQUESTS_PER_CLIENT):
            requester, worker = REQUESTERS[(c + i) % 3], WORKERS[(c + i) % 2]
            filed = api.file(tokens[requester], refs, f"Falla {c}-{i}")
            run.done[filed["id"]] = []
            plan.append((filed["id"], requester, worker, next_step(filed["current_steps"])))
        plans.append(plan)
    master = stack.nodes["A"].popen.pid
    workers_before = children(master)
    assert len(workers_before) == 2

    threads = [threading.Thread(target=run.client, args=(plan,), name=f"client-{c}")
               for c, plan in enumerate(plans)]
    for thread in threads:
        thread.start()
    try:
        for n, mode in enumerate(("fast", "immediate"), start=1):
            wait_until(lambda n=n: run.steps >= n * STEPS_BETWEEN_FAULTS, 120,
                       f"{n * STEPS_BETWEEN_FAULTS} completions")
            pg.stop(mode)
            time.sleep(DOWN_SECONDS)
            pg.start()
        wait_until(lambda: run.steps >= 3 * STEPS_BETWEEN_FAULTS, 120,
                   "completions after the restarts")
    finally:
        run.stop.set()
        for thread in threads:
            thread.join(BOUND_SECONDS * 4)
    assert not any(t.is_alive() for t in threads), "a client is stuck"
    print(f"{run.steps} completions; answers {dict(run.statuses)}; went through although "
          f"their call failed: {run.through_despite_error}; slowest call {run.slowest:.2f} s")

    # Every call answered, in time, with what it did or a clear error; the faults landed.
    assert run.unanswered == [], run.unanswered[:5]
    assert run.wrong == [], run.wrong[:10]
    failures = logged_errors(stack.nodes["A"].log, run.server_errors)
    assert failures == [], failures[:3]
    assert run.statuses[503] > 0, "no call met the database away: the faults missed"
    assert [line for line in stack.request_log("A") if line["status"] not in
            (200, 201, 409, 503)] == []

    # The same processes serve: no worker was replaced, none restarted.
    assert stack.nodes["A"].alive and children(master) == workers_before
    assert stack.healthy("A")

    # Exactly once, and nothing half-done.
    problems = audit(database_url, run.done)
    assert problems == [], "\n".join(problems[:20])

    # The embedded runners lived through it: every confirmation's webhook is delivered.
    def delivered() -> bool:
        return not stack.sql("SELECT id FROM outbox "
                             "WHERE channel = 'webhook' AND status <> 'delivered'")

    confirmed = sum("confirm" in kinds for kinds in run.done.values())
    try:  # a delivery claimed as the database went away waits for its lease
        wait_until(delivered, WEBHOOK_LEASE_SECONDS + 15, "webhook deliveries", interval=0.5)
    except TimeoutError:
        late = stack.sql("SELECT id, status, attempts, next_attempt_at, last_error, now() "
                         "FROM outbox WHERE channel = 'webhook' AND status <> 'delivered'")
        pytest.fail(f"webhooks not delivered after the restarts: {late}\n{stack.logs()}")
    keys = [key for (key,) in stack.sql(
        "SELECT idempotency_key FROM outbox WHERE channel = 'webhook'")]
    assert len(keys) == confirmed and all(receiver.hits[k] >= 1 for k in keys)

