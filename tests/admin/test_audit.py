"""The audit page (/admin/audit) and API (/api/v1/admin/audit): newest first, a page at a
time by id, filters, readable before -> after; only the company's own entries."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app.admin import audit
from app.api import tokens_service
from app.extensions import db
from app.models import AuditEntry, Tenant
from tests import factories
from tests.api.conftest import ApiClient

ADMIN = "admin@acme.test"


def tenant_id(slug: str) -> int:
    return db.session.scalar(select(Tenant.id).where(Tenant.slug == slug))


@pytest.fixture
def filled(demo):
    """60 entries of acme by its admin (one a day back from today), and one of globex."""
    actor = factories.user(ADMIN)
    actor.locale = "en"
    acme = actor.tenant_id
    now = datetime.now(UTC)
    for n in range(60):
        entry = audit.record(acme, actor, "unit.updated" if n % 2 else "user.updated",
                             "unit" if n % 2 else "user", 1000 + n, target_label=f"T{n}",
                             before={"name": f"Old {n}"}, after={"name": f"New {n}"})
        entry.created_at = now - timedelta(days=59 - n)
    audit.record(acme, actor, "membership.added", "user", 7, target_label="roles",
                 before={"roles": ["requester @ Finanzas"]},
                 after={"roles": ["requester @ Finanzas", "unit_head @ Producción"]})
    audit.record(tenant_id("globex"), None, "user.invited", "user", 99,
                 target_label="secreto@globex.test", after={"email": "secreto@globex.test"},
                 actor_label="operator")
    db.session.commit()
    return acme


@pytest.fixture
def api(app, demo):
    """The admin's API client, made before ``filled`` (issuing a token is audited too)."""
    raw, _ = tokens_service.issue(factories.user(ADMIN), "test", 1)
    db.session.commit()
    return ApiClient(app, raw)


def test_the_page_newest_first_paged_with_readable_changes(filled, browser):
    admin = browser(ADMIN)
    first = admin.get("/admin/audit")
    page = first.get_data(as_text=True)
    assert first.status_code == 200
    assert page.index("unit_head @ Producción") < page.index("New 59") < page.index("New 58")
    assert "Old 59 → New 59" in page and "+ unit_head @ Producción" in page
    assert "Adrián Vela" in page and "secreto" not in page
    assert "New 10" not in page and "Older" in page
    older = page.split('href="/admin/audit?before=')[1].split('"')[0]
    second = admin.get(f"/admin/audit?before={older}").get_data(as_text=True)
    assert "New 10" in second and "New 59" not in second and "New 0" in second
    assert 'href="/admin/audit?before=' not in second


def test_the_page_filters(filled, browser):
    admin = browser(ADMIN)
    units = admin.get("/admin/audit?action=unit.updated").get_data(as_text=True)
    assert "New 59" in units and "New 58" not in units
    by_type = admin.get("/admin/audit?target_type=user&target_id=7").get_data(as_text=True)
    assert "unit_head @ Producción" in by_type and "New 58" not in by_type
    actor = factories.user(ADMIN).id
    assert "New 58" in admin.get(f"/admin/audit?actor={actor}").get_data(as_text=True)
    assert "New 58" not in admin.get(f"/admin/audit?actor={actor + 1000}").get_data(
        as_text=True)
    # Days are the company's: entry 54's day where the company is (not in UTC)
    zone = ZoneInfo(db.session.get(Tenant, tenant_id("acme")).timezone)
    day = (datetime.now(UTC) - timedelta(days=5)).astimezone(zone).date().isoformat()
    one_day = admin.get(f"/admin/audit?since={day}&until={day}").get_data(as_text=True)
    shown = [n for n in range(60) if f"Old {n} → New {n}<" in one_day]
    assert len(shown) in (1, 2) and 54 in shown  # the day's entry (the test's seconds may add one)
    bad = admin.get("/admin/audit?since=yesterday")
    assert bad.status_code == 422 and "YYYY-MM-DD" in bad.get_data(as_text=True)
    assert admin.get("/admin/audit?before=abc&actor=x&target_id=-1").status_code == 200


