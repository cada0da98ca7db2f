"""Attacks on issue 12's new code (tenant administration, accounts, tenancy, isolation): each
test is one attempt; it passes when the attempt is refused cleanly (a clear 4xx, nothing
changed, no other company's data seen)."""

import io
import struct
import zlib

import pytest
from sqlalchemy import func, select

from app.admin.models import AuditEntry
from app.extensions import db
from app.models import Category, Membership, Tenant, Unit, User
from tests.api.conftest import ApiClient

ADMIN, OTHER_ADMIN, REQUESTER = "admin@acme.test", "jefe@globex.test", "ana@acme.test"


def api_of(app, email: str) -> ApiClient:
    client = ApiClient(app)
    response = client.post("/api/v1/tokens", {"email": email, "password": "demo1234"})
    assert response.status_code == 201, response.json
    client.token = response.json["token"]
    return client


def globex_unit_id() -> int:
    globex = db.session.scalar(select(Tenant.id).where(Tenant.slug == "globex"))
    return db.session.scalar(select(Unit.id).where(Unit.tenant_id == globex).limit(1))


def globex_service_unit_id() -> int:
    globex = db.session.scalar(select(Tenant.id).where(Tenant.slug == "globex"))
    return db.session.scalar(select(Unit.id).where(Unit.tenant_id == globex,
                                                   Unit.is_service_unit.is_(True)).limit(1))


def acme_unit_id(name="Finanzas") -> int:
    return db.session.scalar(select(Unit.id).where(Unit.name == name))


def snapshot():
    db.session.rollback()
    return tuple(db.session.scalar(select(func.count()).select_from(model))
                 for model in (User, Membership, Unit, Category, AuditEntry))


def png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 4)) + chunk(b"IEND", b""))


# --- cross-tenant ----------------------------------------------------------------------------

def test_another_companys_ids_are_not_found_on_every_admin_page_and_endpoint(
        app, demo, browser):
    other = demo.user(OTHER_ADMIN)
    other_unit = globex_unit_id()
    other_category = db.session.scalar(select(Category.id).where(
        Category.tenant_id == other.tenant_id).limit(1))
    before = snapshot()
    admin = browser(ADMIN)
    for url in (f"/admin/people/{other.id}", f"/admin/units/{other_unit}",
                f"/admin/categories/{other_category}"):
        assert admin.get(url).status_code == 404, url
    for url, data in ((f"/admin/people/{other.id}", {"name": "X"}),
                      (f"/admin/people/{other.id}/deactivate", {}),
                      (f"/admin/people/{other.id}/roles", {"role": "requester",
                                                          "unit_id": acme_unit_id()}),
                      (f"/admin/units/{other_unit}", {"name": "X"}),
                      (f"/admin/units/{other_unit}/move", {"parent_id": ""}),
                      (f"/admin/units/{other_unit}/archive", {}),
                      (f"/admin/units/{other_unit}/delete", {}),
                      (f"/admin/units/{other_unit}/members", {"email": ADMIN,
                                                             "role": "requester"}),
                      (f"/admin/categories/{other_category}", {"name_es": "X"})):
        assert admin.post(url, data).status_code == 404, url
    api = api_of(app, ADMIN)
    for method, url, body in (
            ("GET", f"/api/v1/admin/people/{other.id}", None),
            ("PATCH", f"/api/v1/admin/people/{other.id}", {"name": "X"}),
            ("POST", f"/api/v1/admin/people/{other.id}/deactivate", None),
            ("POST", f"/api/v1/admin/people/{other.id}/memberships",
             {"role": "requester", "unit_id": acme_unit_id()}),
            ("GET", f"/api/v1/admin/units/{other_unit}", None),
            ("PATCH", f"/api/v1/admin/units/{other_unit}", {"name": "X"}),
            ("POST", f"/api/v1/admin/units/{other_unit}/move", {"parent_id": None}),
            ("DELETE", f"/api/v1/admin/units/{other_unit}", None),
            ("GET", f"/api/v1/admin/categories/{other_category}", None),
            ("PATCH", f"/api/v1/admin/categories/{other_category}", {"active": False})):
        response = api.request(method, url, json=body)
        assert response.status_code == 404, (method, url, response.json)
    assert snapshot()[:4] == before[:4]


