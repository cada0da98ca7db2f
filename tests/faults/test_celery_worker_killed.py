"""A Celery worker killed (SIGKILL, the whole worker: main process and pool) in the middle of
a webhook delivery.

Redis, a gunicorn node (which leaves background work to Celery), two Celery workers and a beat;
a webhook receiver on loopback holds the first request open without answering, so the kill
lands while the delivery is being sent. The test finds the sending worker from the receiver's
side (the peer port, matched to a worker's socket in /proc) and kills it. After the delivery's
lease (WEBHOOK_LEASE_SECONDS, at least 25 s) the other worker sends it again: the receiver sees
the same X-Mesa-Delivery key twice (at least once, deduplicated by key), and the row ends
``delivered`` once, after two attempts.
"""

import signal
import time

import pytest

from tests.faults.clients import REQUESTERS, Api
from tests.multinode.servers import Stack, children, redis_server, socket_owner, wait_until
from tests.receiver import Receiver

pytestmark = pytest.mark.faults

LEASE_SECONDS = 25  # the least webhooks.lease_seconds allows


@pytest.fixture
def cluster(database_url, workdir):
    receiver = Receiver(hold_first=True)
    with redis_server(workdir) as broker_url:
        stack = Stack(workdir, database_url, broker_url, TIMER_POLL_SECONDS="0.5",
                      WEBHOOK_LEASE_SECONDS=str(LEASE_SECONDS))
        try:
            stack.sql("INSERT INTO webhook_endpoints (tenant_id, url, secret, events, active, "
                      "description, created_at) SELECT id, %s, 'faults-secret', "
                      "'[\"request.filed\"]', true, '', now() FROM tenants "
                      "WHERE slug = 'acme'", receiver.url)
            stack.start_node("A", workers=1, threads=4)
            workers = [stack.start_worker(f"w{n}", concurrency=1, LOG_LEVEL="WARNING")
                       for n in (1, 2)]
            stack.start_beat(LOG_LEVEL="WARNING")
            stack.wait_healthy("A")
            try:
                wait_until(lambda: stack.workers_ready(2), 60, "two Celery workers",
                           interval=0.5)
            except TimeoutError:
                pytest.fail(f"the Celery workers did not answer\n{stack.logs()}")
            yield stack, workers, receiver
        finally:
            stack.stop_all()
            receiver.close()


def deliveries(stack) -> list[tuple]:
    return stack.sql("SELECT idempotency_key, status, attempts, next_attempt_at, delivered_at, "
                     "response_status FROM outbox WHERE channel = 'webhook'")


def test_a_worker_killed_mid_delivery_leaves_it_to_the_other(cluster):
    stack, workers, receiver = cluster
    api = Api(stack.ports["A"])
    tokens = api.tokens()
    api.file(tokens[REQUESTERS[0]], api.references(tokens), "Falla de Celery")

    assert receiver.held.wait(30), f"nothing was sent\n{stack.logs()}"
    [(key, port)] = receiver.peers
    sender = next((w for w in workers
                   if socket_owner(port, {w.popen.pid, *children(w.popen.pid)})), None)
    assert sender is not None, "no worker holds the connection"
    sender.kill(signal.SIGKILL)
    sender.popen.wait(10)
    other = next(w for w in workers if w is not sender)
    receiver.release.set()

    [(_, status, attempts, lease_ends, _, _)] = deliveries(stack)
    assert (status, attempts) == ("pending", 1)

    def delivered() -> bool:
        return deliveries(stack)[0][1] == "delivered"

    try:
        wait_until(delivered, LEASE_SECONDS + 30, "the delivery, by the other worker",
                   interval=0.5)
    except TimeoutError:
        pytest.fail(f"not delivered: {deliveries(stack)}\n{stack.logs()}")
    time.sleep(2)  # more dispatches: nothing is sent a third time
    [(row_key, status, attempts, _, delivered_at, answer)] = deliveries(stack)
    assert receiver.hits == {key: 2}  # the same key twice: at least once, deduplicated by key
    assert (row_key, status, attempts, answer) == (key, "delivered", 2, 204)
    assert delivered_at >= lease_ends
    assert other.alive and not sender.alive
