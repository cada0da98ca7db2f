"""Plan limits: each one reached gives the documented answer (a page, JSON for the modeler's
script, problem+json under /api/ with the stable type) and changes nothing; the usage page
and endpoint. A plan's numbers are set small for a test with ``limit_plan`` (the plans are
data; the counting and refusing are the code under test)."""

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.admin.models import AuditEntry
from app.extensions import db
from app.models import (
    ApiToken,
    Category,
    HistoryEvent,
    ProcessDefinition,
    ServiceRequest,
    Tenant,
    User,
)
from app.services import definitions
from app.tenancy import quotas
from app.tenancy.plans import PLANS
from tests import factories

PROBLEM = "https://mesa-de-servicios.org/problems/plan-limit"


def tenant(slug="acme") -> Tenant:
    db.session.rollback()
    return db.session.scalar(select(Tenant).where(Tenant.slug == slug))


def on_plan(plan: str, slug="acme") -> None:
    row = tenant(slug)
    row.plan = plan
    db.session.commit()


@pytest.fixture
def limit_plan(monkeypatch):
    def set_limits(key, **limits):
        monkeypatch.setitem(PLANS, key, dataclasses.replace(PLANS[key], **limits))

    return set_limits


def counts() -> dict:
    db.session.rollback()
    return {model.__name__: db.session.scalar(select(func.count()).select_from(model))
            for model in (ServiceRequest, HistoryEvent, ProcessDefinition, ApiToken,
                          AuditEntry)}


def requests_this_month(slug="acme") -> int:
    return quotas.count(tenant(slug), "requests_per_month")


def new_request_form(category_id) -> dict:
    return {"title": "Revisar el aire", "description": "No enfría la sala 2",
            "category_id": str(category_id), "priority": "normal", "location": "Sala 2"}


def category_id(slug="acme") -> int:
    return db.session.scalar(select(Category.id).join(Tenant).where(Tenant.slug == slug)
                             .order_by(Category.id).limit(1))


# --- requests per month ----------------------------------------------------------------------

def test_filing_past_the_monthly_requests_is_refused_on_the_page(demo, browser, limit_plan):
    used = requests_this_month()
    assert used > 0
    limit_plan("profesional", requests_per_month=used)
    before = counts()
    ana = browser("ana@acme.test")
    page = ana.get("/requests/new")  # the referrer the refusal page links back to
    assert page.status_code == 200
    refused = ana.post("/requests/new", new_request_form(category_id()),
                       headers={"Referer": "http://localhost/requests/new"})
    assert refused.status_code == 403
    text = refused.get_data(as_text=True)
    assert "Plan limit reached" in text or "Límite del plan" in text
    assert f"{used}" in text and 'href="/requests/new"' in text
    assert counts() == before


def test_filing_past_the_monthly_requests_is_refused_over_the_api(demo, api, limit_plan):
    used = requests_this_month()
    limit_plan("profesional", requests_per_month=used + 1)
    client = api("ana@acme.test")
    assert client.post("/api/v1/requests", new_request_form(category_id())).status_code == 201
    before = counts()
    refused = client.post("/api/v1/requests", new_request_form(category_id()))
    assert refused.status_code == 403
    assert refused.content_type == "application/problem+json"
    body = refused.json
    assert (body["type"], body["status"], body["limit"], body["allowed"], body["used"]) == (
        PROBLEM, 403, "requests_per_month", used + 1, used + 1)
    assert body["detail"]
    assert counts() == before


def test_requests_of_earlier_months_do_not_count(demo):
    acme = tenant()
    filed = requests_this_month()
    start = quotas.month_start(acme)
    first = db.session.scalar(select(ServiceRequest).where(ServiceRequest.tenant_id == acme.id)
                              .order_by(ServiceRequest.id).limit(1))
    first.created_at = start - timedelta(seconds=1)
    db.session.commit()
    assert requests_this_month() == filed - 1
    first.created_at = start
    db.session.commit()
    assert requests_this_month() == filed