def test_another_companys_unit_or_person_in_form_fields_is_refused(app, demo, browser):
    other_unit, other_service = globex_unit_id(), globex_service_unit_id()
    other = demo.user(OTHER_ADMIN)
    ana = demo.user(REQUESTER)
    api = api_of(app, ADMIN)  # issuing the token is audited: before it, not after
    before = snapshot()
    admin = browser(ADMIN)
    assert admin.post("/admin/units", {"name": "Nueva", "parent_id": other_unit}
                      ).status_code == 422
    assert admin.post(f"/admin/units/{acme_unit_id()}/move", {"parent_id": other_unit}
                      ).status_code == 422
    assert admin.post(f"/admin/people/{ana.id}/roles", {"role": "unit_head",
                                                        "unit_id": other_unit}).status_code == 422
    assert admin.post(f"/admin/units/{acme_unit_id()}/members",
                      {"email": other.email, "role": "requester"}).status_code == 422
    assert admin.post("/admin/people/invite", {"email": "x@acme.test", "name": "X",
                                               "role-0": "requester", "unit-0": other_unit}
                      ).status_code == 422
    assert admin.post("/admin/categories/new", {"name_es": "Nueva", "service_unit_id":
                                                other_service, "process_key": "service_request"}
                      ).status_code == 422
    for url, body in (("/api/v1/admin/units", {"name": "Nueva", "parent_id": other_unit}),
                      (f"/api/v1/admin/units/{acme_unit_id()}/move", {"parent_id": other_unit}),
                      (f"/api/v1/admin/people/{ana.id}/memberships",
                       {"role": "unit_head", "unit_id": other_unit}),
                      (f"/api/v1/admin/units/{acme_unit_id()}/members",
                       {"user_id": other.id, "role": "requester"}),
                      ("/api/v1/admin/people", {"email": "x@acme.test", "name": "X",
                                                "memberships": [{"role": "requester",
                                                                 "unit_id": other_unit}]}),
                      ("/api/v1/admin/categories", {"names": {"es": "Nueva"},
                                                    "service_unit_id": other_service})):
        response = api.post(url, body)
        assert response.status_code == 422, (url, response.json)
    # inviting an address another company already uses: refused, without saying whose
    response = api.post("/api/v1/admin/people", {"email": other.email.upper(), "name": "X"})
    assert response.status_code == 422 and "globex" not in response.get_data(as_text=True)
    assert snapshot() == before


def test_import_naming_another_companys_unit_is_refused(app, demo):
    api = api_of(app, ADMIN)
    globex_unit = db.session.get(Unit, globex_unit_id()).name
    units = f"name,parent\nNueva,{globex_unit}\n".encode()
    with app.app_context():
        response = api.client.post("/api/v1/admin/imports?kind=units&dry_run=true",
                                   headers={"Authorization": f"Bearer {api.token}"},
                                   data={"file": (io.BytesIO(units), "u.csv")})
    assert response.status_code == 200 and not response.json["ok"], response.json
    people = f"email,name,roles\nx@acme.test,X,requester@{globex_unit}\n".encode()
    with app.app_context():
        response = api.client.post("/api/v1/admin/imports?kind=people&dry_run=true",
                                   headers={"Authorization": f"Bearer {api.token}"},
                                   data={"file": (io.BytesIO(people), "p.csv")})
    assert not response.json["ok"], response.json


def send_import(app, api, kind, data: bytes, dry_run=True, digest=None):
    query = f"kind={kind}&dry_run={'true' if dry_run else 'false'}"
    if digest:
        query += f"&digest={digest}"
    with app.app_context():
        return api.client.post(f"/api/v1/admin/imports?{query}",
                               headers={"Authorization": f"Bearer {api.token}"},
                               data={"file": (io.BytesIO(data), "f.csv")})


def test_import_dry_run_tells_an_address_another_company_has(app, demo):
    """The dry run promised ok, then the import refused the same file: the check must see
    every company's addresses (logins are by e-mail alone) as the invitation does."""
    api = api_of(app, ADMIN)
    data = f"email,name\nnuevo@acme.test,Nuevo\n{OTHER_ADMIN},Intruso\n".encode()
    dry = send_import(app, api, "people", data)
    assert dry.status_code == 200
    assert not dry.json["ok"], dry.json
    assert [p["row"] for p in dry.json["problems"]] == [3]


# --- deep trees ------------------------------------------------------------------------------

def test_a_deep_unit_chain_from_csv_does_not_break_the_admin_pages(app, demo, browser):
    depth = 1500
    rows = ["name,parent", "N0,"] + [f"N{i},N{i - 1}" for i in range(1, depth)]
    data = ("\n".join(rows) + "\n").encode()
    api = api_of(app, ADMIN)
    dry = send_import(app, api, "units", data)
    assert dry.json["ok"], dry.json["problems"][:3]
    done = send_import(app, api, "units", data, dry_run=False, digest=dry.json["digest"])
    assert done.status_code == 201, done.json
    admin = browser(ADMIN)
    for url in ("/admin/units", "/admin/people", "/admin/people/invite",
                f"/admin/units/{acme_unit_id('N0')}"):
        assert admin.get(url).status_code == 200, url


