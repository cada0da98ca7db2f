"""Issue 15 attacks that need a real browser (Playwright's sync API cannot run beside the
other tests under xdist, so they live here): names that are markup drawn by the indicators'
charts (tooltips on hover) and the heatmap's diagram stay text."""

import re

from app.extensions import db
from app.models import Category, ServiceRequest, User
from app.services import workflow
from tests import factories
from tests.security.test_issue15_attacks import (
    ADMIN,
    IMG,
    REQUESTER,
    SCRIPT,
    deploy_with_names,
)

WATCH = """
window.__problems = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__problems.push(`CSP ${e.violatedDirective}`);
});
"""
PLANTED = 'img[src="x"], script:not([src]):not([type="application/json"])'


def test_markup_in_names_stays_text_in_the_charts_tooltips_and_the_diagram(person):
    """The workload and cost charts (ECharts, tooltips shown on hover) and the heatmap's
    diagram (bpmn-js) draw names that are markup: no element is planted in the page, no
    inline script is even attempted (a CSP violation would say so), no dialog opens."""
    req, task = factories.request_at("Task_Confirm")
    workflow.complete(factories.user(REQUESTER), task, "confirm",
                      {"rating": "3", "comment": IMG})
    db.session.rollback()
    req = db.session.get(ServiceRequest, req.id)
    db.session.get(User, req.ticket.worker_id).name = IMG
    db.session.get(Category, req.category_id).name = SCRIPT
    db.session.commit()
    deploy_with_names(req.tenant_id, factories.user(ADMIN))
    factories.request_at("Task_Evaluate")
    admin = person(ADMIN)
    admin.add_init_script(WATCH)
    dialogs = []
    admin.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    admin.goto("/indicators")
    for name in ("workload", "cost"):
        chart = admin.locator(f'[data-chart="{name}"]')
        chart.locator("svg").first.wait_for()
        box = chart.bounding_box()
        for fraction in (0.3, 0.5, 0.7):  # over the bars: the tooltip names them
            admin.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * fraction)
            admin.wait_for_timeout(150)
            if "onerror" in chart.inner_text():
                break
        assert re.search(r"onerror|<script>alert\(", chart.inner_text()), name  # as text
        assert admin.locator(PLANTED).count() == 0, name
    admin.goto("/indicators/heatmap")
    admin.locator("#heatmap-diagram-0[data-state=ready]").wait_for()
    admin.locator("#heatmap-diagram-0 [data-element-id=Task_Authorize]").first.hover()
    assert admin.locator(PLANTED).count() == 0
    assert admin.evaluate("window.__problems") == [] and dialogs == []
    assert admin.http_errors == []
