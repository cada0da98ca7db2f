"""GET /api/v1/indicators: the figures of ``data.indicators`` for the same filters, scoped by
the same rule, with problems by field (403 without an indicator role, 404 for what the caller
may not see, 422 for a bad value) and its place in the OpenAPI document."""

import json
import os

import pytest

from app.extensions import db
from app.indicators import data, filters
from app.models import User
from tests.api.conftest import ApiClient
from tests.indicators.walks import at, bogota, file_at, ids, walk

NOW = bogota(12, 1, 7)
URL = "/api/v1/indicators"
ON_POSTGRES = (os.environ.get("TEST_DATABASE_URL") or "").startswith("postgresql")


def client(app, email) -> ApiClient:
    api = ApiClient(app)
    response = api.post("/api/v1/tokens", {"email": email, "password": "demo1234"})
    assert response.status_code == 201, response.json
    api.token = response.json["token"]
    return api


def some_november():
    ana = walk(file_at(bogota(11, 3, 9)), (bogota(11, 3, 10), "authorize"),
               (bogota(11, 3, 11), "approve"), (bogota(11, 3, 12), "assign"),
               (bogota(11, 3, 13), "start"), (bogota(11, 4, 10), "finish"),
               (bogota(11, 5, 9), "confirm", {"rating": "4", "comment": "Bien"}))
    walk(file_at(bogota(11, 4, 9), "luis@acme.test", "Plomería"),
         (bogota(11, 4, 10), "reject_head"))
    walk(file_at(bogota(11, 4, 9), "maria@acme.test", "Limpieza"),
         (bogota(11, 5, 10), "authorize"), (bogota(11, 6, 10), "return"))
    walk(file_at(bogota(11, 5, 9), "pedro@globex.test"), (bogota(11, 5, 10), "authorize"))
    return ana


@pytest.mark.parametrize(("email", "query"), [
    ("admin@acme.test", "from=2026-11-01&to=2026-11-30"),
    ("jefe.finanzas@acme.test", "from=2026-11-01&to=2026-11-30"),
    ("director@acme.test", "preset=last_30_days&priority=high"),
    ("director@globex.test", "from=2026-11-01&to=2026-11-30"),
])
def test_the_api_answers_what_data_indicators_computes(app, demo, email, query):
    ana = some_november()
    with at(NOW):
        api = client(app, email)
        response = api.get(f"{URL}?{query}")
        assert response.status_code == 200, response.json
        user = db.session.query(User).filter_by(email=email).one()
        args = dict(pair.split("=") for pair in query.split("&"))
        expected = data.indicators(user, filters.parse(user, args), now=NOW)
    assert response.json == json.loads(json.dumps(expected))
    if email == "admin@acme.test":
        body = response.json
        # acme's November: 3 filed (not globex's), the head's rejection, one return, the
        # request confirmed with its comment
        assert body["volumes"]["totals"]["filed"] == 3
        assert body["volumes"]["totals"]["rejected_by_head"] == 1
        assert body["volumes"]["totals"]["returned"] == 1
        assert body["satisfaction"]["comments"] == [
            {"request_id": ana.id, "number": ana.number, "rating": 4, "comment": "Bien",
             "at": bogota(11, 5, 9).isoformat()}]
        assert body["filters"] == {"from": "2026-11-01", "to": "2026-11-30", "preset": None,
                                   "zone": "America/Bogota", "bucket": "day",
                                   "unit_id": None, "service_unit_id": None,
                                   "category_id": None, "priority": None,
                                   "worker_id": None, "kind": None}
        assert body["cost"]["total"]["estimated_cost"] == "100.00"


@pytest.mark.parametrize("email", ["ana@acme.test", "tecnico1@acme.test", "pedro@globex.test"])
def test_people_without_an_indicator_role_are_forbidden(app, demo, email):
    response = client(app, email).get(URL)
    assert response.status_code == 403
    assert response.content_type.startswith("application/problem+json")
    assert response.json["status"] == 403


def test_without_a_token_it_is_unauthorized(app, demo):
    assert ApiClient(app).get(URL).status_code == 401


def test_out_of_scope_or_unknown_ids_are_404_on_their_field(app, demo):
    acme, globex = ids("acme"), ids("globex")
    cases = [
        ("admin@acme.test", "unit_id", globex["Operaciones"]),
        ("admin@acme.test", "service_unit_id", globex["Mantenimiento"]),
        ("admin@acme.test", "category_id", globex["Aire acondicionado"]),
        ("admin@acme.test", "worker_id", globex["tecnico@globex.test"]),
        ("admin@acme.test", "category_id", 987654),
        ("jefe.produccion@acme.test", "unit_id", acme["Finanzas"]),
        ("director@globex.test", "unit_id", acme["Finanzas"]),
    ]
    for email, field, value in cases:
        response = client(app, email).get(f"{URL}?{field}={value}")
        assert response.status_code == 404, (email, field, response.json)
        assert list(response.json["errors"]) == [field]


@pytest.mark.parametrize(("query", "field"), [
    ("from=2026-11-30&to=2026-11-01", "to"),
    ("from=2006-01-01&to=2026-01-01", "from"),
    ("from=2026-13-01&to=2026-12-31", "from"),
    ("from=2026-11-01", "to"),
    ("preset=forever", "preset"),
    ("priority=whenever", "priority"),
    ("unit_id=abc", "unit_id"),
    ("worker_id=1.5", "worker_id"),
])
def test_bad_filters_are_422_on_their_field(app, demo, query, field):
    response = client(app, "admin@acme.test").get(f"{URL}?{query}")
    assert response.status_code == 422, response.json
    assert response.content_type.startswith("application/problem+json")
    assert field in response.json["errors"], response.json


@pytest.mark.parametrize("field", ["unit_id", "service_unit_id", "category_id", "worker_id"])
def test_an_id_too_large_for_any_row_is_refused_on_its_field(app, demo, field):
    response = client(app, "admin@acme.test").get(f"{URL}?{field}=999999999999")
    assert response.status_code in (404, 422)
    assert list(response.json["errors"]) == [field]


def test_the_pages_query_string_with_empty_fields_works_in_the_api(app, demo):
    page_query = ("preset=last_month&from=&to=&unit_id=&service_unit_id=&category_id="
                  "&priority=&worker_id=")
    with at(NOW):
        api = client(app, "admin@acme.test")
        plain = api.get(f"{URL}?preset=last_month")
        response = api.get(f"{URL}?{page_query}")
    assert plain.status_code == 200
    assert response.status_code == 200, response.json
    assert response.json == plain.json


def test_the_openapi_document_lists_the_indicators(app):
    spec = app.test_client().get("/api/v1/openapi.json").json
    operation = spec["paths"][URL]["get"]
    parameters = {p["name"] for p in operation["parameters"] if p["in"] == "query"}
    assert {"preset", "from", "to", "unit_id", "service_unit_id", "category_id", "priority",
            "worker_id"} <= parameters
    assert {"200", "403", "404", "422"} <= set(operation["responses"])
