"""Those who decide see the category's fields and the files where they decide: the head's
authorization, the director's evaluation, the worker's task and ticket pages, the requester's
confirmation; read-only (no upload form, no deleting there), internal files only for those who
read internal notes."""

import io

from app.extensions import db
from tests import factories
from tests.attachments.conftest import jpeg, png
from tests.attachments.helpers import page_upload, rows, upload_form
from tests.request_fields.conftest import TRANSPORT_FIELDS, VALID, set_fields
from tests.views.helpers import html, open_task, reload


def _with_fields_and_files(step: str, browser):
    """A request at ``step`` whose category asks the Transporte fields (answered), with the
    requester's photo and the director's internal note carrying a file."""
    req, _task = factories.request_at(step)
    set_fields(TRANSPORT_FIELDS, name=req.category.name)
    req = reload(req.id)
    req.fields = {"origin": "Sede norte", "destination": "Aeropuerto",
                  "trip_date": VALID["trip_date"], "passengers": 12}
    db.session.commit()
    assert page_upload(browser("ana@acme.test"), req.id,
                       (jpeg(), "bus.jpg")).status_code in (302, 303)
    response = browser("director@acme.test").post(f"/requests/{req.id}/comments", {
        "comment": "Nota interna con plano", "internal": "true",
        "files": [(io.BytesIO(png()), "plano-secreto.png")]},
        content_type="multipart/form-data")
    assert response.status_code in (302, 303)
    photo, secret = rows(req.id)
    assert secret.internal and not photo.internal
    return req, photo, secret


def _readonly_panel(page: str, req_id: int) -> None:
    assert "Sede norte" in page and "Aeropuerto" in page and "Pasajeros" in page
    assert f'action="/requests/{req_id}/attachments"' not in page  # no upload form
    assert "/delete" not in page                                    # no deleting here


def test_the_head_authorizes_seeing_the_fields_and_the_photo(demo, browser, store):
    req, photo, secret = _with_fields_and_files("Task_Authorize", browser)
    task = open_task(req.id, "Task_Authorize")
    page = html(browser("jefe.finanzas@acme.test").get(f"/tasks/{task.id}"))
    _readonly_panel(page, req.id)
    assert f"/requests/{req.id}/attachments/{photo.id}/thumbnail" in page
    # the head of the requester's unit reads internal notes (policy.can_see_internal)
    assert "plano-secreto.png" in page


def test_the_director_evaluates_seeing_the_fields_and_every_file(demo, browser, store):
    req, photo, secret = _with_fields_and_files("Task_Evaluate", browser)
    task = open_task(req.id, "Task_Evaluate")
    page = html(browser("director@acme.test").get(f"/tasks/{task.id}"))
    _readonly_panel(page, req.id)
    assert "bus.jpg" in page and "plano-secreto.png" in page


def test_the_worker_sees_them_on_the_ticket_and_the_task(demo, browser, store):
    req, photo, _secret = _with_fields_and_files("Task_Work", browser)
    worker = browser("tecnico1@acme.test")
    ticket_page = html(worker.get(f"/tickets/{req.ticket.id}"))
    _readonly_panel(ticket_page, req.id)
    assert f"/requests/{req.id}/attachments/{photo.id}/thumbnail" in ticket_page
    task = open_task(req.id, "Task_Work")
    task_page = html(worker.get(f"/tasks/{task.id}"))
    _readonly_panel(task_page, req.id)
    assert "bus.jpg" in task_page


def test_the_requester_confirms_seeing_the_finished_work_and_no_internal_file(
        demo, browser, store):
    req, _photo, _secret = _with_fields_and_files("Task_Work", browser)
    task = open_task(req.id, "Task_Work")
    response = browser("tecnico1@acme.test").post(f"/tasks/{task.id}", upload_form(
        (jpeg(color=(0, 90, 200)), "trabajo-terminado.jpg"), handler="finish",
        resolution="Listo", hours_spent="1", materials_cost="0"),
        content_type="multipart/form-data")
    assert response.status_code == 302, html(response)
    finished = rows(req.id)[-1]
    confirm = open_task(req.id, "Task_Confirm")
    page = html(browser("ana@acme.test").get(f"/tasks/{confirm.id}"))
    _readonly_panel(page, req.id)
    assert f"/requests/{req.id}/attachments/{finished.id}/thumbnail" in page
    assert "trabajo-terminado.jpg" in page and "bus.jpg" in page
    assert "plano-secreto.png" not in page and "Nota interna con plano" not in page


def test_no_files_no_panel_on_a_task_page(demo, browser, store):
    req, task = factories.request_at("Task_Authorize")
    page = html(browser("jefe.finanzas@acme.test").get(f"/tasks/{task.id}"))
    assert 'id="attachments"' not in page and 'id="request-fields"' not in page
