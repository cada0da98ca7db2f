"""Importing units and people from CSV: a dry run that lists every row's problems and changes
nothing, then exactly the checked file applied all at once (a bad row in the middle imports
nothing; fixed, everything); what cannot be read (another encoding, broken quotes, missing
columns, an empty file, a 100,000-row file, a file too large) is said plainly and quickly;
page and API, for the tenant admin only, with one audit entry for the import and the
services' own entries."""

import io
import re
import time

import pytest
from sqlalchemy import func, select

from app.admin import importing
from app.admin.models import AuditEntry
from app.extensions import db
from app.models import Membership, Tenant, Unit, User
from tests.factories import user

ADMIN, REQUESTER = "admin@acme.test", "ana@acme.test"
TOKEN_RE = re.compile(r'name="token" value="([^"]+)"')
DIGEST_RE = re.compile(r'name="digest" value="([0-9a-f]{64})"')

UNITS = ("name;parent;service_unit\n"
         "Planta Norte;Dirección;no\n"       # its parent comes later in the file
         "Dirección;;no\n"
         "Mantenimiento Norte;Planta Norte;sí\n"
         "Almacén;Finanzas;no\n")            # under a unit that exists
PEOPLE = ("email,name,language,phone,roles\n"
          "nuevo1@acme.test,Nuevo Uno,es,+57 300 111 2222,requester@Finanzas\n"
          "nuevo2@acme.test,Nuevo Dos,en,,unit_head@Producción|requester@Producción\n"
          "nuevo3@acme.test,Nuevo Tres,,,worker@Servicios Generales\n"
          "nuevo4@acme.test,Nueva Cuatro,,,process_owner\n")


@pytest.fixture
def demo(demo):
    """The demo tenants, their admin reading English (the messages checked are the source's)."""
    user(ADMIN).locale = "en"
    db.session.commit()
    return demo


class Api:
    def __init__(self, app, email: str):
        self.app, self.client = app, app.test_client()
        token = self.call("POST", "/api/v1/tokens", json={"email": email,
                                                          "password": "demo1234"}, auth=False)
        assert token.status_code == 201, token.json
        self.headers = {"Authorization": f"Bearer {token.json['token']}"}

    def call(self, method, url, auth=True, **kwargs):
        with self.app.app_context():
            return self.client.open(url, method=method, headers=self.headers if auth else {},
                                    **kwargs)

    def send(self, kind: str, data: bytes, dry_run=True, digest=None):
        query = f"kind={kind}&dry_run={'true' if dry_run else 'false'}"
        if digest:
            query += f"&digest={digest}"
        return self.call("POST", f"/api/v1/admin/imports?{query}",
                         data={"file": (io.BytesIO(data), "file.csv")})


def acme() -> Tenant:
    db.session.rollback()
    return db.session.scalar(select(Tenant).where(Tenant.slug == "acme"))


def world() -> tuple:
    """Everything an import could change."""
    db.session.rollback()
    return (sorted((u.tenant_id, u.name, u.parent_id, u.is_service_unit)
                   for u in db.session.scalars(select(Unit))),
            sorted((u.tenant_id, u.email, u.name) for u in db.session.scalars(select(User))),
            db.session.scalar(select(func.count()).select_from(Membership)))


def audit(action: str) -> list[AuditEntry]:
    db.session.rollback()
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)
                                   .order_by(AuditEntry.id)))


def check(admin, kind: str, data: bytes):
    return admin.post("/admin/import/check", {"kind": kind,
                                              "file": (io.BytesIO(data), "file.csv")},
                      content_type="multipart/form-data")


def confirm(admin, html: str, kind: str):
    return admin.post("/admin/import/apply", {
        "kind": kind, "token": TOKEN_RE.search(html).group(1),
        "digest": DIGEST_RE.search(html).group(1)})


def unit_named(name: str) -> Unit | None:
    db.session.rollback()
    return db.session.scalar(select(Unit).where(Unit.tenant_id == acme().id, Unit.name == name))


# --- the page: dry run, then confirmation ------------------------------------------------------