# --- privilege -------------------------------------------------------------------------------

def test_a_non_admin_finds_nothing_under_admin(app, demo, browser):
    person = browser(REQUESTER)
    for url in ("/admin/people", "/admin/units", "/admin/audit", "/admin/categories",
                "/admin/settings", "/admin/import"):
        assert person.get(url).status_code == 404, url
    api = api_of(app, REQUESTER)
    for url in ("/api/v1/admin/people", "/api/v1/admin/units", "/api/v1/admin/audit",
                "/api/v1/admin/categories", "/api/v1/admin/settings"):
        assert api.get(url).status_code == 404, url
    with app.app_context():
        response = api.client.post("/api/v1/admin/imports?kind=units",
                                   headers={"Authorization": f"Bearer {api.token}"},
                                   data={"file": (io.BytesIO(b"name\nX\n"), "u.csv")})
    assert response.status_code == 404


def test_the_last_admin_cannot_demote_or_deactivate_themselves(app, demo, browser):
    admin = demo.user(ADMIN)
    role = next(m for m in admin.memberships if m.role == "tenant_admin")
    others = db.session.scalar(select(func.count()).select_from(Membership).where(
        Membership.tenant_id == admin.tenant_id, Membership.role == "tenant_admin"))
    assert others == 1
    api = api_of(app, ADMIN)
    assert api.post(f"/api/v1/admin/people/{admin.id}/deactivate").status_code == 409
    assert api.delete(f"/api/v1/admin/people/{admin.id}/memberships/{role.id}"
                      ).status_code == 409
    page = browser(ADMIN)
    assert page.post(f"/admin/people/{admin.id}/deactivate").status_code == 422
    assert page.post(f"/admin/people/{admin.id}/roles/{role.id}/delete").status_code == 422
    db.session.rollback()
    assert demo.user(ADMIN).active and demo.user(ADMIN).has_role("tenant_admin")


def test_a_deactivated_admin_loses_session_and_token_at_once(app, demo, browser):
    api = api_of(app, ADMIN)
    page = browser(ADMIN)
    second = demo.user("jefe.finanzas@acme.test")
    db.session.add(Membership(tenant_id=second.tenant_id, user_id=second.id,
                              role="tenant_admin"))
    db.session.commit()
    other = browser("jefe.finanzas@acme.test")
    admin_id = demo.user(ADMIN).id
    assert other.post(f"/admin/people/{admin_id}/deactivate").status_code == 302
    assert api.get("/api/v1/admin/people").status_code == 401
    assert page.get("/admin/people").status_code in (302, 401)
    login = ApiClient(app).post("/api/v1/tokens", {"email": ADMIN, "password": "demo1234"})
    assert login.status_code == 401


def test_a_suspended_companys_admin_can_do_nothing(app, demo, browser):
    api = api_of(app, ADMIN)
    page = browser(ADMIN)
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == "acme"))
    tenant.status = "suspended"
    db.session.commit()
    before = snapshot()
    assert api.get("/api/v1/admin/people").status_code == 403
    assert api.post("/api/v1/admin/units", {"name": "Nueva"}).status_code == 403
    assert page.get("/admin/people").status_code == 403
    assert page.post("/admin/units", {"name": "Nueva"}).status_code == 403
    assert page.post("/admin/settings/general", {"name": "X"}).status_code == 403
    assert snapshot() == before


# --- input handling --------------------------------------------------------------------------

@pytest.mark.parametrize("value", [
    "²", "٣", "1e3", "-1", "99999999999999999999"])
def test_a_strange_service_unit_id_on_the_category_page_is_a_clear_422(demo, browser, value):
    before = snapshot()
    admin = browser(ADMIN)
    response = admin.post("/admin/categories/new", {
        "name_es": "Nueva", "service_unit_id": value, "process_key": "service_request"})
    assert response.status_code == 422
    assert snapshot() == before


@pytest.mark.parametrize("url", ["/admin/people/99999999999999999999999",
                                 "/admin/units/99999999999999999999999",
                                 "/admin/categories/99999999999999999999999",
                                 "/admin/people/0", "/admin/units/-1"])
def test_huge_or_bad_ids_in_pages_are_404(demo, browser, url):
    assert browser(ADMIN).get(url).status_code == 404


@pytest.mark.parametrize("url", ["/api/v1/admin/people/99999999999999999999999",
                                 "/api/v1/admin/units/99999999999999999999999",
                                 "/api/v1/admin/categories/99999999999999999999999"])
def test_huge_ids_in_the_api_are_404(app, demo, url):
    assert api_of(app, ADMIN).get(url).status_code == 404


