"""The company's settings: name, default language, time zone, number prefixes and the timer
durations the diagram reads (page and API), each validated (refusals change nothing) and
audited; the logo, told by its bytes (a PNG named .jpg is a PNG, an HTML file named .png is
refused, and so is one too large), served to the company's own people with its type, nosniff
and a long cache, shown in the top bar and removable; a changed prefix numbers the next
request and ticket, and the numbers already given stay."""

import io
import struct
import time
import zlib

import pytest
from sqlalchemy import select

from app.admin.models import AuditEntry
from app.extensions import db
from app.models import Category, ServiceRequest, Tenant, Ticket
from tests.factories import file, request_at, user

ADMIN, REQUESTER = "admin@acme.test", "ana@acme.test"


@pytest.fixture
def demo(demo):
    """The demo tenants, their admin reading English (the messages checked are the source's)."""
    user(ADMIN).locale = "en"
    db.session.commit()
    return demo


class Api:
    def __init__(self, app, email: str):
        self.app, self.client = app, app.test_client()
        token = self.call("POST", "/api/v1/tokens", {"email": email, "password": "demo1234"},
                          auth=False)
        assert token.status_code == 201, token.json
        self.headers = {"Authorization": f"Bearer {token.json['token']}"}

    def call(self, method, url, json=None, auth=True, **kwargs):
        with self.app.app_context():
            return self.client.open(url, method=method, json=json,
                                    headers=self.headers if auth else {}, **kwargs)


