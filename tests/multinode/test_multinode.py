"""Several machines' worth of the service on loopback, started by the test itself:

    PostgreSQL (its own cluster)        Redis (Celery's broker)
    gunicorn node A, node B             Celery worker 1, worker 2, and one beat
    a webhook receiver

300 lifecycles (file, authorize, evaluate, assign, start, finish, confirm) run concurrently
through the REST API, each call going to one node or the other. Acme's timers are seconds long,
so reminders fire on waiting authorizations and requests left at confirmation close themselves,
on the Celery workers, during the run. Mid-run machine B dies: node B (gunicorn's master and
workers) and Celery worker 2 are killed with SIGKILL. Clients whose call got no answer retry on
node A, checking first whether it went through; timers and webhook deliveries the dead worker
had claimed are claimed again when their lease expires. Then, from the database: every
lifecycle completed exactly once, every timer fired exactly once, every webhook was delivered;
and no answer was a 5xx, from the clients' side nor in the nodes' JSON request logs.

It runs once per ``make test`` (marker ``multinode``, deselected in the PostgreSQL pass: it
brings its own database).
"""

import http.client
import json
import shutil
import signal
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.faults.clients import DIRECTOR, PASSWORD, PEOPLE, REQUESTERS, WORKERS, step
from tests.multinode.servers import (
    Stack,
    postgres_cluster,
    redis_server,
    require_service_binaries,
    wait_until,
)
from tests.receiver import Receiver

pytestmark = pytest.mark.multinode

LIFECYCLES = 300
CLIENT_THREADS = 24
KILL_NODE_B_AFTER = 120      # lifecycles completed
TIMER_WAIT_SECONDS = 90      # the most a client waits for a timer to fire
SHORT_TIMERS = {"authorization_reminder_after": "PT2S", "auto_close_after": "PT3S"}
RUN = "MN"
# What each lifecycle does besides the straight path: wait for its reminder before the
# authorization, or never confirm and wait for the automatic close.
KINDS = ("reminded", "auto_closed", "confirmed")


# -- the servers ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def receiver():
    made = Receiver()
    yield made
    made.close()


@pytest.fixture(scope="module")
def stack(receiver):
    require_service_binaries()
    workdir = Path(tempfile.mkdtemp(prefix="mesa-multinode."))
    with ExitStack() as cleanup:
        database_url = cleanup.enter_context(postgres_cluster())
        broker_url = cleanup.enter_context(redis_server(workdir))
        s = Stack(workdir, database_url, broker_url, TIMER_POLL_SECONDS="0.5",
                  TIMER_LEASE_SECONDS="15", WEBHOOK_LEASE_SECONDS="30")
        cleanup.callback(s.stop_all)
        s.flask("db", "upgrade")
        s.flask("seed-demo")
        s.sql("UPDATE tenants SET settings = %s WHERE slug = 'acme'", json.dumps(SHORT_TIMERS))
        s.sql("INSERT INTO webhook_endpoints (tenant_id, url, secret, events, active, "
              "description, created_at) SELECT id, %s, 'multinode-secret', %s, true, '', now() "
              "FROM tenants WHERE slug = 'acme'", receiver.url,
              json.dumps(["request.confirmed", "request.closed"]))
        for name in ("A", "B"):
            s.start_node(name, workers=2, threads=4)
        for name in ("w1", "w2"):
            s.start_worker(name, concurrency=2, metrics=True, LOG_LEVEL="WARNING")
        s.start_beat(LOG_LEVEL="WARNING")
        for name in ("A", "B"):
            s.wait_healthy(name)
        try:
            wait_until(lambda: s.workers_ready(2), 60, "two Celery workers", interval=0.5)
        except TimeoutError:
            pytest.fail(f"the Celery workers did not answer\n{s.logs()}")
        yield s
    shutil.rmtree(workdir, ignore_errors=True)


# -- the clients ------------------------------------------------------------------------------

class Unanswered(Exception):
    """A call that was sent but got no answer: it may or may not have been done."""