@pytest.mark.parametrize("field,value", [
    ("parent_id", "99999999999999999999999"), ("parent_id", "abc"), ("parent_id", "²"),
    ("parent_id", "1.5"), ("parent_id", "0x10")])
def test_bad_parent_ids_on_the_units_page_are_422(demo, browser, field, value):
    before = snapshot()
    assert browser(ADMIN).post("/admin/units", {"name": "Nueva", field: value}
                               ).status_code == 422
    assert snapshot() == before


@pytest.mark.parametrize("body", [
    {"role": "requester", "unit_id": 99999999999999999999999},
    {"role": "requester", "unit_id": "²"}, {"role": "requester", "unit_id": True},
    {"role": "x" * 10000, "unit_id": None}, {"role": ["requester"], "unit_id": None}])
def test_bad_membership_bodies_are_422(app, demo, body):
    ana = demo.user(REQUESTER)
    before = snapshot()
    response = api_of(app, ADMIN).post(f"/api/v1/admin/people/{ana.id}/memberships", body)
    assert response.status_code == 422, response.json
    assert snapshot()[:4] == before[:4]


@pytest.mark.parametrize("data", [
    b"\x00" * 100, b"name\n\x00abc\n", "name\n\u202eevil\n".encode(),
    b"name\n\"unterminated\n", b"\xff\xfe" + "name\nA\n".encode("utf-16-le"),
    "name\nCaf\xe9\n".encode("latin-1"), b"name,parent\nA,A\n",
    b"name,parent\nA,B\nB,C\nC,A\n", b"name\n" + b"x" * 2_000_000,
    b"name\n" + b"A\n" * 100_000])
def test_bad_csv_files_are_refused_cleanly(app, demo, data):
    api = api_of(app, ADMIN)
    before = snapshot()
    response = send_import(app, api, "units", data)
    assert response.status_code == 200 and not response.json["ok"], response.json
    assert snapshot()[:4] == before[:4]


def test_logo_tricks_are_refused(demo, browser):
    admin = browser(ADMIN)
    tricks = [b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
              b"<html><script>alert(1)</script></html>",
              png(100_000, 100_000), png(0, 10), b"\x89PNG\r\n\x1a\n<script>",
              b"\xff\xd8\xff" + b"\x00" * 100]
    before = snapshot()
    for data in tricks:
        response = admin.post("/admin/settings/logo", {"logo": (io.BytesIO(data), "x.png")},
                              content_type="multipart/form-data")
        assert response.status_code == 422, data[:20]
    assert snapshot() == before


@pytest.mark.parametrize("field,value", [
    ("timezone", "Mars/Olympus"), ("timezone", "../../etc/passwd"),
    ("auto_close_after", "P99999Y"), ("auto_close_after", "P" + "9" * 400 + "D"),
    ("auto_close_after", "PT0S"), ("authorization_reminder_after", "R5/PT1H"),
    ("request_number_prefix", "A" * 11), ("request_number_prefix", "<b>"),
    ("name", "x" * 201), ("locale", "fr"),
    ("name", "Acme\nS.A."), ("name", "Acme \u202eSA")])
def test_bad_settings_are_refused(demo, browser, field, value):
    admin = browser(ADMIN)
    page = admin.get("/admin/settings")
    assert page.status_code == 200
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == "acme"))
    form = {"name": tenant.name, "locale": tenant.locale, "timezone": tenant.timezone,
            **{k: tenant.setting(k) for k in ("request_number_prefix", "ticket_number_prefix",
                                              "authorization_reminder_after",
                                              "auto_close_after")}}
    form[field] = value
    before = snapshot()
    assert admin.post("/admin/settings/general", form).status_code == 422
    assert snapshot() == before


# --- CSRF ------------------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["/admin/units", "/admin/people/invite", "/admin/categories/new",
                                 "/admin/settings/general", "/admin/settings/logo/remove",
                                 "/admin/import/check", "/account/password",
                                 "/account/logout-everywhere", "/password/forgot"])
def test_every_new_form_refuses_a_post_without_csrf(demo, browser, url):
    admin = browser(ADMIN)
    with admin.app.app_context():
        response = admin.client.post(url, data={"name": "X", "email": ADMIN})
    assert response.status_code == 400, url


# --- accounts --------------------------------------------------------------------------------

