"""The tenant admin's field editor (page and API) and the request API's round trip."""

from app.extensions import db
from app.models import AuditEntry, Category, ServiceRequest
from tests.factories import user
from tests.request_fields.conftest import TRANSPORT_FIELDS, VALID, transport
from tests.views.helpers import html

ADMIN = "admin@acme.test"


def _editor_form(category, rows: list[dict], **extra) -> dict:
    form = {"name_es": category.name, "service_unit_id": str(category.service_unit_id),
            "default_priority": category.default_priority,
            "process_key": category.process_key, "active": "yes",
            "rf-count": str(len(rows)), **extra}
    for i, row in enumerate(rows):
        for key, value in row.items():
            form[f"rf-{i}-{key}"] = value
    return form


def test_the_admin_adds_orders_and_removes_fields_in_the_browser(demo, browser):
    category = transport()
    admin = browser(ADMIN)
    page = html(admin.get(f"/admin/categories/{category.id}"))
    assert 'name="rf-0-name"' in page and 'name="rf-1-name"' in page  # empty blocks
    rows = [
        {"name": "destination", "label": "Destino", "type": "text", "required": "yes",
         "min": "", "max": "120", "position": "2"},
        {"name": "origin", "label": "Origen", "type": "text", "required": "yes",
         "position": "1"},
        {"name": "vehicle", "label": "Vehículo", "type": "choice",
         "options": "van = Camioneta\nbus", "position": "3"},
        {"name": "passengers", "label": "Pasajeros", "type": "number", "min": "1",
         "max": "40", "position": "4"},
        {"name": "", "label": "", "type": "text"},  # an empty block: ignored
    ]
    response = admin.post(f"/admin/categories/{category.id}", _editor_form(category, rows))
    assert response.status_code == 302
    saved = transport().request_fields
    assert [f["name"] for f in saved] == ["origin", "destination", "vehicle", "passengers"]
    assert saved[1] == {"name": "destination", "type": "text", "label": "Destino",
                        "required": True, "maxLength": 120}
    assert saved[2]["options"] == [{"value": "van", "label": "Camioneta"},
                                   {"value": "bus", "label": "bus"}]
    assert saved[3]["min"] == 1 and saved[3]["max"] == 40
    entry = db.session.query(AuditEntry).filter_by(action="category.updated").one()
    assert "request_fields" in entry.after
    # The page shows them back; one removed
    page = html(admin.get(f"/admin/categories/{category.id}"))
    assert 'value="passengers"' in page and "van = Camioneta" in page
    rows = [{**r, "remove": "yes"} if r["name"] == "vehicle" else r for r in rows[:4]]
    assert admin.post(f"/admin/categories/{category.id}",
                      _editor_form(category, rows)).status_code == 302
    assert "vehicle" not in [f["name"] for f in transport().request_fields]


def test_more_empty_blocks_save_nothing(demo, browser):
    category = transport()
    response = browser(ADMIN).post(f"/admin/categories/{category.id}", _editor_form(
        category, [{"name": "origin", "label": "Origen", "type": "text"}], **{"rf-add": "yes"}))
    assert response.status_code == 200
    assert 'name="rf-4-name"' in html(response)
    assert transport().request_fields == []


def test_the_editor_refuses_bad_fields_with_a_message_each(demo, browser):
    category = transport()
    rows = [
        {"name": "Origen", "label": "Origen", "type": "text"},            # not an identifier
        {"name": "decision", "label": "Decisión", "type": "text"},        # the process's
        {"name": "kind", "label": "Tipo", "type": "choice", "options": ""},  # reserved, none
        {"name": "passengers", "label": "", "type": "number", "min": "9", "max": "2"},
        {"name": "trip", "label": "Fecha", "type": "date", "min": "05/06/2026"},
        {"name": "trip", "label": "Otra", "type": "text"},                # twice
        {"name": "title", "label": "Título", "type": "text"},             # the request's
    ]
    response = browser(ADMIN).post(f"/admin/categories/{category.id}",
                                   _editor_form(category, rows))
    assert response.status_code == 422
    page = html(response)
    assert page.count('class="request-field has-error"') == 7
    assert "lower-case" in page or "minúscula" in page
    assert 'value="Origen"' in page  # what was typed is kept
    assert transport().request_fields == []


