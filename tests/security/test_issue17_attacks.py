"""Attacks on issue 17's catalog of ready processes (the catalog and its adoption, the incident
priority matrix, recurring requests, classification rules and workers' skills, the learned
suggestion, teams and the change board, checklists and the security report, the survey link):
each test is one class of attempt by a hostile tenant user or an outsider, with its variants.
It passes when every attempt is refused cleanly (a clear 4xx, never a 500, nothing stored or
changed), when nothing of another company (or another person) is reached or shown, and when
no input makes a worker do unbounded work.

A test marked ``xfail(strict=True)`` is a bug found: its reason gives the input and what was
expected; the fix removes the mark."""

import os
import threading
import time

import pytest
from sqlalchemy import func, select

from app.admin.models import AuditEntry
from app.extensions import db
from app.models import Category, Membership, ProcessDefinition, ProcessDraft, Tenant, Unit, User
from tests.api.conftest import ApiClient

ADMIN = "admin@acme.test"
DIRECTOR = "director@acme.test"
REQUESTER = "ana@acme.test"
HEAD = "jefe.finanzas@acme.test"
WORKER = "tecnico1@acme.test"
WORKER2 = "tecnico2@acme.test"
GLOBEX_ADMIN = "admin@globex.test"
GLOBEX = ("pedro@globex.test", "director@globex.test", "tecnico@globex.test", GLOBEX_ADMIN)
NOT_ADMINS = (REQUESTER, HEAD, WORKER, DIRECTOR)
SCRIPT = "<script>alert(1)</script>"
POSTGRESQL = "postgresql" in (os.environ.get("TEST_DATABASE_URL") or "")
POSTGRESQL_ONLY = pytest.mark.skipif(
    not POSTGRESQL, reason="SQLite takes one writer at a time: the interleaving cannot happen")


@pytest.fixture
def world(demo):
    """The demo plus a tenant admin (and process owner) in Globex, so both companies have
    someone allowed to use every admin page: what one of them reaches of the other is the
    attack."""
    globex = db.session.scalar(select(Tenant).where(Tenant.slug == "globex"))
    acme = db.session.scalar(select(Tenant).where(Tenant.slug == "acme"))
    admin = User(tenant_id=globex.id, email=GLOBEX_ADMIN, name="Admin Globex",
                 password_hash=demo.user(ADMIN).password_hash)
    db.session.add(admin)
    db.session.flush()
    for role in ("tenant_admin", "process_owner"):
        db.session.add(Membership(tenant_id=globex.id, user_id=admin.id, role=role))
    db.session.commit()

    class World:
        user = staticmethod(demo.user)

        def __init__(self):
            self.acme_id, self.globex_id = acme.id, globex.id

        def category(self, tenant_id, name=None):
            stmt = select(Category).where(Category.tenant_id == tenant_id).order_by(Category.id)
            if name:
                stmt = stmt.where(Category.name == name)
            return db.session.scalars(stmt).first()

        def unit(self, tenant_id, service=False):
            return db.session.scalars(select(Unit).where(
                Unit.tenant_id == tenant_id, Unit.is_service_unit.is_(service))
                .order_by(Unit.id)).first()

    return World()


@pytest.fixture
def api(app):
    cache = {}

    def make(email: str) -> ApiClient:
        if email not in cache:
            client = ApiClient(app)
            response = client.post("/api/v1/tokens", {"email": email, "password": "demo1234"})
            assert response.status_code == 201, response.json
            client.token = response.json["token"]
            cache[email] = client
        return cache[email]

    return make


def audit_count() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action.not_like("api_token.%"), AuditEntry.action.not_like("session.%"),
        AuditEntry.action.not_like("login%")))


def count(model, **where) -> int:
    db.session.rollback()
    stmt = select(func.count()).select_from(model)
    for name, value in where.items():
        stmt = stmt.where(getattr(model, name) == value)
    return db.session.scalar(stmt)


def clean_refusal(response, *allowed):
    allowed = allowed or (400, 403, 404, 405, 409, 422)
    assert response.status_code in allowed, (response.status_code,
                                             response.get_data(as_text=True)[:400])
    return response


def tenant_settings(slug="acme") -> dict:
    db.session.rollback()
    return dict(db.session.scalar(select(Tenant).where(Tenant.slug == slug)).settings or {})


def fresh_api(app, email: str) -> ApiClient:
    """A client of its own (threads must not share one)."""
    client = ApiClient(app)
    response = client.post("/api/v1/tokens", {"email": email, "password": "demo1234"})
    assert response.status_code == 201, response.json
    client.token = response.json["token"]
    return client


# === the process catalog ======================================================================

CATALOG_ENDPOINTS = (("GET", "/api/v1/processes/catalog", None),
                     ("POST", "/api/v1/processes/catalog/incident/adopt", {}),
                     ("GET", "/api/v1/processes/priority-matrix", None),
                     ("PUT", "/api/v1/processes/priority-matrix",
                      {"matrix": {"high": {"high": "low"}}}))


@pytest.mark.parametrize("email", [*NOT_ADMINS, "pedro@globex.test", "director@globex.test"])
def test_only_process_owners_reach_the_catalog_and_the_matrix(world, api, email):
    client = api(email)
    before = (count(ProcessDraft), count(ProcessDefinition), audit_count(), tenant_settings())
    for method, url, body in CATALOG_ENDPOINTS:
        response = client.request(method, url, json=body)
        assert response.status_code == 403, (email, method, url, response.status_code)
    assert (count(ProcessDraft), count(ProcessDefinition), audit_count(),
            tenant_settings()) == before


@pytest.mark.parametrize("email", [REQUESTER, WORKER, DIRECTOR, HEAD])
def test_catalog_pages_refuse_other_roles(world, browser, email):
    page = browser(email)
    before = (count(ProcessDraft), count(ProcessDefinition), tenant_settings())
    for url in ("/processes/catalog/incident/preview", "/processes/catalog/incident/diagram.json",
                "/processes/priority-matrix"):
        clean_refusal(page.get(url), 302, 403, 404)
    for url, data in (("/processes/catalog/incident/adopt", {"deploy": "1"}),
                      ("/processes/priority-matrix", {"m-high-high": "low"}),
                      ("/processes/priority-matrix/fields", {"category_id": "1"})):
        clean_refusal(page.post(url, data), 302, 403, 404)
    assert (count(ProcessDraft), count(ProcessDefinition), tenant_settings()) == before


BAD_TEMPLATE_KEYS = ["../incident", "..%2Fincident", "incident.bpmn", "../../etc/passwd",
                     "%2e%2e%2fincident", "INCIDENT", "incident%00", "incident ", "x" * 2000,
                     "incidént", "service_request%2F..%2Fincident", "__init__", "BY_KEY",
                     "processes", "incident;", "get", "TEMPLATES"]


@pytest.mark.parametrize("key", BAD_TEMPLATE_KEYS)
def test_template_keys_that_are_no_template_are_not_found(world, api, browser, key):
    before = (count(ProcessDraft), count(ProcessDefinition), audit_count())
    clean_refusal(api(ADMIN).post(f"/api/v1/processes/catalog/{key}/adopt", {}), 404, 405)
    page = browser(ADMIN)
    clean_refusal(page.post(f"/processes/catalog/{key}/adopt", {}), 404, 405)
    clean_refusal(page.get(f"/processes/catalog/{key}/preview"), 404)
    clean_refusal(page.get(f"/processes/catalog/{key}/diagram.json"), 404)
    assert (count(ProcessDraft), count(ProcessDefinition), audit_count()) == before


BAD_PROCESS_KEYS = ["../x", "a", "a" * 81, "1abc", "abc def", "abc;drop table x", "ñandu",
                    "_abc", "abc-def", "abc/def", "abc\x00", "\u0131ncident", "ａｂｃ",
                    "abc\u200b", "x\ny", 12, ["incident"], {"a": 1}, True, "   "]


@pytest.mark.parametrize("process_key", BAD_PROCESS_KEYS)
def test_bad_process_keys_on_adopt_are_refused(world, api, process_key):
    before = (count(ProcessDraft), count(ProcessDefinition), audit_count())
    response = api(ADMIN).post("/api/v1/processes/catalog/incident/adopt",
                               {"process_key": process_key})
    clean_refusal(response, 400, 422)
    assert (count(ProcessDraft), count(ProcessDefinition), audit_count()) == before


