"""The modeler keeps a process's kind on save: the diagram read and written back by the
modeler's own moddle (bpmn-js's bpmn-moddle with our descriptors, run in Node) still names its
kind. Skipped where Node or the front-end's packages are not installed."""

import shutil
import subprocess
from pathlib import Path

import pytest

from app.kinds.diagram import kind_of_xml, with_kind
from app.services import definitions

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("moddle_roundtrip.mjs")


@pytest.mark.skipif(shutil.which("node") is None
                    or not (ROOT / "node_modules" / "bpmn-moddle").is_dir(),
                    reason="needs Node and the front-end's packages (npm ci)")
def test_the_modelers_moddle_writes_the_kind_back(tmp_path):
    source = tmp_path / "incident.bpmn"
    source.write_text(with_kind(definitions.default_diagram(), "incident"), encoding="utf-8")
    done = subprocess.run(["node", str(SCRIPT), str(ROOT), str(source)], capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert kind_of_xml(done.stdout) == "incident"
