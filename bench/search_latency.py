"""Search latency at scale: ``app.search.query.search`` (count + ranked page + the page's
rows and snippets), in-process, for a service director and for a requester of several seeded
tenants, over words that match few, many and all of a company's requests, a number, and a
word nothing has.

    .venv/bin/python bench/search_latency.py --database-url URL [--tenants 10] [--rounds 5]

Part of `make bench` (bench/run.py --only search); alone, it uses a database already seeded by
`flask seed-scale` (migrate and seed it first: its documents are written by the seeding).
Target (issue 16): p95 <= 100 ms for each person.
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import percentile  # noqa: E402

# Seeded titles and descriptions (app.seeding.org.TITLES): few, many, every request matches
QUERIES = ("lámpara", "impresoras", "punto de red", "solicitud", "transporte aeropuerto",
           "reflector tomacorriente", "electricidad inexistente")
TARGET_MS = 100.0


def _people(tenant_slug: str):
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import ServiceRequest, Tenant, User

    tenant_id = db.session.scalar(select(Tenant.id).where(Tenant.slug == tenant_slug))
    director = db.session.scalar(select(User).where(
        User.tenant_id == tenant_id, User.email == f"director1@{tenant_slug}.test"))
    requester_id = db.session.scalar(
        select(ServiceRequest.requester_id).where(ServiceRequest.tenant_id == tenant_id)
        .group_by(ServiceRequest.requester_id).order_by(func.count().desc()).limit(1))
    number = db.session.scalar(select(ServiceRequest.number).where(
        ServiceRequest.tenant_id == tenant_id, ServiceRequest.requester_id == requester_id)
        .limit(1))
    return tenant_id, {"director": director.id, "requester": requester_id}, number


def run(url: str, tenants: int = 10, rounds: int = 5) -> dict:
    from app import create_app
    from app.extensions import db
    from app.models import User
    from app.search import query
    from app.tenancy.isolation import tenant

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "EMBEDDED_TIMERS": False})
    times: dict[str, list[float]] = {"director": [], "requester": []}
    found: dict[str, int] = {}
    with app.app_context():
        for n in range(1, tenants + 1):
            slug = f"t{n:03d}"
            db.session.rollback()
            tenant_id, people, number = _people(slug)
            for role, user_id in people.items():
                for q in (*QUERIES, number):
                    for _ in range(rounds):
                        db.session.rollback()
                        with tenant(tenant_id):
                            user = db.session.get(User, user_id)
                            started = time.perf_counter()
                            results = query.search(user, q)
                            times[role].append((time.perf_counter() - started) * 1000)
                    if n == 1:
                        found[f"{role}: {q if q != number else 'a request number'}"] = \
                            results.total
        dialect = db.engine.dialect.name
    return {"times": times, "found": found, "tenants": tenants, "rounds": rounds,
            "dialect": dialect}


def rows(results: dict) -> list[str]:
    lines = []
    for role, values in results["times"].items():
        p50, p95 = percentile(values, 0.50), percentile(values, 0.95)
        met = "yes" if p95 <= TARGET_MS else "**no**"
        lines.append(f"| search, {role} ({len(values)} searches) | {p50:.1f} ms | "
                     f"{p95:.1f} ms | p95 ≤ {TARGET_MS:.0f} ms | {met} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"),
                        required=not os.environ.get("DATABASE_URL"))
    parser.add_argument("--tenants", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    results = run(args.database_url, args.tenants, args.rounds)
    print(f"database: {results['dialect']}; {results['tenants']} tenants x "
          f"{len(QUERIES) + 1} queries x {results['rounds']} rounds per person")
    for what, total in results["found"].items():
        print(f"  t001 {what}: {total} found (count capped at 1000)")
    print("| figure | median (p50) | p95 | target | met |")
    for line in rows(results):
        print(line)


if __name__ == "__main__":
    main()
