"""Mutation testing of the rules that keep tenants and data safe, with mutmut.

    .venv/bin/python scripts/mutation.py              # every target (make mutation)
    .venv/bin/python scripts/mutation.py policy login # some of them
    .venv/bin/python scripts/mutation.py --list       # the targets and their tests

Each target is one or more modules and the test files that exercise them. For each target the
working tree (uncommitted changes included) is copied to ``.mutation/<target>/``, mutmut is
configured there for those modules and tests only, and run: every mutant (a small change to
one function: an operator, a constant, a condition dropped...) runs the tests that call the
function it changed, until one fails. The copy keeps the work tree untouched, so the tests can
go on running there meanwhile. Runs on SQLite (TEST_DATABASE_URL is ignored): each mutant's
tests get a database of their own, which PostgreSQL's one test database could not give.

Printed per module: killed, survived, timeout, no tests (no selected test calls the function)
and other outcomes; the surviving mutants' diffs go to ``.mutation/<target>/survivors.txt``.
mutmut mutates the bodies of undecorated functions and methods only: module constants and
decorated functions (``@validates_schema``, ``@pre_load``, SQLAlchemy events, routes) are out
of its reach, and so, in effect, is code run at import (the schema builders ``length()``,
``in_range()``, ``ident()``: mutmut's processes import the app before a mutant is chosen, and
its map of which test calls what puts those calls on whichever test imported the app first).
The README's "Mutation testing" says which tests cover those rules. Caches that mutmut's
process would fill before forking (checked expression trees, diagram form schemas and every
other functools cache in ``app``) are emptied before each test in the copy (FRESH_CACHES), so
a mutant of what fills them is run. Lines with a translated message are left alone
(UNMUTATED_LINES): a mutant there changes wording, not a rule.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".mutation"
MUTMUT = Path(sys.executable).with_name("mutmut")

HANDLERS = ["base", "assign", "authorize", "evaluate", "resubmit", "work", "confirm"]
TARGETS = {
    "policy": (
        ["app/policy.py"],
        ["tests/services/test_policy_rules.py", "tests/services/test_inbox_rule.py",
         "tests/services/test_claim_rules.py", "tests/views/test_claims.py",
         "tests/views/test_isolation.py", "tests/api/test_api_isolation.py",
         "tests/services/test_inbox_queries.py", "tests/views/test_account.py",
         "tests/views/test_lifecycle.py", "tests/views/test_process_pages.py",
         "tests/api/test_api_processes.py"],
    ),
    "login": (
        ["app/services/login.py"],
        ["tests/services/test_login_limits.py", "tests/services/test_login_rules.py",
         "tests/views/test_auth.py"],
    ),
    "tokens": (
        ["app/api/tokens_service.py"],
        ["tests/services/test_token_rules.py", "tests/views/test_account.py",
         "tests/api/test_api_lifecycle.py", "tests/api/test_api_isolation.py"],
    ),
    "handlers": (
        [f"app/handlers/{name}.py" for name in HANDLERS],
        ["tests/handlers/test_validation.py", "tests/handlers/test_assign_dates.py",
         "tests/handlers/test_handler_rules.py", "tests/views/test_lifecycle.py",
         "tests/api/test_api_lifecycle.py"],
    ),
    "forms": (
        ["app/handlers/form.py"],
        ["tests/handlers/test_form_handler.py", "tests/handlers/test_form_rules.py",
         "tests/views/test_diagram_forms.py",
         "tests/api/test_api_diagram_forms.py"],
    ),
    "workflow": (
        ["app/services/workflow.py"],
        ["tests/services/test_instance_version.py", "tests/services/test_claim_rules.py",
         "tests/views/test_claims.py", "tests/views/test_concurrency.py",
         "tests/services/test_timers.py", "tests/services/test_timer_claims.py",
         "tests/services/test_processes.py", "tests/services/test_incidents.py",
         "tests/services/test_workflow_records.py", "tests/views/test_diagram_forms.py",
         "tests/handlers/test_validation.py",
         "tests/views/test_lifecycle.py", "tests/api/test_api_lifecycle.py"],
    ),
    "expressions": (
        ["app/engine/expressions.py"],
        ["tests/engine/test_diagram_security.py", "tests/engine/test_expression_bounds.py",
         "tests/engine/test_timer_bounds.py", "tests/engine/test_path_data.py",
         "tests/engine/test_walks.py"],
    ),
    "xml": (
        ["app/engine/xml.py"],
        ["tests/engine/test_xml_loader.py", "tests/engine/test_diagram_security.py",
         "tests/engine/test_diagram_identifiers.py"],
    ),
    "sessions": (
        ["app/services/sessions.py"],
        ["tests/services/test_session_rules.py", "tests/views/test_sessions.py",
         "tests/views/test_auth.py"],
    ),
    "incidents": (
        ["app/services/incidents.py"],
        ["tests/services/test_incidents.py", "tests/api/test_api_incidents.py",
         "tests/views/test_incident_pages.py"],
    ),
}
# Lines left alone: a message in the user's language (its wording is no rule), and the
# one-time set-up of marshmallow's messages at import (out of mutmut's reach, see above).
UNMUTATED_LINES = [r"\b_l\(", r"\bgettext\(", r"default_error_messages"]
# Appended to the copy's tests/conftest.py. mutmut runs the tests once in its own process and
# forks every mutant's run from it, so a cache filled then is inherited: a text whose checked
# tree is kept would never be parsed again under a mutant of the parser, a form's schema (or its
# JSON schema in the API) never rebuilt under a mutant of its fields. Each test starts with
# empty caches instead: the checked trees and every functools cache in the app's modules.
FRESH_CACHES = """