def test_units_are_checked_first_then_imported_parents_in_any_order(demo, browser):
    admin = browser(ADMIN)
    page = admin.get("/admin/import").get_data(as_text=True)
    assert "service_unit" in page and "role@unit" in page
    before = world()
    dry = check(admin, "units", UNITS.encode())
    html = dry.get_data(as_text=True)
    assert dry.status_code == 200, html
    assert "4 rows were checked" in html and world() == before
    done = confirm(admin, html, "units")
    assert done.status_code == 302
    assert "4 units were created" in admin.get("/admin/import").get_data(as_text=True)
    top = unit_named("Dirección")
    assert top.parent_id is None and not top.is_service_unit
    assert unit_named("Planta Norte").parent_id == top.id
    north = unit_named("Mantenimiento Norte")
    assert north.parent_id == unit_named("Planta Norte").id and north.is_service_unit
    assert unit_named("Almacén").parent_id == unit_named("Finanzas").id
    [entry] = audit("import.applied")
    assert entry.after["kind"] == "units" and entry.after["created"] == 4
    assert entry.after["digest"] == importing.digest_of(UNITS.encode())
    assert entry.actor_id == user(ADMIN).id
    assert len(audit("unit.created")) == 4


def test_people_are_imported_with_their_roles_and_invited(demo, browser):
    from app.admin.people import status_of

    admin = browser(ADMIN)
    dry = check(admin, "people", PEOPLE.encode())
    assert dry.status_code == 200, dry.get_data(as_text=True)
    assert confirm(admin, dry.get_data(as_text=True), "people").status_code == 302
    one, two = user("nuevo1@acme.test"), user("nuevo2@acme.test")
    assert (one.name, one.locale, one.phone) == ("Nuevo Uno", "es", "+573001112222")
    assert one.tenant_id == acme().id and status_of(one) == "invited"
    assert sorted((m.role, m.unit.name) for m in two.memberships) == [
        ("requester", "Producción"), ("unit_head", "Producción")]
    assert two.locale == "en"
    assert [(m.role, m.unit.name) for m in user("nuevo3@acme.test").memberships] == [
        ("worker", "Servicios Generales")]
    assert [(m.role, m.unit_id) for m in user("nuevo4@acme.test").memberships] == [
        ("process_owner", None)]
    assert len(audit("user.invited")) == 4
    [entry] = audit("import.applied")
    assert entry.after["kind"] == "people" and entry.after["created"] == 4


def test_a_file_with_one_bad_row_in_the_middle_imports_nothing_and_fixed_imports_all(
        demo, browser):
    rows = [f"persona{n}@acme.test;Persona {n};;;requester@Finanzas" for n in range(1, 12)]
    rows[5] = "persona6@acme.test;Persona 6;;;requester@Contabilidad"  # no such unit
    text = "email;name;language;phone;roles\n" + "\n".join(rows) + "\n"
    admin = browser(ADMIN)
    before = world()
    dry = check(admin, "people", text.encode())
    html = dry.get_data(as_text=True)
    assert dry.status_code == 422
    assert "Nothing was imported" in html and "Contabilidad" in html
    assert re.search(r">7</td>\s*<td[^>]*><code>roles</code>", html)  # row 7: header is 1
    assert 'name="token"' not in html
    assert world() == before
    fixed = text.replace("requester@Contabilidad", "requester@Finanzas")
    dry = check(admin, "people", fixed.encode())
    assert dry.status_code == 200
    assert confirm(admin, dry.get_data(as_text=True), "people").status_code == 302
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(User).where(
        User.email.like("persona%@acme.test"))) == 11


def test_a_row_a_service_refuses_at_the_last_moment_rolls_everything_back(demo, browser):
    admin = browser(ADMIN)
    dry = check(admin, "people", PEOPLE.encode())
    html = dry.get_data(as_text=True)
    # Meanwhile someone takes the third address: the confirmation checks again and stops
    tenant_id = acme().id
    db.session.add(User(tenant_id=tenant_id, email="nuevo3@acme.test", name="Otra",
                        password_hash="x"))
    db.session.commit()
    before = world()
    response = confirm(admin, html, "people")
    assert response.status_code == 422
    assert "already has an account" in response.get_data(as_text=True).replace("&#39;", "'")
    assert world() == before and audit("import.applied") == []


