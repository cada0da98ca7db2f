"""The People pages of the tenant admin (/admin/people): list, search, filters, invite, edit,
deactivate and reactivate, roles per unit; the rules that must hold; 404 for anything not
theirs; an audit entry for every change."""

import pytest
from sqlalchemy import func, select

from app.accounts.passwords import UNUSABLE
from app.extensions import db
from app.models import AccountLink, AuditEntry, Membership, Tenant, Unit, User

ADMIN = "admin@acme.test"


def unit_id(name: str) -> int:
    return db.session.scalar(select(Unit.id).where(Unit.name == name))


def user_id(email: str) -> int:
    return db.session.scalar(select(User.id).where(User.email == email))


def counts() -> tuple[int, int, int, int]:
    db.session.rollback()
    return tuple(db.session.scalar(select(func.count()).select_from(model))
                 for model in (User, Membership, AuditEntry, AccountLink))


def entries(action: str) -> list[AuditEntry]:
    db.session.rollback()
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)
                                   .order_by(AuditEntry.id)))


@pytest.fixture
def admin(demo, browser):
    """Acme's admin, reading the pages in English (the source strings the tests look for)."""
    User.query.filter_by(email=ADMIN).one().locale = "en"
    db.session.commit()
    return browser(ADMIN)


def test_list_shows_only_the_company_with_search_and_filters(admin):
    page = admin.get("/admin/people").get_data(as_text=True)
    assert "ana@acme.test" in page and "director@acme.test" in page
    assert "globex" not in page
    found = admin.get("/admin/people?q=G%C3%B3mez").get_data(as_text=True)
    assert "ana@acme.test" in found and "luis@acme.test" not in found
    by_mail = admin.get("/admin/people?q=LUIS@").get_data(as_text=True)
    assert "luis@acme.test" in by_mail and "ana@acme.test" not in by_mail
    in_unit = admin.get(f"/admin/people?unit={unit_id('Producción')}").get_data(as_text=True)
    assert "maria@acme.test" in in_unit and "ana@acme.test" not in in_unit
    workers = admin.get("/admin/people?role=worker").get_data(as_text=True)
    assert "tecnico1@acme.test" in workers and "maria@acme.test" not in workers
    # another company's unit as a filter finds nobody (and says nothing of it)
    other = admin.get(f"/admin/people?unit={unit_id('Operaciones')}").get_data(as_text=True)
    assert "@acme.test" not in other.split("<form")[-1]
    # nonsense filters are ignored, never an error
    assert admin.get("/admin/people?unit=abc&role=boss&status=x&page=-3").status_code == 200


def test_list_pages(admin):
    admin_user = User.query.filter_by(email=ADMIN).one()
    for n in range(30):
        db.session.add(User(tenant_id=admin_user.tenant_id, email=f"p{n:02}@acme.test",
                            name=f"Persona {n:02}", password_hash=UNUSABLE))
    db.session.commit()
    first = admin.get("/admin/people").get_data(as_text=True)
    second = admin.get("/admin/people?page=2").get_data(as_text=True)
    assert "Page 1 of 2" in first and "Page 2 of 2" in second
    assert first.count("/admin/people/") - second.count("/admin/people/") >= 10


def test_invite_creates_an_invited_person_with_roles_and_audit(admin):
    before = counts()
    finance = unit_id("Finanzas")
    response = admin.post("/admin/people/invite", {
        "name": "  Nora   Nueva ", "email": "Nora@Acme.test", "locale": "en",
        "phone": "+57 300 123 4567", "role-0": "requester", "unit-0": str(finance),
        "role-1": "process_owner", "unit-1": ""})
    assert response.status_code == 302
    db.session.rollback()
    nora = User.query.filter_by(email="nora@acme.test").one()
    assert nora.name == "Nora Nueva" and nora.password_hash == UNUSABLE and nora.active
    assert nora.locale == "en" and nora.phone == "+573001234567"
    assert sorted((m.role, m.unit_id) for m in nora.memberships) == [
        ("process_owner", None), ("requester", finance)]
    assert AccountLink.query.filter_by(user_id=nora.id, purpose="invite").count() == 1
    (entry,) = entries("user.invited")
    assert entry.actor.email == ADMIN and entry.target_id == nora.id and entry.before is None
    assert entry.after["email"] == "nora@acme.test"
    assert entry.after["roles"] == ["process_owner", "requester @ Finanzas"]
    assert counts() == (before[0] + 1, before[1] + 2, before[2] + 1, before[3] + 1)
    page = admin.get(f"/admin/people/{nora.id}").get_data(as_text=True)
    assert "Invited" in page and "Send the invitation again" in page
    assert "nora@acme.test" in admin.get("/admin/people?status=invited").get_data(as_text=True)
    assert "nora@acme.test" not in admin.get("/admin/people?status=active").get_data(
        as_text=True)