def test_adopting_under_a_taken_key_never_overwrites_what_the_company_has(world, api):
    client = api(ADMIN)
    assert client.post("/api/v1/processes/catalog/incident/adopt",
                       {"deploy": True}).status_code == 201
    versions = count(ProcessDefinition)
    for template, key in (("incident", None), ("change_request", "incident"),
                          ("incident", "service_request"), ("security_incident", "INCIDENT"),
                          ("incident", " incident "), ("change_request", "incident\n")):
        response = client.post(f"/api/v1/processes/catalog/{template}/adopt",
                               {"process_key": key, "deploy": True})
        assert response.status_code in (409, 422), (template, key, response.status_code)
    assert count(ProcessDefinition) == versions
    assert count(ProcessDraft) == 0


def test_another_company_adopting_the_same_key_is_its_own(world, api):
    assert api(ADMIN).post("/api/v1/processes/catalog/incident/adopt", {}).status_code == 201
    response = api(GLOBEX_ADMIN).post("/api/v1/processes/catalog/incident/adopt", {})
    assert response.status_code == 201
    catalog = api(GLOBEX_ADMIN).get("/api/v1/processes/catalog").json
    assert {t["key"]: t["taken"] for t in catalog}["change_request"] is False


def test_adopt_and_matrix_forms_need_the_csrf_token(world, browser):
    page = browser(ADMIN)
    before = (count(ProcessDraft), count(ProcessDefinition), tenant_settings())
    for url, data in (("/processes/catalog/incident/adopt", {"deploy": "1"}),
                      ("/processes/priority-matrix", {"m-high-high": "low"}),
                      ("/processes/priority-matrix/fields", {"category_id": "1"})):
        response = page.post(url, {**data, "csrf_token": ""})
        assert response.status_code == 400, url
        response = page.post(url, {**data, "csrf_token": "forged" + (page.token or "")[6:]})
        assert response.status_code == 400, url
    assert (count(ProcessDraft), count(ProcessDefinition), tenant_settings()) == before


BAD_MATRICES = {
    "a list": {"matrix": [["urgent"]]},
    "a string": {"matrix": "urgent"},
    "a missing cell": {"matrix": {"high": {"high": "urgent", "medium": "high"}}},
    "an unknown priority": {"matrix": {i: {u: "critical" for u in ("high", "medium", "low")}
                                       for i in ("high", "medium", "low")}},
    "a script as a cell": {"matrix": {i: {u: SCRIPT for u in ("high", "medium", "low")}
                                      for i in ("high", "medium", "low")}},
    "an extra impact": {"matrix": {i: {u: "low" for u in ("high", "medium", "low")}
                                   for i in ("high", "medium", "low", "x" * 10000)}},
    "a nested cell": {"matrix": {i: {u: {"a": "low"} for u in ("high", "medium", "low")}
                                 for i in ("high", "medium", "low")}},
    "a null cell": {"matrix": {i: {u: None for u in ("high", "medium", "low")}
                               for i in ("high", "medium", "low")}},
    "a zero duration": {"escalation_after": {"urgent": "PT0S", "high": "PT4H",
                                             "normal": "PT8H", "low": "PT24H"}},
    "a second": {"escalation_after": {"urgent": "PT1S", "high": "PT4H", "normal": "PT8H",
                                      "low": "PT24H"}},
    "negative": {"escalation_after": {"urgent": "-PT1H", "high": "PT4H", "normal": "PT8H",
                                      "low": "PT24H"}},
    "a thousand centuries": {"escalation_after": {"urgent": "P99999999999999Y", "high": "PT4H",
                                                  "normal": "PT8H", "low": "PT24H"}},
    "a huge number of seconds": {"escalation_after": {"urgent": "PT" + "9" * 5000 + "S",
                                                      "high": "PT4H", "normal": "PT8H",
                                                      "low": "PT24H"}},
    "fractional": {"escalation_after": {"urgent": "PT0.5H", "high": "PT4H", "normal": "PT8H",
                                        "low": "PT24H"}},
    "fullwidth digits": {"escalation_after": {"urgent": "PT\uff11H", "high": "PT4H",
                                              "normal": "PT8H", "low": "PT24H"}},
    "arabic-indic digits": {"escalation_after": {"urgent": "PT\u0661H", "high": "PT4H",
                                                 "normal": "PT8H", "low": "PT24H"}},
    "a repeating interval": {"escalation_after": {"urgent": "R5/PT1H", "high": "PT4H",
                                                  "normal": "PT8H", "low": "PT24H"}},
    "a date": {"escalation_after": {"urgent": "2030-01-01T00:00:00Z", "high": "PT4H",
                                    "normal": "PT8H", "low": "PT24H"}},
    "an expression": {"escalation_after": {"urgent": "__import__('os')", "high": "PT4H",
                                           "normal": "PT8H", "low": "PT24H"}},
    "a newline": {"escalation_after": {"urgent": "PT1H\n", "high": "PT4H\nPT1S",
                                       "normal": "PT8H", "low": "PT24H"}},
    "an unknown escalation priority": {"escalation_after": {"urgent": "PT1H", "high": "PT4H",
                                                 "normal": "PT8H", "low": "PT24H",
                                                 "critical": "PT1M"}},
    "a list of durations": {"escalation_after": ["PT1H"]},
}


@pytest.mark.parametrize("name", list(BAD_MATRICES))
def test_a_bad_matrix_or_escalation_is_refused_and_nothing_saved(world, api, name):
    before = (tenant_settings(), audit_count())
    response = api(ADMIN).put("/api/v1/processes/priority-matrix", BAD_MATRICES[name])
    clean_refusal(response, 422)
    assert (tenant_settings(), audit_count()) == before, name


def test_the_matrix_page_refuses_bad_cells_and_saves_nothing(world, browser):
    page = browser(ADMIN)
    before = tenant_settings()
    sent = {f"m-{i}-{u}": "urgent" for i in ("high", "medium", "low")
            for u in ("high", "medium", "low")}
    for bad in ({"m-high-high": "critical"}, {"m-low-low": SCRIPT}, {"e-urgent": "PT0S"},
                {"e-low": "P" + "9" * 3000 + "D"}, {"e-high": "PT\u0661H"}):
        response = page.post("/processes/priority-matrix", {**sent, **bad})
        assert response.status_code == 422, bad
        assert SCRIPT not in response.get_data(as_text=True)
    assert tenant_settings() == before


def test_adding_impact_and_urgency_to_another_companys_category_is_not_found(world, browser):
    theirs = world.category(world.globex_id)
    fields_before = list(theirs.request_fields or [])
    page = browser(ADMIN)
    for value in (theirs.id, "0", "-1", "99999999999999999999", "abc", "", "1 OR 1=1"):
        response = page.post("/processes/priority-matrix/fields", {"category_id": value})
        clean_refusal(response, 404)
    db.session.rollback()
    assert list(db.session.get(Category, theirs.id).request_fields or []) == fields_before


@POSTGRESQL_ONLY
@pytest.mark.parametrize("deploy", [True, False])
def test_two_simultaneous_adoptions_of_one_key_make_one_process(world, app, deploy):
    """Both passed the 'key taken' check before either committed: the second deployed its
    template as version 2 over the first (or replaced its draft), both answered 201."""
    from app.process_catalog.adoption import AdoptError  # noqa: F401 (the refusal's kind)

    for template in ("incident", "change_request"):
        results = _at_once(app, ADMIN, [
            ("POST", "/api/v1/processes/catalog/incident/adopt", {"deploy": deploy}),
            ("POST", f"/api/v1/processes/catalog/{template}/adopt",
             {"deploy": deploy, "process_key": "incident"})])
        assert results == [201, 409], (template, results)
        assert count(ProcessDefinition, process_key="incident") == (1 if deploy else 0)
        assert count(ProcessDraft, process_key="incident") == (0 if deploy else 1)
        db.session.rollback()
        db.session.execute(ProcessDefinition.__table__.delete().where(
            ProcessDefinition.process_key == "incident"))
        db.session.execute(ProcessDraft.__table__.delete().where(
            ProcessDraft.process_key == "incident"))
        db.session.commit()


# === recurring requests =========================================================================

def schedule_body(world, **changes) -> dict:
    body = {"title": "Limpieza mensual del almacén", "description": "Barrer y ordenar el almacén",
            "category_id": world.category(world.acme_id, "Limpieza").id,
            "requester_id": world.user(REQUESTER).id,
            "rrule": "FREQ=MONTHLY;BYDAY=1MO;BYHOUR=9"}
    body.update(changes)
    return {k: v for k, v in body.items() if v is not ...}


def schedules_state():
    from app.recurring.models import RecurringOccurrence, RecurringSchedule

    db.session.rollback()
    rows = db.session.scalars(select(RecurringSchedule).order_by(RecurringSchedule.id))
    return ([(r.id, r.title, r.rule, r.category_id, r.requester_id, r.paused, r.deleted_at,
              r.next_at, r.starts_on, r.ends_on) for r in rows],
            count(RecurringOccurrence), audit_count())