class Cluster:
    """Keep-alive connections per client thread and node. A call goes to the node asked for;
    when that node refuses connections it is taken out and the call goes to another."""

    def __init__(self, ports: dict[str, int]):
        self.ports = ports
        self.names = sorted(ports)
        self.gone: set[str] = set()
        self.lock = threading.Lock()
        self.local = threading.local()
        self.statuses: Counter = Counter()
        self.server_errors: list[str] = []
        self.unanswered = 0
        self.calls_by_node: Counter = Counter()

    def _connection(self, node: str) -> http.client.HTTPConnection:
        conns = self.local.__dict__.setdefault("conns", {})
        if node not in conns:
            conns[node] = http.client.HTTPConnection("127.0.0.1", self.ports[node], timeout=60)
        return conns[node]

    def _drop(self, node: str) -> None:
        conn = self.local.__dict__.get("conns", {}).pop(node, None)
        if conn is not None:
            conn.close()

    def _node(self, prefer: int) -> str:
        with self.lock:
            live = [n for n in self.names if n not in self.gone]
        assert live, "every node is gone"
        return live[prefer % len(live)]

    def call(self, method: str, path: str, token: str | None, body=None, prefer: int = 0,
             idempotent: bool = True, request_id: str = "") -> tuple[int, dict]:
        headers = {"Content-Type": "application/json", "X-Request-ID": request_id}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        payload = json.dumps(body) if body is not None else None
        for attempt in range(8):
            node = self._node(prefer + attempt)
            conn = self._connection(node)
            try:
                conn.request(method, path, body=payload, headers=headers)
            except ConnectionRefusedError:  # never sent: the node is gone, try another
                self._drop(node)
                with self.lock:
                    self.gone.add(node)
                continue
            except (OSError, http.client.HTTPException):
                self._drop(node)  # a keep-alive connection the server had closed: not sent
                continue
            try:
                response = conn.getresponse()
                data = response.read()
            except (OSError, http.client.HTTPException) as exc:
                self._drop(node)
                with self.lock:
                    self.unanswered += 1
                if not idempotent:
                    raise Unanswered(f"{method} {path} on node {node}: {exc!r}") from exc
                time.sleep(0.1)
                continue
            with self.lock:
                self.statuses[response.status] += 1
                self.calls_by_node[node] += 1
                if response.status >= 500:
                    self.server_errors.append(f"{method} {path} on {node}: {response.status} "
                                              f"{data[:300]!r}")
            return response.status, (json.loads(data) if data else {})
        raise AssertionError(f"{method} {path}: no node answered")


class Lifecycle:
    """One request from filing to closing, its calls spread over the nodes."""

    def __init__(self, index: int, cluster: Cluster, tokens: dict, refs: dict):
        self.i = index
        self.cluster = cluster
        self.tokens = tokens
        self.refs = refs
        self.kind = KINDS[index % len(KINDS)]
        self.requester = REQUESTERS[index % len(REQUESTERS)]
        self.worker = WORKERS[index % len(WORKERS)]
        self.title = f"{RUN} lifecycle {index}"
        self.step = 0
        self.request_id = None
        self.ended = None  # "confirmed" or "auto_closed"

    def call(self, method, path, who, body=None, idempotent=True):
        self.step += 1
        status, data = self.cluster.call(
            method, path, self.tokens[who], body, prefer=self.i + self.step,
            idempotent=idempotent, request_id=f"mn-{self.i}-{self.step}")
        return status, data

    def get(self, path, who=None):
        status, data = self.call("GET", path, who or self.requester)
        assert status == 200, (path, status, data)
        return data

    def file(self) -> None:
        body = {"title": self.title, "description": "Prueba de varios nodos",
                "category_id": self.refs["category_id"], "priority": "normal"}
        while self.request_id is None:
            try:
                status, data = self.call("POST", "/api/v1/requests", self.requester, body,
                                         idempotent=False)
            except Unanswered:  # was it filed? look before filing again
                found = self.get(f"/api/v1/requests?q={self.title.replace(' ', '+')}")["items"]
                mine = [r for r in found if r["title"] == self.title]
                if mine:
                    self.request_id = mine[0]["id"]
                continue
            assert status == 201, (status, data)
            self.request_id = data["id"]

    def open_task(self, kind: str) -> int | None:
        steps = self.get(f"/api/v1/requests/{self.request_id}")["current_steps"]
        return next((s["task_id"] for s in steps if kind in s["kinds"]), None)

    def complete(self, kind: str, who: str, body: dict) -> bool:
        """Complete the open task offering ``kind``; False if the automatic close took it."""
        task_id = self.open_task(kind)
        assert task_id is not None or kind == "confirm", (self.i, kind, "no open task")
        if task_id is None:
            return False
        unanswered = False
        while True:
            try:
                status, data = self.call("POST", f"/api/v1/tasks/{task_id}/complete", who,
                                         body, idempotent=False)
            except Unanswered:
                unanswered = True
                continue
            if status == 200:
                return True
            if status == 409 and unanswered:
                return True  # the attempt that got no answer went through
            if status == 409 and kind == "confirm":
                return False  # the automatic close fired first
            raise AssertionError((self.i, kind, status, data))

    def actions(self) -> list[str]:
        history = self.get(f"/api/v1/requests/{self.request_id}/history?per_page=100")
        return [e["action"] for e in history["items"]]

    def wait(self, check, what: str) -> None:
        try:
            wait_until(check, TIMER_WAIT_SECONDS, f"lifecycle {self.i}: {what}", interval=0.5)
        except TimeoutError as exc:
            raise AssertionError(str(exc)) from None

    def run(self) -> "Lifecycle":
        self.file()
        if self.kind == "reminded":
            self.wait(lambda: "reminder_sent" in self.actions(), "the reminder")
        for kind in ("authorize", "evaluate", "assign", "start", "finish"):
            who, body = step(kind, self.requester, self.worker, self.refs)
            self.complete(kind, who, body)
        if self.kind == "auto_closed":
            self.wait(lambda: self.get(f"/api/v1/requests/{self.request_id}")["ticket"]
                      ["status"] == "closed", "the automatic close")
            self.ended = "auto_closed"
        else:
            who, body = step("confirm", self.requester, self.worker, self.refs)
            confirmed = self.complete("confirm", who, body)
            self.ended = "confirmed" if confirmed else "auto_closed"
        return self


