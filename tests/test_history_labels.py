"""Every entry the history can hold is titled in words: each action recorded in app/ and each
kind of task (a completion is recorded under its kind) has a label, never its key."""

import re
from pathlib import Path

from app.handlers.registry import TASK_HANDLERS
from app.labels import ACTION

RECORDED = re.compile(r'record\(\s*\w+,\s*"([a-z_]+)"')


def test_every_recorded_action_and_task_kind_has_a_label():
    recorded = {action for path in Path("app").rglob("*.py")
                for action in RECORDED.findall(path.read_text(encoding="utf-8"))}
    assert len(recorded) > 20
    missing = sorted((recorded | set(TASK_HANDLERS)) - set(ACTION))
    assert missing == [], missing