def test_the_month_starts_at_midnight_in_the_companys_time_zone(demo):
    acme = tenant()
    acme.timezone = "America/Bogota"  # UTC-5
    # 1 March 03:00 UTC is still 28 February in Bogotá: February's month
    start = quotas.month_start(acme, datetime(2026, 3, 1, 3, 0, tzinfo=UTC))
    assert start.astimezone(UTC) == datetime(2026, 2, 1, 5, 0, tzinfo=UTC)
    start = quotas.month_start(acme, datetime(2026, 3, 1, 6, 0, tzinfo=UTC))
    assert start.astimezone(UTC) == datetime(2026, 3, 1, 5, 0, tzinfo=UTC)
    acme.timezone = "Asia/Tokyo"  # UTC+9: 28 Feb 20:00 UTC is already March there
    start = quotas.month_start(acme, datetime(2026, 2, 28, 20, 0, tzinfo=UTC))
    assert start.astimezone(UTC) == datetime(2026, 2, 28, 15, 0, tzinfo=UTC)
    db.session.rollback()


# --- custom processes ------------------------------------------------------------------------

def test_a_new_process_key_past_the_plan_is_refused_over_the_api(demo, api):
    client = api("admin@acme.test")
    assert PLANS["profesional"].custom_processes == 5
    xml = definitions.default_diagram()
    for n in range(5):
        made = client.post(f"/api/v1/processes/compras{n}/versions", {"bpmn_xml": xml})
        assert made.status_code == 201, made.json
    before = counts()
    refused = client.post("/api/v1/processes/compras9/versions", {"bpmn_xml": xml})
    assert refused.status_code == 403
    assert (refused.json["type"], refused.json["limit"], refused.json["allowed"],
            refused.json["used"]) == (PROBLEM, "custom_processes", 5, 5)
    assert counts() == before
    # A new version of a process it has, and of the built-in one, add nothing
    again = client.post("/api/v1/processes/compras0/versions", {"bpmn_xml": xml})
    assert again.status_code == 201 and again.json["version"] == 2
    builtin = client.post("/api/v1/processes/service_request/versions", {"bpmn_xml": xml})
    assert builtin.status_code == 201


def test_a_new_process_key_past_the_plan_is_refused_in_the_modeler(demo, browser, limit_plan):
    from tests.views.test_modeler import DEPLOY, Owner

    limit_plan("profesional", custom_processes=0)
    owner = Owner(browser, "admin@acme.test")
    before = counts()
    refused = owner.post(DEPLOY.format(key="compras"), {"xml": definitions.default_diagram(),
                                                        "note": ""})
    assert refused.status_code == 403
    assert refused.json["type"] == PROBLEM and refused.json["limit"] == "custom_processes"
    assert "processes of its own" in refused.json["error"] or refused.json["error"]
    assert counts() == before
    ok = owner.post(DEPLOY.format(key="service_request"),
                    {"xml": definitions.default_diagram(), "note": ""})
    assert ok.status_code == 200, ok.json


def test_custom_processes_are_the_keys_other_than_the_built_in_ones(demo):
    acme = tenant()
    # the product's own diagrams: the default and the catalog's templates (processes/*.bpmn)
    assert {"service_request", "incident"} <= quotas.builtin_process_keys()
    assert quotas.count(acme, "custom_processes") == 0
    definitions.deploy(acme.id, definitions.default_diagram(), process_key="compras")
    definitions.deploy(acme.id, definitions.default_diagram(), process_key="compras")
    assert quotas.count(acme, "custom_processes") == 1
    db.session.rollback()


# --- API access ------------------------------------------------------------------------------

