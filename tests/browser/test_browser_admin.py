"""A company runs itself, in a real browser: its admin invites a person with a role in a unit,
the person sets a password from the e-mail (through a real SMTP server on loopback) and files a
request, and the request waits on that unit's head. And the administration and account pages
fit a phone."""

import re

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import HumanTask, ServiceRequest, User
from tests.accounts.conftest import GOOD, deliver, last_mail_to, link_in
from tests.browser.conftest import DEFAULT_TIMEOUT_MS
from tests.notifications import smtp_server as smtp

smtp_server = smtp.smtp_server
NEWCOMER = "rosa.nueva@acme.test"
TITLE = "Revisar la impresora del segundo piso"


def anonymous(chromium, live_server, width=1280):
    context = chromium.new_context(base_url=live_server, locale="es-ES",
                                   viewport={"width": width, "height": 900})
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    page = context.new_page()
    page.http_errors = []
    page.on("response", lambda r: r.status >= 400 and page.http_errors.append(
        f"{r.status} {r.request.method} {r.url}"))
    return context, page


def choose(select, label: str) -> None:
    """Pick the option of ``select`` whose text contains ``label``."""
    option = select.locator("option", has_text=label).first
    select.select_option(option.get_attribute("value"))


def test_an_invited_person_files_a_request_that_reaches_their_units_head(
        person, chromium, live_server, smtp_server):
    admin = person("admin@acme.test")
    admin.goto("/admin/people/invite")
    form = admin.locator("main form[method=post]")
    form.locator("input[name=name]").fill("Rosa Nueva")
    form.locator("input[name=email]").fill(NEWCOMER)
    form.locator("select[name='role-0']").select_option("requester")
    choose(form.locator("select[name='unit-0']"), "Finanzas")
    with admin.expect_navigation():
        form.locator("button[type=submit]").click()
    assert re.search(r"/admin/people/\d+$", admin.url), admin.url
    expect(admin.locator(".flash.success")).to_contain_text(NEWCOMER)
    assert not admin.http_errors

    assert deliver() >= 1
    path = link_in(last_mail_to(smtp_server, NEWCOMER))
    context, newcomer = anonymous(chromium, live_server)
    try:
        newcomer.goto(path)
        newcomer.fill("input[name=new_password]", GOOD)
        newcomer.fill("input[name=new_password_again]", GOOD)
        with newcomer.expect_navigation():
            newcomer.locator("main form button[type=submit]").click()
        expect(newcomer.locator("nav.mainnav")).to_be_visible()  # logged in

        newcomer.goto("/requests/new")
        form = newcomer.locator("main form[method=post]")
        form.locator("input[name=title]").fill(TITLE)
        form.locator("textarea[name=description]").fill("No imprime desde el lunes.")
        choose(form.locator("select[name=category_id]"), "Electricidad")
        with newcomer.expect_navigation():
            form.locator("button[type=submit]").click()
        assert re.search(r"/requests/\d+$", newcomer.url.split("?")[0]), newcomer.url
        assert not newcomer.http_errors, newcomer.http_errors
    finally:
        context.close()

    db.session.rollback()
    req = db.session.query(ServiceRequest).filter_by(title=TITLE).one()
    rosa = db.session.query(User).filter_by(email=NEWCOMER).one()
    assert req.requester_id == rosa.id and req.unit.name == "Finanzas"
    task = db.session.query(HumanTask).filter_by(request_id=req.id, status="open").one()
    assert task.role == "unit_head" and task.unit_id == req.unit_id
    db.session.rollback()

    head = person("jefe.finanzas@acme.test")
    head.goto("/inbox")
    expect(head.locator("main")).to_contain_text(req.number)
    other_head = person("jefe@globex.test")
    other_head.goto("/inbox")
    expect(other_head.locator("main")).not_to_contain_text(req.number)


@pytest.mark.parametrize("url", [
    "/admin/people", "/admin/people/invite", "/admin/units", "/admin/audit",
    "/admin/categories", "/admin/settings", "/admin/import", "/admin/plan",
    "/account/password", "/account/sessions"])
def test_the_administration_and_account_pages_fit_a_phone(person, url, tmp_path):
    page = person("admin@acme.test")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(url)
    wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
        .map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))
        .slice(0, 8)""")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), \
        f"horizontal scrollbar at 390 px on {url}: {wide}"
    page.screenshot(path=str(tmp_path / (url.strip("/").replace("/", "_") + ".png")),
                    full_page=True)
    assert not page.http_errors, (url, page.http_errors)


@pytest.mark.parametrize("url", ["/password/forgot", "/login"])
def test_the_public_account_pages_fit_a_phone(chromium, live_server, url):
    context, page = anonymous(chromium, live_server, width=390)
    try:
        page.goto(url)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), url
        assert not page.http_errors, page.http_errors
    finally:
        context.close()


def test_the_directors_pages_and_the_assignment_fit_a_phone(person, tmp_path):
    """Tables scroll inside themselves on a phone; the page never does."""
    from tests.factories import request_at

    _req, task = request_at("Task_Assign")
    task_id = task.id
    db.session.commit()
    page = person("director@acme.test")
    page.set_viewport_size({"width": 390, "height": 844})
    for url in (f"/tasks/{task_id}", "/director/tickets", "/director/requests",
                "/director/workload", "/inbox"):
        page.goto(url)
        wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
            .map(e => e.tagName + '.' + e.className).slice(0, 6)""")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), \
            f"horizontal scrollbar at 390 px on {url}: {wide}"
        page.screenshot(path=str(tmp_path / (url.strip("/").replace("/", "_") + ".png")),
                        full_page=True)
        assert not page.http_errors, (url, page.http_errors)
