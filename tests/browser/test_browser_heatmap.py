"""The process heatmap in a real (headless) browser: bpmn-js draws the default diagram with its
elements coloured, notes with their figures and the paths taken, under the page's Content
Security Policy, with no console error; the colour follows the chosen measure; two versions
side by side; nothing overflows a phone's width."""

import os
import re

import pytest

from app.extensions import db
from tests.factories import file, request_at

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - skipped locally, an error in CI
    if os.environ.get("CI"):
        raise
    pytest.skip("the playwright Python package is not installed", allow_module_level=True)

WATCH_CSP = """
window.__problems = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__problems.push(`CSP ${e.violatedDirective} ${e.blockedURI}`);
});
"""
HEAT = re.compile(r"\bheat-[1-5]\b")


def watch(page):
    page.console_errors = []
    page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))
    page.add_init_script(WATCH_CSP)
    return page


def no_problems(page):
    problems = page.evaluate("window.__problems") + page.console_errors + page.http_errors
    assert problems == []


def element(page, element_id: str, diagram: int = 0):
    return page.locator(f"#heatmap-diagram-{diagram} svg [data-element-id='{element_id}']").first


def some_requests():
    """One request past the authorization (waiting at the evaluation), one waiting at it."""
    request_at("Task_Evaluate")
    file(title="Otra")
    db.session.commit()


def cells(page, selector: str) -> list[str]:
    return [text.strip() for text in page.locator(selector).all_inner_texts()]


def test_the_heatmap_colours_the_default_diagram(person):
    some_requests()  # besides the demo's own requests
    admin = watch(person("admin@acme.test"))
    admin.goto("/indicators/heatmap")
    diagram = admin.locator("#heatmap-diagram-0")
    expect(diagram).to_have_attribute("data-state", "ready")

    for coloured in ("Task_Authorize", "Task_Evaluate", "Start_Filed",
                     "Gateway_NeedsAuthorization"):
        expect(element(admin, coloured)).to_have_class(HEAT)
    listed = admin.eval_on_selector_all("#heatmap-table-0 tr[data-element]",
                                        "rows => rows.map(r => r.dataset.element)")
    assert "Task_ApproveOverBudget" not in listed  # nobody went over budget
    expect(element(admin, "Task_ApproveOverBudget")).not_to_have_class(HEAT)
    expect(element(admin, "Flow_ToAuthorize")).to_have_class(re.compile(r"\bheat-flow-[1-4]\b"))
    expect(element(admin, "Flow_OverBudget")).not_to_have_class(re.compile(r"\bheat-flow\b"))

    # The note on a step says what the table beside the diagram says
    passes, _, _, _, waiting, _ = cells(
        admin, "#heatmap-table-0 tr[data-element='Task_Authorize'] td")
    assert int(passes) >= 1 and int(waiting) >= 1
    note = admin.locator("#heatmap-diagram-0 [data-container-id='Task_Authorize'] .heat-note")
    expect(note.locator(".heat-line-passes")).to_contain_text(passes)
    expect(note.locator(".heat-line-waiting")).to_contain_text(waiting)
    _, _, times = cells(admin, "#heatmap-flows-0 tr[data-flow='Flow_ToAuthorize'] td")
    expect(admin.locator("#heatmap-diagram-0 [data-container-id='Flow_ToAuthorize'] "
                         ".heat-flow-count")).to_have_text(f"{times}×")
    # The scale: five steps of the largest figure and "no pass" (a measure all zero: one step)
    admin.select_option("#heatmap-metric", "passes")
    expect(admin.locator("#heatmap-legend .hm-legend-item")).to_have_count(6)
    expect(element(admin, "Task_ApproveOverBudget")).not_to_have_class(HEAT)

    # Coloured by who waits now: the start is no longer coloured, the evaluation is
    admin.select_option("#heatmap-metric", "waiting")
    expect(element(admin, "Start_Filed")).not_to_have_class(HEAT)
    expect(element(admin, "Task_Evaluate")).to_have_class(HEAT)
    no_problems(admin)


def test_two_versions_side_by_side_and_a_phone_s_width(person):
    some_requests()
    admin = watch(person("admin@acme.test"))
    admin.goto("/indicators/heatmap?version=1&compare=1")
    for index in (0, 1):
        expect(admin.locator(f"#heatmap-diagram-{index}")).to_have_attribute("data-state",
                                                                             "ready")
        expect(element(admin, "Task_Authorize", index)).to_have_class(HEAT)
    no_problems(admin)

    admin.set_viewport_size({"width": 390, "height": 844})
    admin.goto("/indicators/heatmap")
    expect(admin.locator("#heatmap-diagram-0")).to_have_attribute("data-state", "ready")
    expect(element(admin, "Task_Authorize")).to_have_class(HEAT)
    width = admin.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width} px wide at 390 px"
    # The diagram zooms with its buttons
    before = admin.evaluate(
        "document.querySelector('#heatmap-diagram-0 .viewport').getAttribute('transform')")
    admin.locator(".hm-zoom button").first.click()
    after = admin.evaluate(
        "document.querySelector('#heatmap-diagram-0 .viewport').getAttribute('transform')")
    assert before != after
    no_problems(admin)


def test_a_period_with_no_pass_colours_nothing(person):
    some_requests()
    head = watch(person("jefe.produccion@acme.test"))
    head.goto("/indicators/heatmap?from=2020-01-01&to=2020-01-31")
    expect(head.locator("#heatmap-diagram-0")).to_have_attribute("data-state", "ready")
    expect(element(head, "Task_Authorize")).not_to_have_class(HEAT)
    expect(head.locator("#heatmap-diagram-0 .heat-note")).to_have_count(0)
    expect(head.locator("#heatmap-table-0 tbody td.empty")).to_have_count(1)
    no_problems(head)