@pytest.fixture
def acme_schedule(world, api):
    response = api(ADMIN).post("/api/v1/admin/recurring", schedule_body(world))
    assert response.status_code == 201, response.json
    return response.json["id"]


@pytest.mark.parametrize("email", [REQUESTER, HEAD, WORKER, "pedro@globex.test"])
def test_people_who_schedule_nothing_are_refused_everywhere(world, api, browser, acme_schedule,
                                                            email):
    before = schedules_state()
    client = api(email)
    for method, url, body in (
            ("GET", "/api/v1/admin/recurring", None),
            ("POST", "/api/v1/admin/recurring", schedule_body(world)),
            ("POST", "/api/v1/admin/recurring/preview", {"rrule": "FREQ=DAILY"}),
            ("GET", f"/api/v1/admin/recurring/{acme_schedule}", None),
            ("PATCH", f"/api/v1/admin/recurring/{acme_schedule}", {"title": "Mío"}),
            ("PUT", f"/api/v1/admin/recurring/{acme_schedule}", schedule_body(world)),
            ("POST", f"/api/v1/admin/recurring/{acme_schedule}/pause", None),
            ("POST", f"/api/v1/admin/recurring/{acme_schedule}/resume", None),
            ("DELETE", f"/api/v1/admin/recurring/{acme_schedule}", None)):
        response = client.request(method, url, json=body)
        assert response.status_code in (403, 404), (email, method, url, response.status_code)
    page = browser(email)
    for url in ("/recurring", "/recurring/new", f"/recurring/{acme_schedule}",
                f"/recurring/{acme_schedule}/edit"):
        clean_refusal(page.get(url), 302, 403, 404)
    for url in (f"/recurring/{acme_schedule}/pause", f"/recurring/{acme_schedule}/delete",
                f"/recurring/{acme_schedule}/edit", "/recurring/new"):
        clean_refusal(page.post(url, {"title": "x", "mode": "rrule", "rrule": "FREQ=DAILY"}),
                      302, 403, 404)
    assert schedules_state() == before


@pytest.mark.parametrize("email", ["director@globex.test", GLOBEX_ADMIN])
def test_another_companys_scheduler_finds_no_schedule_of_ours(world, api, browser,
                                                             acme_schedule, email):
    before = schedules_state()
    client = api(email)
    listed = client.get("/api/v1/admin/recurring")
    assert listed.status_code == 200 and listed.json["items"] == []
    for method, url, body in (
            ("GET", f"/api/v1/admin/recurring/{acme_schedule}", None),
            ("PATCH", f"/api/v1/admin/recurring/{acme_schedule}", {"title": "Mío"}),
            ("PUT", f"/api/v1/admin/recurring/{acme_schedule}", schedule_body(world)),
            ("POST", f"/api/v1/admin/recurring/{acme_schedule}/pause", None),
            ("POST", f"/api/v1/admin/recurring/{acme_schedule}/resume", None),
            ("DELETE", f"/api/v1/admin/recurring/{acme_schedule}", None)):
        response = client.request(method, url, json=body)
        assert response.status_code == 404, (email, method, url, response.status_code)
    page = browser(email)
    for url in (f"/recurring/{acme_schedule}", f"/recurring/{acme_schedule}/edit"):
        clean_refusal(page.get(url), 404)
    for url in (f"/recurring/{acme_schedule}/pause", f"/recurring/{acme_schedule}/delete",
                f"/recurring/{acme_schedule}/edit"):
        clean_refusal(page.post(url, {"title": "Mío"}), 404)
    assert schedules_state() == before


def test_a_schedule_cannot_name_another_companys_category_or_requester(world, api, browser):
    before = schedules_state()
    theirs_category = world.category(world.globex_id).id
    theirs_person = world.user("pedro@globex.test").id
    inactive = world.user("luis@acme.test")
    inactive.active = False
    db.session.commit()
    client = api(ADMIN)
    for changes in ({"category_id": theirs_category}, {"requester_id": theirs_person},
                    {"requester_id": world.user("director@globex.test").id},
                    {"requester_id": inactive.id}, {"category_id": 2**31 - 1},
                    {"requester_id": 0}, {"category_id": -1}, {"requester_id": 2**63},
                    {"category_id": "1 OR 1=1"}, {"requester_id": None}):
        response = client.post("/api/v1/admin/recurring", schedule_body(world, **changes))
        clean_refusal(response, 422)
    page = browser(ADMIN)
    for changes in ({"category_id": str(theirs_category)}, {"requester_id": str(theirs_person)},
                    {"category_id": "\u00b2"}, {"requester_id": "\u00b9"},
                    {"category_id": "\u0661"}, {"requester_id": "9" * 30}):
        form = {"title": "Limpieza", "description": "Barrer y ordenar", "mode": "rrule",
                "rrule": "FREQ=MONTHLY;BYDAY=1MO;BYHOUR=9", "starts_on": "2030-01-01",
                "category_id": str(world.category(world.acme_id, "Limpieza").id),
                "requester_id": str(world.user(REQUESTER).id), **changes}
        clean_refusal(page.post("/recurring/new", form), 422)
    assert schedules_state() == before


def test_changing_a_schedule_to_another_companys_category_or_person_changes_nothing(
        world, api, acme_schedule):
    before = schedules_state()
    client = api(ADMIN)
    for changes in ({"category_id": world.category(world.globex_id).id},
                    {"requester_id": world.user("pedro@globex.test").id},
                    {"fields": {"x" * 100: SCRIPT}}, {"fields": {"a": {"b": {"c": []}}}}):
        response = client.patch(f"/api/v1/admin/recurring/{acme_schedule}", changes)
        clean_refusal(response, 422)
    assert schedules_state() == before


BAD_RULES = {
    "DTSTART in the rule": "DTSTART=19700101T000000;FREQ=DAILY",
    "a DTSTART line before": "DTSTART:19700101T000000\nRRULE:FREQ=DAILY",
    "a DTSTART line after": "FREQ=DAILY\nDTSTART:19700101T000000",
    "a second rule line": "FREQ=DAILY\nRRULE:FREQ=MINUTELY",
    "an EXRULE line": "FREQ=DAILY\r\nEXRULE:FREQ=DAILY",
    "an RDATE line": "FREQ=YEARLY\nRDATE:20300101T000000",
    "a TZID": "FREQ=DAILY;TZID=Mars/Olympus",
    "UNTIL far away": "FREQ=DAILY;UNTIL=99991231T235959Z",
    "UNTIL in the past": "FREQ=DAILY;UNTIL=19700101T000000Z",
    "secondly": "FREQ=SECONDLY",
    "BYSECOND": "FREQ=MINUTELY;INTERVAL=15;BYSECOND=0,1,2,3,4,5,6,7,8,9",
    "every minute": "FREQ=MINUTELY",
    "every 14 minutes": "FREQ=MINUTELY;INTERVAL=14",
    "hourly twice a minute apart": "FREQ=HOURLY;BYMINUTE=0,1",
    "daily every minute of the day": "FREQ=DAILY;BYHOUR=" + ",".join(map(str, range(24)))
                                     + ";BYMINUTE=" + ",".join(map(str, range(60))),
    "COUNT of a billion": "FREQ=DAILY;COUNT=1000000000",
    "COUNT of 10^30": "FREQ=DAILY;COUNT=" + "1" + "0" * 30,
    "COUNT zero": "FREQ=DAILY;COUNT=0",
    "negative interval": "FREQ=DAILY;INTERVAL=-1",
    "zero interval": "FREQ=DAILY;INTERVAL=0",
    "a huge interval": "FREQ=DAILY;INTERVAL=" + "9" * 5000,
    "unicode digits": "FREQ=DAILY;INTERVAL=\u0662",
    "fullwidth digits": "FREQ=DAILY;BYHOUR=\uff19",
    "superscript digits": "FREQ=DAILY;BYHOUR=\u00b2",
    "ten thousand characters": "FREQ=DAILY;" + "BYHOUR=1;" * 1100,
    "a thousand parts": "FREQ=DAILY;" + ";" * 1000,
    "BYSETPOS": "FREQ=MONTHLY;BYDAY=MO,TU;BYSETPOS=-1",
    "BYYEARDAY": "FREQ=YEARLY;BYYEARDAY=366",
    "BYWEEKNO": "FREQ=YEARLY;BYWEEKNO=53;BYDAY=MO",
    "the 30th of February": "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
    "the 31st of February and April": "FREQ=YEARLY;BYMONTH=2,4;BYMONTHDAY=31",
    "an unknown frequency": "FREQ=FORTNIGHTLY",
    "no frequency": "BYHOUR=9",
    "FREQ twice": "FREQ=YEARLY;FREQ=MINUTELY",
    "a lowercase trick": "freq=minutely",
    "a day 6MO": "FREQ=MONTHLY;BYDAY=6MO",
    "a day 0MO": "FREQ=MONTHLY;BYDAY=0MO",
    "a month 13": "FREQ=YEARLY;BYMONTH=13;BYMONTHDAY=1",
    "an hour 24": "FREQ=DAILY;BYHOUR=24",
    "a minute 60": "FREQ=DAILY;BYMINUTE=60",
    "a script": "FREQ=DAILY;" + SCRIPT,
    "python": "__import__('os').system('id')",
    "NUL": "FREQ=DAILY\x00;BYHOUR=1",
    "only RRULE:": "RRULE:",
    "empty": "",
    "spaces": "   ",
    "a number": 5,
    "a list": ["FREQ=DAILY"],
    "an object": {"FREQ": "DAILY"},
    "null": None,
}