@pytest.mark.parametrize("email", ["ana@acme.test", "ANA@acme.test", "pedro@globex.test"])
def test_inviting_an_address_that_exists_anywhere_is_one_field_error(admin, email):
    before = counts()
    response = admin.post("/admin/people/invite", {"name": "Otra", "email": email,
                                                  "role-0": "requester",
                                                  "unit-0": str(unit_id("Finanzas"))})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "This address already has an account" in page
    assert "Globex" not in page and "globex" not in page.replace(email, "")
    assert counts() == before


@pytest.mark.parametrize("form, field_message", [
    ({"name": "x" * 201}, "At most 200 characters"),
    ({"name": ""}, "Write the person&#39;s name"),
    ({"email": "not-an-address"}, "This is not an e-mail address"),
    ({"phone": "12"}, "country code"),
    ({"locale": "fr"}, "Choose Spanish or English"),
    ({"role-0": "boss"}, "Unknown role"),
    ({"unit-0": "abc"}, "Choose a unit from the list"),
    ({"unit-0": "99999999999"}, "Choose a unit from the list"),
    ({"unit-0": ""}, "This role is held in a unit"),
    ({"role-0": "tenant_admin"}, "This role is for the whole company"),
])
def test_bad_invitations_change_nothing(admin, form, field_message):
    before = counts()
    data = {"name": "Nueva", "email": "nueva@acme.test", "role-0": "requester",
            "unit-0": str(unit_id("Finanzas")), **form}
    response = admin.post("/admin/people/invite", data)
    assert response.status_code == 422
    assert field_message in response.get_data(as_text=True)
    assert counts() == before


def test_a_role_in_another_company_or_an_archived_unit_cannot_be_given(admin):
    before = counts()
    globex_unit = unit_id("Operaciones")
    response = admin.post("/admin/people/invite", {"name": "Nueva", "email": "n@acme.test",
                                                  "role-0": "unit_head",
                                                  "unit-0": str(globex_unit)})
    assert response.status_code == 422 and "Unknown unit" in response.get_data(as_text=True)
    db.session.get(Unit, unit_id("Producción")).archived_at = func.now()
    db.session.commit()
    response = admin.post("/admin/people/invite", {"name": "Nueva", "email": "n@acme.test",
                                                  "role-0": "requester",
                                                  "unit-0": str(unit_id("Producción"))})
    assert response.status_code == 422 and "archived" in response.get_data(as_text=True)
    ana = user_id("ana@acme.test")
    response = admin.post(f"/admin/people/{ana}/roles",
                          {"role": "unit_head", "unit_id": str(globex_unit)})
    assert response.status_code == 422
    assert counts() == before


def test_edit_name_phone_language_is_audited(admin):
    ana = user_id("ana@acme.test")
    response = admin.post(f"/admin/people/{ana}", {"name": "Ana G. Gómez", "locale": "en",
                                                   "phone": "+573001112233"})
    assert response.status_code == 302
    (entry,) = entries("user.updated")
    assert entry.before == {"name": "Ana Gómez", "locale": None, "phone": None}
    assert entry.after == {"name": "Ana G. Gómez", "locale": "en", "phone": "+573001112233"}
    page = admin.get(f"/admin/people/{ana}").get_data(as_text=True)
    assert "Ana G. Gómez" in page and "user.updated" in page
    # the same values again change nothing and write nothing
    admin.post(f"/admin/people/{ana}", {"name": "Ana G. Gómez", "locale": "en",
                                        "phone": "+573001112233"})
    assert len(entries("user.updated")) == 1
    bad = admin.post(f"/admin/people/{ana}", {"name": "y" * 300, "locale": "", "phone": ""})
    assert bad.status_code == 422
    assert db.session.get(User, ana).name == "Ana G. Gómez"


def test_roles_are_added_and_removed_with_audit(admin):
    luis = user_id("luis@acme.test")
    production = unit_id("Producción")
    assert admin.post(f"/admin/people/{luis}/roles",
                      {"role": "unit_head", "unit_id": str(production)}).status_code == 302
    db.session.rollback()
    added = db.session.scalar(select(Membership).where(Membership.user_id == luis,
                                                       Membership.role == "unit_head"))
    assert added.unit_id == production
    added_id = added.id
    (entry,) = entries("membership.added")
    assert entry.after["roles"] == ["requester @ Finanzas", "unit_head @ Producción"]
    assert entry.before["roles"] == ["requester @ Finanzas"]
    again = admin.post(f"/admin/people/{luis}/roles",
                       {"role": "unit_head", "unit_id": str(production)})
    assert again.status_code == 422 and "already has this role" in again.get_data(as_text=True)
    assert admin.post(f"/admin/people/{luis}/roles/{added_id}/delete").status_code == 302
    (removed,) = entries("membership.removed")
    assert removed.after["roles"] == ["requester @ Finanzas"]
    assert admin.post(f"/admin/people/{luis}/roles/{added_id}/delete").status_code == 404


