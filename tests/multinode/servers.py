"""Throw-away servers on loopback for the tests that need real ones: Redis, a PostgreSQL
cluster (scripts/pg_cluster.sh) that a test may stop and start again, and the service's own
processes (gunicorn nodes, Celery workers and beat, ``Stack``), each in a process group of its
own, so a whole node can be killed at once, as when a machine dies. Used by tests/multinode and
tests/faults."""

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("VIRTUAL_ENV") or ROOT / ".venv") / "bin"


def unavailable(reason: str):
    """Skip on a developer machine; fail in CI (``CI`` set), where these tests must run."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so this test may not be skipped)", pytrace=False)
    pytest.skip(reason)


def require_service_binaries() -> None:
    """gunicorn and Celery, which ``Stack`` starts, must be in the virtualenv."""
    if not (BIN / "gunicorn").exists() or not (BIN / "celery").exists():
        pytest.fail("gunicorn and celery must be installed in the virtualenv (make venv)")


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


def _pg_bin() -> Path:
    """The newest PostgreSQL server binaries, as scripts/pg_cluster.sh picks them."""
    found = [d for d in Path("/usr/lib/postgresql").glob("*/bin") if (d / "pg_ctl").exists()]
    return max(found, key=lambda d: [int(p) for p in d.parent.name.split(".") if p.isdigit()])


class PostgresCluster:
    """A cluster made by scripts/pg_cluster.sh, which a test may stop (``pg_ctl -m fast`` or
    ``immediate``, as an operator or a crash would) and start again on the same port."""

    def __init__(self, directory: str, port: int):
        self.directory = directory
        self.port = port

    @property
    def url(self) -> str:
        return self.url_for("mesa_test")

    def url_for(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _pg_ctl(self, *args: str) -> None:
        command = [str(_pg_bin() / "pg_ctl"), "-D", self.directory, *args]
        if os.geteuid() == 0:  # the server runs as postgres (scripts/pg_cluster.sh)
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=90)
        if done.returncode != 0:
            raise RuntimeError(f"pg_ctl {' '.join(args)} failed:\n{done.stdout}{done.stderr}")

    def stop(self, mode: str = "fast") -> None:
        """``fast``: sessions are ended and their transactions rolled back; ``immediate``:
        the server quits at once and recovers from its WAL at the next start."""
        self._pg_ctl("-m", mode, "-w", "-t", "60", "stop")

    def start(self) -> None:
        """Start the stopped server again with the options it last ran with (``pg_ctl
        restart`` reads them from postmaster.opts; with the server down it just starts it)."""
        self._pg_ctl("-l", f"{self.directory}/log", "-w", "-t", "60", "restart")

    def sql(self, query: str, *params, database: str = "mesa_test") -> list[tuple]:
        url = self.url_for(database).replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
            cursor = conn.execute(query, params)
            return cursor.fetchall() if cursor.description else []

    def create_database(self, name: str, template: str | None = None) -> str:
        """A new database (a copy of ``template``, which nobody may be connected to); its URL."""
        clause = f" TEMPLATE {template}" if template else ""
        self.sql(f"CREATE DATABASE {name}{clause}")
        return self.url_for(name)


@contextmanager
def postgres_server():
    """A PostgreSQL cluster of its own (scripts/pg_cluster.sh); yields a PostgresCluster."""
    if not postgres_available():
        unavailable("PostgreSQL server not found: install it with scripts/install_system_deps.sh")
    pgdir = tempfile.mkdtemp(prefix="mesa-test-pg.", dir="/tmp")
    port = free_port()
    script = str(ROOT / "scripts" / "pg_cluster.sh")
    started = subprocess.run(["bash", script, "start", pgdir, str(port)], capture_output=True,
                             text=True, timeout=120)
    try:
        if started.returncode != 0:
            raise RuntimeError(f"pg_cluster.sh start failed:\n{started.stderr}")
        yield PostgresCluster(pgdir, port)
    finally:
        subprocess.run(["bash", script, "stop", pgdir], capture_output=True, timeout=120)


@contextmanager
def postgres_cluster():
    """A PostgreSQL cluster of its own; yields its database URL."""
    with postgres_server() as cluster:
        yield cluster.url


# -- the service's processes -------------------------------------------------------------------

class Stack:
    """The service's processes, started by a test on one database (and, with ``broker_url``,
    one Celery broker; without, the web nodes run the background work themselves). Settings
    for every process are given as keyword arguments (TIMER_POLL_SECONDS="0.5"...). Call
    ``stop_all`` from a finalizer."""

    def __init__(self, workdir: Path, database_url: str, broker_url: str = "", **settings):
        self.workdir = workdir
        self.database_url = database_url
        self.broker_url = broker_url
        self.settings = settings
        self.nodes: dict[str, Process] = {}
        self.ports: dict[str, int] = {}
        self.workers: dict[str, Process] = {}
        self.worker_metrics_ports: dict[str, int] = {}
        self.processes: list[Process] = []

    def metrics_dir(self, process: str) -> Path:
        """Where process ``process`` (``node-A``, ``worker-w1``...) keeps its Prometheus
        multiprocess files: still there after it was killed."""
        return self.workdir / process / "prometheus"

    def env(self, name: str, **extra) -> dict:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("TEST_DATABASE_URL", "PYTEST_", "PROMETHEUS_"))}
        home = self.workdir / name  # e.g. gunicorn's control socket lives under $HOME
        home.mkdir(exist_ok=True)
        metrics_dir = self.metrics_dir(name)
        metrics_dir.mkdir(exist_ok=True)
        env.update({
            "HOME": str(home), "DATABASE_URL": self.database_url,
            "CELERY_BROKER_URL": self.broker_url, "SECRET_KEY": "test-servers-secret",
            "LOG_FORMAT": "json", "LOG_LEVEL": "INFO", "WEBHOOK_ALLOW_PRIVATE_NETWORKS": "1",
            "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
            "no_proxy": "127.0.0.1,localhost", "NO_PROXY": "127.0.0.1,localhost",
            "CELERY_BEAT_SCHEDULE_FILE": str(self.workdir / "celerybeat-schedule"),
        })
        env.update(self.settings)
        env.update(extra)
        return env

    def start(self, name: str, args: list[str], **env) -> Process:
        proc = Process(name, args, self.env(name, **env), self.workdir / f"{name}.log")
        self.processes.append(proc)
        return proc

    def flask(self, *args: str) -> str:
        done = subprocess.run(
            [str(BIN / "flask"), "--app", "app", *args], env=self.env("cli"), cwd=ROOT,
            capture_output=True, text=True, timeout=180)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def start_node(self, name: str, workers: int = 2, threads: int = 4, **env) -> Process:
        """gunicorn with gunicorn.conf.py (gthread workers), on a free loopback port."""
        port = free_port()
        args = [str(BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"),
                "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
                "--threads", str(threads), "app:create_app()"]
        self.nodes[name] = self.start(f"node-{name}", args, GUNICORN_THREADS=str(threads), **env)
        self.ports[name] = port
        return self.nodes[name]

    def start_worker(self, name: str, concurrency: int = 2, metrics: bool = False,
                     **env) -> Process:
        """A Celery worker (prefork pool) named ``name``@<host> in its own process group; with
        ``metrics``, serving its Prometheus metrics on a free loopback port
        (``worker_metrics_ports[name]``)."""
        if metrics:
            self.worker_metrics_ports[name] = free_port()
            env["WORKER_METRICS_PORT"] = str(self.worker_metrics_ports[name])
        self.workers[name] = self.start(f"worker-{name}", [
            str(BIN / "celery"), "-A", "app.celery_app", "worker", "-n", f"{name}@%h",
            "-c", str(concurrency)], **env)
        return self.workers[name]

    def start_beat(self, **env) -> Process:
        return self.start("beat", [str(BIN / "celery"), "-A", "app.celery_app", "beat"], **env)

    def workers_ready(self, count: int) -> bool:
        from celery import Celery

        probe = Celery(broker=self.broker_url)
        try:
            return len(probe.control.ping(timeout=1.0)) >= count
        finally:
            probe.close()

    def healthy(self, name: str) -> bool:
        """/healthz of node ``name`` answers 200 (database, and broker when one is set)."""
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.ports[name], timeout=2)
            conn.request("GET", "/healthz")
            response = conn.getresponse()
            body = json.loads(response.read() or b"{}")
            return response.status == 200 and body.get("broker") == (
                "ok" if self.broker_url else "disabled")
        except (OSError, ValueError, http.client.HTTPException):
            return False

    def wait_healthy(self, name: str, timeout: float = 60) -> None:
        try:
            wait_until(lambda: self.healthy(name), timeout, f"node {name}", interval=0.3)
        except TimeoutError:
            pytest.fail(f"node {name} did not become healthy\n{self.logs()}")

    def sql(self, query: str, *params) -> list[tuple]:
        url = self.database_url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(url, autocommit=True) as conn:
            cursor = conn.execute(query, params)
            return cursor.fetchall() if cursor.description else []

    def request_log(self, name: str) -> list[dict]:
        """Node ``name``'s JSON request lines (LOG_FORMAT=json), one per answered request."""
        return [json.loads(line) for line in
                self.nodes[name].log.read_text(errors="replace").splitlines()
                if line.startswith("{") and '"mesa.request"' in line]

    def logs(self) -> str:
        return "\n\n".join(f"--- {p.name} (alive: {p.alive}) ---\n{p.tail()}"
                             for p in self.processes)

    def stop_all(self) -> None:
        for proc in reversed(self.processes):
            proc.stop()


# -- who is who, from /proc ------------------------------------------------------------------

def children(pid: int) -> set[int]:
    """The direct children of ``pid`` (a gunicorn master's workers, a Celery pool)."""
    found = set()
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                found.update(int(child) for child in f.read().split())
    except (FileNotFoundError, ProcessLookupError):
        pass
    return found


def _socket_inodes(local_port: int) -> set[str]:
    """Inodes of this machine's TCP sockets whose local port is ``local_port``."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == local_port:
                inodes.add(fields[9])
    return inodes


def socket_owner(local_port: int, pids) -> int | None:
    """Which of ``pids`` holds the TCP connection whose local port is ``local_port``: e.g. the
    gunicorn worker behind a PostgreSQL backend (its ``client_port``), or the Celery pool
    process a receiver is talking to (the peer port it sees)."""
    wanted = {f"socket:[{inode}]" for inode in _socket_inodes(local_port)}
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except (FileNotFoundError, PermissionError):
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") in wanted:
                    return pid
            except OSError:
                continue
    return None
