"""In a real browser, on a phone's width: a requester types a request and the company's learned
suggestion appears ("Sugerencia: Transporte (97 %)"); one click applies it to the form."""

import os

import pytest

from app.suggestions import training
from tests.suggestions.conftest import add_history
from tests.suggestions.history import generate

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - skipped locally, an error in CI
    if os.environ.get("CI"):
        raise
    pytest.skip("the playwright Python package is not installed", allow_module_level=True)


def test_the_suggestion_appears_as_one_types_and_applies_in_one_click(person, tmp_path):
    categories = add_history("acme", generate(400, seed=7))
    training._last_sweep["at"] = float("-inf")
    assert training.run(sweep=True) == 1

    ana = person("ana@acme.test")
    ana.set_viewport_size({"width": 390, "height": 844})
    ana.goto("/requests/new")
    box = ana.locator("#suggestion")
    expect(box).to_be_hidden()
    form = ana.locator("main form[method=post]")
    form.locator("input[name=title]").fill("El camión de entrega no arranca")
    form.locator("textarea[name=description]").fill("El conductor dice que la llanta está "
                                                    "pinchada y no hay gasolina")
    expect(box).to_be_visible()
    expect(box.locator(".suggestion-text")).to_contain_text("Transporte (")
    ana.screenshot(path=str(tmp_path / "suggestion.png"), full_page=True)
    box.locator("button").click()
    expect(form.locator("select[name=category_id]")).to_have_value(
        str(categories["Transporte"]))
    expect(box).to_be_hidden()
    width = ana.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways at 390 px ({width} px)"
    assert ana.http_errors == []
