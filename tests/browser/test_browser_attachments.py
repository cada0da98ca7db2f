"""In a real browser: a requester files a request with a photo; the worker the ticket goes to
sees the photo (its thumbnail drawn) on the request page and can download it."""

import os
import re

import pytest
from PIL import Image

from app.extensions import db
from app.models import ServiceRequest
from app.services import workflow
from tests import factories

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - skipped locally, an error in CI
    if os.environ.get("CI"):
        raise
    pytest.skip("the playwright Python package is not installed", allow_module_level=True)


def test_the_worker_sees_the_photo_filed_with_the_request(person, tmp_path):
    photo = tmp_path / "lampara rota.jpg"
    Image.new("RGB", (1200, 900), (30, 90, 200)).save(photo, "JPEG")

    ana = person("ana@acme.test")
    ana.goto("/requests/new")
    form = ana.locator("main form[method=post]")
    form.locator("input[name=title]").fill("Lámpara rota en la sala (con foto)")
    form.locator("textarea[name=description]").fill("Se cayó la lámpara; adjunto la foto.")
    category = form.locator("select[name=category_id] option", has_text="Electricidad")
    form.locator("select[name=category_id]").select_option(category.get_attribute("value"))
    form.locator("input[type=file][name=files]").set_input_files(str(photo))
    with ana.expect_navigation():
        form.locator("button[type=submit]").click()
    match = re.search(r"/requests/(\d+)$", ana.url)
    assert match, ana.locator("main").inner_text()[:500]
    request_id = int(match.group(1))
    expect(ana.locator("#attachments img")).to_have_count(1)

    # Authorized, approved and assigned to Tomás through the services
    db.session.rollback()
    req = db.session.get(ServiceRequest, request_id)
    for spec_id, email, handler, form_data in (
            ("Task_Authorize", "jefe.finanzas@acme.test", "authorize",
             {"decision": "authorize"}),
            ("Task_Evaluate", "director@acme.test", "evaluate",
             {"decision": "approve", "estimated_cost": "100", "estimated_hours": "2",
              "justification": "Prueba de navegador"}),
            ("Task_Assign", "director@acme.test", "assign", factories.assignment_form())):
        workflow.complete(factories.user(email), factories.open_task(req, spec_id), handler,
                          form_data)
        db.session.commit()

    worker = person("tecnico1@acme.test")
    worker.goto(f"/requests/{request_id}")
    thumbnail = worker.locator("#attachments img")
    expect(thumbnail).to_have_count(1)
    expect(thumbnail).to_have_attribute("alt", "lampara rota.jpg")
    thumbnail.scroll_into_view_if_needed()
    worker.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=thumbnail.element_handle())
    assert thumbnail.evaluate("img => img.naturalWidth") <= 320
    link = worker.locator("#attachments ul.files a", has_text="lampara rota.jpg")
    with worker.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == "lampara rota.jpg"
    assert worker.http_errors == [] and ana.http_errors == []
