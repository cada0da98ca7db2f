"""A gunicorn worker killed (SIGKILL) in the middle of a completion.

No test hook in the app: the test holds a row lock on the task's row (``SELECT ... FOR
UPDATE`` on its own connection), so the worker's completion, having locked the instance and
written its new version, waits inside its transaction at the write of the task row. The test
finds that worker from PostgreSQL's side (the waiting backend's client port, matched to a
worker's socket in /proc), kills it, and lets go of the lock. Then: the transaction is gone
(the task is open, the instance at its old version, no history entry), gunicorn has replaced
the worker, and completing the task again works, once.
"""

import os
import signal
import threading

import psycopg
import pytest

from tests.faults.clients import REQUESTERS, WORKERS, Api, Unanswered, next_step, step
from tests.faults.consistency import audit
from tests.multinode.servers import Stack, children, socket_owner, wait_until

pytestmark = pytest.mark.faults


@pytest.fixture
def node(database_url, workdir):
    stack = Stack(workdir, database_url, TIMER_POLL_SECONDS="0.5")
    try:
        stack.start_node("A", workers=2, threads=4)
        stack.wait_healthy("A")
        yield stack
    finally:
        stack.stop_all()


def blocked_by(conn: psycopg.Connection) -> tuple | None:
    """(backend pid, its client port, its transaction id) of the session waiting on a lock
    ``conn`` holds, once it waits."""
    with psycopg.connect(conn.info.dsn, autocommit=True) as observer:
        return observer.execute(
            "SELECT pid, client_port, backend_xid::text FROM pg_stat_activity "
            "WHERE %s = ANY(pg_blocking_pids(pid))", (conn.info.backend_pid,)).fetchone()


def test_a_worker_killed_mid_completion_leaves_the_task_open(node, database_url):
    api = Api(node.ports["A"], timeout=60)
    tokens = api.tokens()
    refs = api.references(tokens)
    requester, worker = REQUESTERS[0], WORKERS[0]
    filed = api.file(tokens[requester], refs, "Falla del worker")
    task_id, kind = next_step(filed["current_steps"])
    who, body = step(kind, requester, worker, refs)
    master = node.nodes["A"].popen.pid
    workers = children(master)

    url = database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as holder:
        holder.execute("SELECT id FROM human_tasks WHERE id = %s FOR UPDATE", (task_id,))
        answers: list = []

        def complete():
            try:
                answers.append(api.call("POST", f"/tasks/{task_id}/complete", tokens[who], body))
            except Unanswered as exc:
                answers.append(exc)

        client = threading.Thread(target=complete)
        client.start()
        backend_pid, client_port, xid = wait_until(lambda: blocked_by(holder), 30,
                                                   "the completion waiting on the lock")
        assert xid is not None  # it has written already: the kill lands inside a transaction
        victim = socket_owner(client_port, workers)
        assert victim is not None, (client_port, workers)
        os.kill(victim, signal.SIGKILL)
        client.join(30)
        assert isinstance(answers[0], Unanswered), answers  # no answer from a dead worker
        holder.rollback()  # let go: the backend finds its client gone and rolls back

        with psycopg.connect(url, autocommit=True) as observer:
            wait_until(lambda: not observer.execute(
                "SELECT 1 FROM pg_stat_activity WHERE pid = %s", (backend_pid,)).fetchone(),
                30, "the dead worker's backend to end")

    # Nothing of it stayed: the task is open, the instance where it was, no history entry.
    assert audit(database_url, {filed["id"]: []}) == []

    # gunicorn replaced the worker; the same master serves.
    wait_until(lambda: len(children(master)) == 2 and victim not in children(master), 30,
               "a new worker")
    assert node.nodes["A"].alive and children(master) & workers == workers - {victim}
    node.wait_healthy("A")

    # Completing the task again works, once.
    again = api.call("POST", f"/tasks/{task_id}/complete", tokens[who], body)
    assert again.status == 200, again
    twice = api.call("POST", f"/tasks/{task_id}/complete", tokens[who], body)
    assert twice.status == 409 and twice.is_problem, twice
    assert audit(database_url, {filed["id"]: [kind]}) == []
