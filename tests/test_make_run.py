"""`make run` on another port: the links of the e-mails it sends (the task's page, the
satisfaction survey) point at that port, not at the default 5000."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def _base_url(**env) -> str:
    """What PUBLIC_BASE_URL the server `make run` starts would read: the recipe as make
    prints it (-n runs nothing), from the port line on, with its final exec replaced."""
    recipe = subprocess.run(["make", "-s", "-n", "run"], cwd=ROOT, capture_output=True,
                            text=True, check=True, timeout=60).stdout
    start = recipe.index('port="${PORT:-5000}"')
    serve = recipe.index("exec ", start)
    script = recipe[start:serve] + 'printf "%s" "$PUBLIC_BASE_URL"\n'
    base = {k: v for k, v in os.environ.items() if k not in ("PORT", "PUBLIC_BASE_URL")}
    return subprocess.run(["bash", "-euo", "pipefail", "-c", script], env={**base, **env},
                          capture_output=True, text=True, check=True).stdout.splitlines()[-1]


def test_links_follow_the_port_make_run_serves_on():
    assert _base_url(PORT="5123") == "http://127.0.0.1:5123"
    assert _base_url() == "http://127.0.0.1:5000"


def test_a_public_base_url_given_is_kept():
    assert _base_url(PORT="5123", PUBLIC_BASE_URL="https://mesa.example") == "https://mesa.example"
