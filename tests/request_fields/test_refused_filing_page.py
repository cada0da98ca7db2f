"""A refused filing on the page: every problem listed at the top, each linked to its input, and
the files chosen said not kept (a browser cannot refill a file input; nothing was stored)."""

import io
import re

from app.extensions import db
from app.models import ServiceRequest
from tests.attachments.conftest import jpeg, stored_files
from tests.attachments.conftest import store as store  # noqa: F401 (the storage fixture)
from tests.request_fields.conftest import VALID, transport
from tests.views.helpers import html


def _form(category_id: int, fields: dict, **extra) -> dict:
    return {"title": "Viaje al aeropuerto", "description": "Para la visita del auditor",
            "category_id": str(category_id),
            **{f"cf-{category_id}-{k}": v for k, v in fields.items()}, **extra}


def _summary(page: str) -> str:
    found = page[page.index('class="error-summary"'):]
    return found[:found.index("</div>")]


def test_the_summary_lists_each_problem_and_the_photo_to_choose_again(transport_fields,
                                                                       browser, store):  # noqa: F811
    category = transport()
    db.session.rollback()
    before = db.session.query(ServiceRequest).count()
    response = browser("ana@acme.test").post("/requests/new", _form(
        category.id, {**VALID, "passengers": "cien"}, title="",
        files=[(io.BytesIO(jpeg()), "bus.jpg")]), content_type="multipart/form-data")
    assert response.status_code == 422
    page = html(response)
    summary = _summary(page)
    assert 'role="alert"' in page[page.index('class="error-summary"') - 80:][:200]
    assert 'href="#title"' in summary
    assert f'href="#cf-{category.id}-passengers"' in summary and "Pasajeros" in summary
    assert 'href="#files"' in summary and "bus.jpg" in summary
    # the summary comes before the form, the note again next to the file input
    form_at = page.index('<form method="post" enctype="multipart/form-data"')
    assert page.index('class="error-summary"') < form_at
    assert re.search(r'class="field-error" id="files-not-kept">[^<]*bus\.jpg', page)
    assert 'aria-describedby="files-not-kept"' in page
    db.session.rollback()
    assert db.session.query(ServiceRequest).count() == before
    assert stored_files(store) == []


def test_no_files_chosen_no_word_about_them(transport_fields, browser, store):  # noqa: F811
    category = transport()
    response = browser("ana@acme.test").post("/requests/new", _form(
        category.id, {**VALID, "passengers": "cien"}), content_type="multipart/form-data")
    page = html(response)
    assert response.status_code == 422
    assert 'href="#files"' not in _summary(page) and "files-not-kept" not in page


def test_a_good_page_has_no_summary(transport_fields, browser):
    assert "error-summary" not in html(browser("ana@acme.test").get("/requests/new"))
