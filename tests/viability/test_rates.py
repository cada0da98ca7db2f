"""Hourly rates (tenant admins only) on /budgets/rates and /api/v1/admin/hourly-rates: amounts
typed as the page's language writes them, empty for none, 0..MAX_RATE, audited before ->
after, nothing changed on any refusal; and the company's currency and over-budget approval
settings, validated and audited."""

from decimal import Decimal

import pytest

from app.extensions import db
from app.models import Membership, Unit, User
from app.viability import costs
from tests import factories
from tests.accounts.conftest import english
from tests.viability.budget_helpers import (
    ADMIN,
    DIRECTOR,
    GLOBEX_DIRECTOR,
    HEAD,
    REQUESTER,
    SERVICES,
    WORKER,
    add_budget,
    api_as,
    entries,
    rate_rows,
    tenant,
    unit,
)

URL = "/api/v1/admin/hourly-rates"
GLOBEX_WORKER = "tecnico@globex.test"


def rate_of(model, row_id):
    db.session.rollback()
    return db.session.get(model, row_id).hourly_rate


# --- the page --------------------------------------------------------------------------------

def test_the_admin_sets_rates_typed_in_spanish_and_empty_is_none(demo, browser):
    services, worker = unit(SERVICES), factories.user(WORKER)
    su_id, worker_id = services.id, worker.id
    admin = browser(ADMIN)
    page = admin.get("/budgets/rates").get_data(as_text=True)
    assert f'name="service_units.{su_id}"' in page and f'name="workers.{worker_id}"' in page
    assert DIRECTOR not in page  # a director is not a worker
    response = admin.post("/budgets/rates", {f"service_units.{su_id}": "45.000,50",
                                             f"workers.{worker_id}": "60.000"})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert rate_of(Unit, su_id) == Decimal("45000.50")
    assert rate_of(User, worker_id) == Decimal("60000.00")
    unit_entry, worker_entry = entries("")[-2:]
    assert (unit_entry.action, unit_entry.target_id, unit_entry.before, unit_entry.after) == (
        "unit.rate_changed", su_id, {"hourly_rate": None}, {"hourly_rate": "45000.50"})
    assert (worker_entry.action, worker_entry.before, worker_entry.after) == (
        "user.rate_changed", {"hourly_rate": None}, {"hourly_rate": "60000.00"})
    shown = admin.get("/budgets/rates").get_data(as_text=True)
    assert 'value="45.000,50"' in shown and 'value="60.000,00"' in shown
    count = len(entries(""))
    assert admin.post("/budgets/rates", {f"service_units.{su_id}": "45.000,50",
                                         f"workers.{worker_id}": ""}).status_code == 302
    assert rate_of(User, worker_id) is None
    assert len(entries("")) == count + 1  # only the worker's rate changed
    assert entries("")[-1].after == {"hourly_rate": None}


def test_the_rate_that_applies_is_the_workers_else_the_units(demo):
    services, worker = unit(SERVICES), factories.user(WORKER)
    assert costs.rate_for(worker, services) is None
    services.hourly_rate = Decimal("40000")
    assert costs.rate_for(worker, services) == Decimal("40000")
    worker.hourly_rate = Decimal("55000")
    assert costs.rate_for(worker, services) == Decimal("55000")
    db.session.rollback()


@pytest.mark.parametrize(("typed", "message"), [
    ("-1", "Give an hourly rate of zero or more"),
    ("1e15", "Enter a number"),  # an exponent is refused, not read
    ("10000000000", "Give an hourly rate of zero or more"),
    ("caro", "Enter a number."),
    ("Infinity", "Enter a number."),
])
def test_bad_rates_are_refused_and_nothing_changes(demo, browser, typed, message):
    su_id, worker_id = unit(SERVICES).id, factories.user(WORKER).id
    before, audited = rate_rows(), len(entries(""))
    admin = english(browser(ADMIN))
    response = admin.post("/budgets/rates", {f"service_units.{su_id}": "45000",
                                             f"workers.{worker_id}": typed})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html and f'value="{typed}"' in html  # kept as typed
    assert rate_rows() == before and len(entries("")) == audited


