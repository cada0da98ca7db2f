"""Filing with a category's fields: through the service and the page; every type checked,
refusals store nothing, answers kept with the labels they were filed under."""

import re

import pytest
from marshmallow import ValidationError

from app.extensions import db
from app.models import HistoryEvent, ServiceRequest
from app.services import requests
from tests.factories import user
from tests.request_fields.conftest import TRANSPORT_FIELDS, VALID, set_fields, transport
from tests.views.helpers import html


def _file(fields, requester="ana@acme.test"):
    category = transport()
    return requests.file_request(user(requester), {
        "title": "Viaje al aeropuerto", "description": "Para la visita del auditor",
        "category_id": category.id, "fields": fields})


def _count() -> int:
    db.session.rollback()
    return db.session.query(ServiceRequest).count()


def test_answers_are_stored_typed_and_recorded_with_their_labels(transport_fields):
    req = _file(VALID)
    db.session.commit()
    assert req.fields == {"origin": "Sede norte", "destination": "Aeropuerto",
                          "trip_date": "2026-06-05", "passengers": 12, "vehicle": "bus",
                          "luggage": True}
    filed = db.session.query(HistoryEvent).filter_by(request_id=req.id, action="filed").one()
    labels = {a["name"]: (a["label"], a.get("text")) for a in filed.changes["form"]}
    assert labels["passengers"] == ("Pasajeros", None)
    assert labels["vehicle"] == ("Vehículo", "Bus")


def test_decimal_numbers_as_typed_in_spanish(transport_fields):
    req = _file({**VALID, "passengers": "2,5"})
    assert req.fields["passengers"] == 2.5


@pytest.mark.parametrize("name, value", [
    ("origin", "ab"),                 # shorter than minLength
    ("origin", "x" * 81),             # longer than maxLength
    ("destination", None),            # required, missing
    ("trip_date", "05/06/2026"),      # not a date
    ("trip_date", "2025-12-31"),      # before min
    ("passengers", "0"),              # below min
    ("passengers", "41"),             # above max
    ("passengers", "doce"),           # not a number
    ("passengers", "1e3"),            # an exponent is refused, never guessed
    ("vehicle", "avion"),             # not an option
    ("luggage", "quizas"),            # not yes or no
    ("notes", "x" * 501),             # longtext over its maxLength
])
def test_each_bad_value_is_refused_under_its_name_and_nothing_is_stored(
        transport_fields, name, value):
    before = _count()
    fields = {**VALID, name: value} if value is not None else {
        k: v for k, v in VALID.items() if k != name}
    with pytest.raises(ValidationError) as refused:
        _file(fields)
    assert list(refused.value.messages["fields"]) == [name]
    assert _count() == before


def test_unknown_names_and_non_objects_are_refused(transport_fields):
    with pytest.raises(ValidationError) as refused:
        _file({**VALID, "altitude": "3000"})
    assert "altitude" in refused.value.messages["fields"]
    with pytest.raises(ValidationError) as refused:
        _file(["Sede norte"])
    assert "_schema" in refused.value.messages["fields"]


def test_every_missing_field_and_the_title_are_told_together(transport_fields):
    category = transport()
    with pytest.raises(ValidationError) as refused:
        requests.file_request(user("ana@acme.test"), {
            "title": "", "description": "Detalle", "category_id": category.id, "fields": {}})
    messages = refused.value.messages
    assert "title" in messages
    assert set(messages["fields"]) == {"origin", "destination", "trip_date", "passengers"}


def test_a_category_without_fields_takes_none(transport_fields):
    req = requests.file_request(user("ana@acme.test"), {
        "title": "Bombillo", "description": "Cambiar bombillo",
        "category_id": db.session.query(type(transport())).filter_by(
            tenant_id=transport().tenant_id, name="Electricidad").one().id})
    assert req.fields == {}
    with pytest.raises(ValidationError):
        requests.file_request(user("ana@acme.test"), {
            "title": "Bombillo", "description": "Cambiar bombillo",
            "category_id": req.category_id, "fields": {"origin": "x"}})