def test_the_last_admin_keeps_the_company_administered(admin):
    me = User.query.filter_by(email=ADMIN).one()
    admin_role = next(m for m in me.memberships if m.role == "tenant_admin")
    before = counts()
    response = admin.post(f"/admin/people/{me.id}/roles/{admin_role.id}/delete")
    assert response.status_code == 422
    assert "at least one active administrator" in response.get_data(as_text=True)
    response = admin.post(f"/admin/people/{me.id}/deactivate")
    assert response.status_code == 422
    assert counts() == before
    db.session.rollback()
    assert User.query.filter_by(email=ADMIN).one().active
    # a second admin who is inactive does not count
    ana = User.query.filter_by(email="ana@acme.test").one()
    db.session.add(Membership(tenant_id=ana.tenant_id, user_id=ana.id, role="tenant_admin"))
    ana.active = False
    db.session.commit()
    assert admin.post(f"/admin/people/{me.id}/deactivate").status_code == 422
    # once another admin is active, the first may step down
    assert admin.post(f"/admin/people/{ana.id}/reactivate").status_code == 302
    assert admin.post(f"/admin/people/{me.id}/roles/{admin_role.id}/delete").status_code == 302
    # ...and now the pages are gone for them
    assert admin.get("/admin/people").status_code == 404


def test_another_companys_people_are_not_found(admin):
    pedro = user_id("pedro@globex.test")
    globex_unit = unit_id("Operaciones")
    before = counts()
    for url in (f"/admin/people/{pedro}", "/admin/people/0", "/admin/people/99999999999"):
        assert admin.get(url).status_code == 404
    for url, data in ((f"/admin/people/{pedro}", {"name": "Hacked"}),
                      (f"/admin/people/{pedro}/deactivate", {}),
                      (f"/admin/people/{pedro}/reactivate", {}),
                      (f"/admin/people/{pedro}/invitation", {}),
                      (f"/admin/people/{pedro}/roles", {"role": "requester",
                                                       "unit_id": str(globex_unit)})):
        assert admin.post(url, data).status_code == 404
    pedro_role = db.session.scalar(select(Membership.id).where(Membership.user_id == pedro))
    assert admin.post(f"/admin/people/{pedro}/roles/{pedro_role}/delete").status_code == 404
    ana = user_id("ana@acme.test")
    assert admin.post(f"/admin/people/{ana}/roles/{pedro_role}/delete").status_code == 404
    assert admin.get("/admin/people/abc").status_code == 404
    assert counts() == before
    db.session.rollback()
    pedro_now = db.session.get(User, pedro)
    assert pedro_now.active and pedro_now.name == "Pedro Ruiz"


@pytest.mark.parametrize("email", ["ana@acme.test", "director@acme.test",
                                   "jefe.finanzas@acme.test", "jefe@globex.test"])
def test_non_admins_find_no_admin_pages(demo, browser, email):
    person = browser(email)
    ana = user_id("ana@acme.test")
    for url in ("/admin/", "/admin/people", "/admin/people/invite", f"/admin/people/{ana}",
                "/admin/units", "/admin/audit"):
        assert person.get(url).status_code == 404, url
    assert person.post(f"/admin/people/{ana}/deactivate").status_code == 404
    assert person.post("/admin/people/invite", {"name": "X", "email": "x@acme.test"}
                       ).status_code == 404
    assert 'href="/admin/"' not in person.get("/inbox").get_data(as_text=True)
    db.session.rollback()
    assert db.session.get(User, ana).active


def test_anonymous_visitors_are_sent_to_log_in(app, demo):
    response = app.test_client().get("/admin/people")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_top_bar_and_the_admin_nav_lead_here(admin):
    page = admin.get("/inbox").get_data(as_text=True)
    assert 'href="/admin/">Administration<' in page
    people = admin.get("/admin/people").get_data(as_text=True)
    for link in ("/admin/people", "/admin/units", "/admin/audit", "/admin/webhooks"):
        assert f'href="{link}"' in people


def test_the_plan_limit_stops_invitations_and_reactivations(admin):
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == "acme"))
    tenant.plan = "basico"  # 25 active people
    active = db.session.scalar(select(func.count(User.id)).where(
        User.tenant_id == tenant.id, User.active.is_(True)))
    for n in range(25 - active):
        db.session.add(User(tenant_id=tenant.id, email=f"lleno{n}@acme.test", name=f"L {n}",
                            password_hash=UNUSABLE))
    luis = User.query.filter_by(email="luis@acme.test").one()
    luis.active = False
    db.session.add(User(tenant_id=tenant.id, email="last@acme.test", name="Last",
                        password_hash=UNUSABLE))
    db.session.commit()
    before = counts()
    response = admin.post("/admin/people/invite", {"name": "Una más", "email": "mas@acme.test"})
    assert response.status_code == 403
    assert "plan" in response.get_data(as_text=True).lower()
    assert admin.post(f"/admin/people/{luis.id}/reactivate").status_code == 403
    assert counts() == before
    db.session.rollback()
    assert not db.session.get(User, luis.id).active
