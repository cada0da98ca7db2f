"""`make bench`: one table with the figures of issue 5 and their targets.

    .venv/bin/python bench/run.py [--database-url URL] [--lifecycles 300] [--clients 8]
                                  [--only engine,http,loops,inbox]

1. engine limit: the lifecycle in memory, and with save/load after every step (instances/s);
2. the lifecycle over HTTP against gunicorn (gunicorn.conf.py) on PostgreSQL, several client
   threads: lifecycles/s, p50/p95 per call, memory per worker afterwards;
3. one task completion after 1, 10, 50 and 100 hold/resume loops;
4. inbox and request-list latency in a database with --scale-requests requests over
   --scale-tenants tenants: --database-url's if given (seeded there when it has no requests),
   else a throw-away cluster's, seeded first (4-12 minutes for 1,000,000 on 2 cores);
5. attachments: a worker's memory during a 5 MB upload through the WSGI app
   (bench/upload_memory.py, a process of its own on SQLite);
6. indicators in that database: the page and the API over a year for directors and tenant
   admins, a tenant's requests exported as CSV and XLSX (first byte, workers' memory), and the
   same export in a sibling database with one tenant of --big-requests requests.

Without --database-url the bench starts its own PostgreSQL cluster (scripts/pg_cluster.sh) and
removes it at the end. The HTTP lifecycles and loops run in a fresh database beside it
(`<name>_lifecycle`, created again on every run) with the demo data.
"""

import argparse
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import (  # noqa: E402
    engine_limit,
    http_lifecycle,
    inbox_latency,
    indicators_latency,
    loops,
    search_latency,
    upload_memory,
)
from bench.common import (  # noqa: E402
    Cluster,
    Gunicorn,
    count_requests,
    cpu_seconds,
    flask,
    log,
    sibling_database,
)

PARTS = ("engine", "http", "loops", "inbox", "indicators", "attachments")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"),
                        help="PostgreSQL database seeded at scale (seeded if it has none)")
    parser.add_argument("--lifecycles", type=int, default=300)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, help="gunicorn workers (gunicorn.conf.py's)")
    parser.add_argument("--threads", type=int, help="gunicorn threads per worker")
    parser.add_argument("--engine-lifecycles", type=int, default=300)
    parser.add_argument("--loop-requests", type=int, default=3)
    parser.add_argument("--scale-tenants", type=int, default=100)
    parser.add_argument("--scale-requests", type=int, default=1_000_000)
    parser.add_argument("--big-requests", type=int, default=100_000,
                        help="requests of the one tenant whose export is measured at size")
    parser.add_argument("--only", default=",".join(PARTS),
                        help=f"comma-separated parts to run, of {', '.join(PARTS)}")
    return parser.parse_args(argv)


def scale_database(url: str, tenants: int, requests: int) -> tuple[int, float | None]:
    """Migrate; seed when empty. (requests in the database, seconds spent seeding or None)."""
    flask(url, "db", "upgrade")
    count = count_requests(url)
    if count:
        return count, None
    log(f"seeding {requests:,} requests over {tenants} tenants (progress below)")
    started = time.monotonic()
    flask(url, "seed-scale", "--tenants", str(tenants), "--requests", str(requests))
    return requests, time.monotonic() - started


def main(argv=None) -> None:
    args = parse_args(argv)
    parts = set(args.only.split(","))
    load_before = os.getloadavg()
    started = datetime.now(UTC)
    results: dict = {}
    cluster = None
    try:
        if "attachments" in parts:
            log("memory of a 5 MB upload")
            results["attachments"] = upload_memory.run()
        if "engine" in parts:
            log("engine limit")
            results["engine"] = engine_limit.run(args.engine_lifecycles)
        if parts & {"http", "loops", "inbox", "indicators", "search"}:
            if args.database_url:
                scale_url = args.database_url
            else:
                log("starting a throw-away PostgreSQL cluster")
                cluster = Cluster()
                scale_url = cluster.url
        if parts & {"http", "loops"}:
            name = scale_url.rsplit("/", 1)[1].split("?")[0]
            lifecycle_url = sibling_database(scale_url, f"{name}_lifecycle")
            flask(lifecycle_url, "db", "upgrade")
            flask(lifecycle_url, "seed-demo")
            if "http" in parts:
                log(f"HTTP lifecycles: {args.lifecycles} with {args.clients} clients")
                server = Gunicorn(lifecycle_url, args.workers, args.threads)
                failed = True
                try:
                    results["http"] = http_lifecycle.run(
                        server.url, args.lifecycles, args.clients,
                        cpu_probe=lambda: cpu_seconds(server))
                    results["memory"] = server.worker_memory()
                    failed = False
                finally:
                    server.stop(keep_log=failed)
            if "loops" in parts:
                log("completion cost after 1/10/50/100 loops")
                results["loops"] = loops.run(lifecycle_url, args.loop_requests)
        if "inbox" in parts:
            count, seeded = scale_database(scale_url, args.scale_tenants, args.scale_requests)
            results["scale"] = {"requests": count, "seed_seconds": seeded}
            log(f"inbox and list latency over {count:,} requests")
            server = Gunicorn(scale_url, args.workers, args.threads)
            failed = True
            try:
                results["inbox"] = inbox_latency.run(server.url,
                                                     tenants=min(10, args.scale_tenants))
                failed = False
            finally:
                server.stop(keep_log=failed)
        if "indicators" in parts:
            results["indicators"] = indicators_latency.run(
                scale_url, min(10, args.scale_tenants), 5, args.big_requests, flask,
                sibling_database, lambda url, *_: scale_database(
                    url, args.scale_tenants, args.scale_requests))
        if "search" in parts:
            count, _ = scale_database(scale_url, args.scale_tenants, args.scale_requests)
            log(f"search latency over {count:,} requests")
            results["search"] = search_latency.run(scale_url, min(10, args.scale_tenants), 5)
            results["search"]["requests"] = count
    finally:
        if cluster is not None:
            cluster.stop()
    print(render(results, args, started, load_before))


