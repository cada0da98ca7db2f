"""Uploading from the pages: filing with a photo, later from the request page, with a comment
and with a step's completion; every refusal stores nothing (no row, no file, no history)."""

import dataclasses

import pytest
from sqlalchemy import select

from app.attachments import sniffing
from app.extensions import db
from app.models import HistoryEvent, Tenant
from tests import factories
from tests.attachments.conftest import (
    CSV,
    HTML,
    PDF,
    SVG,
    docx,
    jpeg,
    png_claiming,
    stored_files,
    zip_bomb_docx,
)
from tests.attachments.helpers import (
    first_category,
    history_actions,
    in_english,
    page_upload,
    rows,
    upload_form,
)


def test_filing_with_a_photo_stores_it_with_a_thumbnail(demo, browser, store):
    ana = browser("ana@acme.test")
    category = first_category("ana@acme.test")
    response = ana.post("/requests/new", upload_form(
        (jpeg(), "foto daño.jpg"), title="Bombillo fundido", description="No enciende",
        category_id=str(category.id), priority="normal", location="Piso 2"),
        content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    [row] = rows()
    assert (row.filename, row.content_type, row.internal) == ("foto daño.jpg",
                                                              sniffing.JPEG, False)
    assert row.thumbnail_key == row.storage_key + ".thumb"
    assert stored_files(store) == sorted([row.storage_key, row.thumbnail_key])
    assert row.storage_key.startswith(f"{row.tenant_id}/{row.request_id}/")
    assert history_actions(row.request_id)[-1] == "attached"
    page = ana.get(f"/requests/{row.request_id}").get_data(as_text=True)
    assert f"/requests/{row.request_id}/attachments/{row.id}/thumbnail" in page
    assert "foto daño.jpg" in page


def test_uploads_from_the_request_page_and_their_history(demo, browser, store):
    req = factories.file()
    ana = browser("ana@acme.test")
    response = page_upload(ana, req.id, (PDF, "presupuesto.pdf"), (CSV, "lista.txt"))
    assert response.status_code == 303
    found = rows(req.id)
    assert [(r.filename, r.content_type) for r in found] == [
        ("presupuesto.pdf", sniffing.PDF), ("lista.txt", sniffing.CSV)]
    event = db.session.get(HistoryEvent, found[0].history_event_id)
    assert event.action == "attached"
    assert event.changes["attachments"] == ["presupuesto.pdf", "lista.txt"]
    assert len(stored_files(store)) == 2


def test_a_comment_carries_its_files(demo, browser, store):
    req = factories.file()
    ana = browser("ana@acme.test")
    response = ana.post(f"/requests/{req.id}/comments",
                        upload_form((PDF, "factura.pdf"), comment="Adjunto la factura"),
                        content_type="multipart/form-data")
    assert response.status_code in (302, 303)
    [row] = rows(req.id)
    event = db.session.get(HistoryEvent, row.history_event_id)
    assert (event.action, event.comment) == ("commented", "Adjunto la factura")
    assert event.changes["attachments"] == ["factura.pdf"]


def test_a_step_completion_carries_a_photo_of_the_work(demo, browser, store):
    req, task = factories.request_at("Task_Work")
    worker = browser("tecnico1@acme.test")
    response = worker.post(f"/tasks/{task.id}", upload_form(
        (jpeg(), "trabajo terminado.jpg"), handler="finish", resolution="Cambiado",
        hours_spent="1", materials_cost="0"), content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    [row] = rows(req.id)
    event = db.session.get(HistoryEvent, row.history_event_id)
    assert (event.action, event.actor_id) == ("finish", factories.user("tecnico1@acme.test").id)
    assert row.thumbnail_key is not None


def _assert_nothing_stored(req_id, store, actions_before):
    assert rows(req_id) == []
    assert stored_files(store) == []
    assert history_actions(req_id) == actions_before


REFUSALS = [
    ("too big", lambda: (b"x" * (1024 * 1024 + 1), "grande.txt"), "larger than"),
    ("refused type", lambda: (b"MZ\x90\x00\x03binary\x00", "programa.pdf"), "type"),
    ("HTML posing as an image", lambda: (HTML, "foto.jpg"), "web page"),
    ("SVG posing as an image", lambda: (SVG, "foto.png"), "web page"),
    ("zip bomb", lambda: (zip_bomb_docx(20), "informe.docx"), "unpack"),
    ("image of too many pixels", lambda: (png_claiming(30_000, 30_000), "plano.png"),
     "million pixels"),
    ("path separator", lambda: (PDF, "../../etc/passwd.pdf"), "path separator"),
    ("backslash", lambda: (PDF, "C:\\\\fotos\\\\a.pdf"), "path separator"),
    ("empty", lambda: (b"", "vacio.txt"), "empty"),
    ("image that is not one", lambda: (b"\xff\xd8\xff" + HTML, "foto.jpg"), "damaged"),
]


@pytest.mark.parametrize(("case", "make", "says"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_each_refusal_stores_nothing(demo, app, browser, store, monkeypatch, case, make, says):
    monkeypatch.setitem(app.config, "ATTACHMENTS_MAX_FILE_MB", 1)
    req = factories.file()
    before = history_actions(req.id)
    in_english("ana@acme.test")
    ana = browser("ana@acme.test")
    # a good file first: the upload is all or nothing
    response = page_upload(ana, req.id, (PDF, "bueno.pdf"), make())
    assert response.status_code == 303
    _assert_nothing_stored(req.id, store, before)
    page = ana.get(f"/requests/{req.id}").get_data(as_text=True)
    assert says in page, page


def test_a_refused_file_on_filing_files_nothing(demo, browser, store):
    in_english("ana@acme.test")
    ana = browser("ana@acme.test")
    category = first_category("ana@acme.test")
    response = ana.post("/requests/new", upload_form(
        (SVG, "foto.jpg"), title="Con archivo malo", description="Detalle del pedido",
        category_id=str(category.id), priority="normal"), content_type="multipart/form-data")
    assert response.status_code == 422
    assert "web page" in response.get_data(as_text=True)
    assert rows() == [] and stored_files(store) == []
    from app.models import ServiceRequest

    assert db.session.scalar(select(ServiceRequest).where(
        ServiceRequest.title == "Con archivo malo")) is None


def test_a_type_the_company_does_not_accept_is_refused(demo, browser, store):
    req = factories.file()
    tenant = db.session.get(Tenant, req.tenant_id)
    tenant.settings = {**(tenant.settings or {}), "attachment_types": [sniffing.JPEG]}
    db.session.commit()
    response = page_upload(browser("ana@acme.test"), req.id, (PDF, "a.pdf"))
    assert response.status_code == 303
    assert rows(req.id) == [] and stored_files(store) == []


def test_the_plan_storage_quota_counts_bytes(demo, app, browser, store, monkeypatch):
    from app.tenancy import quotas

    real_plan_of = quotas.plan_of
    monkeypatch.setattr(quotas, "plan_of",
                        lambda tenant: dataclasses.replace(real_plan_of(tenant), storage_mb=1))
    req = factories.file()
    in_english("ana@acme.test")
    ana = browser("ana@acme.test")
    assert page_upload(ana, req.id, (b"a" * 700_000 + b"\n", "uno.txt")).status_code == 303
    assert len(rows(req.id)) == 1
    tenant = db.session.get(Tenant, req.tenant_id)
    assert quotas.count(tenant, "storage_mb") == 1
    before = history_actions(req.id)
    response = page_upload(ana, req.id, (b"b" * 400_000 + b"\n", "dos.txt"))
    assert response.status_code == 403
    assert "allows 1 MB of attachments" in response.get_data(as_text=True)
    assert len(rows(req.id)) == 1 and len(stored_files(store)) == 1
    assert history_actions(req.id) == before


def test_an_upload_of_too_many_files_is_refused(demo, app, browser, store, monkeypatch):
    monkeypatch.setitem(app.config, "ATTACHMENTS_MAX_FILES", 2)
    req = factories.file()
    response = page_upload(browser("ana@acme.test"), req.id, (PDF, "1.pdf"), (PDF, "2.pdf"),
                           (PDF, "3.pdf"))
    assert response.status_code == 303
    assert rows(req.id) == [] and stored_files(store) == []


def test_an_office_file_is_accepted(demo, browser, store):
    req = factories.file()
    page_upload(browser("ana@acme.test"), req.id, (docx(), "informe.bin"))
    [row] = rows(req.id)
    assert row.content_type == sniffing.DOCX


def test_an_upload_may_pass_the_body_limit_up_to_its_files_limits(demo, app, browser, store,
                                                                  monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 2000)
    req = factories.file()
    ana = browser("ana@acme.test")
    assert page_upload(ana, req.id, (PDF * 100, "grande.pdf")).status_code == 303
    assert len(rows(req.id)) == 1
    monkeypatch.setitem(app.config, "ATTACHMENTS_MAX_FILE_MB", 0.01)
    monkeypatch.setitem(app.config, "ATTACHMENTS_MAX_FILES", 1)
    response = page_upload(ana, req.id, (b"%PDF-1.4\n" + b"0" * 1_200_000, "enorme.pdf"))
    assert response.status_code == 413
    assert len(rows(req.id)) == 1 and len(stored_files(store)) == 1