def test_forgot_password_answers_the_same_for_known_and_unknown_addresses(app, demo, browser):
    answers = []
    for email in (ADMIN, "nadie@acme.test", ADMIN, ADMIN, ADMIN, ADMIN):
        page = browser()
        page.get("/password/forgot")
        response = page.post("/password/forgot", {"email": email})
        body = response.get_data(as_text=True).replace(email, "EMAIL")
        answers.append((response.status_code, body.split('name="csrf_token"')[0]))
    assert len({a[0] for a in answers}) == 1
    api = ApiClient(app)
    a = api.post("/api/v1/password-resets", {"email": ADMIN})
    b = api.post("/api/v1/password-resets", {"email": "nadie@acme.test"})
    assert (a.status_code, a.json) == (b.status_code, b.json)


@pytest.mark.parametrize("token", ["A" * 43, "../../etc", "A" * 5000, "%00"])
def test_made_up_link_tokens_are_refused(app, demo, browser, token):
    page = browser()
    assert page.get(f"/account/welcome/{token}").status_code == 404
    assert page.get(f"/password/reset/{token}").status_code == 404
    response = ApiClient(app).post("/api/v1/password-resets/confirm",
                                   {"token": token, "new_password": "caballo bateria grapa"})
    assert response.status_code == 404


@pytest.mark.parametrize("target", ["//evil.test/x", "https://evil.test", "/\\evil.test",
                                    "\\\\evil.test", "javascript:alert(1)", "/%2F%2Fevil.test"])
def test_no_open_redirect_after_login(demo, browser, target):
    page = browser()
    page.get("/login")
    response = page.post(f"/login?next={target}", {"email": ADMIN, "password": "demo1234"})
    location = response.headers.get("Location", "")
    assert "evil" not in location and not location.startswith("javascript"), location


def test_api_password_change_follows_the_rules(app, demo):
    api = api_of(app, REQUESTER)
    for bad in ("short", "password123", "ana@acme.test", "x" * 1025):
        response = api.post("/api/v1/me/password", {"current_password": "demo1234",
                                                     "new_password": bad})
        assert response.status_code == 422, bad


# --- the audit -------------------------------------------------------------------------------

def test_audit_entries_cannot_be_changed_or_deleted(app, demo, browser):
    from sqlalchemy import delete, update

    from app.models.append_only import AppendOnly

    browser(ADMIN).post("/admin/units", {"name": "Auditada"})
    entry = db.session.scalar(select(AuditEntry).limit(1))
    assert entry is not None
    entry.action = "nothing.happened"
    with pytest.raises(AppendOnly):
        db.session.flush()
    db.session.rollback()
    with pytest.raises(AppendOnly):
        db.session.execute(update(AuditEntry).values(action="x"))
    db.session.rollback()
    with pytest.raises(AppendOnly):
        db.session.execute(delete(AuditEntry))
    db.session.rollback()


def test_every_admin_change_through_pages_leaves_an_audit_entry(demo, browser):
    admin = browser(ADMIN)
    ana = demo.user(REQUESTER)
    steps = [("/admin/units", {"name": "Nueva"}),
             (f"/admin/people/{ana.id}", {"name": "Ana Cambiada", "locale": "", "phone": ""}),
             (f"/admin/people/{ana.id}/roles", {"role": "unit_head",
                                                "unit_id": acme_unit_id()}),
             (f"/admin/people/{ana.id}/deactivate", {}),
             (f"/admin/people/{ana.id}/reactivate", {}),
             ("/admin/settings/logo", {"logo": (io.BytesIO(png(10, 10)), "l.png")}),
             ("/admin/settings/logo/remove", {})]
    for url, data in steps:
        count = snapshot()[4]
        response = admin.post(url, data)
        assert response.status_code == 302, (url, response.status_code)
        assert snapshot()[4] == count + 1, url


def test_notification_settings_and_wording_changes_leave_audit_entries(demo, browser):
    """The notification pages are admin changes too (the sender name people see on every
    e-mail, the wording of every notice, the WhatsApp templates): each leaves an entry."""
    admin = browser(ADMIN)
    wording_url = "/admin/notifications/templates/request.authorized/es"
    steps = [
        ("/admin/notifications/defaults", {"channels-tasks": ["inapp"], "sender": "Soporte"},
         "notifications.defaults_changed"),
        ("/admin/notifications/whatsapp/task.waiting",
         {"name": "aviso", "language": "es", "parameters": "step"},
         "notifications.whatsapp_template_changed"),
        (wording_url, {"subject": "Autorizada: {{ request_number }}",
                       "text": "Hola {{ recipient_name }}.", "html": "",
                       "sms": "{{ request_number }}", "action": "save"},
         "notifications.wording_changed"),
        (wording_url, {"action": "reset"}, "notifications.wording_reset"),
    ]
    for url, data, action in steps:
        count = snapshot()[4]
        response = admin.post(url, data)
        assert response.status_code == 302, (url, response.status_code)
        assert snapshot()[4] == count + 1, url
        entry = db.session.scalar(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1))
        assert entry.action == action and entry.actor_label == ADMIN
    sender = db.session.scalar(select(AuditEntry).where(
        AuditEntry.action == "notifications.defaults_changed"))
    assert sender.after["mail_sender_name"] == "Soporte"


