"""A disabled button (e.g. "Train now" before there is enough history) looks disabled: the
stylesheet greys it and shows a not-allowed cursor, also on hover."""

import re
from pathlib import Path

CSS = Path(__file__).resolve().parents[2] / "app" / "static" / "app.css"


def test_disabled_buttons_are_styled_as_disabled():
    css = CSS.read_text()
    rule = re.search(r"\.button:disabled[^{]*\{([^}]*)\}", css)
    assert rule is not None
    assert "cursor:not-allowed" in rule.group(1) and "background:" in rule.group(1)
    assert re.search(r"\.button:disabled:hover\s*\{", css)