def test_the_admin_api_edits_the_fields_and_documents_them(demo, api):
    category = transport()
    admin = api(ADMIN)
    url = f"/api/v1/admin/categories/{category.id}"
    response = admin.patch(url, {"request_fields": TRANSPORT_FIELDS})
    assert response.status_code == 200, response.json
    assert [f["name"] for f in response.json["request_fields"]][:2] == ["origin", "destination"]
    too_many = [{"name": f"f{i}", "type": "text", "label": f"F{i}"} for i in range(31)]
    response = admin.patch(url, {"request_fields": too_many})
    assert response.status_code == 422
    assert "request_fields._schema" in response.json["errors"]  # the API's flat field paths
    choices = [{"name": "k1", "type": "choice", "label": "K",
                "options": [{"value": str(i)} for i in range(101)]}]
    assert admin.patch(url, {"request_fields": choices}).status_code == 422
    response = admin.patch(url, {"request_fields": [{"name": "rating", "type": "number",
                                                     "label": "Nota"}]})
    assert response.status_code == 422 and "request_fields.0" in response.json["errors"]
    assert len(transport().request_fields) == len(TRANSPORT_FIELDS)
    doc = admin.get("/api/v1/openapi.json").json
    assert "request_fields" in doc["components"]["schemas"]["AdminCategoryOut"]["properties"]
    assert "/api/v1/categories/{category_id}/fields" in doc["paths"]


def test_the_request_api_round_trip(transport_fields, api):
    ana = api("ana@acme.test")
    category = transport()
    described = ana.get(f"/api/v1/categories/{category.id}/fields").json
    schema = described["schema"]
    assert schema["required"] == ["origin", "destination", "trip_date", "passengers"]
    assert schema["properties"]["passengers"]["maximum"] == 40
    assert schema["properties"]["vehicle"]["enum"] == ["van", "bus"]
    assert [f["name"] for f in described["fields"]][:2] == ["origin", "destination"]
    body = {"title": "Viaje", "description": "Salida de campo", "category_id": category.id,
            "fields": {**VALID, "passengers": 12, "luggage": True}}
    created = ana.post("/api/v1/requests", body)
    assert created.status_code == 201, created.json
    got = ana.get(f"/api/v1/requests/{created.json['id']}").json
    assert got["fields"]["passengers"] == 12 and got["fields"]["luggage"] is True
    assert got["fields"]["trip_date"] == "2026-06-05"
    db.session.rollback()
    before = db.session.query(ServiceRequest).count()
    refused = ana.post("/api/v1/requests", {**body, "fields": {
        **body["fields"], "passengers": "muchos", "vehicle": "avion", "altitude": 1}})
    assert refused.status_code == 422
    assert set(refused.json["errors"]) == {"fields.altitude"}
    refused = ana.post("/api/v1/requests", {**body, "fields": {
        **body["fields"], "passengers": 99, "vehicle": "avion"}})
    assert set(refused.json["errors"]) == {"fields.passengers", "fields.vehicle"}
    db.session.rollback()
    assert db.session.query(ServiceRequest).count() == before
    doc = ana.get("/api/v1/openapi.json").json
    assert "fields" in doc["components"]["schemas"]["NewRequestIn"]["properties"]
    assert "fields" in doc["components"]["schemas"]["RequestDetail"]["properties"]
    other = db.session.query(Category).filter(Category.tenant_id != category.tenant_id).first()
    assert ana.get(f"/api/v1/categories/{other.id}/fields").status_code == 404
    assert user("ana@acme.test")  # (the caller's company only)
