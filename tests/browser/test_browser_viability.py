"""The evaluation page in a browser: the viability panel follows the estimate as the director
types it, the staff answer follows the computed fact, and an approval over budget asks for a
justification before it goes through. At a laptop's width and a phone's."""

import os
import re

import pytest

from tests.factories import request_at
from tests.viability.budget_helpers import budget_with_left

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - skipped locally, an error in CI
    if os.environ.get("CI"):
        raise
    pytest.skip("the playwright Python package is not installed", allow_module_level=True)


@pytest.mark.parametrize("width,height", [(1280, 900), (390, 844)])
def test_the_panel_follows_the_estimate_and_over_budget_needs_a_justification(
        person, tmp_path, width, height):
    budget_with_left("500000")
    req, task = request_at("Task_Evaluate")
    director = person("director@acme.test")
    director.set_viewport_size({"width": width, "height": height})
    director.goto(f"/tasks/{task.id}")
    panel = director.locator("#viability")
    expect(panel).to_have_attribute("data-over-budget", "false")
    expect(director.locator("input[name=staff_available][value=true]")).to_be_checked()

    form = director.locator("form#form-evaluate")
    form.locator("input[name=decision][value=approve]").check()
    form.locator("input[name=estimated_hours]").fill("6")
    form.locator("input[name=estimated_cost]").fill("650.000")
    # The panel is fetched again as the figures are typed: over budget now, in red
    expect(panel).to_have_attribute("data-over-budget", "true")
    expect(director.locator("#viability dd.negative").first).to_be_visible()
    expect(director.locator("#viability")).to_contain_text(re.compile(r"Tomás|Teresa"))
    director.screenshot(path=str(tmp_path / f"evaluate-{width}.png"), full_page=True)
    # Nothing wider than the screen
    assert director.evaluate("document.documentElement.scrollWidth") <= width + 1

    with director.expect_navigation():
        form.locator("button[type=submit]").click()
    assert director.url.endswith(f"/tasks/{task.id}")
    expect(director.locator("form#form-evaluate .field.has-error")).to_contain_text(
        re.compile(r"justific", re.I))
    form = director.locator("form#form-evaluate")
    form.locator("textarea[name=justification]").fill("Riesgo eléctrico: no puede esperar")
    with director.expect_navigation():
        form.locator("button[type=submit]").click()
    assert re.search(rf"/requests/{req.id}$", director.url.split("?")[0])
    expect(director.locator("body")).to_contain_text("Riesgo eléctrico: no puede esperar")
    # The refusal without a justification was the one error answer (a 422); no script error
    assert [e for e in director.http_errors if not e.startswith("422 POST ")] == []
    assert len(director.http_errors) == 1
