"""Indicators at scale, against gunicorn: the page and the API over a year for a director and
a tenant admin of several seeded tenants, one call at a time; and exports, timed to their
first byte, with the gunicorn workers' memory sampled while they stream.

    .venv/bin/python bench/indicators_latency.py --database-url URL [--tenants 10]
        [--rounds 5] [--big-requests 100000]

Part of `make bench` (bench/run.py --only indicators); alone, it uses a database already
seeded by `flask seed-scale` (migrated and seeded if empty) and a sibling database
`<name>_big` seeded with one tenant of --big-requests requests for the large export.
"""

import argparse
import http.client
import os
import re
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlencode, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Client, Gunicorn, log, median, percentile, token  # noqa: E402

PEOPLE = {"director": "director1", "tenant admin": "admin"}
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def year_args() -> str:
    today = date.today()
    return urlencode({"from": (today - timedelta(days=364)).isoformat(),
                      "to": today.isoformat()})


class Session:
    """A browser-like session: logs in through the form, keeps the cookie, times pages."""

    def __init__(self, base_url: str, email: str, password: str = "demo1234"):
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
        self.cookies: dict[str, str] = {}
        status, body, _ = self.get("/login")
        match = CSRF.search(body)
        if status != 200 or not match:
            raise RuntimeError(f"no login form: {status}")
        form = urlencode({"email": email, "password": password, "csrf_token": match.group(1)})
        status, _, _ = self._send("POST", "/login", form,
                                  {"Content-Type": "application/x-www-form-urlencoded"})
        if status != 302:
            raise RuntimeError(f"login of {email} answered {status}")

    def _send(self, method, path, body=None, headers=None):
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in (1, 2):
            started = time.perf_counter()
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                raw = response.read()
                break
            except (http.client.HTTPException, OSError):
                self.conn.close()  # a kept-alive connection the server closed: once more
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
                if attempt == 2:
                    raise
        elapsed = (time.perf_counter() - started) * 1000
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        return response.status, raw.decode("utf-8", "replace"), elapsed

    def get(self, path):
        return self._send("GET", path)

    def close(self):
        self.conn.close()


def latency(base_url: str, tenants: int = 10, rounds: int = 5) -> dict:
    """p50/p95 of GET /api/v1/indicators and GET /indicators over the last 365 days."""
    client = Client(base_url)
    query = year_args()
    timings = {}
    for role, login in PEOPLE.items():
        emails = [f"{login}@t{n:03d}.test" for n in range(1, tenants + 1)]
        tokens = [token(client, email) for email in emails]
        sessions = [Session(base_url, email) for email in emails]
        api, page = [], []
        for who, session in zip(tokens, sessions, strict=True):  # warm-up
            client.call("GET", f"/api/v1/indicators?{query}", who)
            session.get(f"/indicators?{query}")
        filed = []
        for _ in range(rounds):
            for who, session in zip(tokens, sessions, strict=True):
                status, data, ms = client.call("GET", f"/api/v1/indicators?{query}", who)
                if status != 200:
                    raise RuntimeError(f"{role} API: {status} {data}")
                api.append(ms)
                filed.append(data["volumes"]["totals"]["filed"])
                status, _, ms = session.get(f"/indicators?{query}")
                if status != 200:
                    raise RuntimeError(f"{role} page: {status}")
                page.append(ms)
        for session in sessions:
            session.close()
        timings[role] = {"api": (median(api), percentile(api, 0.95), len(api)),
                         "page": (median(page), percentile(page, 0.95), len(page)),
                         "filed": median(filed)}
    client.close()
    return timings


class MemoryWatch:
    """Samples the gunicorn workers' RSS every 20 ms while a call runs."""

    def __init__(self, server: Gunicorn):
        self.server = server
        self.before = {m["pid"]: m["rss"] for m in server.worker_memory()}
        self.peak = dict(self.before)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self):
        while not self._stop.is_set():
            for m in self.server.worker_memory():
                self.peak[m["pid"]] = max(self.peak.get(m["pid"], 0.0), m["rss"])
            time.sleep(0.02)

    def growth(self) -> float:
        self._stop.set()
        self._thread.join()
        return max((self.peak[pid] - self.before.get(pid, self.peak[pid])
                    for pid in self.peak), default=0.0)


