"""What validating a diagram costs, for the worst diagrams we know how to write.

Each shape in tests/engine/adversarial.py is grown to MAX_DIAGRAM_BYTES and checked the way
validate and deploy check it (``definitions.check_diagram``: a child process with the CPU and
memory budget of the settings). Prints one row per shape: its size, the answer, the child's CPU
seconds and peak memory. Run: ``.venv/bin/python bench/diagram_budget.py`` (``make bench``
runs it too).
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app  # noqa: E402
from app.engine import sandbox  # noqa: E402
from app.services import definitions  # noqa: E402
from tests.engine.adversarial import SHAPES, largest  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", action="append", help="only these shapes")
    args = parser.parse_args()
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with app.app_context():
        config = app.config
        budget = sandbox.Budget(config["DIAGRAM_CPU_SECONDS"], config["DIAGRAM_MEMORY_MB"])
        checks = definitions._checks()
        sandbox.run(definitions.default_diagram(), budget, **checks)  # start the checker
        print(f"budget: {budget.cpu_seconds:g} s CPU, {budget.memory_mb} MB over the child's "
              f"start; diagrams of at most {config['MAX_DIAGRAM_BYTES']} bytes")
        print(f"| {'shape':<20} | {'bytes':>9} | {'answer':<40} | {'CPU s':>6} | "
              f"{'peak MB':>7} | {'wall s':>6} |")
        print(f"|{'-' * 22}|{'-' * 11}|{'-' * 42}|{'-' * 8}|{'-' * 9}|{'-' * 8}|")
        rows = [("default diagram", definitions.default_diagram())] + [
            (name, largest(name, config["MAX_DIAGRAM_BYTES"])) for name in SHAPES
            if not args.shape or name in args.shape]
        for name, xml in rows:
            started = time.monotonic()
            kind, value, usage = sandbox.run(xml, budget, **checks)
            wall = time.monotonic() - started
            answer = kind if kind != "problems" else f"refused: {value[0][1]}"
            print(f"| {name:<20} | {len(xml.encode()):>9} | {answer[:40]:<40} | "
                  f"{usage.cpu_seconds if usage else float('nan'):>6.2f} | "
                  f"{usage.max_rss_mb if usage else float('nan'):>7.0f} | {wall:>6.2f} |")


if __name__ == "__main__":
    main()