def test_the_api_pages_by_id_and_filters(api, filled):
    first = api.get("/api/v1/admin/audit?limit=25").json
    ids = [e["id"] for e in first["items"]]
    assert len(ids) == 25 and ids == sorted(ids, reverse=True)
    assert first["items"][0]["action"] == "membership.added"
    assert first["items"][1]["before"] == {"name": "Old 59"}
    assert first["items"][1]["after"] == {"name": "New 59"}
    seen = list(ids)
    before = first["next_before"]
    while before:
        page = api.get(f"/api/v1/admin/audit?limit=25&before={before}").json
        seen += [e["id"] for e in page["items"]]
        before = page["next_before"]
    db.session.rollback()
    assert len(seen) == len(set(seen)) == db.session.scalar(
        select(func.count(AuditEntry.id)).where(AuditEntry.tenant_id == filled)) >= 61
    assert all(e["actor_label"] == ADMIN for e in api.get("/api/v1/admin/audit").json["items"])
    assert {e["action"] for e in api.get("/api/v1/admin/audit?action=unit.updated&limit=100")
            .json["items"]} == {"unit.updated"}
    day = (datetime.now(UTC) - timedelta(days=5)).date().isoformat()
    assert api.get(f"/api/v1/admin/audit?since={day}&until={day}").json["items"]
    for bad in ("since=yesterday", "limit=0", "limit=101", "before=abc", "actor_id=-1"):
        response = api.get(f"/api/v1/admin/audit?{bad}")
        assert response.status_code == 422, bad
        assert response.content_type == "application/problem+json"


def test_changes_are_recorded_and_entries_are_only_added(filled, browser):
    """Every admin change adds entries; none is ever changed or removed by the pages."""
    admin = browser(ADMIN)
    db.session.rollback()
    before = {e.id: (e.action, e.before, e.after) for e in db.session.scalars(
        select(AuditEntry))}
    admin.post("/admin/units", {"name": "Nueva"})
    db.session.rollback()
    unit = db.session.scalar(select(AuditEntry.target_id).where(
        AuditEntry.action == "unit.created"))
    admin.post(f"/admin/units/{unit}", {"name": "Renombrada"})
    admin.post(f"/admin/units/{unit}/delete")
    db.session.rollback()
    after = {e.id: (e.action, e.before, e.after) for e in db.session.scalars(
        select(AuditEntry))}
    assert {k: after[k] for k in before} == before
    new = [after[k][0] for k in sorted(set(after) - set(before))]
    assert new == ["unit.created", "unit.updated", "unit.deleted"]
    page = admin.get(f"/admin/audit?target_type=unit&target_id={unit}").get_data(as_text=True)
    assert "Nueva → Renombrada" in page


def test_other_tenants_and_non_admins_see_nothing(app, filled, browser):
    assert browser("ana@acme.test").get("/admin/audit").status_code == 404
    raw, _ = tokens_service.issue(factories.user("jefe@globex.test"), "t", 1)
    db.session.commit()
    assert ApiClient(app, raw).get("/api/v1/admin/audit").status_code == 404


def test_the_page_names_actions_targets_and_fields_in_the_readers_language(filled, browser):
    """No stored codes on the page: "Unit moved", not "unit.moved"; "Parent unit", not
    "parent_id"; a creation shows only the fields it set."""
    from app.admin import units

    admin = factories.user("admin@acme.test")
    unit = units.create(admin, name="Archivo central")
    db.session.commit()
    page = browser("admin@acme.test")
    page.post("/language", {"code": "en", "next": "/admin/audit"})
    html = page.get("/admin/audit").get_data(as_text=True)
    assert "Unit created" in html and ">unit.created<" not in html
    assert "Archivo central" in html
    assert "archived_at" not in html and "Archived</dt>" not in html  # empty on creation
    page.post("/language", {"code": "es", "next": "/admin/audit"})
    html = page.get(f"/admin/audit?target_type=unit&target_id={unit.id}").get_data(as_text=True)
    assert "Unidad" in html