def export(server: Gunicorn, email: str, path: str) -> dict:
    """Download ``path`` as ``email``: first byte, total time, bytes, lines, memory growth."""
    client = Client(server.url)
    who = token(client, email)
    client.close()
    parts = urlsplit(server.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=600)
    watch = MemoryWatch(server)
    started = time.perf_counter()
    conn.request("GET", path, headers={"Authorization": f"Bearer {who}"})
    response = conn.getresponse()
    first = None
    size = lines = 0
    while True:
        chunk = response.read1(65536)
        if not chunk:
            break
        if first is None:
            first = (time.perf_counter() - started) * 1000
        size += len(chunk)
        lines += chunk.count(b"\n")
    total = (time.perf_counter() - started) * 1000
    grown = watch.growth()
    conn.close()
    if response.status != 200:
        raise RuntimeError(f"export {path}: {response.status}")
    csv = path.split("?", 1)[0].endswith(".csv")
    return {"first_byte_ms": first or total, "total_ms": total, "bytes": size,
            "rows": max(lines - 1, 0) if csv else None, "memory_growth_mb": grown}


def exports(server: Gunicorn, tenant: int = 1) -> dict:
    """The requests of a tenant's whole seeded history (two years) as CSV and XLSX."""
    today = date.today()
    query = urlencode({"from": (today - timedelta(days=3 * 365)).isoformat(),
                       "to": today.isoformat()})
    email = f"admin@t{tenant:03d}.test"
    return {fmt: export(server, email, f"/api/v1/exports/requests.{fmt}?{query}")
            for fmt in ("csv", "xlsx")}


def main(argv=None) -> None:
    from bench.common import flask, sibling_database
    from bench.run import scale_database

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"),
                        required=not os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--tenants", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--big-requests", type=int, default=100_000)
    args = parser.parse_args(argv)
    results = run(args.database_url, args.tenants, args.rounds, args.big_requests, flask,
                  sibling_database, scale_database)
    print(render(results))


def run(url, tenants, rounds, big_requests, flask, sibling_database, scale_database) -> dict:
    count, _ = scale_database(url, 100, 1_000_000)
    log(f"indicators latency over {count:,} requests")
    server = Gunicorn(url)
    try:
        results = {"requests": count, "latency": latency(server.url, tenants, rounds),
                   "export": exports(server)}
    finally:
        server.stop()
    if big_requests:
        name = url.rsplit("/", 1)[1].split("?")[0]
        big = sibling_database(url, f"{name}_big")
        flask(big, "db", "upgrade")
        log(f"seeding one tenant of {big_requests:,} requests for the large export")
        flask(big, "seed-scale", "--tenants", "1", "--requests", str(big_requests), "--quiet")
        server = Gunicorn(big)
        try:
            results["big_export"] = exports(server)
            results["big_requests"] = big_requests
        finally:
            server.stop()
    return results


def render(results: dict) -> str:
    lines = ["| figure | median (p50) | p95 | target | met |", "| --- | --- | --- | --- | --- |"]
    lines.extend(rows(results))
    return "\n".join(lines)


def rows(results: dict) -> list[str]:
    found = [f"| *indicators over a year, at {results['requests']:,} requests* | | | | |"]
    for role, value in results["latency"].items():
        for call, label in (("api", "GET /api/v1/indicators"), ("page", "/indicators page")):
            p50, p95, n = value[call]
            ok = "yes" if p95 <= 300 else "**no**"
            found.append(f"| {label}, {role} ({n} calls; {value['filed']:,.0f} filed) | "
                         f"{p50:.0f} ms | {p95:.0f} ms | p95 ≤ 300 ms | {ok} |")
    for key, label in (("export", "a tenant's requests"), ("big_export", "requests of a "
                                                                          "tenant")):
        for fmt, value in (results.get(key) or {}).items():
            first_ok = value["first_byte_ms"] <= 1000
            memory_ok = value["memory_growth_mb"] < 50
            counted = f"{value['rows']:,} rows, " if value["rows"] is not None else ""
            found.append(
                f"| export of {label} as {fmt.upper()} ({counted}"
                f"{value['bytes'] / 1e6:.1f} MB, {value['total_ms'] / 1000:.1f} s) | first byte "
                f"{value['first_byte_ms']:.0f} ms | worker memory +{value['memory_growth_mb']:.0f} "
                f"MB | first byte ≤ 1 s, memory < +50 MB | "
                f"{'yes' if first_ok and memory_ok else '**no**'} |")
    return found


if __name__ == "__main__":
    main()