def tokens_for(cluster: Cluster) -> dict[str, str]:
    tokens = {}
    for email in PEOPLE:
        status, data = cluster.call("POST", "/api/v1/tokens", None,
                                    {"email": email, "password": PASSWORD})
        assert status == 201, (email, status, data)
        tokens[email] = data["token"]
    return tokens


def references(cluster: Cluster, tokens: dict) -> dict:
    _, categories = cluster.call("GET", "/api/v1/categories?per_page=100", tokens[REQUESTERS[0]])
    _, workers = cluster.call("GET", "/api/v1/users?role=worker&per_page=100", tokens[DIRECTOR])
    return {
        "category_id": next(c["id"] for c in categories["items"] if c["name"] == "Electricidad"),
        "workers": {w["email"]: w["id"] for w in workers["items"]},
    }


def scrape(port: int, path: str = "/metrics") -> dict[str, float]:
    """Prometheus text -> {sample with labels: value}."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path)
    text = conn.getresponse().read().decode()
    samples = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            samples[name] = float(value)
    return samples


def left_on_disk(directory: Path) -> dict[str, float]:
    """mesa_timers_total by outcome, from a dead worker's prometheus multiprocess files."""
    from prometheus_client import CollectorRegistry
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(directory))
    return {s.labels["outcome"]: s.value for family in registry.collect()
            if family.name == "mesa_timers" for s in family.samples
            if s.name == "mesa_timers_total"}


# -- the test ---------------------------------------------------------------------------------