@pytest.mark.parametrize("name", list(BAD_RULES))
def test_hostile_recurrence_rules_are_refused_on_create_and_preview(world, api, name):
    before = schedules_state()
    client = api(ADMIN)
    body = schedule_body(world, rrule=BAD_RULES[name])
    response = client.post("/api/v1/admin/recurring", body)
    clean_refusal(response, 400, 422)
    response = client.post("/api/v1/admin/recurring/preview", {"rrule": BAD_RULES[name]})
    clean_refusal(response, 400, 422)
    assert schedules_state() == before


@pytest.mark.parametrize("name", ["DTSTART in the rule", "a DTSTART line after", "secondly",
                                  "COUNT of a billion", "unicode digits", "superscript digits",
                                  "ten thousand characters", "the 30th of February",
                                  "NUL", "a script"])
def test_hostile_rules_on_the_page_are_refused(world, browser, name):
    before = schedules_state()
    page = browser(ADMIN)
    form = {"title": "Limpieza", "description": "Barrer y ordenar", "mode": "rrule",
            "rrule": BAD_RULES[name], "starts_on": "2030-01-01",
            "category_id": str(world.category(world.acme_id, "Limpieza").id),
            "requester_id": str(world.user(REQUESTER).id)}
    response = clean_refusal(page.post("/recurring/new", form), 400, 422)
    assert SCRIPT not in response.get_data(as_text=True)
    assert schedules_state() == before


BAD_DATES = [
    {"starts_on": "9999-12-31"},
    {"starts_on": "9999-12-31", "ends_on": "9999-12-31"},
    {"starts_on": "2030-01-01", "ends_on": "9999-12-31"},
    {"starts_on": "9990-02-29"},
    {"starts_on": "9995-06-01"},
    {"starts_on": "0001-01-01"},
    {"starts_on": "1970-01-01"},
    {"starts_on": "2030-01-01", "ends_on": "2029-12-31"},
    {"starts_on": "2030-13-01"},
    {"starts_on": "2030-02-30"},
    {"starts_on": "+2030-01-01"},
    {"starts_on": "2030-01-01T00:00:00"},
    {"ends_on": "0001-01-01"},
]


@pytest.mark.parametrize("dates", BAD_DATES, ids=[str(d) for d in BAD_DATES])
def test_far_or_odd_start_and_end_dates_are_a_clean_answer(world, api, browser, dates):
    before = schedules_state()
    client = api(ADMIN)
    response = client.post("/api/v1/admin/recurring", schedule_body(world, **dates))
    clean_refusal(response, 422)
    response = client.post("/api/v1/admin/recurring/preview",
                           {"rrule": "FREQ=MONTHLY;BYDAY=1MO;BYHOUR=9", **dates})
    clean_refusal(response, 422)
    page = browser(ADMIN)
    form = {"title": "Limpieza", "description": "Barrer y ordenar", "mode": "rrule",
            "rrule": "FREQ=MONTHLY;BYDAY=1MO;BYHOUR=9",
            "category_id": str(world.category(world.acme_id, "Limpieza").id),
            "requester_id": str(world.user(REQUESTER).id), **dates}
    clean_refusal(page.post("/recurring/new", form), 422)
    assert schedules_state() == before


def test_rules_busier_together_than_the_plans_monthly_requests_are_refused(world, api):
    """No single rule can pass 2,976 a month (every 15 minutes): the plan (Professional,
    5,000 a month) is passed by the company's schedules together."""
    acme = db.session.get(Tenant, world.acme_id)
    acme.plan = "profesional"
    db.session.commit()
    client = api(ADMIN)
    first = client.post("/api/v1/admin/recurring",
                        schedule_body(world, rrule="FREQ=MINUTELY;INTERVAL=15"))
    assert first.status_code == 201
    before = schedules_state()
    for rule in ("FREQ=MINUTELY;INTERVAL=15", "FREQ=MINUTELY;INTERVAL=20",
                 "FREQ=DAILY;BYHOUR=" + ",".join(map(str, range(24)))
                 + ";BYMINUTE=0,15,30,45"):
        response = client.post("/api/v1/admin/recurring", schedule_body(world, rrule=rule))
        clean_refusal(response, 422)
    # nor by turning a quiet schedule into a busy one
    quiet = client.post("/api/v1/admin/recurring", schedule_body(world, title="Mensual"))
    assert quiet.status_code == 201
    before = schedules_state()
    response = client.patch(f"/api/v1/admin/recurring/{quiet.json['id']}",
                            {"rrule": "FREQ=MINUTELY;INTERVAL=15"})
    clean_refusal(response, 422)
    assert schedules_state() == before


def test_recurring_forms_need_the_csrf_token(world, browser, acme_schedule):
    page = browser(ADMIN)
    before = schedules_state()
    for url in (f"/recurring/{acme_schedule}/pause", f"/recurring/{acme_schedule}/delete",
                f"/recurring/{acme_schedule}/edit", "/recurring/new"):
        assert page.post(url, {"csrf_token": "", "title": "Otro"}).status_code == 400, url
    assert schedules_state() == before


def test_a_rule_check_stays_bounded_for_the_slowest_shapes(world, api):
    """Rules whose next occurrence is years away (the 5th Friday of February, every 12
    months) or that dateutil walks minute by minute: each answer within a generous bound."""
    client = api(ADMIN)
    for rule in ("FREQ=MONTHLY;INTERVAL=12;BYDAY=5FR", "FREQ=YEARLY;INTERVAL=10;BYMONTH=2;"
                 "BYDAY=5MO", "FREQ=MINUTELY;INTERVAL=1440;BYDAY=MO;BYHOUR=23",
                 "FREQ=MINUTELY;INTERVAL=15;BYHOUR=3", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29",
                 "FREQ=MONTHLY;INTERVAL=24;BYMONTHDAY=31", "FREQ=DAILY;INTERVAL=366;BYHOUR="
                 + ",".join(map(str, range(24))) + ";BYMINUTE=0,15,30,45",
                 "FREQ=HOURLY;INTERVAL=23;BYDAY=SU"):
        started = time.monotonic()
        response = client.post("/api/v1/admin/recurring/preview",
                               {"rrule": rule, "starts_on": "2030-03-01"})
        assert response.status_code in (200, 422), (rule, response.status_code)
        assert time.monotonic() - started < 10, rule


# === classification rules and workers' skills ===================================================

def rules_state():
    from app.classification.models import ClassificationRule, WorkerSkill

    db.session.rollback()
    rows = db.session.scalars(select(ClassificationRule).order_by(ClassificationRule.id))
    return ([(r.id, r.tenant_id, r.name, r.position, r.words, r.category_id, r.unit_id,
              r.service_unit_id, r.priority, r.active) for r in rows],
            sorted(db.session.execute(select(WorkerSkill.tenant_id, WorkerSkill.user_id,
                                             WorkerSkill.category_id)).all()),
            audit_count())


def rule_body(world, **changes) -> dict:
    body = {"name": "Bombillos", "words": ["bombillo", "luz"],
            "category_id": world.category(world.acme_id, "Electricidad").id,
            "priority": "high"}
    body.update(changes)
    return body


@pytest.fixture
def acme_rule(world, api):
    response = api(ADMIN).post("/api/v1/admin/classification-rules", rule_body(world))
    assert response.status_code == 201, response.json
    return response.json["id"]


@pytest.mark.parametrize("email", [REQUESTER, HEAD, WORKER, DIRECTOR, "pedro@globex.test",
                                   "director@globex.test"])
