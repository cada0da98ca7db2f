"""Checking a tenant's diagram in a child process with hard limits on CPU time and memory.

Validation parses tenant-written XML with SpiffWorkflow and walks it (``engine.validation``,
``engine.pathdata``). Those checks are kept linear and capped, but a web worker must not bet
its CPU or memory on that. ``check`` sends the diagram to a small *checker* process (one per
web process, started on first use with ``python -m app.engine.sandbox``, the engine already
imported), which forks a child per diagram. The child sets its own limits before it reads the
diagram (``RLIMIT_CPU``: the kernel stops it past the budget; ``RLIMIT_AS``: a bounded address
space, so an allocation past it fails instead of growing), checks it and writes the outcome
back; the checker kills a child that outlives a wall-clock deadline. The web worker only waits.

The checker is single-threaded, so forking it is safe (forking a threaded web worker is not).
Messages are length-prefixed pickles between this module's two ends only.
"""

import os
import pickle
import resource
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

from app.engine.xml import DiagramError

_HEADER = struct.Struct(">I")


@dataclass(frozen=True)
class Budget:
    cpu_seconds: float = 3.0
    memory_mb: int = 256  # on top of what the child maps when it starts

    @property
    def deadline(self) -> float:
        """Wall-clock seconds a check may take (a loaded machine gives the child less CPU)."""
        return self.cpu_seconds * 4 + 5


# -- the web process's end ---------------------------------------------------------------------

class _Checker:
    """The checker process of this web process, started on first use, restarted if it died."""

    def __init__(self):
        self._lock = threading.Lock()
        self._process: subprocess.Popen | None = None
        self._owner = None  # the pid that started it (a forked web worker starts its own)

    def _started(self) -> subprocess.Popen:
        if (self._process is None or self._process.poll() is not None
                or self._owner != os.getpid()):
            self._process = subprocess.Popen(
                [sys.executable, "-m", "app.engine.sandbox"], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, env={**os.environ, "PYTHONPATH": _root()})
            self._owner = os.getpid()
        return self._process

    def ask(self, message, timeout: float):
        with self._lock:
            process = self._started()
            try:
                _write(process.stdin, message)
                return _read(process.stdout, time.monotonic() + timeout)
            except (OSError, EOFError, TimeoutError):
                process.kill()  # a checker that does not answer is replaced next time
                process.wait()
                self._process = None
                return ("error", "the diagram checker stopped", None)


_checker = _Checker()


def _root() -> str:
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(here))
    return os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)


@dataclass(frozen=True)
class Usage:
    """What one check cost the child: CPU seconds (user + system) and peak memory (MB)."""

    cpu_seconds: float
    max_rss_mb: float


def run(xml: bytes | str, budget: Budget, **args) -> tuple[str, object, Usage | None]:
    """(outcome, value, usage) of checking ``xml`` in a child; outcome is ok (value: the
    process id), problems, memory, time or error."""
    if isinstance(xml, str):
        xml = xml.encode("utf-8")
    return _checker.ask((budget, xml, args), budget.deadline + 10)


def check(xml: bytes | str, budget: Budget, **args) -> str:
    """Validate and parse ``xml`` as ``specs.compile_process(xml, **args)`` would, within
    ``budget``; returns the executable process id or raises DiagramError."""
    kind, value, _usage = run(xml, budget, **args)
    if kind == "ok":
        return value
    if kind == "problems":
        raise DiagramError(value)
    if kind == "memory":
        raise DiagramError([(None, f"checking the diagram needs more than {budget.memory_mb} "
                                   "MB of memory; make it smaller or simpler")])
    if kind == "time":
        raise DiagramError([(None, f"checking the diagram takes more than "
                                   f"{budget.cpu_seconds:g} s; make it smaller or simpler")])
    raise DiagramError([(None, f"the diagram could not be checked ({value})")])


# -- framing -------------------------------------------------------------------------------

def _write(stream, message) -> None:
    data = pickle.dumps(message)
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def _read_exactly(fd: int, size: int, deadline: float | None) -> bytes:
    chunks, left = [], size
    while left:
        remaining = None if deadline is None else deadline - time.monotonic()
        if remaining is not None and (
                remaining <= 0 or not select.select([fd], [], [], remaining)[0]):
            raise TimeoutError
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _read(stream, deadline: float | None):
    fd = stream.fileno() if hasattr(stream, "fileno") else stream
    (size,) = _HEADER.unpack(_read_exactly(fd, _HEADER.size, deadline))
    return pickle.loads(_read_exactly(fd, size, deadline))


# -- the checker's end ---------------------------------------------------------------------

def _vm_size() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _in_child(budget: Budget, xml: bytes, args: dict):
    """Runs in the forked child, limits first: the outcome as (kind, value)."""
    cpu = max(1, int(budget.cpu_seconds + 0.999))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    memory = _vm_size() + budget.memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    from app.engine.specs import compile_process

    try:
        return ("ok", compile_process(xml, **args).process_id)
    except DiagramError as exc:
        return ("problems", exc.problems)
    except MemoryError:
        return ("memory", None)
    except Exception as exc:  # reported to the web process, never raised into a request
        return ("error", f"{type(exc).__name__}: {exc}"[:300])


def _check_in_child(budget: Budget, xml: bytes, args: dict):
    """Fork, check in the child, collect its outcome and what it cost."""
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(reader)
        try:
            outcome = _in_child(budget, xml, args)
            with os.fdopen(writer, "wb") as out:
                _write(out, outcome)
        except MemoryError:
            pass
        finally:
            os._exit(0)
    os.close(writer)
    try:
        outcome = _read(reader, time.monotonic() + budget.deadline)
    except TimeoutError:
        os.kill(pid, signal.SIGKILL)
        outcome = ("time", None)
    except EOFError:
        outcome = None
    finally:
        os.close(reader)
    _, status, usage = os.wait4(pid, 0)
    if outcome is None:  # died without a word: its CPU limit, or memory outside Python
        killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) in (signal.SIGXCPU,
                                                                     signal.SIGKILL)
        outcome = ("time", None) if killed else ("memory", None)
    return (*outcome, Usage(round(usage.ru_utime + usage.ru_stime, 3),
                            round(usage.ru_maxrss / 1024, 1)))


def serve(stdin=None, stdout=None) -> None:
    """The checker's loop: one diagram at a time, until the web process closes the pipe."""
    import app.engine.specs  # noqa: F401  (imported once here, inherited by every child)

    stdin = stdin or sys.stdin.buffer
    stdout = stdout or sys.stdout.buffer
    while True:
        try:
            budget, xml, args = _read(stdin, None)
        except (EOFError, OSError):
            return
        _write(stdout, _check_in_child(budget, xml, args))


if __name__ == "__main__":
    from app.engine import sandbox  # the module proper, so what it pickles names it

    sandbox.serve()
