"""Every page at a phone's size (390 x 844): no page scrolls sideways, for every role.

The pages are not listed by hand: every GET route of the app's url_map that draws a page is
visited by every demo person (requester, unit head, director, worker, tenant admin who is also
the process owner), its path arguments filled from the demo data (and a budget, an SLA calendar
and target, a webhook, a finished request waiting for its rating, so that those pages have
something to show). A page someone may not open answers 403/404 and is measured as well (an
error page must fit too). So a page added later is covered without touching this test.

Also at that size: the top bar's menu opens and fits, and the request page's diagram opens full
screen and closes again. One browser, one context per person, reused for all their pages.
"""

import os
import re
from datetime import date

import pytest

from app.extensions import db
from app.models import (
    Category,
    HumanTask,
    ProcessDefinition,
    ServiceRequest,
    Ticket,
    Unit,
    User,
)
from tests.factories import request_at

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - skipped locally, an error in CI
    if os.environ.get("CI"):
        raise
    pytest.skip("the playwright Python package is not installed", allow_module_level=True)

PHONE = {"width": 390, "height": 844}
PEOPLE = ("ana@acme.test", "jefe.finanzas@acme.test", "director@acme.test",
          "tecnico1@acme.test", "admin@acme.test")
# Routes that answer something other than a page (files, JSON, redirects to a download, health
# checks), or need a one-time link from an e-mail: nothing to lay out.
NOT_PAGES = {
    "static", "pages.favicon", "ops.healthz", "ops.metrics_view", "company.logo",
    "requests.diagram", "modeler.diagram", "processes.export_version",
    "notifications.open_notice", "accounts.welcome", "accounts.reset",
}
NOT_PAGE_RULES = re.compile(r"\.<fmt>|\.json$|\.bpmn$|\.csv$|\.xlsx$|/download|/thumbnail|/raw$")

OVERFLOW = """() => {
  const width = window.innerWidth;
  const wide = [];
  for (const el of document.querySelectorAll('body *')) {
    const box = el.getBoundingClientRect();
    if (box.width && box.right > width + 1 && getComputedStyle(el).position !== 'fixed') {
      const name = `${el.tagName.toLowerCase()}.${el.className || ''}#${el.id || ''}`;
      wide.push(`${name} → ${Math.round(box.right)}px`);
    }
  }
  return {scroll: document.documentElement.scrollWidth, inner: width, wide: wide.slice(0, 5)};
}"""


def page_rules(app) -> list:
    """The GET routes that draw a page: (endpoint, rule, argument names)."""
    rules = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in NOT_PAGES:
            continue
        if rule.rule.startswith("/api/") or NOT_PAGE_RULES.search(rule.rule):
            continue
        rules.append((rule.endpoint, rule.rule, sorted(rule.arguments)))
    return sorted(rules, key=lambda r: r[1])


def first(model, *where):
    row = db.session.query(model).filter(*where).order_by(model.id).first()
    return row.id if row is not None else None


def extra_demo_data() -> None:
    """What some pages need beyond the demo: a budget, a calendar and a target, a webhook, and
    requests at every state worth drawing (waiting for the rating, on hold, returned)."""
    from app.demo import _rates_and_budget, _service_levels
    from app.models import Tenant

    tenant = db.session.query(Tenant).filter_by(slug="acme").one()
    people = {u.email: u for u in db.session.query(User).filter_by(tenant_id=tenant.id)}
    acme = {"tenant": tenant, "people": people}
    _rates_and_budget(acme)
    _service_levels(acme)
    db.session.commit()
    request_at("Task_Confirm")  # finished, waiting for the requester's rating
    request_at("Task_OnHold")
    from app.models import WebhookEndpoint

    db.session.add(WebhookEndpoint(tenant_id=tenant.id, url="https://example.com/hook",
                                   secret="s" * 32, events=["request.filed"]))
    from app.classification.models import ClassificationRule

    db.session.add(ClassificationRule(  # the rules' list and editor with a rule to draw
        tenant_id=tenant.id, position=1, name="Fugas de agua en cualquier piso del edificio",
        words=["fuga", "goteo", "inundación del baño"], unit_id=people["ana@acme.test"]
        .memberships[0].unit_id, field_conditions=[{"name": "piso", "value": "3"}],
        priority="urgent"))
    db.session.commit()
    from app.recurring import schedules  # a recurring request, its page and editor to draw

    schedule = schedules.create(people["admin@acme.test"], schedules.ScheduleInput(
        title="Limpieza profunda de la bodega principal y del depósito de materiales",
        description="Barrer, ordenar estanterías y revisar extintores",
        category_id=db.session.query(Category).filter_by(tenant_id=tenant.id).first().id,
        requester_id=people["ana@acme.test"].id, rule="FREQ=MONTHLY;BYDAY=-4FR;BYHOUR=9",
        starts_on=date.today()))
    # a request it filed: the request page's "Recurrente: <schedule> — <rule in words>"
    db.session.query(ServiceRequest).filter_by(tenant_id=tenant.id).order_by(
        ServiceRequest.id).first().recurring_schedule_id = schedule.id
    db.session.commit()