def test_only_tenant_admins_touch_the_rules(world, api, browser, acme_rule, email):
    before = rules_state()
    client = api(email)
    for method, url, body in (
            ("GET", "/api/v1/admin/classification-rules", None),
            ("POST", "/api/v1/admin/classification-rules", rule_body(world)),
            ("POST", "/api/v1/admin/classification-rules/match", {"title": "bombillo"}),
            ("GET", f"/api/v1/admin/classification-rules/{acme_rule}", None),
            ("PUT", f"/api/v1/admin/classification-rules/{acme_rule}", rule_body(world)),
            ("PATCH", f"/api/v1/admin/classification-rules/{acme_rule}", {"active": False}),
            ("DELETE", f"/api/v1/admin/classification-rules/{acme_rule}", None)):
        response = client.request(method, url, json=body)
        assert response.status_code in (403, 404), (email, method, url, response.status_code)
    page = browser(email)
    for url in ("/classification/rules", "/classification/rules/new",
                f"/classification/rules/{acme_rule}/edit"):
        clean_refusal(page.get(url), 302, 403, 404)
    for url in (f"/classification/rules/{acme_rule}/edit",
                f"/classification/rules/{acme_rule}/delete",
                f"/classification/rules/{acme_rule}/move", "/classification/rules/new"):
        clean_refusal(page.post(url, {"name": "x", "words": "x", "priority": "low",
                                      "direction": "up"}), 302, 403, 404)
    assert rules_state() == before


def test_another_companys_admin_finds_no_rule_of_ours(world, api, browser, acme_rule):
    before = rules_state()
    client = api(GLOBEX_ADMIN)
    assert client.get("/api/v1/admin/classification-rules").json["items"] == []
    for method, body in (("GET", None), ("PUT", rule_body(world)), ("PATCH", {"active": False}),
                         ("DELETE", None)):
        response = client.request(method, f"/api/v1/admin/classification-rules/{acme_rule}",
                                  json=body)
        assert response.status_code in (404, 422), (method, response.status_code)
    page = browser(GLOBEX_ADMIN)
    clean_refusal(page.get(f"/classification/rules/{acme_rule}/edit"), 404)
    for url in (f"/classification/rules/{acme_rule}/edit",
                f"/classification/rules/{acme_rule}/delete",
                f"/classification/rules/{acme_rule}/move"):
        clean_refusal(page.post(url, {"name": "x", "direction": "up"}), 404)
    # Globex's match never answers with our rule
    found = client.post("/api/v1/admin/classification-rules/match",
                        {"title": "bombillo luz", "description": "bombillo"})
    assert found.status_code == 200 and found.json.get("rule_id") is None, found.json
    assert rules_state() == before


def test_a_rule_cannot_point_at_another_companys_category_or_units(world, api, browser):
    before = rules_state()
    client = api(ADMIN)
    theirs = {"category_id": world.category(world.globex_id).id,
              "unit_id": world.unit(world.globex_id).id,
              "service_unit_id": world.unit(world.globex_id, service=True).id}
    for name, value in theirs.items():
        response = client.post("/api/v1/admin/classification-rules",
                               rule_body(world, **{name: value}))
        clean_refusal(response, 422)
        assert name in response.json["errors"], response.json
    for changes in ({"category_id": 2**31 - 1}, {"unit_id": 0}, {"service_unit_id": -5},
                    {"category_id": 2**63}, {"unit_id": "1; drop table units"},
                    {"service_unit_id": world.unit(world.acme_id).id},  # not a service unit
                    {"priority": "critical"}, {"words_mode": "regex"},
                    {"words": ["a" * 61]}, {"words": ["uno dos tres cuatro cinco seis"]},
                    {"words": [f"w{i}" for i in range(21)]}, {"words": ["!!!"]},
                    {"words": [{"$ne": 1}]}, {"words": "bombillo"},
                    {"field_conditions": [{"name": "A B", "value": "x"}]},
                    {"field_conditions": [{"name": "x", "value": "v" * 201}]},
                    {"field_conditions": [{"name": "x", "value": {"a": [1]}}] * 6},
                    {"position": 0}, {"position": 10**9}, {"name": ""}, {"name": "n" * 121},
                    {"name": "x\x00y"}, {"words": [], "category_id": None, "priority": None}):
        response = client.post("/api/v1/admin/classification-rules",
                               rule_body(world, **changes))
        clean_refusal(response, 400, 422)
    page = browser(ADMIN)
    for changes in ({"category_id": str(theirs["category_id"])},
                    {"unit_id": str(theirs["unit_id"])},
                    {"service_unit_id": str(theirs["service_unit_id"])},
                    {"category_id": "\u00b2"}, {"unit_id": "9" * 40},
                    {"words": "palabra " * 10_000},
                    {"words": ",".join(f"w{i}" for i in range(10_000))},
                    {"field_conditions": "x = " + "v" * 10_000}):
        form = {"name": "Regla", "words": "bombillo", "words_mode": "any", "priority": "high",
                **changes}
        response = page.post("/classification/rules/new", form)
        assert response.status_code == 422, changes
    assert rules_state() == before


def test_moving_changing_or_deleting_a_rule_needs_the_csrf_token(world, browser, acme_rule):
    page = browser(ADMIN)
    before = rules_state()
    worker = world.user(WORKER)
    unit = world.unit(world.acme_id, service=True)
    for url in (f"/classification/rules/{acme_rule}/edit",
                f"/classification/rules/{acme_rule}/delete",
                f"/classification/rules/{acme_rule}/move", "/classification/rules/new",
                f"/classification/skills/{unit.id}/{worker.id}"):
        response = page.post(url, {"csrf_token": "", "name": "x", "words": "x",
                                   "priority": "low", "direction": "up", "category_ids": "1"})
        assert response.status_code == 400, url
    assert rules_state() == before


def test_skills_cannot_reach_another_companys_worker_unit_or_category(world, api, browser):
    before = rules_state()
    unit = world.unit(world.acme_id, service=True)
    their_unit = world.unit(world.globex_id, service=True)
    theirs = world.user("tecnico@globex.test")
    mine = world.user(WORKER)
    their_category = world.category(world.globex_id).id
    my_category = world.category(world.acme_id).id
    for email in (ADMIN, DIRECTOR):
        client = api(email)
        for user_id, body, expected in (
                (theirs.id, {"service_unit_id": unit.id, "category_ids": [my_category]}, 404),
                (theirs.id, {"service_unit_id": their_unit.id,
                             "category_ids": [their_category]}, 404),
                (mine.id, {"service_unit_id": their_unit.id, "category_ids": []}, 404),
                (mine.id, {"service_unit_id": unit.id, "category_ids": [their_category]}, 422),
                (mine.id, {"service_unit_id": unit.id, "category_ids": [2**31 - 1]}, 422),
                (world.user(REQUESTER).id, {"service_unit_id": unit.id,
                                            "category_ids": [my_category]}, 404),
                (world.user(DIRECTOR).id, {"service_unit_id": unit.id,
                                           "category_ids": [my_category]}, 404),
                (2**31, {"service_unit_id": unit.id, "category_ids": []}, 404),
                (mine.id, {"service_unit_id": unit.id, "category_ids": [my_category] * 10_000},
                 422),
                (mine.id, {"service_unit_id": unit.id, "category_ids": "1"}, 422)):
            response = client.put(f"/api/v1/admin/worker-skills/{user_id}", body)
            assert response.status_code == expected, (email, user_id, body,
                                                      response.status_code)
        listed = client.get(f"/api/v1/admin/worker-skills?service_unit_id={their_unit.id}")
        assert listed.status_code == 404
        everyone = client.get("/api/v1/admin/worker-skills")
        assert theirs.id not in {row["user_id"] for row in everyone.json["items"]}
        page = browser(email)
        for url, form in ((f"/classification/skills/{unit.id}/{theirs.id}",
                           {"category_ids": str(my_category)}),
                          (f"/classification/skills/{their_unit.id}/{theirs.id}",
                           {"category_ids": str(their_category)}),
                          (f"/classification/skills/{their_unit.id}/{mine.id}", {}),
                          (f"/classification/skills/{unit.id}/{'9' * 30}", {})):
            clean_refusal(page.post(url, form), 404)
        response = page.post(f"/classification/skills/{unit.id}/{mine.id}",
                             {"category_ids": [str(their_category), "\u00b2", "-1"]})
        assert response.status_code in (302, 303, 422)
    for email in (REQUESTER, WORKER, HEAD, "director@globex.test"):
        response = api(email).put(f"/api/v1/admin/worker-skills/{mine.id}",
                                  {"service_unit_id": unit.id, "category_ids": [my_category]})
        assert response.status_code in (403, 404), (email, response.status_code)
    assert rules_state() == before


