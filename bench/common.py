"""Shared by the benchmark parts: statistics, a keep-alive HTTP client, gunicorn and PostgreSQL
processes started and stopped by the bench itself."""

import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def percentile(values, fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def median(values) -> float:
    return statistics.median(values) if values else float("nan")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


class Client:
    """One keep-alive HTTP/1.1 connection (one per client thread); times each call."""

    def __init__(self, base_url: str):
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)

    def call(self, method: str, path: str, token: str | None = None, body=None):
        """(status, decoded JSON or None, milliseconds)."""
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):
            started = time.perf_counter()
            try:
                self.conn.request(method, path, body=payload, headers=headers)
                response = self.conn.getresponse()
                raw = response.read()
            except (http.client.HTTPException, OSError):
                self.conn.close()  # the server closed a kept-alive connection: reconnect once
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
                if attempt == 2:
                    raise
                continue
            elapsed = (time.perf_counter() - started) * 1000
            data = json.loads(raw) if raw and raw[:1] in (b"{", b"[") else None
            return response.status, data, elapsed
        raise RuntimeError("unreachable")

    def close(self) -> None:
        self.conn.close()


def token(client: Client, email: str, password: str = "demo1234") -> str:
    status, data, _ = client.call("POST", "/api/v1/tokens",
                                  body={"email": email, "password": password})
    if status != 201:
        raise RuntimeError(f"no token for {email}: {status} {data}")
    return data["token"]


_TICK = os.sysconf("SC_CLK_TCK")


def _cpu_of(pid: int) -> float:
    """User + system CPU seconds a process has used (0 if it is gone)."""
    try:
        fields = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK


def _pids(match) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if match(entry):
                    found.append(int(entry.name))
            except (OSError, ValueError, IndexError):
                continue
    return found


def cpu_seconds(server: "Gunicorn") -> dict[str, float]:
    """CPU seconds used so far by the gunicorn workers, the local PostgreSQL server processes
    (its backends come and go with connections: sampled ones only) and this bench process."""
    postgres = _pids(lambda e: (e / "comm").read_text().strip() == "postgres")
    return {"gunicorn": sum(_cpu_of(pid) for pid in server.worker_pids()),
            "postgres": sum(_cpu_of(pid) for pid in postgres),
            "clients": time.process_time()}


class Gunicorn:
    """gunicorn with the repository's gunicorn.conf.py on a free local port."""

    def __init__(self, database_url: str, workers: int | None = None,
                 threads: int | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, DATABASE_URL=database_url, SECRET_KEY="bench-secret",
                   GUNICORN_BIND=f"127.0.0.1:{self.port}", GUNICORN_LOG_LEVEL="warning")
        if workers:
            env["GUNICORN_WORKERS"] = str(workers)
        if threads:
            env["GUNICORN_THREADS"] = str(threads)
        self.log_file = tempfile.NamedTemporaryFile(prefix="mesa-bench-gunicorn-", suffix=".log",
                                                    delete=False)
        self.process = subprocess.Popen(
            [str(BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), "app:create_app()"],
            cwd=ROOT, env=env, stdout=self.log_file, stderr=subprocess.STDOUT)
        self._wait_ready()

    def _wait_ready(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {self.log_file.name}")
            try:
                client = Client(self.url)
                status, _, _ = client.call("GET", "/login")
                client.close()
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"gunicorn did not answer in {seconds} s; see {self.log_file.name}")

    def worker_pids(self) -> list[int]:
        def child(entry):
            return int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == \
                self.process.pid

        return _pids(child)

    def worker_memory(self) -> list[dict]:
        """RSS and PSS (MB) of each worker process."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
                if ppid != self.process.pid:
                    continue
                fields = {}
                for line in (entry / "smaps_rollup").read_text().splitlines()[1:]:
                    key, value = line.split(":", 1)
                    fields[key] = int(value.split()[0]) / 1024
                found.append({"pid": int(entry.name), "rss": fields.get("Rss", 0.0),
                              "pss": fields.get("Pss", 0.0)})
            except (OSError, ValueError, IndexError):
                continue
        return found

    def stop(self, keep_log: bool = False) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log_file.close()
        if keep_log:
            log(f"gunicorn's log: {self.log_file.name}")
        else:
            Path(self.log_file.name).unlink(missing_ok=True)


class Cluster:
    """A throw-away PostgreSQL cluster (scripts/pg_cluster.sh), removed at the end."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="mesa-bench-pg.")
        self.port = free_port()
        subprocess.run(["bash", str(ROOT / "scripts/pg_cluster.sh"), "start", self.dir,
                        str(self.port)], check=True, stdout=subprocess.DEVNULL)
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/mesa_test"

    def stop(self) -> None:
        subprocess.run(["bash", str(ROOT / "scripts/pg_cluster.sh"), "stop", self.dir],
                       check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def count_requests(url: str) -> int:
    import psycopg

    with psycopg.connect(_libpq(url)) as conn:
        return conn.execute("SELECT count(*) FROM service_requests").fetchone()[0]


def sibling_database(url: str, name: str) -> str:
    """Create (afresh) database ``name`` on the server of ``url``; returns its URL."""
    import psycopg

    parts = urlsplit(_libpq(url))
    with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.rsplit("/", 1)[0] + f"/{name}"


def flask(database_url: str, *args: str, capture: bool = False) -> str:
    """Run ``flask --app app ARGS`` against ``database_url``."""
    env = dict(os.environ, DATABASE_URL=database_url, EMBEDDED_TIMERS="0")
    result = subprocess.run([str(BIN / "flask"), "--app", "app", *args], cwd=ROOT, env=env,
                            check=True, text=True,
                            stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
                            stderr=None if not capture else subprocess.DEVNULL)
    return result.stdout or ""