def sample_values() -> dict[str, list]:
    """Values for each path argument, from the database: several for the pages that change most
    with the state of what they show (requests, tickets, tasks), one for the rest."""
    from app.models import Tenant

    tenant_id = db.session.query(Tenant).filter_by(slug="acme").one().id
    mine = ServiceRequest.tenant_id == tenant_id
    values = {
        "request_id": [r.id for r in db.session.query(ServiceRequest).filter(mine)
                       .order_by(ServiceRequest.id)],
        "ticket_id": [t.id for t in db.session.query(Ticket).filter(Ticket.tenant_id == tenant_id)
                      .order_by(Ticket.id)],
        "task_id": [t.id for t in db.session.query(HumanTask).filter(
            HumanTask.tenant_id == tenant_id, HumanTask.status == "open").order_by(HumanTask.id)],
        "user_id": [first(User, User.tenant_id == tenant_id, User.email == "ana@acme.test")],
        "unit_id": [first(Unit, Unit.tenant_id == tenant_id)],
        "category_id": [first(Category, Category.tenant_id == tenant_id)],
        "process_key": [db.session.query(ProcessDefinition).filter_by(tenant_id=tenant_id)
                        .first().process_key],
        "number": [1],
        "locale": ["es"],
        "template_key": ["incident"],  # the process catalog's preview (app.process_catalog)
    }
    optional = {
        "budget_id": ("app.viability.models", "Budget"),
        "calendar_id": ("app.sla.models", "BusinessCalendar"),
        "target_id": ("app.sla.models", "SlaTarget"),
        "endpoint_id": ("app.models", "WebhookEndpoint"),
        "rule_id": ("app.classification.models", "ClassificationRule"),
        "schedule_id": ("app.recurring.models", "RecurringSchedule"),
    }
    import importlib

    for name, (module, model_name) in optional.items():
        model = getattr(importlib.import_module(module), model_name, None)
        values[name] = [first(model, model.tenant_id == tenant_id)] if model is not None else []
    from app.notifications import catalog

    values["key"] = [next(iter(catalog.EVENTS))]
    return values


def urls_of(rules, values) -> list[str]:
    """Every page to visit: rules without arguments once; with one varying argument once per
    value; other arguments take their first value. Routes whose arguments have no value are
    left out (and named, so a new kind of id is noticed)."""
    urls, unknown = [], []
    for _endpoint, rule, arguments in rules:
        if any(not values.get(a) or values[a][0] is None for a in arguments):
            unknown.append(rule)
            continue
        varying = next((a for a in arguments if a in ("request_id", "ticket_id", "task_id")),
                       None)
        for value in (values[varying] if varying else [None]):
            url = rule
            for a in arguments:
                shown = value if a == varying else values[a][0]
                url = re.sub(rf"<(?:[a-z]+:)?{a}>", str(shown), url)
            urls.append(url)
    assert len(unknown) < 5, f"no sample value for the arguments of {unknown}"
    return urls


def check_fits(page, url, problems) -> int | None:
    """Measure the page at ``url``; its status (None: not a page)."""
    response = page.goto(url)
    if response is None or "text/html" not in (response.headers.get("content-type") or ""):
        return None
    if response.status >= 500:
        problems.append(f"{url}: {response.status}")
        return response.status
    found = page.evaluate(OVERFLOW)
    if found["scroll"] > found["inner"]:
        problems.append(f"{url} ({response.status}): {found['scroll']}px > {found['inner']}px "
                        f"{found['wide']}")
    return response.status