def test_rule_matching_stays_bounded_on_the_largest_inputs(world, api):
    """200 rules of 20 five-word phrases against a 10,000-character description of 5,000
    words: a filing's classification and the admin's /match answer within a generous
    bound."""
    from app.classification import rules as matching

    client = api(ADMIN)
    category = world.category(world.acme_id, "Electricidad").id
    for i in range(60):
        words = [f"palabra{i}x{j} a b c d" for j in range(20)]
        response = client.post("/api/v1/admin/classification-rules",
                               rule_body(world, name=f"Regla {i}", words=words,
                                         words_mode="all", category_id=category))
        assert response.status_code == 201, response.json
    text = ("a b " * 2500)[:10000]
    started = time.monotonic()
    response = client.post("/api/v1/admin/classification-rules/match",
                           {"title": "t" * 200, "description": text,
                            "fields": {f"f{i}": "v" * 1000 for i in range(100)}})
    assert response.status_code == 200
    assert matching.match(world.acme_id, "t", text, None, {}) is None
    assert time.monotonic() - started < 10
    for body in ({"description": "a " * 6000}, {"title": "t" * 201},
                 {"fields": {f"f{i}": 1 for i in range(101)}}, {"unit_id": 2**40},
                 {"fields": {"x" * 61: 1}}, {"fields": [1, 2]}):
        clean_refusal(client.post("/api/v1/admin/classification-rules/match", body), 422)


# === the learned suggestion ====================================================================

@pytest.mark.parametrize("email", [REQUESTER, WORKER, DIRECTOR, HEAD, "pedro@globex.test"])
def test_only_tenant_admins_see_and_train_the_learned_model(world, api, browser, email):
    before = (tenant_settings(), audit_count())
    client = api(email)
    for method, url, body in (("GET", "/api/v1/admin/suggestions", None),
                              ("PATCH", "/api/v1/admin/suggestions",
                               {"enabled": True, "min_history": 1}),
                              ("POST", "/api/v1/admin/suggestions/train", None)):
        response = client.request(method, url, json=body)
        assert response.status_code in (403, 404), (email, method, url, response.status_code)
    page = browser(email)
    clean_refusal(page.get("/admin/suggestions"), 302, 403, 404)
    for url in ("/admin/suggestions/settings", "/admin/suggestions/train"):
        clean_refusal(page.post(url, {"enabled": "yes", "min_history": "1"}), 302, 403, 404)
    assert (tenant_settings(), audit_count()) == before


def test_suggestion_queries_are_bounded_and_never_a_500(world, api, browser):
    client = api(REQUESTER)
    page = browser(REQUESTER)
    megabyte = "palabra " * 131_072
    for query in (f"title={megabyte[:300_000]}", f"description={megabyte[:1_000_000]}",
                  "title=%00%01", "title=%ff%fe", "description=" + "%C3%B1" * 20_000,
                  "title=a&title=b&title=c", "title[]=x", "title=" + SCRIPT):
        started = time.monotonic()
        response = client.get(f"/api/v1/suggestions?{query}")
        assert response.status_code in (200, 400, 414, 422), (query[:40], response.status_code)
        response = page.get(f"/suggestions/preview?{query}")
        assert response.status_code in (200, 400, 414, 422), (query[:40], response.status_code)
        assert SCRIPT not in response.get_data(as_text=True)
        assert time.monotonic() - started < 10
    for email in (WORKER, DIRECTOR):  # people who file nothing
        response = api(email).get("/api/v1/suggestions?title=bombillo")
        assert response.status_code in (200, 403), (email, response.status_code)


def test_suggestion_settings_refuse_junk(world, api, browser):
    before = (tenant_settings(), audit_count())
    client = api(ADMIN)
    for body in ({"min_history": -1}, {"min_history": 10**12}, {"min_confidence": 101},
                 {"min_confidence": "NaN"}, {"min_confidence": float("inf")},
                 {"retrain_after": 0}, {"enabled": "maybe"}, {"min_history": "1e9"},
                 {"unknown": 1}, {"min_history": [1]}):
        response = client.patch("/api/v1/admin/suggestions", body)
        clean_refusal(response, 400, 422)
    page = browser(ADMIN)
    for form in ({"min_history": "-1"}, {"min_confidence": "1e400"}, {"retrain_after": "\u00b2"},
                 {"min_history": "9" * 50}):
        response = page.post("/admin/suggestions/settings", form)
        assert response.status_code == 422, form
    assert page.post("/admin/suggestions/settings",
                     {"csrf_token": "", "enabled": "yes"}).status_code == 400
    assert page.post("/admin/suggestions/train", {"csrf_token": ""}).status_code == 400
    assert (tenant_settings(), audit_count()) == before


# === teams ======================================================================================

def teams_state():
    from app.teams.models import Team, TeamMember

    db.session.rollback()
    return (sorted(db.session.execute(select(Team.tenant_id, Team.key, Team.name)).all()),
            sorted(db.session.execute(select(TeamMember.tenant_id, TeamMember.team_id,
                                             TeamMember.user_id)).all()), audit_count())


@pytest.fixture
def acme_team(world, api):
    response = api(ADMIN).post("/api/v1/admin/teams",
                               {"key": "change_board", "names": {"es": "Comité", "en": "Board"}})
    assert response.status_code == 201, response.json
    assert api(ADMIN).post("/api/v1/admin/teams/change_board/members",
                           {"user_id": world.user(WORKER).id}).status_code == 201
    return "change_board"


@pytest.mark.parametrize("email", [REQUESTER, WORKER, HEAD, DIRECTOR, "pedro@globex.test"])
def test_only_tenant_admins_change_teams(world, api, browser, acme_team, email):
    before = teams_state()
    client = api(email)
    for method, url, body in (
            ("POST", "/api/v1/admin/teams", {"key": "mine", "names": {"es": "Mío"}}),
            ("PATCH", f"/api/v1/admin/teams/{acme_team}", {"names": {"es": "Mío"}}),
            ("POST", f"/api/v1/admin/teams/{acme_team}/members",
             {"user_id": world.user(email).id}),
            ("DELETE", f"/api/v1/admin/teams/{acme_team}/members/{world.user(WORKER).id}",
             None)):
        response = client.request(method, url, json=body)
        assert response.status_code in (403, 404), (email, method, url, response.status_code)
    page = browser(email)
    for url, form in (("/teams", {"key": "mine", "name_es": "Mío"}),
                      (f"/teams/{acme_team}", {"name_es": "Mío"}),
                      (f"/teams/{acme_team}/members", {"email": email}),
                      (f"/teams/{acme_team}/members/{world.user(WORKER).id}/delete", {})):
        clean_refusal(page.post(url, form), 302, 403, 404)
    assert teams_state() == before


def test_teams_and_people_of_another_company_are_not_found(world, api, browser, acme_team):
    before = teams_state()
    client = api(GLOBEX_ADMIN)
    assert client.get("/api/v1/admin/teams").json == [] or \
        acme_team not in str(client.get("/api/v1/admin/teams").json)
    for method, url, body in (
            ("GET", f"/api/v1/admin/teams/{acme_team}", None),
            ("GET", f"/api/v1/admin/teams/{acme_team}/members", None),
            ("PATCH", f"/api/v1/admin/teams/{acme_team}", {"names": {"es": "Mío"}}),
            ("POST", f"/api/v1/admin/teams/{acme_team}/members",
             {"user_id": world.user("tecnico@globex.test").id}),
            ("DELETE", f"/api/v1/admin/teams/{acme_team}/members/{world.user(WORKER).id}",
             None)):
        response = client.request(method, url, json=body)
        assert response.status_code == 404, (method, url, response.status_code)
    clean_refusal(browser(GLOBEX_ADMIN).get(f"/teams/{acme_team}"), 404)
    # our admin cannot put a Globex person in our team, by id or by e-mail
    mine = api(ADMIN)
    for user_id in (world.user("tecnico@globex.test").id, world.user(GLOBEX_ADMIN).id,
                    2**31 - 1, 0):
        response = mine.post(f"/api/v1/admin/teams/{acme_team}/members", {"user_id": user_id})
        assert response.status_code in (404, 422), (user_id, response.status_code)
    page = browser(ADMIN)
    for email in ("tecnico@globex.test", "TECNICO@GLOBEX.TEST", " tecnico@globex.test",
                  "tecnico@globex.test\x00", "%", "*", "' OR 1=1 --"):
        clean_refusal(page.post(f"/teams/{acme_team}/members", {"email": email}), 400, 422)
    assert teams_state() == before


BAD_TEAM_KEYS = ["Change_Board", "a", "x" * 41, "ñandu", "\u0131ncident", "abc\n", "abc\x00",
                 "../x", "a b", "1abc", "_abc", "ａｂｃ", "abc\u200b", "", 5, None, ["ab"],
                 "k\u0301ey"]


