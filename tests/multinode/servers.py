"""Throw-away servers on loopback for the tests that need real ones: Redis, a PostgreSQL
cluster (scripts/pg_cluster.sh), and processes (gunicorn, Celery) each in a process group of
its own, so a whole node can be killed at once, as when a machine dies."""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def unavailable(reason: str):
    """Skip on a developer machine; fail in CI (``CI`` set), where these tests must run."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so this test may not be skipped)", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check, timeout: float, what: str, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not ready after {timeout} s")
        time.sleep(interval)


class Process:
    """A child process in its own session (process group), its output in ``log``."""

    def __init__(self, name: str, args: list[str], env: dict, log: Path, cwd: Path = ROOT):
        self.name = name
        self.log = log
        self._out = open(log, "wb")  # noqa: SIM115  (closed in stop)
        self.popen = subprocess.Popen(args, env=env, cwd=cwd, stdout=self._out,
                                      stderr=subprocess.STDOUT, start_new_session=True)

    @property
    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self, sig=signal.SIGKILL) -> None:
        """Signal the whole group: a gunicorn master and its workers, a Celery worker and its
        pool."""
        try:
            os.killpg(self.popen.pid, sig)
        except ProcessLookupError:
            pass

    def stop(self, timeout: float = 10) -> None:
        if self.alive:
            self.kill(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill(signal.SIGKILL)
                self.popen.wait(5)
        self.kill(signal.SIGKILL)  # whatever is left of the group
        self._out.close()

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def redis_binary() -> str | None:
    return shutil.which("redis-server") or (
        "/usr/sbin/redis-server" if os.path.exists("/usr/sbin/redis-server") else None)


def _redis_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@contextmanager
def redis_server(workdir: Path):
    """A Redis server on a free loopback port, no persistence; yields its URL."""
    binary = redis_binary()
    if binary is None:
        unavailable("redis-server not found: install it with scripts/install_system_deps.sh")
    port = free_port()
    proc = Process("redis", [binary, "--port", str(port), "--bind", "127.0.0.1",
                             "--save", "", "--appendonly", "no", "--dir", str(workdir)],
                   dict(os.environ), workdir / "redis.log")
    try:
        wait_until(lambda: _redis_answers(port), 10, "redis-server")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.stop()


def postgres_available() -> bool:
    return any((Path(d) / "initdb").exists() for d in Path("/usr/lib/postgresql").glob("*/bin"))


@contextmanager
def postgres_cluster():
    """A PostgreSQL cluster of its own (scripts/pg_cluster.sh); yields its database URL."""
    if not postgres_available():
        unavailable("PostgreSQL server not found: install it with scripts/install_system_deps.sh")
    pgdir = tempfile.mkdtemp(prefix="mesa-multinode-pg.", dir="/tmp")
    port = free_port()
    script = str(ROOT / "scripts" / "pg_cluster.sh")
    started = subprocess.run(["bash", script, "start", pgdir, str(port)], capture_output=True,
                             text=True, timeout=120)
    try:
        if started.returncode != 0:
            raise RuntimeError(f"pg_cluster.sh start failed:\n{started.stderr}")
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/mesa_test"
    finally:
        subprocess.run(["bash", script, "stop", pgdir], capture_output=True, timeout=120)
