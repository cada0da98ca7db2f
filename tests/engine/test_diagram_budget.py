"""Validating a diagram costs a bounded amount of CPU and memory, whatever the diagram: the
checks run in a child process with hard limits (engine.sandbox), and the worst diagrams we know
how to write (tests/engine/adversarial.py) are answered within them."""

import os
import signal

import pytest

from app.engine import sandbox, specs
from app.engine.xml import DiagramError
from app.services import definitions
from app.services.definitions import default_diagram
from tests.engine.adversarial import SHAPES, largest


@pytest.fixture(autouse=True)
def _context(app):
    with app.test_request_context():
        yield


@pytest.mark.parametrize("shape", SHAPES)
def test_the_worst_diagrams_get_an_answer_within_the_budget(app, shape):
    """An answer (accepted, or refused with problems), never "took too long" nor "too much
    memory" under the default budget: the checks themselves are bounded."""
    xml = largest(shape, app.config["MAX_DIAGRAM_BYTES"])
    budget = sandbox.Budget(app.config["DIAGRAM_CPU_SECONDS"], app.config["DIAGRAM_MEMORY_MB"])
    kind, value, usage = sandbox.run(xml, budget, **definitions._checks())
    assert kind in ("ok", "problems"), (kind, value)
    assert usage.max_rss_mb < 400


def test_validation_answers_like_the_in_process_checks():
    assert definitions.check_diagram(default_diagram()) == "service_request"
    broken = default_diagram().replace("decision == 'authorize'", "decison == 'authorize'", 1)
    with pytest.raises(DiagramError) as in_child:
        definitions.check_diagram(broken)
    with pytest.raises(DiagramError) as in_process:
        definitions.compile_xml(broken)
    assert in_child.value.problems == in_process.value.problems


def _spin(*args, **kwargs):
    while True:
        pass


def _hoard(*args, **kwargs):
    hoard = []
    while True:
        hoard.append(bytearray(64 * 1024 * 1024))


def test_a_check_that_runs_away_is_stopped_at_its_cpu_budget(monkeypatch):
    """Whatever a future parser bug costs, the child is killed by the kernel at the budget
    (the check runs in a fork of this process, which sees the patched parser)."""
    monkeypatch.setattr(specs, "compile_process", _spin)
    kind, _value, usage = sandbox._check_in_child(sandbox.Budget(cpu_seconds=1), b"<x/>", {})
    assert kind == "time"
    assert usage.cpu_seconds < 3  # the kernel's limit (1 s), or the wall deadline under load


def test_a_check_that_eats_memory_is_stopped_at_its_memory_budget(monkeypatch):
    monkeypatch.setattr(specs, "compile_process", _hoard)
    kind, _value, usage = sandbox._check_in_child(
        sandbox.Budget(cpu_seconds=10, memory_mb=128), b"<x/>", {})
    assert kind == "memory"
    assert usage.max_rss_mb < 128 + 400  # the child's start plus its allowance, not gigabytes


def test_the_refusal_says_what_was_exceeded(monkeypatch):
    answers = iter([("time", None, None), ("memory", None, None), ("error", "boom", None)])
    monkeypatch.setattr(sandbox._checker, "ask", lambda *args: next(answers))
    budget = sandbox.Budget(cpu_seconds=2, memory_mb=64)
    for expected in ("takes more than 2 s", "more than 64 MB", "could not be checked (boom)"):
        with pytest.raises(DiagramError) as info:
            sandbox.check("<x/>", budget)
        assert expected in info.value.problems[0][1]


def test_a_dead_checker_is_replaced():
    assert definitions.check_diagram(default_diagram()) == "service_request"
    os.kill(sandbox._checker._process.pid, signal.SIGKILL)
    sandbox._checker._process.wait()
    assert definitions.check_diagram(default_diagram()) == "service_request"