def test_an_invited_admin_who_never_set_a_password_does_not_count_as_the_other_admin(
        app, demo):
    """Otherwise the only admin who can log in invites an address (a typo, say) as admin,
    then deactivates themselves or drops their role: nobody can administer the company."""
    api = api_of(app, ADMIN)
    invited = api.post("/api/v1/admin/people", {
        "email": "tpyo@acme.test", "name": "Typo Admin",
        "memberships": [{"role": "tenant_admin", "unit_id": None}]})
    assert invited.status_code == 201 and invited.json["status"] == "invited"
    admin = demo.user(ADMIN)
    role = next(m for m in admin.memberships if m.role == "tenant_admin")
    assert api.delete(f"/api/v1/admin/people/{admin.id}/memberships/{role.id}"
                      ).status_code == 409
    assert api.post(f"/api/v1/admin/people/{admin.id}/deactivate").status_code == 409
    db.session.rollback()
    assert demo.user(ADMIN).active and demo.user(ADMIN).has_role("tenant_admin")


@pytest.mark.parametrize("query", ["until=9999-12-31", "since=9999-12-31",
                                   "since=0001-01-01", "since=0001-01-01&until=0001-01-01"])
@pytest.mark.parametrize("zone", ["America/Bogota", "Asia/Tokyo"])
def test_audit_dates_at_the_ends_of_the_calendar_are_answered(app, demo, browser, query, zone):
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == "acme"))
    tenant.timezone = zone
    db.session.commit()
    assert browser(ADMIN).get(f"/admin/audit?{query}").status_code == 200
    response = api_of(app, ADMIN).get(f"/api/v1/admin/audit?{query}")
    assert response.status_code == 200, response.json


def _link(app, user, purpose: str) -> str:
    from datetime import timedelta

    from app.accounts import links

    with app.test_request_context():
        link, nonce = links.issue(user, purpose, timedelta(hours=1))
        db.session.commit()
        return links.path_of(purpose, links.token_of(nonce))


def test_a_new_password_ends_every_other_link_of_the_person(app, demo, browser):
    """A password reset link asked before the password was changed, or an invitation still
    open once the person chose a password by a reset, must not set another password later."""
    from app.accounts import passwords

    ana = demo.user(REQUESTER)
    old_reset = _link(app, ana, "reset")
    page = browser(REQUESTER)
    page.get("/account/password")
    changed = page.post("/account/password", {
        "current_password": "demo1234", "new_password": "caballo bateria grapa correcta",
        "new_password_again": "caballo bateria grapa correcta"})
    assert changed.status_code == 302
    assert browser().get(old_reset).status_code == 410

    newcomer = User(tenant_id=ana.tenant_id, email="nueva@acme.test", name="Marta Nueva",
                    password_hash=passwords.UNUSABLE)
    db.session.add(newcomer)
    db.session.commit()
    invitation = _link(app, newcomer, "invite")
    reset = _link(app, newcomer, "reset")
    visitor = browser()
    visitor.get(reset)
    done = visitor.post(reset, {"new_password": "caballo bateria grapa correcta",
                                "new_password_again": "caballo bateria grapa correcta"})
    assert done.status_code == 302
    assert browser().get(invitation).status_code == 410


def test_a_header_of_half_a_million_columns_is_a_short_answer(app, demo):
    import time

    api = api_of(app, ADMIN)
    started = time.perf_counter()
    response = send_import(app, api, "units", b"x," * 499_000 + b"name\nA\n")
    assert response.status_code == 200 and not response.json["ok"]
    assert len(response.get_data()) < 200_000
    assert time.perf_counter() - started < 3


def test_unscoped_counts_joins_and_updates_see_one_tenant_only(app, demo):
    """Forms of query the isolation must catch besides a plain SELECT of a model: a count
    over select_from, a column of a join, a bulk UPDATE; on both databases."""
    from sqlalchemy import update

    from app.tenancy import isolation

    acme = db.session.scalar(select(Tenant.id).where(Tenant.slug == "acme"))
    total = db.session.scalar(select(func.count()).select_from(User))
    own = db.session.scalar(select(func.count()).select_from(User)
                            .where(User.tenant_id == acme))
    db.session.commit()
    assert total > own
    with app.test_request_context(), isolation.tenant(acme):
        assert db.session.scalar(select(func.count()).select_from(User)) == own
        assert db.session.scalar(select(func.count(User.id))) == own
        emails = db.session.scalars(select(User.email).join(
            Membership, Membership.user_id == User.id)).all()
        assert emails and all(e.endswith("@acme.test") for e in emails)
        changed = db.session.execute(update(User).values(locale="en")
                                     .execution_options(synchronize_session=False)).rowcount
        assert changed == own
        db.session.rollback()