def test_a_refusal_after_some_rows_were_created_rolls_them_back(demo, browser, monkeypatch):
    """A fault injected in the third invitation (after two people were created for real)."""
    from marshmallow import ValidationError

    from app.admin import people

    real, calls = people.invite, []

    def invite(actor, **kwargs):
        calls.append(kwargs["email"])
        if len(calls) == 3:
            raise ValidationError({"email": ["Refused by the injected fault."]})
        return real(actor, **kwargs)

    monkeypatch.setattr(people, "invite", invite)
    admin = browser(ADMIN)
    html = check(admin, "people", PEOPLE.encode()).get_data(as_text=True)
    before = world()
    response = confirm(admin, html, "people")
    assert response.status_code == 422 and calls[:2] == ["nuevo1@acme.test",
                                                         "nuevo2@acme.test"]
    assert "Refused by the injected fault." in response.get_data(as_text=True)
    assert world() == before
    assert audit("import.applied") == [] and audit("user.invited") == []


def test_the_confirmation_applies_only_the_checked_file(demo, browser):
    admin = browser(ADMIN)
    html = check(admin, "units", UNITS.encode()).get_data(as_text=True)
    token, digest = TOKEN_RE.search(html).group(1), DIGEST_RE.search(html).group(1)
    before = world()
    other = importing.digest_of(b"name\nOtra\n")
    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    for data in ({"kind": "units", "token": forged, "digest": digest},
                 {"kind": "units", "token": token, "digest": other},
                 {"kind": "people", "token": token, "digest": digest},
                 {"kind": "units", "token": "", "digest": digest},
                 {"kind": "nope", "token": token, "digest": digest}):
        response = admin.post("/admin/import/apply", data)
        assert response.status_code == 302
        assert "not valid any more" in admin.get("/admin/import").get_data(as_text=True)
    # Another admin's confirmation is not this one's
    html_other = check(admin, "units", UNITS.encode()).get_data(as_text=True)
    second = user("director@acme.test")
    db.session.add(Membership(tenant_id=second.tenant_id, user_id=second.id,
                              role="tenant_admin"))
    db.session.commit()
    before = world()
    director = browser("director@acme.test")
    director.post("/admin/import/apply", {
        "kind": "units", "token": TOKEN_RE.search(html_other).group(1),
        "digest": DIGEST_RE.search(html_other).group(1)})
    assert world() == before and audit("import.applied") == []


def test_other_people_cannot_import(demo, browser):
    before = world()
    for email in (REQUESTER, "jefe.finanzas@acme.test", "director@acme.test"):
        person = browser(email)
        assert person.get("/admin/import").status_code == 404
        assert check(person, "units", UNITS.encode()).status_code == 404
        assert person.post("/admin/import/apply", {"kind": "units", "token": "x",
                                                   "digest": "0" * 64}).status_code == 404
    assert browser().get("/admin/import").status_code == 302
    assert world() == before


# --- what is wrong, said per row and column ----------------------------------------------------

def problems(admin, kind: str, data: bytes) -> tuple[int, str]:
    response = check(admin, kind, data)
    return response.status_code, response.get_data(as_text=True)


@pytest.mark.parametrize(("kind", "text", "says"), [
    ("people", "email,name\nana@acme.test,Ana Otra\n", "already has an account"),
    ("people", "email,name\nx@acme.test,Uno\nX@acme.test,Dos\n", "also on row 2"),
    ("people", "email,name\nno-es-correo,Uno\n", "not an e-mail address"),
    ("people", "email,name\nx@acme.test,\n", "Write the person"),
    ("people", "email,name,language\nx@acme.test,Uno,fr\n", "Write es (Spanish) or en"),
    ("people", "email,name,phone\nx@acme.test,Uno,3001234567\n", "country code"),
    ("people", "email,name,roles\nx@acme.test,Uno,jefe@Finanzas\n", "Unknown role"),
    ("people", "email,name,roles\nx@acme.test,Uno,requester@Nada\n", "Unknown unit"),
    ("people", "email,name,roles\nx@acme.test,Uno,requester\n", "is held in a unit"),
    ("people", "email,name,roles\nx@acme.test,Uno,tenant_admin@Finanzas\n",
     "whole company"),
    ("people", "email,name,roles\nx@acme.test,Uno,worker@Finanzas\n", "not one"),
    ("people", "email,name,roles\nx@acme.test,Uno,requester@Operaciones\n", "Unknown unit"),
    ("units", "name,parent\nA,B\nB,C\nC,A\n", "go round in a circle"),
    ("units", "name,parent\nA,A\n", "go round in a circle"),
    ("units", "name\nFinanzas\n", "already exists"),
    ("units", "name\nNueva\nnueva\n", "also on row 2"),
    ("units", "name,parent\nNueva,Inexistente\n", "neither in the company nor in the file"),
    ("units", "name,parent\nNueva,Operaciones\n", "neither in the company nor in the file"),
    ("units", "name,service_unit\nNueva,quizás\n", "Write yes or no"),
    ("units", "name\n" + "x" * 201 + "\n", "At most 200"),
    ("units", "name\nA\u200bB\n", "on one line"),
    ("people", "email,name\nx@acme.test,A\u200bB\n", "on one line"),
    ("units", "name,parent\nA\n", "This row has 1 values; the header has 2"),
    ("units", "nombre;padre\nA;\n\"B;C\n", "not valid CSV"),
    ("units", "name,colour\nA,red\n", "Unknown column"),
    ("units", "name,name\nA,B\n", "appears twice"),
    ("people", "email,phone\nx@acme.test,\n", "Missing columns: name"),
    ("units", "", "The file is empty"),
    ("units", "\n\n  \n", "The file is empty"),
    ("units", "name;parent\n", "header but no rows"),
    ("units", "name\nA\x01B\n", "control characters"),
])
def test_each_problem_is_said_and_nothing_changes(demo, browser, kind, text, says):
    before = world()
    status, html = problems(browser(ADMIN), kind, text.encode())
    assert status == 422
    assert says in html.replace("&#39;", "'"), html[html.find("<main"):][:3000]
    assert world() == before