def test_300_lifecycles_on_two_nodes_with_one_killed(stack, receiver):
    cluster = Cluster(stack.ports)
    tokens = tokens_for(cluster)
    refs = references(cluster, tokens)
    done: list[Lifecycle] = []
    done_lock = threading.Lock()
    killed = threading.Event()
    started = time.monotonic()

    def run(index: int) -> Lifecycle:
        lifecycle = Lifecycle(index, cluster, tokens, refs).run()
        with done_lock:
            done.append(lifecycle)
            if len(done) >= KILL_NODE_B_AFTER and not killed.is_set():
                killed.set()
                # Machine B dies: its gunicorn (master and workers) and its Celery worker.
                stack.nodes["B"].kill(signal.SIGKILL)
                stack.workers["w2"].kill(signal.SIGKILL)
        return lifecycle

    with ThreadPoolExecutor(CLIENT_THREADS) as pool:
        futures = [pool.submit(run, i) for i in range(LIFECYCLES)]
        errors = [f.exception() for f in futures if f.exception() is not None]
    elapsed = time.monotonic() - started
    assert not errors, f"{len(errors)} lifecycles failed, first: {errors[0]!r}\n{stack.logs()}"
    assert killed.is_set() and not stack.nodes["B"].alive and not stack.workers["w2"].alive
    report = (f"{LIFECYCLES} lifecycles in {elapsed:.1f} s; calls by node "
              f"{dict(cluster.calls_by_node)}; statuses {dict(cluster.statuses)}; "
              f"calls without an answer, retried (node B's in flight, closed keep-alives): "
              f"{cluster.unanswered}")
    print(report)

    # No 5xx: not seen by the clients, and not logged by either node.
    assert cluster.server_errors == [], cluster.server_errors
    for name in ("A", "B"):
        for entry in stack.request_log(name):
            assert entry["status"] < 500, entry
    assert stack.healthy("A")

    # Every lifecycle completed exactly once: one request each, every step once, closed.
    rows = stack.sql(
        "SELECT r.title, r.status, t.status, pi.status, "
        "  (SELECT count(*) FROM human_tasks h WHERE h.request_id = r.id AND h.status = 'open') "
        "FROM service_requests r JOIN tickets t ON t.request_id = r.id "
        "JOIN process_instances pi ON pi.request_id = r.id WHERE r.title LIKE %s",
        f"{RUN} lifecycle %")
    assert len(rows) == LIFECYCLES == len({r[0] for r in rows})
    assert {r[1:] for r in rows} == {("completed", "closed", "completed", 0)}
    counts = {(title, action): n for title, action, n in stack.sql(
        "SELECT r.title, h.action, count(*) FROM history_events h "
        "JOIN service_requests r ON r.id = h.request_id WHERE r.title LIKE %s "
        "GROUP BY r.title, h.action", f"{RUN} lifecycle %")}
    by_title = {lc.title: lc for lc in done}
    for title, lifecycle in by_title.items():
        for action in ("filed", "authorize", "evaluate", "assign", "ticket_created", "start",
                       "finish"):
            assert counts.get((title, action)) == 1, (title, action, counts.get((title, action)))
        ended = {a: counts.get((title, a), 0) for a in ("confirm", "auto_closed")}
        assert sum(ended.values()) == 1, (title, ended)
        assert ended["confirm" if lifecycle.ended == "confirmed" else "auto_closed"] == 1
        # Every timer fired exactly once: a reminder at most once (exactly once where the
        # lifecycle waited for it), the automatic close once where nobody confirmed.
        reminders = counts.get((title, "reminder_sent"), 0)
        assert reminders <= 1, (title, reminders)
        if lifecycle.kind == "reminded":
            assert reminders == 1, title
        if lifecycle.kind == "auto_closed":
            assert ended["auto_closed"] == 1, title

    # Reminder notices in the outbox: one per head reminded, never twice.
    notices = stack.sql(
        "SELECT r.title, "
        "  (SELECT count(*) FROM notifications n WHERE n.request_id = r.id "
        "   AND n.event = 'task.reminder'), "
        "  (SELECT coalesce(sum(CAST(h.changes->>'recipients' AS integer)), 0) "
        "   FROM history_events h WHERE h.request_id = r.id AND h.action = 'reminder_sent') "
        "FROM service_requests r WHERE r.title LIKE %s", f"{RUN} lifecycle %")
    assert all(outbox == recorded for _, outbox, recorded in notices), notices

    # Timers fired on the Celery workers: worker 1 as it serves its metrics, worker 2 (killed)
    # from the samples its processes left on disk. A timer's count is added after its commit,
    # so worker 2 may have died between the two: at most one per pool process (-c 2).
    fired_rows = sum(n for (_, action), n in counts.items()
                     if action in ("reminder_sent", "auto_closed"))
    alive = scrape(stack.worker_metrics_ports["w1"])
    dead = left_on_disk(stack.metrics_dir("worker-w2"))
    fired = alive.get('mesa_timers_total{outcome="fired"}', 0) + dead.get("fired", 0)
    assert fired_rows - 2 <= fired <= fired_rows, (fired, fired_rows)
    assert alive.get('mesa_timers_total{outcome="failed"}', 0) + dead.get("failed", 0) == 0
    assert alive.get("mesa_timer_lag_seconds_count", 0) > 0

    # One webhook per lifecycle (confirmed or closed), each delivered to the receiver.
    def delivered() -> bool:
        return not stack.sql("SELECT id FROM outbox "
                             "WHERE channel = 'webhook' AND status <> 'delivered'")

    wait_until(delivered, 60, "webhook deliveries", interval=0.5)
    deliveries = stack.sql(
        "SELECT payload->'request'->>'title', event, idempotency_key FROM outbox "
        "WHERE channel = 'webhook'")
    assert sorted(d[0] for d in deliveries) == sorted(by_title)
    assert {d[1] for d in deliveries} <= {"request.confirmed", "request.closed"}
    assert all(receiver.hits[d[2]] >= 1 for d in deliveries)

    # Node A's metrics: request latency by endpoint, and the completions it committed.
    samples = scrape(stack.ports["A"])
    completions = sum(v for k, v in samples.items()
                      if k.startswith("mesa_task_completions_total"))
    assert completions > 0
    assert any(k.startswith('mesa_http_request_duration_seconds_count{endpoint="api_tasks.'
                            'complete"') for k in samples)
    assert samples["mesa_timers_due"] == 0
