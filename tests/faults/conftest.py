"""Faults the service must survive, with real servers (marker ``faults``): one PostgreSQL
cluster for the whole package (tests/multinode/servers.py), a database migrated and seeded with
the demo data once, and a fresh copy of it for each test. Each module is marked ``faults``:
they run once per ``make test``, in the SQLite pass (they bring their own PostgreSQL)."""

import itertools
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.multinode.servers import Stack, postgres_server, require_service_binaries

TEMPLATE = "mesa_seeded"
_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def pg():
    """The package's PostgreSQL cluster (a test may stop and start it: ``pg.stop(mode)``,
    ``pg.start()``)."""
    require_service_binaries()
    with postgres_server() as cluster:
        # A crash (pg_ctl -m immediate) must not lose commits already acknowledged:
        # scripts/pg_cluster.sh turns synchronous_commit off; a role's setting outranks that.
        cluster.sql("ALTER ROLE postgres SET synchronous_commit = on")
        yield cluster


@pytest.fixture(scope="session")
def seeded(pg) -> str:
    """The name of a database with the schema and the demo data, copied for each test."""
    workdir = Path(tempfile.mkdtemp(prefix="mesa-faults-seed."))
    try:
        stack = Stack(workdir, pg.create_database(TEMPLATE))
        stack.flask("db", "upgrade")
        stack.flask("seed-demo")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return TEMPLATE


@pytest.fixture
def database_url(pg, seeded) -> str:
    """A fresh copy of the seeded database, for this test only."""
    return pg.create_database(f"mesa_fault_{next(_numbers)}", template=seeded)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.failed:
        item.faults_failed = True
    return report


@pytest.fixture
def workdir(request):
    """Logs and homes of the processes a test starts; removed afterwards, kept if it failed."""
    path = Path(tempfile.mkdtemp(prefix="mesa-faults."))
    yield path
    if getattr(request.node, "faults_failed", False):
        print(f"\nthe processes' logs are kept in {path}")
    else:
        shutil.rmtree(path, ignore_errors=True)