def login(context, email):
    page = context.new_page()
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", "demo1234")
    with page.expect_navigation():
        page.click("form button[type=submit]")
    assert page.locator(".menu-button").count() == 1, f"{email} could not log in"
    return page


def test_no_page_of_any_role_scrolls_sideways_at_390_px(app, live_server, chromium):
    extra_demo_data()
    rules = page_rules(app)
    urls = urls_of(rules, sample_values())
    db.session.rollback()
    problems, seen = [], {}

    anonymous = chromium.new_context(base_url=live_server, locale="es-ES", viewport=PHONE)
    try:
        page = anonymous.new_page()
        for url in ("/login", "/password/forgot"):
            check_fits(page, url, problems)
    finally:
        anonymous.close()

    for email in PEOPLE:
        context = chromium.new_context(base_url=live_server, locale="es-ES", viewport=PHONE,
                                       has_touch=True)
        context.set_default_timeout(15_000)
        try:
            page = login(context, email)
            # the menu folds behind its button; open, it fits the width too
            menu = page.locator("#topbar-menu")
            expect(menu).to_be_hidden()
            page.locator(".menu-button").click()
            expect(menu).to_be_visible()
            found = page.evaluate(OVERFLOW)
            assert found["scroll"] <= found["inner"], (email, "menu", found)
            shown = [url for url in urls if check_fits(page, url, problems) == 200]
            # each person really saw pages of their own (not only "not found")
            assert len(shown) >= 8, (email, shown)
            seen[email] = shown
        finally:
            context.close()
    assert problems == [], "\n".join(problems)
    # the pages of each role were among them
    assert any(u.startswith("/admin/") for u in seen["admin@acme.test"])
    assert any(u.startswith("/processes") for u in seen["admin@acme.test"])
    assert any(u.startswith("/director/") for u in seen["director@acme.test"])
    assert any(u.startswith("/tickets/") for u in seen["tecnico1@acme.test"])
    assert "/unit/requests" in seen["jefe.finanzas@acme.test"]
    assert any(u.startswith("/tasks/") for u in seen["ana@acme.test"])


def test_the_request_diagram_opens_full_screen_on_a_phone(live_server, chromium):
    req, _task = request_at("Task_OnHold")
    context = chromium.new_context(base_url=live_server, locale="es-ES", viewport=PHONE,
                                   has_touch=True)
    try:
        page = login(context, "ana@acme.test")
        page.goto(f"/requests/{req.id}")
        viewer = page.locator("#diagram-viewer")
        expect(viewer).to_have_attribute("data-state", "ready")
        before = viewer.bounding_box()
        assert before["height"] < PHONE["height"] / 2

        page.locator(".diagram-open").click()
        card = page.locator("#diagram")
        expect(card).to_have_class(re.compile(r"\bdiagram-fullscreen\b"))
        box = card.bounding_box()
        assert (box["x"], box["y"]) == (0, 0)
        assert box["width"] == PHONE["width"] and box["height"] == PHONE["height"]
        drawing = viewer.bounding_box()
        assert drawing["height"] > PHONE["height"] * 0.6  # the drawing takes the screen
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

        # zoom in with the buttons: the drawing grows
        scale = page.evaluate("document.querySelector('#diagram-viewer svg .viewport')"
                              ".transform.baseVal.consolidate().matrix.a")
        page.locator(".diagram-zoom-in").click()
        grown = page.evaluate("document.querySelector('#diagram-viewer svg .viewport')"
                              ".transform.baseVal.consolidate().matrix.a")
        assert grown > scale * 1.2

        page.locator(".diagram-close").click()
        expect(card).not_to_have_class(re.compile(r"\bdiagram-fullscreen\b"))
        page.locator(".diagram-open").click()
        page.keyboard.press("Escape")  # Escape closes it too
        expect(card).not_to_have_class(re.compile(r"\bdiagram-fullscreen\b"))
        assert viewer.bounding_box()["height"] < PHONE["height"] / 2
    finally:
        context.close()