def test_two_admins_moving_units_under_each_other_at_once_make_no_cycle(app, demo):
    """Two admins at once: one moves A under B, the other B under A. Each cycle check alone
    passes (neither sees the other's change before it commits); the second must wait for the
    first and then refuse, or the two units vanish from every tree in a loop."""
    import threading

    from marshmallow import ValidationError

    from app.admin import units
    from app.tenancy import isolation

    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite takes one writer at a time")
    acme = db.session.scalar(select(Tenant.id).where(Tenant.slug == "acme"))
    admin_id = demo.user(ADMIN).id
    a = Unit(tenant_id=acme, name="Unidad A")
    b = Unit(tenant_id=acme, name="Unidad B")
    db.session.add_all([a, b])
    db.session.commit()
    a_id, b_id = a.id, b.id
    first_flushed = threading.Event()
    outcome = {}

    def move(unit_id, parent_id, key, wait_for=None, signal=None):
        with app.app_context(), isolation.tenant(acme):
            try:
                if wait_for is not None:
                    wait_for.wait(10)
                actor = db.session.get(User, admin_id)
                unit = db.session.get(Unit, unit_id)
                units.move(actor, unit, parent_id)
                if signal is not None:
                    signal.set()
                    threading.Event().wait(0.5)  # the other starts meanwhile
                db.session.commit()
                outcome[key] = "moved"
            except ValidationError:
                db.session.rollback()
                outcome[key] = "refused"
            finally:
                if signal is not None:
                    signal.set()
                db.session.remove()

    one = threading.Thread(target=move, args=(a_id, b_id, "a", None, first_flushed))
    two = threading.Thread(target=move, args=(b_id, a_id, "b", first_flushed, None))
    one.start()
    two.start()
    one.join(20)
    two.join(20)
    assert outcome == {"a": "moved", "b": "refused"}, outcome
    db.session.rollback()
    parents = dict(db.session.execute(select(Unit.id, Unit.parent_id)
                                      .where(Unit.id.in_([a_id, b_id]))).all())
    assert parents == {a_id: b_id, b_id: None}


def test_links_of_a_deactivated_person_or_a_suspended_company_open_nothing(app, demo, browser):
    ana = demo.user(REQUESTER)
    reset = _link(app, ana, "reset")
    ana.active = False
    db.session.commit()
    assert browser().get(reset).status_code == 404
    ana = demo.user(REQUESTER)
    ana.active = True
    maria = demo.user("maria@acme.test")
    db.session.commit()
    reset = _link(app, maria, "reset")
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == "acme"))
    tenant.status = "suspended"
    db.session.commit()
    assert browser().get(reset).status_code == 404
    response = ApiClient(app).post("/api/v1/password-resets/confirm", {
        "token": reset.rsplit("/", 1)[1], "new_password": "caballo bateria grapa correcta"})
    assert response.status_code == 404


def test_a_demoted_admins_token_and_session_lose_the_admin_pages_at_once(app, demo, browser):
    second = demo.user("jefe.finanzas@acme.test")
    db.session.add(Membership(tenant_id=second.tenant_id, user_id=second.id,
                              role="tenant_admin"))
    db.session.commit()
    api, page = api_of(app, "jefe.finanzas@acme.test"), browser("jefe.finanzas@acme.test")
    assert api.get("/api/v1/admin/people").status_code == 200
    assert page.get("/admin/people").status_code == 200
    role = next(m for m in demo.user("jefe.finanzas@acme.test").memberships
                if m.role == "tenant_admin")
    admin = api_of(app, ADMIN)
    assert admin.delete(f"/api/v1/admin/people/{second.id}/memberships/{role.id}"
                        ).status_code == 200
    assert api.get("/api/v1/admin/people").status_code == 404
    assert page.get("/admin/people").status_code == 404


ODD_VALUES = [None, [], {}, True, -1, 0, 2**63, 1.5, "", " ", "x" * 5000, "²", ["a"],
              {"es": None}, {"es": {"es": "x"}}]