def test_an_unknown_column_does_not_hide_the_rows_problems(demo, browser):
    """The dry run lists every problem of the file at once: an unknown column too, and the
    rows are still checked by the columns that are known."""
    text = "name,parent,colour\nNueva,Inexistente,red\nFinanzas,,blue\n"
    before = world()
    status, html = problems(browser(ADMIN), "units", text.encode())
    html = html.replace("&#39;", "'")
    assert status == 422
    assert "Unknown column" in html
    assert "neither in the company nor in the file" in html and "already exists" in html
    assert world() == before


def test_every_rows_problems_are_listed_at_once(demo, browser):
    text = ("email;name;language;roles\n"
            "bad;Uno;es;requester@Finanzas\n"
            "dos@acme.test;;fr;\n"
            "tres@acme.test;Tres;;boss@Finanzas\n")
    status, html = problems(browser(ADMIN), "people", text.encode())
    assert status == 422
    assert "4 problems" in html
    for says in ("not an e-mail address", "Write the person", "Write es (Spanish)",
                 "Unknown role"):
        assert says in html.replace("&#39;", "'")


def test_utf8_with_a_bom_and_semicolons_or_commas_are_read(demo, browser):
    admin = browser(ADMIN)
    bom = "\ufeffnombre;padre;unidad_de_servicio\r\nÁrea Técnica;Finanzas;no\r\n"
    status, html = problems(admin, "units", bom.encode("utf-8"))
    assert status == 200, html
    assert confirm(admin, html, "units").status_code == 302
    assert unit_named("Área Técnica").parent_id == unit_named("Finanzas").id
    comma = 'name,parent\n"Ventas, Norte",\n'
    status, html = problems(admin, "units", comma.encode())
    assert status == 200 and confirm(admin, html, "units").status_code == 302
    assert unit_named("Ventas, Norte") is not None


@pytest.mark.parametrize(("data", "says"), [
    ("name;parent\nÁrea Técnica;\n".encode("latin-1"), "not in UTF-8"),
    ("name;parent\nÁrea Técnica;\n".encode("cp1252"), "CSV UTF-8"),
    ("name;parent\nÁrea;\n".encode("utf-16"), "in UTF-16"),
    ("name;parent\nÁrea;\n".encode("utf-16-le"), "in UTF-16"),
])
def test_another_encoding_is_refused_saying_which_to_use(demo, browser, data, says):
    before = world()
    status, html = problems(browser(ADMIN), "units", data)
    assert status == 422 and says in html and "CSV UTF-8" in html
    assert world() == before