def test_a_plan_without_api_access_refuses_tokens_and_calls(demo, api, browser):
    client = api("ana@acme.test")  # a token issued while the plan had the API
    on_plan("basico")
    before = counts()
    for answer in (client.get("/api/v1/me"), client.get("/api/v1/requests"),
                   client.post("/api/v1/requests", new_request_form(category_id())),
                   api().post("/api/v1/tokens", {"email": "ana@acme.test",
                                                 "password": "demo1234"})):
        assert answer.status_code == 403, answer.json
        assert answer.content_type == "application/problem+json"
        assert (answer.json["type"], answer.json["limit"]) == (PROBLEM, "api_access")
    assert counts() == before

    ana = browser("ana@acme.test")
    refused = ana.post("/account/tokens", {"name": "script", "days": "90"})
    assert refused.status_code == 403
    assert "API" in refused.get_data(as_text=True)
    assert counts() == before

    on_plan("profesional")  # the token works again: nothing was lost
    assert client.get("/api/v1/me").status_code == 200


def test_globex_keeps_its_api_when_acme_loses_it(demo, api):
    on_plan("basico", "acme")
    assert api("pedro@globex.test").get("/api/v1/me").status_code == 200


# --- active users ----------------------------------------------------------------------------

def test_require_active_users(demo, limit_plan):
    acme = tenant()
    active = quotas.count(acme, "active_users")
    assert active == db.session.scalar(select(func.count(User.id)).where(
        User.tenant_id == acme.id, User.active.is_(True)))
    limit_plan("profesional", active_users=active + 2)
    quotas.require(acme.id, "active_users", adding=2)
    with pytest.raises(quotas.QuotaExceeded) as raised:
        quotas.require(acme.id, "active_users", adding=3)
    assert (raised.value.limit, raised.value.allowed, raised.value.used) == (
        "active_users", active + 2, active)
    assert raised.value.problem_body()["type"] == PROBLEM
    assert str(active + 2) in raised.value.message
    # Deactivated people do not count
    someone = db.session.scalar(select(User).where(User.email == "luis@acme.test"))
    someone.active = False
    db.session.flush()
    quotas.require(acme.id, "active_users", adding=3)
    db.session.rollback()
    limit_plan("profesional", active_users=None)  # unlimited
    quotas.require(acme.id, "active_users", adding=10**6)


def test_unknown_limits_are_a_programming_error(demo):
    with pytest.raises(KeyError):
        quotas.require(tenant().id, "seats")


# --- usage against the plan ------------------------------------------------------------------

def test_the_plan_page_shows_usage_against_each_limit(demo, browser):
    factories.file()
    page = browser("admin@acme.test").get("/admin/plan")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    acme = tenant()
    usage = quotas.usage(acme)
    assert f"<td>{usage['active_users']['used']}</td>" in text
    assert f"<td>{usage['requests_per_month']['used']}</td>" in text
    assert "250" in text and "5000" in text
    assert browser("ana@acme.test").get("/admin/plan").status_code == 404
    assert browser().get("/admin/plan").status_code == 302  # to the login


def test_the_plan_endpoint(demo, api):
    on_plan("basico", "globex")
    body = api("admin@acme.test").get("/api/v1/admin/plan").json
    acme = tenant()
    assert body["plan"] == "profesional" and body["status"] == "active"
    assert body["usage"]["active_users"] == {
        "used": quotas.count(acme, "active_users"), "allowed": 250, "over": False}
    assert body["usage"]["requests_per_month"]["allowed"] == 5000
    assert body["usage"]["custom_processes"] == {"used": 0, "allowed": 5, "over": False}
    assert body["usage"]["storage_mb"] == {"used": 0, "allowed": 20 * 1024, "over": False}
    assert body["usage"]["api_access"] == {"used": None, "allowed": True, "over": False}
    assert api("ana@acme.test").get("/api/v1/admin/plan").status_code == 404
    assert api().get("/api/v1/admin/plan").status_code == 401


def test_the_plan_endpoint_is_in_the_openapi_document(app):
    spec = app.test_client().get("/api/v1/openapi.json").json
    assert "/api/v1/admin/plan" in spec["paths"]