def test_odd_json_values_in_every_admin_write_are_never_a_500(app, demo):
    """Each field of each admin write gets values of every wrong type and size: a 4xx (or a
    2xx where the value happens to be acceptable), never a 500."""
    ana = demo.user(REQUESTER)
    unit = acme_unit_id()
    api = api_of(app, ADMIN)
    writes = [
        ("POST", "/api/v1/admin/people", {"email": "odd@acme.test", "name": "Odd",
                                          "locale": None, "phone": None, "memberships": []}),
        ("PATCH", f"/api/v1/admin/people/{ana.id}", {"name": "Ana", "locale": "es",
                                                     "phone": None}),
        ("POST", f"/api/v1/admin/people/{ana.id}/memberships", {"role": "requester",
                                                                "unit_id": unit}),
        ("POST", "/api/v1/admin/units", {"name": "Odd", "parent_id": None,
                                         "is_service_unit": False}),
        ("PATCH", f"/api/v1/admin/units/{unit}", {"name": "Finanzas", "is_service_unit": False}),
        ("POST", f"/api/v1/admin/units/{unit}/move", {"parent_id": None}),
        ("POST", f"/api/v1/admin/units/{unit}/members", {"user_id": ana.id, "role": "requester"}),
        ("POST", "/api/v1/admin/categories", {"names": {"es": "Odd"}, "description": "",
                                              "service_unit_id": globex_service_unit_id(),
                                              "default_priority": "normal",
                                              "process_key": "service_request",
                                              "active": True}),
        ("PUT", "/api/v1/admin/settings", {"name": "Acme", "locale": "es",
                                           "timezone": "America/Bogota",
                                           "request_number_prefix": "SOL",
                                           "ticket_number_prefix": "TKT",
                                           "authorization_reminder_after": "PT48H",
                                           "auto_close_after": "P7D"}),
    ]
    for method, url, good in writes:
        for key in good:
            for value in ODD_VALUES:
                response = api.request(method, url, json={**good, key: value})
                assert response.status_code < 500, (method, url, key, value)
        for body in ([], "x", 1, None):
            response = api.request(method, url, json=body)
            assert response.status_code < 500, (method, url, body)


def test_the_units_tree_drawn_without_recursion_nests_each_unit_under_its_parent(
        demo, browser):
    import re

    admin = browser(ADMIN)
    for name, parent in (("Raíz", ""), ("Hija", "Raíz"), ("Nieta", "Hija"), ("Otra", "")):
        db.session.rollback()  # see the unit the page just created
        parent_id = acme_unit_id(parent) if parent else ""
        assert admin.post("/admin/units", {"name": name, "parent_id": parent_id}
                          ).status_code == 302
    html = admin.get("/admin/units").get_data(as_text=True)
    tree = '<ul class="unit-tree">' + html.split('<ul class="unit-tree">', 1)[1] \
        .split("</section>", 1)[0].split("<h3>", 1)[0]
    assert tree.count("<ul") == tree.count("</ul>") and tree.count("<li") == tree.count("</li>")
    # Nieta inside Hija's list, inside Raíz's; Otra back at the top
    shape = re.sub(r"\s+", "", re.sub(r"<a [^>]*>([^<]*)</a>", r"\1", tree))
    assert "Raíz<ul><li>Hija<ul><li>Nieta</li></ul></li></ul></li>" in shape, shape


def test_sending_a_message_again_from_the_log_leaves_an_audit_entry(app, demo, browser,
                                                                   monkeypatch):
    """As retrying a webhook delivery does: an admin's action on the company's outbox."""
    from app.models import Notification, OutboxMessage
    from tests.factories import file

    req = file(REQUESTER)
    message = db.session.scalars(select(OutboxMessage).join(Notification).where(
        Notification.request_id == req.id)).first()
    assert message.status == "unsent"
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    count = snapshot()[4]
    admin = browser(ADMIN)
    assert admin.post(f"/admin/notifications/log/{message.id}/resend").status_code == 302
    assert snapshot()[4] == count + 1
    entry = db.session.scalar(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1))
    assert (entry.action, entry.target_id, entry.before, entry.after) == (
        "notifications.message_resent", message.id, {"status": "unsent"},
        {"status": "pending"})


def test_a_deactivated_persons_login_costs_one_hash_like_any_other(app, demo, monkeypatch):
    """Refused before any hash was checked, a deactivated person's e-mail answered in a
    fraction of the time of an unknown or active one: who has left the company, by timing."""
    from app.accounts import passwords
    from app.services import login

    ana = demo.user(REQUESTER)
    ana.active = False
    db.session.commit()
    checked = []
    real = passwords.verify
    monkeypatch.setattr(passwords, "verify", lambda h, p: checked.append(h) or real(h, p))
    for email in (REQUESTER, "nadie@acme.test", "maria@acme.test"):
        checked.clear()
        with app.test_request_context():
            assert login.check_credentials(email, "wrong password", "10.0.0.1") is None
            db.session.rollback()
        assert len(checked) == 1, email
