"""Budgets over the API (/api/v1/admin/budgets): the same rules and scoping as the pages;
figures and amounts as decimal strings with the company's currency; 422 by field and nothing
changed on bad input, 404 for ids the caller does not manage, 403 for roles that may not."""

from datetime import date
from decimal import Decimal

import pytest

from app.extensions import db
from app.models import Tenant
from app.viability import budgets
from tests.viability.budget_helpers import (
    ADMIN,
    DIRECTOR,
    GLOBEX_DIRECTOR,
    HEAD,
    IT,
    REQUESTER,
    SERVICES,
    WORKER,
    add_budget,
    api_as,
    budget_rows,
    category,
    costed_request,
    entries,
    make_other_unit,
    tenant,
    unit,
)

URL = "/api/v1/admin/budgets"


@pytest.fixture
def other_unit(demo):
    return make_other_unit()


def body(**over) -> dict:
    values = {"service_unit_id": unit(SERVICES).id, "period": "month",
              "starts_on": "2027-03-01", "amount": "1500000.50", "note": "Fin de año"}
    values.update(over)
    return values


def test_create_read_list_change_and_delete(demo, app):
    api = api_as(app, ADMIN)
    created = api.post(URL, body())
    assert created.status_code == 201, created.json
    budget = created.json
    assert budget["amount"] == "1500000.50" and budget["left"] == "1500000.50"
    assert (budget["committed"], budget["spent"], budget["requests"]) == ("0.00", "0.00", 0)
    assert (budget["currency"], budget["ends_on"], budget["category_id"]) == (
        "COP", "2027-03-31", None)
    assert budget["service_unit_name"] == SERVICES
    url = f"{URL}/{budget['id']}"
    assert api.get(url).json == budget
    listed = api.get(URL).json
    assert listed["total"] == 1 and listed["items"] == [budget]
    patched = api.patch(url, {"amount": 2000000, "note": "Más"})
    assert patched.status_code == 200, patched.json
    assert patched.json["amount"] == "2000000.00" and patched.json["period"] == "month"
    replaced = api.put(url, body(period="quarter", starts_on="2027-01-01", amount="3000000"))
    assert replaced.status_code == 200, replaced.json
    assert (replaced.json["ends_on"], replaced.json["note"]) == ("2027-03-31", "Fin de año")
    assert api.delete(url).status_code == 204
    assert api.get(url).status_code == 404 and budget_rows() == []
    assert [e.action for e in entries("budget.")] == [
        "budget.created", "budget.updated", "budget.updated", "budget.deleted"]
    update = entries("budget.")[1]
    assert (update.before, update.after) == ({"amount": "1500000.50", "note": "Fin de año"},
                                             {"amount": "2000000.00", "note": "Más"})


def test_the_list_filters_pages_and_gives_the_figures_budgets_figures_gives(demo, app):
    whole = add_budget(starts_on=date(2025, 11, 1), amount="500000")
    electric = add_budget(starts_on=date(2025, 11, 1), amount="100000",
                          category_name="Electricidad")
    add_budget(period="year", starts_on=date(2024, 1, 1))
    costed_request(on=date(2025, 11, 3), estimate="80000.25", category_name="Electricidad")
    costed_request(on=date(2025, 11, 4), estimate="70000", actual="65000.50",
                   category_name="Electricidad")
    costed_request(on=date(2025, 11, 5), estimate="30000", category_name="Plomería")
    expected = budgets.figures([whole, electric])
    api = api_as(app, DIRECTOR)
    page = api.get(f"{URL}?year=2025&period=month&per_page=1").json
    assert (page["total"], page["pages"], len(page["items"])) == (2, 2, 1)
    items = page["items"] + api.get(f"{URL}?year=2025&period=month&per_page=1&page=2")\
        .json["items"]
    for item in items:
        fig = expected[item["id"]]
        assert (item["amount"], item["committed"], item["spent"], item["left"]) == (
            str(fig.amount.quantize(Decimal("0.01"))), str(fig.committed), str(fig.spent),
            str(fig.left.quantize(Decimal("0.01"))))
    by_id = {item["id"]: item for item in items}
    assert by_id[electric.id]["left"] == "-45000.75"
    assert by_id[electric.id]["requests"] == 2
    assert api.get(f"{URL}?period=year").json["total"] == 1
    assert api.get(f"{URL}?service_unit_id={unit(SERVICES).id}").json["total"] == 3


def test_the_currency_is_the_companys(demo, app):
    acme = tenant()
    acme.settings = {**(acme.settings or {}), "currency": "USD"}
    db.session.commit()
    add_budget()
    assert api_as(app, ADMIN).get(URL).json["items"][0]["currency"] == "USD"


@pytest.mark.parametrize(("change", "field"), [
    ({"amount": "-1"}, "amount"),
    ({"amount": -1}, "amount"),
    ({"amount": "1e15"}, "amount"),
    ({"amount": 1e15}, "amount"),
    ({"amount": "1000000000000"}, "amount"),
    ({"amount": "12.345"}, "amount"),
    ({"amount": "mucho"}, "amount"),
    ({"amount": "NaN"}, "amount"),
    ({"amount": "Infinity"}, "amount"),
    ({"amount": True}, "amount"),
    ({"amount": None}, "amount"),
    ({"period": "week"}, "period"),
    ({"period": "quarter", "starts_on": "2027-02-01"}, "starts_on"),
    ({"period": "year", "starts_on": "2026-12-01"}, "starts_on"),
    ({"starts_on": "2027-03-15"}, "starts_on"),
    ({"starts_on": "2026-12"}, "starts_on"),
    ({"service_unit_id": 999999}, "service_unit_id"),
    ({"service_unit_id": "x"}, "service_unit_id"),
    ({"category_id": 999999}, "category_id"),
    ({"requesting_unit_id": 999999}, "requesting_unit_id"),
    ({"note": "x" * 501}, "note"),
])
def test_bad_input_is_refused_by_field_and_changes_nothing(demo, app, change, field):
    api = api_as(app, ADMIN)
    response = api.post(URL, body(**change))
    assert response.status_code == 422, response.json
    assert response.content_type == "application/problem+json"
    assert field in response.json["errors"], response.json
    assert budget_rows() == [] and entries("budget.") == []