def _ms(value: float) -> str:
    return f"{value:.1f} ms"


def _met(ok: bool) -> str:
    return "yes" if ok else "**no**"


def render(results: dict, args, started: datetime, load_before) -> str:
    load_after = os.getloadavg()
    command = " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]])
    lines = [
        f"`{command}` on {started:%Y-%m-%d %H:%M} UTC; {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}; load average {load_before[0]:.1f} before, "
        f"{load_after[0]:.1f} after",
        "",
        "| figure | median (p50) | p95 | target | met |",
        "| --- | --- | --- | --- | --- |",
    ]

    def row(figure, p50, p95="", target="", met=""):
        lines.append(f"| {figure} | {p50} | {p95} | {target} | {met} |")

    engine = results.get("engine")
    if engine:
        row("engine, lifecycle in memory", f"{engine['memory']:.0f} instances/s")
        row("engine, save + load after every step", f"{engine['persisted']:.0f} instances/s")
    http = results.get("http")
    if http:
        row(f"HTTP lifecycles ({http['lifecycles']}, {http['clients']} clients; "
            f"{http['calls_per_s']:.0f} calls/s)", f"{http['rate']:.1f} lifecycles/s", "",
            "≥ 60/s", _met(http["rate"] >= 60))
        if engine:
            row("HTTP / persisted engine", f"{http['rate'] / engine['persisted']:.2f}")
        for kind, (p50, p95) in http["per_call"].items():
            row(f"&nbsp;&nbsp;{kind}", _ms(p50), _ms(p95))
        p50, p95 = http["completion"]
        row("task completion, every step", _ms(p50), _ms(p95), "p95 < 30 ms", _met(p95 < 30))
        p50, p95 = http["all"]
        row("every call", _ms(p50), _ms(p95))
        cpu = http.get("cpu_ms") or {}
        if cpu:
            total = sum(cpu.values())
            parts = ", ".join(f"{part} {value:.0f}" for part, value in cpu.items())
            row(f"CPU per lifecycle ({parts} ms)", f"{total:.0f} ms", "",
                f"≤ {1000 * (os.cpu_count() or 1) / 60:.0f} ms for 60/s")  # all cores busy
    memory = results.get("memory")
    if memory:
        rss = max(m["rss"] for m in memory)
        pss = max(m["pss"] for m in memory)
        row(f"memory per gunicorn worker ({len(memory)} workers), RSS / PSS", f"{rss:.0f} MB",
            f"{pss:.0f} MB (PSS)", "< 200 MB", _met(rss < 200))
    loop_results = results.get("loops")
    if loop_results:
        first = loop_results[1]["ms"]
        for n, value in loop_results.items():
            ratio = value["ms"] / first
            row(f"completion after {n} loop(s) (state {value['state_kb']:.0f} KB)",
                _ms(value["ms"]), "", "loop 100 ≤ 2× loop 1" if n == 100 else "",
                f"{_met(ratio <= 2)} ({ratio:.1f}×)" if n == 100 else f"{ratio:.1f}×")
    inbox = results.get("inbox")
    if inbox:
        scale = results["scale"]
        seeded = (f", seeded in {scale['seed_seconds'] / 60:.1f} min"
                  if scale.get("seed_seconds") else "")
        lines.append(f"| *at {scale['requests']:,} requests{seeded}* | | | | |")
        for (role, call), value in inbox.items():
            target = "p95 < 20 ms" if call == "inbox" else ""
            met = _met(value["p95"] < 20) if call == "inbox" else ""
            row(f"{call}, {role} (total {value['total']:,.0f})", _ms(value["p50"]),
                _ms(value["p95"]), target, met)
    if results.get("indicators"):
        lines.extend(indicators_latency.rows(results["indicators"]))
    if results.get("search"):
        lines.append(f"| *search, at {results['search']['requests']:,} requests* | | | | |")
        lines.extend(search_latency.rows(results["search"]))
    if results.get("attachments"):
        lines.extend(upload_memory.rows(results["attachments"]))
    return "\n".join(lines)


if __name__ == "__main__":
    main()
