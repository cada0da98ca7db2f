"""Browser fixtures: the real app behind a real WSGI server, and a headless Chromium.

``live_server`` serves the session-scoped ``app`` (already migrated, seeded by ``demo``) from a
werkzeug server on a free port of 127.0.0.1, in a background thread. Each request runs in the
server's own threads, so Flask pushes a fresh app context (and database session) per request;
the app context the ``app`` fixture keeps open belongs to the test thread only.

``chromium`` is Debian's Chromium driven by Playwright (browser downloads are not possible here).
Without it the browser tests are skipped, unless the ``CI`` variable is set: then they fail.
"""

import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
DEFAULT_TIMEOUT_MS = 10_000


def _unavailable(reason: str):
    """Skip on a developer machine; fail in CI, where the browser tests must run."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so the browser tests may not be skipped)",
                    pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def live_server(app, demo):
    """Base URL of the app served by a threaded werkzeug server; shut down after the test."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def chromium():
    """One headless Chromium for the session."""
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} not found: install Debian's chromium package to run the "
                     "browser tests")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright Python package is not installed")

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                    args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def person(live_server, chromium):
    """``person(email)`` -> a logged-in page in its own browser context (own cookies).

    The context asks for Spanish, the default language of the UI. Every HTTP error the app
    answers (status >= 400, including a missing stylesheet) is recorded in ``page.http_errors``.
    """
    contexts = []

    def login(email: str, password: str = "demo1234"):
        context = chromium.new_context(base_url=live_server, locale="es-ES",
                                       viewport={"width": 1280, "height": 900})
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.http_errors = []
        page.on("response", lambda r: r.status >= 400 and page.http_errors.append(
            f"{r.status} {r.request.method} {r.url}"))
        page.on("pageerror", lambda exc: page.http_errors.append(f"JS error: {exc}"))

        page.goto("/login")
        page.fill("input[name=email]", email)
        page.fill("input[name=password]", password)
        with page.expect_navigation():
            page.click("form button[type=submit]")
        if page.locator("nav.mainnav").count() == 0:
            raise AssertionError(f"{email} could not log in; still at {page.url}: "
                                 f"{page.locator('main').inner_text()[:500]}")
        return page

    yield login
    for context in contexts:
        context.close()