# --- the pages --------------------------------------------------------------------------------

def _page_form(category_id: int, fields: dict) -> dict:
    return {"title": "Viaje al aeropuerto", "description": "Para la visita del auditor",
            "category_id": str(category_id),
            **{f"cf-{category_id}-{k}": v for k, v in fields.items()}}


def test_the_new_request_page_has_each_categorys_group(transport_fields, browser):
    page = html(browser("ana@acme.test").get("/requests/new"))
    category = transport()
    group = page[page.index(f'data-category="{category.id}"'):]
    group = group[:group.index("</fieldset>")]
    for label in ("Origen", "Destino", "Fecha del viaje", "Pasajeros", "Vehículo", "Camioneta"):
        assert label in group
    assert re.search(rf'name="cf-{category.id}-trip_date"[^>]*min="2026-01-01"', group)
    assert "dist/request_fields.js" in page


def test_filing_from_the_page_stores_the_answers(transport_fields, browser):
    category = transport()
    response = browser("ana@acme.test").post("/requests/new", _page_form(category.id, VALID))
    assert response.status_code == 302
    db.session.rollback()
    req = db.session.query(ServiceRequest).order_by(ServiceRequest.id.desc()).first()
    assert req.fields["passengers"] == 12 and req.fields["vehicle"] == "bus"


def test_a_refused_page_shows_each_fields_message_keeps_the_input_and_stores_nothing(
        transport_fields, browser):
    category = transport()
    before = _count()
    response = browser("ana@acme.test").post("/requests/new", _page_form(
        category.id, {**VALID, "passengers": "99", "origin": ""}))
    assert response.status_code == 422
    page = html(response)
    group = page[page.index(f'data-category="{category.id}"'):]
    group = group[:group.index("</fieldset>")]
    assert group.count('class="field-error"') == 2
    assert 'value="Aeropuerto"' in group
    assert _count() == before


def test_another_categorys_group_is_not_read(transport_fields, browser):
    category = transport()
    other = db.session.query(type(category)).filter_by(
        tenant_id=category.tenant_id, name="Electricidad").one()
    form = {**_page_form(category.id, VALID), "category_id": str(other.id)}
    assert browser("ana@acme.test").post("/requests/new", form).status_code == 302
    db.session.rollback()
    req = db.session.query(ServiceRequest).order_by(ServiceRequest.id.desc()).first()
    assert req.category_id == other.id and req.fields == {}


def test_the_request_page_shows_the_answers_and_keeps_a_removed_fields_label(
        transport_fields, browser):
    req = _file({**VALID, "notes": "Salida <b>temprano</b>"})
    db.session.commit()
    page = html(browser("ana@acme.test").get(f"/requests/{req.id}"))
    panel = page[page.index('id="request-fields"'):]
    panel = panel[:panel.index("</section>")]
    for text in ("Pasajeros", "12", "Vehículo", "Bus", "¿Con equipaje?", "Sí",
                 "Salida &lt;b&gt;temprano&lt;/b&gt;"):
        assert text in panel, text
    # The admin drops "notes" and renames "passengers": the request keeps its answers
    changed = [dict(f) for f in TRANSPORT_FIELDS if f["name"] != "notes"]
    next(f for f in changed if f["name"] == "passengers")["label"] = "Personas"
    set_fields(changed)
    page = html(browser("ana@acme.test").get(f"/requests/{req.id}"))
    panel = page[page.index('id="request-fields"'):]
    panel = panel[:panel.index("</section>")]
    assert "Personas" in panel and "Indicaciones" in panel
    assert "Salida &lt;b&gt;temprano&lt;/b&gt;" in panel


def test_my_requests_list_shows_a_summary_of_the_answers(transport_fields, browser):
    req = _file(VALID)
    db.session.commit()
    page = html(browser("ana@acme.test").get("/requests"))
    row = page[page.index(req.number):]
    row = row[:row.index("</tr>")]
    assert "Origen: Sede norte · Destino: Aeropuerto · Fecha del viaje:" in row