def png(width=40, height=20, padding=0) -> bytes:
    """A real PNG (grey pixels), optionally padded with a text chunk to make it large."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    raw = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    extra = chunk(b"tEXt", b"Comment\x00" + b"x" * padding) if padding else b""
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0,
                                                              0, 0, 0))
            + extra + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def jpeg(width=64, height=32) -> bytes:
    """The header of a baseline JPEG: SOI, a JFIF APP0 segment, SOF0 with the size, EOI."""
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof0 = (b"\xff\xc0" + struct.pack(">HBHHB", 17, 8, height, width, 3)
            + b"\x01\x22\x00\x02\x11\x01\x03\x11\x01")
    return b"\xff\xd8" + app0 + sof0 + b"\xff\xd9"


def tenant(slug="acme") -> Tenant:
    db.session.rollback()
    return db.session.scalar(select(Tenant).where(Tenant.slug == slug))


def state(slug="acme") -> tuple:
    t = tenant(slug)
    return (t.name, t.locale, t.timezone, dict(t.settings or {}), t.logo, t.logo_type)


def audit(action: str | None = None) -> list[AuditEntry]:
    db.session.rollback()
    stmt = select(AuditEntry).where(AuditEntry.action.startswith("settings.")) \
        .order_by(AuditEntry.id)
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    return list(db.session.scalars(stmt))


def form(**over) -> dict:
    values = {"name": "Acme Industrial S.A.", "locale": "es", "timezone": "America/Bogota",
              "request_number_prefix": "SOL", "ticket_number_prefix": "TKT",
              "authorization_reminder_after": "PT48H", "auto_close_after": "P7D",
              "currency": "COP", "survey_link_days": "7"}
    # the checkbox over_budget_approval: unticked, so absent
    values.update(over)
    return values


# --- the page --------------------------------------------------------------------------------

def test_the_admin_changes_the_settings_and_the_audit_keeps_before_and_after(demo, browser):
    admin = browser(ADMIN)
    page = admin.get("/admin/settings").get_data(as_text=True)
    assert 'value="Acme Industrial S.A."' in page and "America/Bogota" in page
    response = admin.post("/admin/settings/general", form(
        name="Acme S.A.S.", timezone="Europe/Madrid", request_number_prefix="REQ",
        ticket_number_prefix="OT-1", authorization_reminder_after="pt24h",
        auto_close_after="P10D"))
    assert response.status_code == 302, response.get_data(as_text=True)
    t = tenant()
    assert (t.name, t.timezone) == ("Acme S.A.S.", "Europe/Madrid")
    assert t.setting("request_number_prefix") == "REQ"
    assert t.setting("ticket_number_prefix") == "OT-1"
    assert t.setting("authorization_reminder_after") == "PT24H"
    assert t.setting("auto_close_after") == "P10D"
    [entry] = audit("settings.changed")
    assert entry.before == {"name": "Acme Industrial S.A.", "timezone": "America/Bogota",
                            "request_number_prefix": "SOL", "ticket_number_prefix": "TKT",
                            "authorization_reminder_after": "PT48H", "auto_close_after": "P7D"}
    assert entry.after["name"] == "Acme S.A.S." and entry.after["auto_close_after"] == "P10D"
    assert entry.actor_id == user(ADMIN).id
    admin.post("/admin/settings/general", form(
        name="Acme S.A.S.", timezone="Europe/Madrid", request_number_prefix="REQ",
        ticket_number_prefix="OT-1", authorization_reminder_after="PT24H",
        auto_close_after="P10D"))
    assert len(audit("settings.changed")) == 1  # nothing changed, nothing recorded


@pytest.mark.parametrize(("field", "value", "says"), [
    ("authorization_reminder_after", "PT0S", "At least one minute"),
    ("authorization_reminder_after", "P0D", "At least one minute"),
    ("auto_close_after", "P99999Y", "At most 10 years"),
    ("auto_close_after", "P11Y", "At most 10 years"),
    ("auto_close_after", "garbage", "not a duration"),
    ("auto_close_after", "P", "not a duration"),
    ("auto_close_after", "7 days", "not a duration"),
    ("auto_close_after", "R3/PT1H", "not a duration"),
    ("auto_close_after", "", "Write a duration"),
    ("auto_close_after", "P" + "9" * 300 + "D", "not a duration"),
    ("timezone", "Mars/Olympus", "time zone"),
    ("timezone", "", "time zone"),
    ("timezone", "../../etc/passwd", "time zone"),
    ("locale", "fr", "Spanish or English"),
    ("name", "", "company&#39;s name"),
    ("name", "x" * 201, "company&#39;s name"),
    ("request_number_prefix", "", "1 to 10 letters"),
    ("request_number_prefix", "SOL_2", "1 to 10 letters"),
    ("request_number_prefix", "SOL 2", "1 to 10 letters"),
    ("request_number_prefix", "-SOL", "1 to 10 letters"),
    ("request_number_prefix", "ABCDEFGHIJK", "1 to 10 letters"),
    ("ticket_number_prefix", "SOÑ", "1 to 10 letters"),
    ("ticket_number_prefix", "sol", "different prefixes"),
])
def test_a_bad_setting_is_refused_with_a_clear_message_and_changes_nothing(
        demo, browser, field, value, says):
    before = state()
    response = browser(ADMIN).post("/admin/settings/general", form(**{field: value}))
    assert response.status_code == 422
    assert says in response.get_data(as_text=True)
    assert state() == before and audit() == []


def test_every_problem_is_said_at_once(demo, browser):
    response = browser(ADMIN).post("/admin/settings/general", form(
        name="", auto_close_after="PT0S", timezone="Nowhere", request_number_prefix="a b"))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    for says in ("company&#39;s name", "At least one minute", "time zone", "1 to 10 letters"):
        assert says in html


def test_the_default_language_keeps_category_names_in_that_language(demo, browser):
    cat = db.session.scalar(select(Category).where(Category.name == "Electricidad"))
    cat.names = {"es": "Electricidad", "en": "Electrical work"}
    db.session.commit()
    response = browser(ADMIN).post("/admin/settings/general", form(locale="en"))
    assert response.status_code == 302
    assert tenant().locale == "en"
    db.session.rollback()
    assert db.session.get(Category, cat.id).name == "Electrical work"
    assert db.session.scalar(select(Category.name).where(Category.name == "Plomería"))


def test_a_language_in_which_two_categories_would_read_the_same_is_refused(demo, browser):
    cat = db.session.scalar(select(Category).where(Category.name == "Electricidad"))
    cat.names = {"es": "Electricidad", "en": "Plomería"}
    db.session.commit()
    before = state()
    response = browser(ADMIN).post("/admin/settings/general", form(locale="en"))
    assert response.status_code == 422
    assert "Two categories would be called" in response.get_data(as_text=True)
    assert state() == before


def test_a_changed_prefix_numbers_the_next_request_and_ticket(demo, browser):
    year = time.gmtime().tm_year
    old = file(title="Antes del cambio")
    assert old.number.startswith(f"SOL-{year}-")
    browser(ADMIN).post("/admin/settings/general", form(request_number_prefix="ACME",
                                                        ticket_number_prefix="OT"))
    new = file(title="Después del cambio")
    count = int(old.number.rsplit("-", 1)[1])
    assert new.number == f"ACME-{year}-{count + 1:06d}"
    db.session.rollback()
    assert db.session.get(ServiceRequest, old.id).number == old.number  # unchanged
    req, _task = request_at("Task_Start")
    db.session.rollback()
    ticket = db.session.scalar(select(Ticket).where(Ticket.request_id == req.id))
    assert ticket.number.startswith(f"OT-{year}-")
    assert db.session.get(ServiceRequest, req.id).number.startswith(f"ACME-{year}-")
    # Another tenant's numbers keep the product's prefix
    other = file("pedro@globex.test", title="Globex")
    assert other.number.startswith(f"SOL-{year}-")


def test_a_changed_timer_is_what_the_next_request_waits_for(demo, browser):
    from datetime import UTC, datetime, timedelta

    from app.models import ProcessInstance

    browser(ADMIN).post("/admin/settings/general", form(authorization_reminder_after="PT2H"))
    before = datetime.now(UTC)
    req = file(title="Con recordatorio corto")
    db.session.rollback()
    instance = db.session.scalar(select(ProcessInstance).where(
        ProcessInstance.request_id == req.id))
    due = instance.next_timer_at.replace(tzinfo=instance.next_timer_at.tzinfo or UTC)
    assert before + timedelta(hours=2) - timedelta(minutes=1) <= due
    assert due <= datetime.now(UTC) + timedelta(hours=2, minutes=1)


def test_other_people_do_not_see_the_settings(demo, browser):
    before = state()
    for email in (REQUESTER, "director@acme.test", "jefe.finanzas@acme.test"):
        person = browser(email)
        assert person.get("/admin/settings").status_code == 404
        assert person.post("/admin/settings/general", form(name="Hacked")).status_code == 404
        assert person.post("/admin/settings/logo", {
            "logo": (io.BytesIO(png()), "logo.png")}).status_code == 404
        assert person.post("/admin/settings/logo/remove").status_code == 404
    assert browser().get("/admin/settings").status_code == 302
    assert state() == before and audit() == []


# --- the logo --------------------------------------------------------------------------------

def raw(person, url: str):
    """GET an image (the browser helper reads pages as text)."""
    with person.app.app_context():
        return person.client.get(url)


def upload(admin, data: bytes, name: str):
    return admin.post("/admin/settings/logo", {"logo": (io.BytesIO(data), name)},
                      content_type="multipart/form-data")


def test_a_png_logo_is_stored_served_and_shown_in_the_top_bar(demo, browser):
    admin = browser(ADMIN)
    image = png(120, 60)
    response = upload(admin, image, "logo.png")
    assert response.status_code == 302, response.get_data(as_text=True)
    t = tenant()
    assert (t.logo, t.logo_type) == (image, "image/png")
    version = t.setting("logo_version")
    [entry] = audit("settings.logo_changed")
    assert entry.after["width"] == 120 and entry.after["height"] == 60
    assert entry.after["logo"] == version and entry.before == {"logo": None}
    ana = browser(REQUESTER)
    home = ana.get("/requests").get_data(as_text=True)
    assert f'src="/company/logo/{version}"' in home
    served = raw(ana, f"/company/logo/{version}")
    assert served.status_code == 200 and served.data == image
    assert served.headers["Content-Type"] == "image/png"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert "immutable" in served.headers["Cache-Control"]
    assert "max-age=31536000" in served.headers["Cache-Control"]
    # An old or made-up version is not served; nor is it to another company's people
    assert ana.get("/company/logo/0123456789abcdef").status_code == 404
    pedro = browser("pedro@globex.test")
    assert pedro.get(f"/company/logo/{version}").status_code == 404
    assert "/company/logo/" not in pedro.get("/requests").get_data(as_text=True)
    assert browser().get(f"/company/logo/{version}").status_code == 302  # log in first


def test_a_png_named_jpg_is_a_png_and_a_jpeg_is_read_from_its_header(demo, browser):
    admin = browser(ADMIN)
    assert upload(admin, png(), "logo.jpg").status_code == 302
    assert tenant().logo_type == "image/png"
    assert upload(admin, jpeg(300, 100), "logo.png").status_code == 302
    t = tenant()
    assert t.logo_type == "image/jpeg"
    served = raw(browser(REQUESTER), f"/company/logo/{t.setting('logo_version')}")
    assert served.headers["Content-Type"] == "image/jpeg"
    entries = audit("settings.logo_changed")
    assert (entries[-1].after["width"], entries[-1].after["height"]) == (300, 100)
    assert entries[-1].before["logo"] == entries[0].after["logo"]


@pytest.mark.parametrize(("data", "name", "says"), [
    (b"<!doctype html><script>alert(1)</script>", "logo.png", "PNG or JPEG"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "logo.svg",
     "PNG or JPEG"),
    (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "logo.gif", "PNG or JPEG"),
    (b"\x89PNG\r\n\x1a\n", "logo.png", "damaged"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "logo.png", "damaged"),
    (b"\xff\xd8\xff\xd9", "logo.jpg", "damaged"),
    (b"\xff\xd8\xff\xe0\x00\x01", "logo.jpg", "damaged"),
    (png(5000, 1), "logo.png", "between 1 and 4096"),
    (png(0, 10), "logo.png", "between 1 and 4096"),
    (png(padding=300 * 1024), "logo.png", "at most 256 KB"),
    (b"", "logo.png", "Choose an image"),
])
def test_a_logo_that_is_not_a_sound_png_or_jpeg_is_refused(demo, browser, data, name, says):
    admin = browser(ADMIN)
    assert upload(admin, png(), "first.png").status_code == 302
    before = state()
    response = upload(admin, data, name)
    assert response.status_code == 422
    assert says in response.get_data(as_text=True)
    assert state() == before and len(audit()) == 1


def test_the_logo_is_removed(demo, browser):
    admin = browser(ADMIN)
    upload(admin, png(), "logo.png")
    version = tenant().setting("logo_version")
    assert admin.post("/admin/settings/logo/remove").status_code == 302
    t = tenant()
    assert (t.logo, t.logo_type, t.setting("logo_version")) == (None, None, None)
    assert browser(REQUESTER).get(f"/company/logo/{version}").status_code == 404
    assert "/company/logo/" not in browser(REQUESTER).get("/requests").get_data(as_text=True)
    [entry] = audit("settings.logo_removed")
    assert entry.before == {"logo": version}
    admin.post("/admin/settings/logo/remove")  # nothing to remove: no entry
    assert len(audit("settings.logo_removed")) == 1


# --- the API ---------------------------------------------------------------------------------

def test_the_api_reads_and_changes_the_settings(demo, app):
    api = Api(app, ADMIN)
    got = api.call("GET", "/api/v1/admin/settings").json
    assert got == {"name": "Acme Industrial S.A.", "locale": "es",
                   "timezone": "America/Bogota", "request_number_prefix": "SOL",
                   "ticket_number_prefix": "TKT", "authorization_reminder_after": "PT48H",
                   "auto_close_after": "P7D", "currency": "COP",
                   "over_budget_approval": False, "survey_link_days": 7, "logo_url": None}
    put = api.call("PUT", "/api/v1/admin/settings", {"timezone": "America/Lima",
                                                     "ticket_number_prefix": "ORD"})
    assert put.status_code == 200 and put.json["timezone"] == "America/Lima"
    assert put.json["ticket_number_prefix"] == "ORD" and put.json["name"] == \
        "Acme Industrial S.A."
    [entry] = audit("settings.changed")
    assert entry.before == {"timezone": "America/Bogota", "ticket_number_prefix": "TKT"}


@pytest.mark.parametrize(("body", "field"), [
    ({"auto_close_after": "PT0S"}, "auto_close_after"),
    ({"auto_close_after": "P99999Y"}, "auto_close_after"),
    ({"authorization_reminder_after": "soon"}, "authorization_reminder_after"),
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"request_number_prefix": ""}, "request_number_prefix"),
    ({"request_number_prefix": "TKT"}, "ticket_number_prefix"),
    ({"locale": "de"}, "locale"),
    ({"name": 42}, "name"),
    ({"currency": "XYZ"}, "currency"),
    ({"currency": "EURO"}, "currency"),
    ({"currency": ""}, "currency"),
    ({"over_budget_approval": "maybe"}, "over_budget_approval"),
    ({"plan": "empresa"}, "plan"),
])
def test_the_api_refuses_bad_settings_and_changes_nothing(demo, app, body, field):
    before = state()
    response = Api(app, ADMIN).call("PUT", "/api/v1/admin/settings", body)
    assert response.status_code == 422, response.json
    assert response.content_type == "application/problem+json"
    assert field in response.json["errors"]
    assert state() == before and audit() == []


def test_the_api_uploads_and_removes_the_logo(demo, app):
    api = Api(app, ADMIN)
    bad = api.call("PUT", "/api/v1/admin/settings/logo",
                   data={"logo": (io.BytesIO(b"<html></html>"), "logo.png")})
    assert bad.status_code == 422 and "logo" in bad.json["errors"]
    good = api.call("PUT", "/api/v1/admin/settings/logo",
                    data={"logo": (io.BytesIO(png()), "logo.png")})
    assert good.status_code == 200, good.json
    assert good.json["logo_url"].endswith(f"/company/logo/{tenant().setting('logo_version')}")
    gone = api.call("DELETE", "/api/v1/admin/settings/logo")
    assert gone.status_code == 200 and gone.json["logo_url"] is None
    assert [e.action for e in audit()] == ["settings.logo_changed", "settings.logo_removed"]


def test_the_api_refuses_non_admins(demo, app):
    before = state()
    for email in (REQUESTER, "director@acme.test"):
        api = Api(app, email)
        assert api.call("GET", "/api/v1/admin/settings").status_code == 404
        assert api.call("PUT", "/api/v1/admin/settings", {"name": "X"}).status_code == 404
        assert api.call("PUT", "/api/v1/admin/settings/logo", data={
            "logo": (io.BytesIO(png()), "logo.png")}).status_code == 404
        assert api.call("DELETE", "/api/v1/admin/settings/logo").status_code == 404
    assert Api(app, ADMIN).call("GET", "/api/v1/admin/settings", auth=False).status_code == 401
    assert state() == before and audit() == []


def test_the_openapi_document_lists_the_settings_endpoints(app):
    with app.app_context():
        spec = app.test_client().get("/api/v1/openapi.json").json
    assert {"get", "put"} <= set(spec["paths"]["/api/v1/admin/settings"])
    assert {"put", "delete"} <= set(spec["paths"]["/api/v1/admin/settings/logo"])