@pytest.mark.parametrize("key", BAD_TEAM_KEYS, ids=[repr(k) for k in BAD_TEAM_KEYS])
def test_bad_team_keys_and_names_are_refused(world, api, browser, key):
    before = teams_state()
    response = api(ADMIN).post("/api/v1/admin/teams", {"key": key, "names": {"es": "Equipo"}})
    clean_refusal(response, 400, 422)
    if isinstance(key, str) and "\x00" not in key and key.strip() == key:
        response = browser(ADMIN).post("/teams", {"key": key, "name_es": "Equipo"})
        clean_refusal(response, 400, 422)
    assert teams_state() == before


def test_bad_team_names_are_refused(world, api):
    before = teams_state()
    client = api(ADMIN)
    for names in ({}, {"es": ""}, {"fr": "Équipe"}, {"es": "n" * 201}, {"es": ["a"]},
                  {"es": {"a": 1}}, "Equipo", ["es", "Equipo"], None, {"es": 5}):
        response = client.post("/api/v1/admin/teams", {"key": "equipo", "names": names})
        clean_refusal(response, 400, 422)
    response = client.post("/api/v1/admin/teams", {"key": "equipo", "names": {"es": "E"},
                                                   "description": "d" * 2001})
    clean_refusal(response, 422)
    assert teams_state() == before


def test_team_forms_need_the_csrf_token(world, browser, acme_team):
    before = teams_state()
    page = browser(ADMIN)
    for url, form in (("/teams", {"key": "mine", "name_es": "Mío"}),
                      (f"/teams/{acme_team}", {"name_es": "Mío"}),
                      (f"/teams/{acme_team}/members", {"email": DIRECTOR}),
                      (f"/teams/{acme_team}/members/{world.user(WORKER).id}/delete", {})):
        assert page.post(url, {**form, "csrf_token": ""}).status_code == 400, url
    assert teams_state() == before


def _at_once(app, email, calls):
    """Each (method, url, body) from its own client and thread, released together."""
    clients = [fresh_api(app, email) for _ in calls]
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index):
        method, url, body = calls[index]
        barrier.wait()
        results[index] = clients[index].request(method, url, json=body).status_code

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(results)


@POSTGRESQL_ONLY
def test_two_simultaneous_creations_of_one_team_key_make_one_team(world, app):
    from app.teams.models import Team

    for attempt in range(3):
        key = f"equipo_{attempt}"
        body = {"key": key, "names": {"es": "Equipo"}}
        results = _at_once(app, ADMIN, [("POST", "/api/v1/admin/teams", body)] * 2)
        assert results in ([201, 409], [201, 422]), results
        assert count(Team, key=key) == 1


@POSTGRESQL_ONLY
def test_two_simultaneous_additions_of_one_member_add_them_once(world, app, acme_team):
    from app.teams.models import TeamMember

    for email in (WORKER2, DIRECTOR, HEAD):
        body = {"user_id": world.user(email).id}
        results = _at_once(app, ADMIN, [
            ("POST", f"/api/v1/admin/teams/{acme_team}/members", body)] * 2)
        assert results in ([201, 409], [201, 422]), results
        assert count(TeamMember, user_id=world.user(email).id) == 1


# === checklists and the security report =========================================================

@pytest.fixture
def security_task(world):
    """Acme's first category follows the security-incident template (its checklists seeded,
    its security team of the two workers); a reported incident's open triage task."""
    from app.checklists import service as checklists
    from app.models import HumanTask
    from app.services import definitions, processes
    from app.teams import service as teams
    from app.teams.models import TeamMember

    admin = world.user(ADMIN)
    definitions.deploy(world.acme_id, definitions.default_diagram("security_incident"),
                       process_key="security_incident", user=admin)
    checklists.ensure_defaults(world.acme_id, "security_incident", "security_incident", admin)
    team = teams.ensure(world.acme_id, "security", {"es": "Seguridad"})
    for email in (WORKER, WORKER2):
        db.session.add(TeamMember(tenant_id=world.acme_id, team_id=team.id,
                                  user_id=world.user(email).id))
    category = world.category(world.acme_id)
    processes.set_category_process(category, "security_incident", admin)
    db.session.commit()
    req = factories_file(REQUESTER, category.name)
    task = db.session.scalars(select(HumanTask).where(
        HumanTask.request_id == req.id, HumanTask.status == "open")).one()
    return req, task


def factories_file(email, category):
    from tests.factories import file

    return file(email, category=category, title="Correo sospechoso")


def checklist_state(req_id):
    from app.checklists.models import TaskChecklistItem
    from app.models import HistoryEvent, HumanTask

    db.session.rollback()
    return (sorted(db.session.execute(select(TaskChecklistItem.id, TaskChecklistItem.ticked_at,
                                             TaskChecklistItem.ticked_by_id)).all()),
            sorted(db.session.execute(select(HumanTask.id, HumanTask.status)
                                      .where(HumanTask.request_id == req_id)).all()),
            count(HistoryEvent, request_id=req_id))


def test_a_checklist_step_cannot_be_completed_through_any_door_before_its_ticks(
        world, api, browser, security_task):
    req, task = security_task
    before = checklist_state(req.id)
    client = api(WORKER)
    for handler in ("form", "confirm", "finish", "decide", None, "vote"):
        body = {"kind": handler, "severity": "low"} if handler else {"severity": "low"}
        response = client.post(f"/api/v1/tasks/{task.id}/complete", body)
        clean_refusal(response, 400, 403, 404, 409, 422)
    page = browser(WORKER)
    for form in ({"handler": "form", "severity": "low"}, {"severity": "critical"}):
        response = page.post(f"/tasks/{task.id}", form)
        assert response.status_code in (200, 303, 400, 422), response.status_code
    assert checklist_state(req.id) == before
    # every item ticked, then one unticked: still refused
    from app.checklists import tasks as checklist_tasks

    positions = [item.position for item in checklist_tasks.items(task)]
    assert positions
    for position in positions:
        assert client.post(f"/api/v1/tasks/{task.id}/checklist/{position}",
                           {"ticked": True}).status_code == 200
    assert client.post(f"/api/v1/tasks/{task.id}/checklist/{positions[-1]}",
                       {"ticked": False}).status_code == 200
    response = client.post(f"/api/v1/tasks/{task.id}/complete",
                           {"kind": "form", "severity": "low"})
    clean_refusal(response, 400, 422)
    db.session.rollback()
    assert db.session.get(type(task), task.id).status == "open"


def test_ticks_belong_to_who_may_complete_the_task(world, api, browser, security_task):
    req, task = security_task
    before = checklist_state(req.id)
    for email, expected in ((REQUESTER, (403, 404)), (HEAD, (403, 404)),
                            ("maria@acme.test", (404,)), ("tecnico@globex.test", (404,)),
                            ("director@globex.test", (404,)), (GLOBEX_ADMIN, (404,))):
        for body in ({"ticked": True}, {"ticked": "yes"}, {}):
            response = api(email).post(f"/api/v1/tasks/{task.id}/checklist/1", body)
            assert response.status_code in (*expected, 422), (email, response.status_code)
        response = browser(email).post(f"/tasks/{task.id}/checklist/1", {"ticked": "1"})
        assert response.status_code in expected, (email, response.status_code)
    for position in ("0", "-1", "31", "99999999999999999999999", "1.5", "%C2%B2"):
        response = api(WORKER).post(f"/api/v1/tasks/{task.id}/checklist/{position}",
                                    {"ticked": True})
        clean_refusal(response, 404, 405)
    response = browser(WORKER).post(f"/tasks/{task.id}/checklist/1",
                                    {"ticked": "1", "csrf_token": ""})
    assert response.status_code == 400
    assert checklist_state(req.id) == before


def test_the_report_is_nobody_elses(world, api, browser, security_task):
    req, _task = security_task
    for email in ("maria@acme.test", "luis@acme.test", "tecnico@globex.test", GLOBEX_ADMIN,
                  "director@globex.test", "pedro@globex.test"):
        assert api(email).get(f"/api/v1/requests/{req.id}/report").status_code == 404, email
        response = browser(email).get(f"/requests/{req.id}/report")
        assert response.status_code == 404, email
        assert "Correo sospechoso" not in response.get_data(as_text=True)
    for bad in ("0", "-1", "2147483648", "99999999999999999999", "abc"):
        clean_refusal(api(ADMIN).get(f"/api/v1/requests/{bad}/report"), 404)
        clean_refusal(browser(ADMIN).get(f"/requests/{bad}/report"), 404)