def test_a_100000_row_file_is_refused_quickly(demo, browser):
    admin = browser(ADMIN)
    short = ("name\n" + "".join(f"U{n}\n" for n in range(100_000))).encode()
    assert len(short) < importing.MAX_BYTES
    started = time.perf_counter()
    status, html = problems(admin, "units", short)
    took = time.perf_counter() - started
    assert status == 422 and "more than 5,000 rows" in html
    assert took < 3, took
    big = ("email,name\n" + "".join(f"p{n}@acme.test,Persona {n}\n"
                                    for n in range(100_000))).encode()
    assert len(big) > importing.MAX_BYTES
    started = time.perf_counter()
    status, html = problems(admin, "people", big)
    assert status == 422 and "larger than 1000 KB" in html
    assert time.perf_counter() - started < 3
    people = ("email,name\n" + "".join(f"p{n}@acme.test,P\n" for n in range(2001))).encode()
    status, html = problems(admin, "people", people)
    assert status == 422 and "more than 2,000 rows" in html
    assert unit_named("U1") is None


def test_the_plan_user_limit_is_checked_for_the_whole_file(demo, browser):
    t = acme()
    t.plan = "basico"  # 25 active people; acme has 9
    db.session.commit()
    rows = "".join(f"p{n}@acme.test,Persona {n}\n" for n in range(17))
    before = world()
    status, html = problems(browser(ADMIN), "people", ("email,name\n" + rows).encode())
    assert status == 422 and "plan allows 25" in html.replace("&#39;", "'")
    assert world() == before
    rows = "".join(f"p{n}@acme.test,Persona {n}\n" for n in range(16))
    admin = browser(ADMIN)
    status, html = problems(admin, "people", ("email,name\n" + rows).encode())
    assert status == 200
    assert confirm(admin, html, "people").status_code == 302
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(User).where(
        User.tenant_id == t.id)) == 25


# --- the API ---------------------------------------------------------------------------------

def test_the_api_checks_then_applies_the_same_file(demo, app):
    api = Api(app, ADMIN)
    before = world()
    dry = api.send("units", UNITS.encode())
    assert dry.status_code == 200, dry.json
    assert dry.json["ok"] is True and dry.json["rows"] == 4 and dry.json["applied"] is False
    assert world() == before
    missing = api.send("units", UNITS.encode(), dry_run=False)
    assert missing.status_code == 422 and world() == before
    other = api.send("units", UNITS.encode(), dry_run=False,
                     digest=importing.digest_of(b"name\nOtra\n"))
    assert other.status_code == 422 and "not the one that was checked" in other.json["detail"]
    done = api.send("units", UNITS.encode(), dry_run=False, digest=dry.json["digest"])
    assert done.status_code == 201, done.json
    assert done.json["applied"] is True and done.json["created"] == 4
    assert unit_named("Mantenimiento Norte").is_service_unit
    assert len(audit("import.applied")) == 1


def test_the_api_lists_every_problem_and_applies_nothing(demo, app):
    api = Api(app, ADMIN)
    text = "email,name,roles\nuno@acme.test,Uno,requester@Finanzas\nana@acme.test,Ana,\n" \
           "tres@acme.test,Tres,requester@Nada\n"
    dry = api.send("people", text.encode())
    assert dry.status_code == 200 and dry.json["ok"] is False
    assert [(p["row"], p["column"]) for p in dry.json["problems"]] == [(3, "email"),
                                                                       (4, "roles")]
    before = world()
    refused = api.send("people", text.encode(), dry_run=False, digest=dry.json["digest"])
    assert refused.status_code == 422
    assert refused.content_type == "application/problem+json"
    assert len(refused.json["problems"]) == 2 and refused.json["applied"] is False
    assert world() == before
    garbled = api.send("units", "name\nÁrea\n".encode("utf-16"))
    assert garbled.status_code == 200 and "UTF-16" in garbled.json["problems"][0]["message"]
    assert api.send("rooms", b"name\nA\n").status_code == 422
    assert api.call("POST", "/api/v1/admin/imports?kind=units").status_code == 422


def test_the_api_refuses_non_admins(demo, app):
    before = world()
    for email in (REQUESTER, "director@acme.test"):
        assert Api(app, email).send("units", UNITS.encode()).status_code == 404
        assert Api(app, email).send("units", UNITS.encode(), dry_run=False,
                                    digest=importing.digest_of(UNITS.encode())).status_code \
            == 404
    assert world() == before


def test_the_openapi_document_lists_the_import_endpoint(app):
    with app.app_context():
        spec = app.test_client().get("/api/v1/openapi.json").json
    operation = spec["paths"]["/api/v1/admin/imports"]["post"]
    assert {p["name"] for p in operation["parameters"]} >= {"kind", "dry_run", "digest"}
    assert "multipart/form-data" in operation["requestBody"]["content"]