def test_another_companys_units_and_categories_are_refused(demo, app):
    api = api_as(app, ADMIN)
    for change, field in (({"service_unit_id": unit("Mantenimiento", "globex").id},
                           "service_unit_id"),
                          ({"category_id": category("Aire acondicionado", "globex").id},
                           "category_id"),
                          ({"requesting_unit_id": unit("Operaciones", "globex").id},
                           "requesting_unit_id")):
        response = api.post(URL, body(**change))
        assert response.status_code == 422 and field in response.json["errors"], change
    assert budget_rows() == []


def test_overlapping_periods_of_one_scope_are_refused_other_scopes_are_not(demo, app):
    api = api_as(app, ADMIN)
    assert api.post(URL, body(period="year", starts_on="2027-01-01")).status_code == 201
    before = budget_rows()
    overlap = api.post(URL, body())
    assert overlap.status_code == 422
    assert "ya cubre parte de este periodo" in overlap.json["errors"]["starts_on"][0]
    assert budget_rows() == before
    split = api.post(URL, body(category_id=category("Plomería").id))
    assert split.status_code == 201
    both = budget_rows()
    widened = api.patch(f"{URL}/{split.json['id']}", {"category_id": None})
    assert widened.status_code == 422 and budget_rows() == both
    assert api.patch(f"{URL}/{split.json['id']}", {"requesting_unit_id":
                                                   unit("Finanzas").id}).status_code == 200


def test_a_director_reaches_their_units_budgets_only(demo, app, other_unit):
    mine, theirs = add_budget(), add_budget(IT)
    api = api_as(app, DIRECTOR)
    assert [b["id"] for b in api.get(URL).json["items"]] == [mine.id]
    before = budget_rows()
    for method, payload in (("get", None), ("patch", {"amount": "1"}), ("put", body()),
                            ("delete", None)):
        call = getattr(api, method)
        response = call(f"{URL}/{theirs.id}", payload) if payload else call(
            f"{URL}/{theirs.id}")
        assert response.status_code == 404, method
        assert response.content_type == "application/problem+json"
    refused = api.post(URL, body(service_unit_id=other_unit.id, starts_on="2027-01-01"))
    assert refused.status_code == 422 and "service_unit_id" in refused.json["errors"]
    moved = api.patch(f"{URL}/{mine.id}", {"service_unit_id": other_unit.id})
    assert moved.status_code == 422
    assert budget_rows() == before
    assert api.get("/api/v1/admin/hourly-rates").status_code == 403


def test_another_companys_budget_is_not_found(demo, app):
    globex = add_budget("Mantenimiento", slug="globex")
    for email in (ADMIN, DIRECTOR):
        api = api_as(app, email)
        assert api.get(f"{URL}/{globex.id}").status_code == 404
        assert api.delete(f"{URL}/{globex.id}").status_code == 404
        assert api.get(URL).json["total"] == 0
    assert api_as(app, GLOBEX_DIRECTOR).get(URL).json["total"] == 1
    assert len(budget_rows()) == 1


@pytest.mark.parametrize("email", [HEAD, REQUESTER, WORKER])
def test_roles_that_manage_no_budget_are_refused(demo, app, email):
    budget = add_budget(requesting_unit="Finanzas")
    api = api_as(app, email)
    assert api.get(URL).status_code == 403
    assert api.post(URL, body(starts_on="2027-01-01")).status_code == 403
    assert api.get(f"{URL}/{budget.id}").status_code == 403
    assert api.delete(f"{URL}/{budget.id}").status_code == 403
    assert api.get("/api/v1/admin/hourly-rates").status_code == 403
    assert len(budget_rows()) == 1


def test_the_openapi_document_lists_budgets_and_rates(app):
    with app.app_context():
        spec = app.test_client().get("/api/v1/openapi.json").json
    assert {"get", "post"} <= set(spec["paths"]["/api/v1/admin/budgets"])
    assert {"get", "put", "patch", "delete"} <= set(
        spec["paths"]["/api/v1/admin/budgets/{budget_id}"])
    assert {"get", "put"} <= set(spec["paths"]["/api/v1/admin/hourly-rates"])
    amount = spec["components"]["schemas"]["BudgetOut"]["properties"]["amount"]
    assert amount["type"] == "string"


def test_the_tenant_model_defaults(demo):
    acme = db.session.get(Tenant, tenant().id)
    assert acme.setting("currency") == "COP" and acme.setting("over_budget_approval") is False


def test_a_zero_budget_is_allowed_and_minus_zero_is_zero(demo, app):
    created = api_as(app, ADMIN).post(URL, body(amount="-0"))
    assert created.status_code == 201, created.json
    assert created.json["amount"] == "0.00" and created.json["left"] == "0.00"
    assert entries("budget.")[0].after["amount"] == "0.00"