def test_checklists_are_only_kept_by_owners_and_hostile_items_refused(world, api, browser):
    from app.checklists.models import Checklist

    for email in (REQUESTER, WORKER, DIRECTOR, HEAD, "pedro@globex.test"):
        client = api(email)
        assert client.put("/api/v1/admin/checklists/security_incident/containment",
                          {"items": ["x"]}).status_code in (403, 404), email
        assert client.delete("/api/v1/admin/checklists/security_incident/containment"
                             ).status_code in (403, 404), email
    client = api(ADMIN)
    for path, body in (("../x/containment", {"items": ["x"]}),
                       ("security_incident/..", {"items": ["x"]}),
                       ("Security/containment", {"items": ["x"]}),
                       ("security_incident/\u0131tem", {"items": ["x"]}),
                       ("security_incident/containment", {"items": ["x"] * 31}),
                       ("security_incident/containment", {"items": ["x" * 501]}),
                       ("security_incident/containment", {"items": [{"a": 1}]}),
                       ("security_incident/containment", {"items": "x"}),
                       ("security_incident/containment", {"items": [""]}),
                       ("security_incident/containment", {"items": ["\x00"]}),
                       ("p" * 81 + "/containment", {"items": ["x"]})):
        response = client.put(f"/api/v1/admin/checklists/{path}", body)
        clean_refusal(response, 400, 404, 405, 422)
    assert count(Checklist) == 0


# === the survey link ===========================================================================

@pytest.fixture
def survey_link(world, app):
    """A request at its confirmation and a link for it, made as the notice's e-mail makes it."""
    from app.models.base import utcnow
    from app.survey import tokens
    from tests.factories import request_at

    req, task = request_at("Task_Confirm")
    with app.test_request_context():
        token = tokens.make(req.tenant_id, req.id, task.id, utcnow())
    return req, task, f"/survey/{token}"


def survey_answer(browser, path, **form):
    visitor = browser()
    page = visitor.get(path)
    return page, visitor.post(path, form)


def task_status(task_id):
    from app.models import HumanTask

    db.session.rollback()
    return db.session.get(HumanTask, task_id).status


def test_the_survey_page_shows_only_the_number_and_title(world, browser, survey_link):
    req, _task, path = survey_link
    page = browser().get(path)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert req.number in text and req.title in text
    for secret in ("Detalle del pedido", "Piso 1", "Ana Gómez", "ana@acme.test", "Listo",
                   "Tomás Herrera", "tecnico1", "Acme Industrial"):
        assert secret not in text, secret
    assert page.headers["Cache-Control"] == "no-store"


def test_the_survey_form_answers_only_confirm_whatever_else_is_posted(world, browser,
                                                                    survey_link):
    """Extra fields (another handler, 'not solved', a decision, someone else's id) are
    ignored: the link only confirms and rates."""
    from app.models import ServiceRequest

    req, task, path = survey_link
    page, answer = survey_answer(browser, path, rating="5", comment="Bien",
                                 handler="not_solved", solved="no", decision="reject",
                                 user_id=str(world.user(ADMIN).id), task_id="1",
                                 status="open")
    assert answer.status_code == 200
    db.session.rollback()
    done = db.session.get(ServiceRequest, req.id)
    assert done.rating == 5 and done.status != "in_progress"
    assert task_status(task.id) == "completed"
    _page, again = survey_answer(browser, path, rating="1", comment="otra vez")
    assert again.status_code == 410
    db.session.rollback()
    assert db.session.get(ServiceRequest, req.id).rating == 5


@pytest.mark.parametrize("form", [
    {"rating": "6"}, {"rating": "0"}, {"rating": "-1"}, {"rating": "4.5"}, {"rating": "1e1"},
    {"rating": "\u0665"}, {"rating": "\uff15"}, {"rating": "NaN"}, {"rating": ""},
    {"rating": "5", "comment": "c" * 1_000_000}, {"rating": "5", "comment": "\x00"},
])
def test_odd_survey_answers_are_refused_and_the_task_stays_open(world, browser, survey_link,
                                                                form):
    req, task, path = survey_link
    _page, answer = survey_answer(browser, path, **form)
    if answer.status_code == 200:  # taken as a valid rating: it must be a whole 1..5
        from app.models import ServiceRequest

        db.session.rollback()
        assert db.session.get(ServiceRequest, req.id).rating in (1, 2, 3, 4, 5)
        return
    assert answer.status_code in (400, 413, 422), answer.status_code
    assert task_status(task.id) == "open"


def test_the_survey_link_dies_with_the_requester_or_the_company(world, browser, survey_link):
    req, task, path = survey_link
    requester = world.user(REQUESTER)
    requester.active = False
    db.session.commit()
    page, answer = survey_answer(browser, path, rating="5")
    assert (page.status_code, answer.status_code) == (404, 404)
    assert req.number not in page.get_data(as_text=True)
    requester = world.user(REQUESTER)
    requester.active = True
    acme = db.session.get(Tenant, world.acme_id)
    acme.status = "suspended"
    db.session.commit()
    page, answer = survey_answer(browser, path, rating="5")
    assert (page.status_code, answer.status_code) == (404, 404)
    assert task_status(task.id) == "open"


def test_the_survey_form_needs_its_csrf_token(world, browser, survey_link):
    _req, task, path = survey_link
    visitor = browser()
    visitor.get(path)
    assert visitor.post(path, {"rating": "5", "csrf_token": ""}).status_code == 400
    assert task_status(task.id) == "open"


@POSTGRESQL_ONLY
def test_two_simultaneous_survey_answers_confirm_once(world, app, browser, survey_link):
    from app.models import HistoryEvent

    req, task, path = survey_link
    visitors = [browser(), browser()]
    for visitor in visitors:
        visitor.get(path)
    barrier = threading.Barrier(2)
    results = []

    def post(visitor, rating):
        barrier.wait()
        results.append(visitor.post(path, {"rating": rating}).status_code)

    threads = [threading.Thread(target=post, args=(v, r)) for v, r in zip(visitors, "15",
                                                                           strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200, 410], results
    assert task_status(task.id) == "completed"
    assert count(HistoryEvent, request_id=req.id, action="confirmed") <= 1


# === the change board ==========================================================================

@pytest.fixture
def board_vote(world):
    from tests.teams import helpers

    helpers.deploy_change("all")
    req = helpers.file_change()
    helpers.assess(req)
    return helpers, req


def votes_state(req_id):
    from app.models import HistoryEvent, HumanTask

    db.session.rollback()
    return (sorted(db.session.execute(select(HumanTask.id, HumanTask.status,
                                             HumanTask.assigned_user_id)
                                      .where(HumanTask.request_id == req_id)).all()),
            count(HistoryEvent, request_id=req_id))


def test_nobody_votes_on_anothers_seat_and_junk_votes_are_refused(world, api, board_vote):
    helpers, req = board_vote
    seats = {email: helpers.vote_task(req, email).id for email in helpers.BOARD}
    before = votes_state(req.id)
    member = helpers.BOARD[0]
    for email in (REQUESTER, WORKER, DIRECTOR, ADMIN, "tecnico@globex.test", GLOBEX_ADMIN):
        for seat in seats.values():
            response = api(email).post(f"/api/v1/tasks/{seat}/complete",
                                       {"kind": "form", "vote": "approve"})
            assert response.status_code in (403, 404, 409), (email, response.status_code)
    for other, seat in seats.items():  # a member on another member's seat
        if other != member:
            response = api(member).post(f"/api/v1/tasks/{seat}/complete",
                                        {"kind": "form", "vote": "approve"})
            assert response.status_code in (403, 404, 409), response.status_code
    for data in ({"vote": "maybe"}, {"vote": ["approve", "approve"]}, {"vote": None},
                 {"vote": {"approve": 1}}, {"vote": "approve" * 1000}, {},
                 {"vote": "approve", "board": {"approved": 99, "outcome": "approved"}}):
        response = api(member).post(f"/api/v1/tasks/{seats[member]}/complete",
                                    {"kind": "form", **data})
        if response.status_code == 200:  # the extra 'board' is ignored, the vote counted
            assert "board" in data
            break
        clean_refusal(response, 400, 409, 422)
    else:
        assert votes_state(req.id) == before
    db.session.rollback()
    # a seat answers once: the same member again is a 409, nothing counted twice
    again = api(member).post(f"/api/v1/tasks/{seats[member]}/complete",
                             {"kind": "form", "vote": "reject"})
    if votes_state(req.id) != before:
        assert again.status_code == 409
        assert helpers.board_data(req).get("approved", 0) <= 1


def test_a_withdrawn_approver_cannot_vote_after_leaving(world, api, board_vote):
    helpers, req = board_vote
    leaving = helpers.BOARD[1]
    seat = helpers.vote_task(req, leaving).id
    response = api(ADMIN).delete(
        f"/api/v1/admin/teams/change_board/members/{world.user(leaving).id}")
    assert response.status_code == 200
    before = votes_state(req.id)
    response = api(leaving).post(f"/api/v1/tasks/{seat}/complete",
                                 {"kind": "form", "vote": "approve"})
    assert response.status_code in (403, 404, 409), response.status_code
    assert votes_state(req.id) == before