@pytest.fixture(autouse=True)
def _mutation_fresh_caches():
    import functools
    import sys

    from app.engine import expressions

    expressions._checked_trees = expressions._CheckedTrees(expressions.MAX_CACHED_NODES)
    cached = type(functools.lru_cache()(len))  # type(), not isinstance(): no proxy is asked
    for name, module in list(sys.modules.items()):
        if name == "app" or name.startswith("app."):
            for value in list(vars(module).values()):
                if type(value) is cached:
                    value.cache_clear()
"""
# What the copy leaves out: version control, environments, caches, earlier runs.
SKIP = shutil.ignore_patterns(".git", ".venv", "node_modules", "instance", ".mutation",
                              "mutants", "__pycache__", ".pytest_cache", ".ruff_cache",
                              "*.egg-info", "test-results")
RESULT_LINE = re.compile(r"^\s*(\S+)__mutmut_\d+: (.+)$")


def mutmut_config(modules: list[str], tests: list[str]) -> str:
    def toml_list(items):
        return "[" + ", ".join(json.dumps(i) for i in items) + "]"

    return (
        "\n[tool.mutmut]\n"
        'source_paths = ["app"]\n'
        f"only_mutate = {toml_list(modules)}\n"
        'also_copy = ["processes", "migrations"]\n'
        f"pytest_add_cli_args_test_selection = {toml_list(tests)}\n"
        'pytest_add_cli_args = ["-p", "no:cacheprovider", "-q"]\n'
        f"do_not_mutate_patterns = {toml_list(UNMUTATED_LINES)}\n"
    )


def prepare(name: str, modules: list[str], tests: list[str]) -> Path:
    workdir = WORK / name
    shutil.rmtree(workdir, ignore_errors=True)
    shutil.copytree(ROOT, workdir, ignore=SKIP, symlinks=True)
    present = [t for t in tests if (workdir / t).exists()]
    missing = sorted(set(tests) - set(present))
    if missing:
        print(f"  (not found, skipped: {', '.join(missing)})")
    pyproject = workdir / "pyproject.toml"
    text = pyproject.read_text()
    text = text.split("\n[tool.mutmut]\n")[0]  # a section left by hand would be replaced
    pyproject.write_text(text.rstrip("\n") + "\n" + mutmut_config(modules, present))
    with (workdir / "tests" / "conftest.py").open("a") as conftest:
        conftest.write(FRESH_CACHES)
    return workdir


def module_of(mangled: str, modules: list[str]) -> str:
    """'app.services.login.x_check' -> 'app/services/login.py' (the longest matching module)."""
    dotted = {m[:-3].replace("/", "."): m for m in modules}
    matches = [d for d in dotted if mangled.startswith(d + ".")]
    return dotted[max(matches, key=len)] if matches else "?"


def tally(workdir: Path, modules: list[str]) -> tuple[dict[str, Counter], list[str]]:
    listing = subprocess.run([str(MUTMUT), "results", "--all", "true"], cwd=workdir,
                             capture_output=True, text=True, check=True).stdout
    counts = {m: Counter() for m in modules}
    survivors = []
    for line in listing.splitlines():
        match = RESULT_LINE.match(line)
        if not match:
            continue
        name, status = line.strip().rsplit(": ", 1)
        counts.setdefault(module_of(match.group(1), modules), Counter())[status] += 1
        if status == "survived":
            survivors.append(name)
    return counts, survivors


def write_survivors(workdir: Path, survivors: list[str]) -> Path:
    out = workdir / "survivors.txt"
    with out.open("w") as f:
        for name in survivors:
            shown = subprocess.run([str(MUTMUT), "show", name], cwd=workdir,
                                   capture_output=True, text=True).stdout
            diff = [ln for ln in shown.splitlines()
                    if ln.startswith(("-", "+")) and not ln.startswith(("---", "+++"))]
            f.write(f"{name}\n" + "\n".join(f"    {ln}" for ln in diff) + "\n\n")
    return out


def run(name: str, jobs: int) -> dict[str, Counter]:
    modules, tests = TARGETS[name]
    print(f"== {name}: {', '.join(modules)}", flush=True)
    workdir = prepare(name, modules, tests)
    env = {k: v for k, v in os.environ.items() if k != "TEST_DATABASE_URL"}
    started = time.monotonic()
    with (workdir / "mutmut.log").open("w") as log:
        done = subprocess.run([str(MUTMUT), "run", "--max-children", str(jobs)], cwd=workdir,
                              env=env, stdout=log, stderr=subprocess.STDOUT)
    minutes = (time.monotonic() - started) / 60
    if done.returncode != 0:
        print(f"  mutmut failed (exit {done.returncode}); see {workdir / 'mutmut.log'}")
        return {}
    counts, survivors = tally(workdir, modules)
    for module, count in counts.items():
        other = sum(v for k, v in count.items()
                    if k not in ("killed", "survived", "timeout", "no tests"))
        print(f"  {module:32} {sum(count.values()):4} mutants: {count['killed']:4} killed "
              f"{count['survived']:3} survived {count['timeout']:3} timeout "
              f"{count['no tests']:3} no tests {other:3} other")
    print(f"  {minutes:.1f} min with {jobs} processes", flush=True)
    if survivors:
        print(f"  survivors' diffs: {write_survivors(workdir, survivors).relative_to(ROOT)}")
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("targets", nargs="*", metavar="TARGET",
                        help=f"any of: {', '.join(TARGETS)} (default: all)")
    parser.add_argument("--jobs", type=int, default=int(os.environ.get("MUTATION_JOBS", "2")),
                        help="mutants run at once (MUTATION_JOBS, default 2)")
    parser.add_argument("--list", action="store_true", help="list the targets and stop")
    args = parser.parse_args()
    if args.list:
        for name, (modules, tests) in TARGETS.items():
            print(f"{name}: {' '.join(modules)}\n    tests: {' '.join(tests)}")
        return 0
    unknown = sorted(set(args.targets) - set(TARGETS))
    if unknown:
        parser.error(f"unknown target(s) {', '.join(unknown)}; any of: {', '.join(TARGETS)}")
    if not MUTMUT.exists():
        print(f"{MUTMUT} is missing: make venv installs it (the [test] extras)", file=sys.stderr)
        return 2
    failed = [name for name in (args.targets or TARGETS) if not run(name, args.jobs)]
    if failed:
        print(f"mutation: could not run {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
