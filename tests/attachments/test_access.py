"""Who gets an attachment and how it is served (pages and API); deleting; thumbnails."""

import io

from PIL import Image
from sqlalchemy import select

from app.attachments import sniffing
from app.extensions import db
from app.models import HistoryEvent, ServiceRequest
from tests import factories
from tests.attachments.conftest import PDF, jpeg, png, stored_files
from tests.attachments.helpers import api_upload, fetch, history_actions, page_upload, rows


def _one_pdf(browser, email="ana@acme.test", name="presupuesto final.pdf"):
    req = factories.file()
    page_upload(browser(email), req.id, (PDF, name))
    [row] = rows(req.id)
    return req, row


def test_download_headers(demo, browser, store):
    req, row = _one_pdf(browser, name="presupuesto año.pdf")
    response = fetch(browser("ana@acme.test"), f"/requests/{req.id}/attachments/{row.id}")
    assert response.status_code == 200
    assert response.data == PDF
    assert response.mimetype == sniffing.PDF
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=\"presupuesto ano.pdf\"; "
        "filename*=UTF-8''presupuesto%20a%C3%B1o.pdf")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "sandbox" in csp
    assert "no-store" in response.headers["Cache-Control"]


def test_those_who_may_not_see_the_request_get_404(demo, browser, api, store):
    req, row = _one_pdf(browser)
    url = f"/requests/{req.id}/attachments/{row.id}"
    for email in ("maria@acme.test",           # another unit of the same company
                  "jefe.produccion@acme.test",  # the head of another unit
                  "tecnico1@acme.test",         # a worker without its ticket
                  "pedro@globex.test", "director@globex.test"):
        assert browser(email).get(url).status_code == 404, email
        assert browser(email).get(url + "/thumbnail").status_code == 404, email
    for email in ("maria@acme.test", "director@globex.test"):
        client = api(email)
        assert client.get(f"/api/v1{url}").status_code == 404, email
        assert client.get(f"/api/v1/requests/{req.id}/attachments").status_code == 404
        assert client.delete(f"/api/v1{url}").status_code == 404
    # who may see it: the requester, the head of their unit, the service unit's director
    for email in ("ana@acme.test", "jefe.finanzas@acme.test", "director@acme.test",
                  "admin@acme.test"):
        assert fetch(browser(email), url).status_code == 200, email
    # another request's id with this attachment's id is not it
    other = factories.file()
    assert browser("ana@acme.test").get(
        f"/requests/{other.id}/attachments/{row.id}").status_code == 404


def test_files_of_an_internal_comment_reach_only_who_reads_internal_ones(demo, browser,
                                                                          store):
    req, _task = factories.request_at("Task_Work")
    worker = browser("tecnico1@acme.test")
    response = worker.post(f"/requests/{req.id}/comments", {
        "comment": "Nota interna con foto", "internal": "true",
        "files": [(io.BytesIO(jpeg()), "medidor.jpg")]}, content_type="multipart/form-data")
    assert response.status_code in (302, 303)
    [row] = rows(req.id)
    event = db.session.get(HistoryEvent, row.history_event_id)
    assert event.internal and row.internal
    url = f"/requests/{req.id}/attachments/{row.id}"
    assert browser("ana@acme.test").get(url).status_code == 404
    assert "medidor.jpg" not in browser("ana@acme.test").get(
        f"/requests/{req.id}").get_data(as_text=True)
    assert fetch(worker, url).status_code == 200
    assert fetch(browser("director@acme.test"), url).status_code == 200


def test_api_upload_list_download_delete(demo, api, store):
    req = factories.file()
    ana = api("ana@acme.test")
    response = api_upload(ana, req.id, (png(), "plano.png"))
    assert response.status_code == 201, response.json
    [item] = response.json["items"]
    assert (item["content_type"], item["size"], item["has_thumbnail"], item["can_delete"]) == (
        sniffing.PNG, len(png()), True, True)
    listed = ana.get(f"/api/v1/requests/{req.id}/attachments").json["items"]
    assert [i["id"] for i in listed] == [item["id"]]
    download = ana.get(item["download_url"])
    assert download.status_code == 200 and download.data == png()
    assert download.headers["Content-Disposition"].startswith("attachment;")
    thumb = ana.get(item["thumbnail_url"])
    assert thumb.mimetype == "image/jpeg"
    assert thumb.headers["Content-Disposition"].startswith("inline;")
    assert Image.open(io.BytesIO(thumb.data)).format == "JPEG"
    # another person who sees the request may not delete it
    assert api("jefe.finanzas@acme.test").delete(item["download_url"]).status_code == 403
    assert len(stored_files(store)) == 2
    assert ana.delete(item["download_url"]).status_code == 204
    assert rows(req.id) == [] and stored_files(store) == []
    assert history_actions(req.id)[-1] == "attachment_deleted"