def test_another_companys_or_a_non_workers_id_is_refused(demo, browser):
    globex_unit = unit("Mantenimiento", "globex").id
    outsiders = {f"service_units.{globex_unit}": "1",
                 f"service_units.{unit('Finanzas').id}": "1",  # not a service unit
                 f"workers.{factories.user(GLOBEX_WORKER).id}": "1",
                 f"workers.{factories.user(REQUESTER).id}": "1"}
    before = rate_rows()
    admin = english(browser(ADMIN))
    response = admin.post("/budgets/rates", outsiders)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Not a service unit of the company." in html
    assert "Not a worker of the company." in html
    assert rate_rows() == before


@pytest.mark.parametrize("email", [DIRECTOR, HEAD, REQUESTER, WORKER])
def test_only_tenant_admins_reach_the_rates(demo, browser, email):
    person = browser(email)
    expected = 403 if email == DIRECTOR else 404  # a director has budgets, not rates
    assert person.get("/budgets/rates").status_code == expected
    before = rate_rows()
    assert person.post("/budgets/rates", {f"service_units.{unit(SERVICES).id}": "1"}) \
        .status_code == expected
    assert rate_rows() == before


def test_the_workers_list_pages(demo, browser):
    acme, services = tenant(), unit(SERVICES)
    for n in range(30):
        person = User(tenant_id=acme.id, email=f"w{n:02d}@acme.test", name=f"Aa {n:02d}",
                      password_hash="x")
        db.session.add(person)
        db.session.add(Membership(tenant_id=acme.id, user=person, role="worker",
                                  unit_id=services.id))
    db.session.commit()
    admin = english(browser(ADMIN))
    first = admin.get("/budgets/rates").get_data(as_text=True)
    assert "Page 1 of 2" in first and "w00@acme.test" in first
    second = admin.get("/budgets/rates?page=2").get_data(as_text=True)
    assert WORKER in second and "w00@acme.test" not in second


# --- the API ---------------------------------------------------------------------------------

def test_the_api_reads_and_sets_rates_as_strings_or_numbers(demo, app):
    su_id, worker_id = unit(SERVICES).id, factories.user(WORKER).id
    api = api_as(app, ADMIN)
    got = api.get(URL).json
    assert got["currency"] == "COP"
    assert {"id": su_id, "name": SERVICES, "hourly_rate": None} in got["service_units"]
    assert got["workers"]["total"] == 2
    worker_row = next(w for w in got["workers"]["items"] if w["id"] == worker_id)
    assert worker_row["service_unit_ids"] == [su_id] and worker_row["hourly_rate"] is None
    put = api.put(URL, {"service_units": [{"id": su_id, "hourly_rate": "45000.50"}],
                        "workers": [{"id": worker_id, "hourly_rate": 60000.25}]})
    assert put.status_code == 200, put.json
    assert rate_of(Unit, su_id) == Decimal("45000.50")
    assert rate_of(User, worker_id) == Decimal("60000.25")
    unit_row = next(u for u in put.json["service_units"] if u["id"] == su_id)
    assert unit_row["hourly_rate"] == "45000.50"
    cleared = api.put(URL, {"workers": [{"id": worker_id, "hourly_rate": None}]})
    assert cleared.status_code == 200 and rate_of(User, worker_id) is None
    assert rate_of(Unit, su_id) == Decimal("45000.50")  # not given: kept
    assert [e.action for e in entries("") if e.action.endswith("rate_changed")] == [
        "unit.rate_changed", "user.rate_changed", "user.rate_changed"]


@pytest.mark.parametrize("rate", ["-1", -1, "1e15", 1e15, "12.345", "caro", "NaN", True])
def test_the_api_refuses_bad_rates_by_field_and_changes_nothing(demo, app, rate):
    su_id = unit(SERVICES).id
    before = rate_rows()
    response = api_as(app, ADMIN).put(URL, {"service_units": [{"id": su_id,
                                                               "hourly_rate": rate}]})
    assert response.status_code == 422, response.json
    assert response.content_type == "application/problem+json"
    assert any(key.startswith("service_units") for key in response.json["errors"])
    assert rate_rows() == before


def test_the_api_refuses_unknown_ids_all_at_once(demo, app):
    before = rate_rows()
    globex_unit = unit("Mantenimiento", "globex").id
    response = api_as(app, ADMIN).put(URL, {
        "service_units": [{"id": unit(SERVICES).id, "hourly_rate": "1"},
                          {"id": globex_unit, "hourly_rate": "1"}],
        "workers": [{"id": factories.user(GLOBEX_WORKER).id, "hourly_rate": "1"},
                    {"id": 999999, "hourly_rate": "1"}]})
    assert response.status_code == 422
    assert set(response.json["errors"]) == {
        f"service_units.{globex_unit}", f"workers.{factories.user(GLOBEX_WORKER).id}",
        "workers.999999"}
    assert rate_rows() == before


@pytest.mark.parametrize("email", [DIRECTOR, HEAD, REQUESTER, WORKER, GLOBEX_DIRECTOR])
def test_the_api_rates_are_the_tenant_admins(demo, app, email):
    before = rate_rows()
    api = api_as(app, email)
    assert api.get(URL).status_code == 403
    refused = api.put(URL, {"service_units": [{"id": unit(SERVICES).id, "hourly_rate": "1"}]})
    assert refused.status_code == 403 and refused.content_type == "application/problem+json"
    assert rate_rows() == before


# --- the currency and the over-budget approval settings -------------------------------------

SETTINGS_FORM = {"name": "Acme Industrial S.A.", "locale": "es", "timezone": "America/Bogota",
                 "request_number_prefix": "SOL", "ticket_number_prefix": "TKT",
                 "authorization_reminder_after": "PT48H", "auto_close_after": "P7D",
                 "survey_link_days": "7"}


def test_the_admin_chooses_the_currency_and_the_second_approval(demo, browser):
    add_budget(amount="1500000.50")
    admin = browser(ADMIN)
    page = admin.get("/admin/settings").get_data(as_text=True)
    assert '<option value="COP" selected>' in page and 'name="over_budget_approval"' in page
    response = admin.post("/admin/settings/general", {
        **SETTINGS_FORM, "currency": "USD", "over_budget_approval": "yes"})
    assert response.status_code == 302, response.get_data(as_text=True)
    acme = tenant()
    assert (acme.setting("currency"), acme.setting("over_budget_approval")) == ("USD", True)
    [entry] = entries("settings.")
    assert (entry.before, entry.after) == (
        {"currency": "COP", "over_budget_approval": False},
        {"currency": "USD", "over_budget_approval": True})
    listing = admin.get("/budgets").get_data(as_text=True)
    assert "1.500.000,50" in listing and "US$" in listing
    admin.post("/admin/settings/general", {**SETTINGS_FORM, "currency": "USD"})
    assert tenant().setting("over_budget_approval") is False  # unticked


@pytest.mark.parametrize("code", ["XYZ", "usd1", "", "DOLLARS"])
def test_an_unknown_currency_is_refused_with_a_clear_message(demo, browser, code):
    admin = english(browser(ADMIN))
    response = admin.post("/admin/settings/general", {**SETTINGS_FORM, "currency": code})
    assert response.status_code == 422
    assert "ISO 4217 code of three letters" in response.get_data(as_text=True)
    assert tenant().setting("currency") == "COP" and entries("settings.") == []


def test_the_api_sets_the_currency_and_the_second_approval(demo, app):
    api = api_as(app, ADMIN)
    put = api.put("/api/v1/admin/settings", {"currency": "eur", "over_budget_approval": True})
    assert put.status_code == 200, put.json
    assert (put.json["currency"], put.json["over_budget_approval"]) == ("EUR", True)
    refused = api.put("/api/v1/admin/settings", {"currency": "EURO"})
    assert refused.status_code == 422 and "currency" in refused.json["errors"]
    assert tenant().setting("currency") == "EUR"