def test_api_refusals_are_422_and_store_nothing(demo, api, store):
    req = factories.file()
    ana = api("ana@acme.test")
    response = api_upload(ana, req.id, (b"<svg onload='x'/>", "foto.png"))
    assert response.status_code == 422
    assert response.headers["X-Refusal"] == "markup"
    assert "files" in response.json["errors"]
    with ana.app.app_context():
        empty = ana.client.post(f"/api/v1/requests/{req.id}/attachments", data={},
                                content_type="multipart/form-data",
                                headers={"Authorization": f"Bearer {ana.token}"})
    assert empty.status_code == 422
    assert rows(req.id) == [] and stored_files(store) == []


def test_no_deleting_once_the_request_is_finished(demo, browser, api, store):
    req, row = _one_pdf(browser)
    db.session.rollback()
    found = db.session.get(ServiceRequest, req.id)
    found.status = "completed"
    db.session.commit()
    ana = api("ana@acme.test")
    url = f"/api/v1/requests/{req.id}/attachments/{row.id}"
    assert ana.delete(url).status_code == 403
    assert browser("ana@acme.test").post(
        f"/requests/{req.id}/attachments/{row.id}/delete").status_code == 403
    assert len(rows(req.id)) == 1 and len(stored_files(store)) == 1
    # and no new files without a comment or a step
    assert api_upload(ana, req.id, (PDF, "otro.pdf")).status_code == 422


def test_deleting_from_the_page(demo, browser, store):
    req, row = _one_pdf(browser)
    response = browser("ana@acme.test").post(
        f"/requests/{req.id}/attachments/{row.id}/delete")
    assert response.status_code == 303
    assert rows(req.id) == [] and stored_files(store) == []


def test_thumbnails_are_small_jpegs_and_big_jpegs_are_drafted(demo, browser, store):
    req = factories.file()
    ana = browser("ana@acme.test")
    page_upload(ana, req.id, (jpeg(4000, 3000), "grande.jpg"))
    [row] = rows(req.id)
    thumb = fetch(ana, f"/requests/{req.id}/attachments/{row.id}/thumbnail")
    image = Image.open(io.BytesIO(thumb.data))
    assert max(image.size) <= 320 and image.size[0] > image.size[1]
    assert thumb.headers["X-Content-Type-Options"] == "nosniff"


def test_a_pdf_has_no_thumbnail(demo, browser, store):
    req, row = _one_pdf(browser)
    assert row.thumbnail_key is None
    assert browser("ana@acme.test").get(
        f"/requests/{req.id}/attachments/{row.id}/thumbnail").status_code == 404


def test_admin_chooses_the_accepted_types(demo, browser, api, store):
    admin = browser("admin@acme.test")
    assert admin.get("/admin/attachments").status_code == 200
    assert browser("ana@acme.test").get("/admin/attachments").status_code == 404
    response = admin.post("/admin/attachments", {"types": [sniffing.PDF, sniffing.JPEG]})
    assert response.status_code == 303
    client = api("admin@acme.test")
    assert client.get("/api/v1/admin/attachments/types").json["types"] == [
        sniffing.JPEG, sniffing.PDF]
    assert client.put("/api/v1/admin/attachments/types",
                      {"types": ["text/html"]}).status_code == 422
    assert client.put("/api/v1/admin/attachments/types",
                      {"types": [sniffing.PNG]}).json["types"] == [sniffing.PNG]
    assert api("ana@acme.test").get("/api/v1/admin/attachments/types").status_code == 403


def test_the_openapi_document_lists_the_attachment_routes(app):
    spec = app.test_client().get("/api/v1/openapi.json").json
    paths = spec["paths"]
    assert "post" in paths["/api/v1/requests/{request_id}/attachments"]
    assert "delete" in paths["/api/v1/requests/{request_id}/attachments/{attachment_id}"]
    body = paths["/api/v1/requests/{request_id}/attachments"]["post"]["requestBody"]
    assert "multipart/form-data" in body["content"]


def test_who_uploaded_is_answered_with_their_request_only(demo, browser, store):
    """An attachment id of another company is not found through this company's request."""
    req, row = _one_pdf(browser)
    globex = factories.file(requester="pedro@globex.test")
    pedro = browser("pedro@globex.test")
    assert pedro.get(f"/requests/{globex.id}/attachments/{row.id}").status_code == 404
    assert db.session.scalar(select(ServiceRequest.id).where(
        ServiceRequest.id == req.id)) == req.id
