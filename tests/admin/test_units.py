"""Units (/admin/units and /api/v1/admin/units): the tree, create, rename, move without a
cycle, heads/directors/workers from the unit page, archive and delete; another company's units
are not found and cannot be a parent; every change audited."""

import pytest
from sqlalchemy import func, select

from app.admin import units as unit_rules
from app.api import tokens_service
from app.extensions import db
from app.models import AuditEntry, Category, Membership, ServiceRequest, Unit, User
from tests import factories
from tests.api.conftest import ApiClient

ADMIN = "admin@acme.test"


def unit_id(name: str) -> int:
    db.session.rollback()
    return db.session.scalar(select(Unit.id).where(Unit.name == name))


def state():
    """Everything a refused change must leave as it was."""
    db.session.rollback()
    units = sorted(db.session.execute(select(Unit.id, Unit.name, Unit.parent_id,
                                             Unit.is_service_unit, Unit.archived_at)).all())
    return units, db.session.scalar(select(func.count(Membership.id))), \
        db.session.scalar(select(func.count(AuditEntry.id)))


def last_entry(action: str) -> AuditEntry:
    db.session.rollback()
    return db.session.scalar(select(AuditEntry).where(AuditEntry.action == action)
                             .order_by(AuditEntry.id.desc()).limit(1))


@pytest.fixture
def admin(demo, browser):
    factories.user(ADMIN).locale = "en"
    db.session.commit()
    return browser(ADMIN)


@pytest.fixture
def api(app, demo):
    raw, _ = tokens_service.issue(factories.user(ADMIN), "test", 1)
    db.session.commit()
    return ApiClient(app, raw)


def test_create_nest_rename_move_and_the_tree(admin):
    finance = unit_id("Finanzas")
    response = admin.post("/admin/units", {"name": " Tesorería ", "parent_id": str(finance)})
    assert response.status_code == 302
    treasury = unit_id("Tesorería")
    entry = last_entry("unit.created")
    assert entry.target_id == treasury
    assert entry.after == {"name": "Tesorería", "parent_id": finance, "is_service_unit": False,
                           "archived_at": None}
    admin.post("/admin/units", {"name": "Caja", "parent_id": str(treasury)})
    tree = admin.get("/admin/units").get_data(as_text=True)
    # nested lists: Caja inside Tesorería inside Finanzas; no other company's unit
    start = tree.index(">Finanzas<")
    assert start < tree.index(">Tesorería<") < tree.index(">Caja<")
    assert tree[start:tree.index(">Caja<")].count("<ul>") == 2
    assert "Operaciones" not in tree

    assert admin.post(f"/admin/units/{treasury}", {"name": "Tesorería General"}
                      ).status_code == 302
    entry = last_entry("unit.updated")
    assert entry.before == {"name": "Tesorería"} and entry.after == {"name": "Tesorería General"}

    production = unit_id("Producción")
    assert admin.post(f"/admin/units/{treasury}/move", {"parent_id": str(production)}
                      ).status_code == 302
    db.session.rollback()
    assert db.session.get(Unit, treasury).parent_id == production
    entry = last_entry("unit.moved")
    assert entry.before["parent"] == "Finanzas" and entry.after["parent"] == "Producción"
    assert admin.post(f"/admin/units/{treasury}/move", {"parent_id": ""}).status_code == 302
    db.session.rollback()
    assert db.session.get(Unit, treasury).parent_id is None
    page = admin.get(f"/admin/units/{treasury}").get_data(as_text=True)
    assert "Tesorería General" in page and "Caja" in admin.get("/admin/units").get_data(
        as_text=True)


@pytest.mark.parametrize("case", ["self", "child", "grandchild", "other_tenant", "archived",
                                  "not_an_id", "huge"])
def test_moves_that_must_fail_change_nothing(admin, case):
    finance = unit_id("Finanzas")
    admin.post("/admin/units", {"name": "Tesorería", "parent_id": str(finance)})
    treasury = unit_id("Tesorería")
    admin.post("/admin/units", {"name": "Caja", "parent_id": str(treasury)})
    archived = unit_id("Producción")
    db.session.get(Unit, archived).archived_at = func.now()
    db.session.commit()
    target = {"self": finance, "child": treasury, "grandchild": unit_id("Caja"),
              "other_tenant": unit_id("Operaciones"), "archived": archived,
              "not_an_id": "abc", "huge": "99999999999"}[case]
    before = state()
    response = admin.post(f"/admin/units/{finance}/move", {"parent_id": str(target)})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert ("cannot go under itself" in page if case in ("self", "child", "grandchild")
            else "Operaciones" not in page)
    assert state() == before


@pytest.mark.parametrize("form, message", [
    ({"name": ""}, "Write the unit"),
    ({"name": "u" * 201}, "At most 200 characters"),
    ({"name": "finanzas"}, "Another unit already has this name"),
    ({"name": "Nueva", "parent_id": "OTHER"}, "Unknown unit"),
    ({"name": "Nueva", "parent_id": "x1"}, "Choose a unit from the list"),
])
def test_bad_new_units_change_nothing(admin, form, message):
    if form.get("parent_id") == "OTHER":
        form = {**form, "parent_id": str(unit_id("Operaciones"))}
    before = state()
    response = admin.post("/admin/units", form)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert state() == before


def test_heads_directors_and_workers_from_the_unit_page(admin):
    service = unit_id("Servicios Generales")
    finance = unit_id("Finanzas")
    luis = factories.user("luis@acme.test").id
    assert admin.post(f"/admin/units/{service}/members",
                      {"email": "LUIS@acme.test", "role": "worker"}).status_code == 302
    assert admin.post(f"/admin/units/{finance}/members",
                      {"email": "luis@acme.test", "role": "unit_head"}).status_code == 302
    db.session.rollback()
    assert {(m.role, m.unit_id) for m in factories.user("luis@acme.test").memberships} == {
        ("requester", finance), ("worker", service), ("unit_head", finance)}
    page = admin.get(f"/admin/units/{service}").get_data(as_text=True)
    assert "Luis Pérez" in page and "Service director" in page and "Worker" in page
    # a plain unit offers no director or worker; another company's person is unknown
    before = state()
    for email, role in (("luis@acme.test", "worker"), ("pedro@globex.test", "requester"),
                        ("nobody@acme.test", "requester")):
        response = admin.post(f"/admin/units/{finance}/members", {"email": email, "role": role})
        assert response.status_code == 422, (email, role)
    assert state() == before
    membership = db.session.scalar(select(Membership.id).where(
        Membership.user_id == luis, Membership.role == "worker"))
    response = admin.post(f"/admin/people/{luis}/roles/{membership}/delete",
                          {"back_unit": str(service)})
    assert response.status_code == 302 and response.headers["Location"].endswith(
        f"/admin/units/{service}")
    assert last_entry("membership.removed").target_id == luis


def test_delete_only_what_nothing_refers_to_else_archive(admin, demo):
    admin.post("/admin/units", {"name": "Vacía"})
    empty = unit_id("Vacía")
    finance = unit_id("Finanzas")
    service = unit_id("Servicios Generales")
    before = state()
    for used in (finance, service):  # people and requests; categories
        response = admin.post(f"/admin/units/{used}/delete")
        assert response.status_code == 422
        assert "archive it instead" in response.get_data(as_text=True)
    assert state() == before
    assert admin.post(f"/admin/units/{empty}/delete").status_code == 302
    db.session.rollback()
    assert db.session.get(Unit, empty) is None
    entry = last_entry("unit.deleted")
    assert entry.target_id == empty and entry.before["name"] == "Vacía" and entry.after is None
    # the creation entry of the deleted unit is still there
    assert last_entry("unit.created").target_id == empty


def test_a_unit_with_only_a_sub_unit_cannot_be_deleted(admin):
    admin.post("/admin/units", {"name": "Madre"})
    mother = unit_id("Madre")
    admin.post("/admin/units", {"name": "Hija", "parent_id": str(mother)})
    assert admin.post(f"/admin/units/{mother}/delete").status_code == 422
    assert admin.post(f"/admin/units/{mother}/archive").status_code == 422  # a live child
    assert db.session.get(Unit, mother) is not None


def test_an_archived_unit_takes_nothing_new(admin, browser):
    finance = unit_id("Finanzas")
    service = unit_id("Servicios Generales")
    # a service unit with active categories cannot be archived
    response = admin.post(f"/admin/units/{service}/archive")
    assert response.status_code == 422 and "Categories" in response.get_data(as_text=True)
    assert admin.post(f"/admin/units/{finance}/archive").status_code == 302
    entry = last_entry("unit.archived")
    assert entry.before == {"archived_at": None} and entry.after["archived_at"]
    before = state()
    maria = factories.user("maria@acme.test").id
    refusals = [
        ("/admin/units", {"name": "Hija", "parent_id": str(finance)}),
        (f"/admin/units/{finance}/members", {"email": "maria@acme.test", "role": "requester"}),
        (f"/admin/people/{maria}/roles", {"role": "requester", "unit_id": str(finance)}),
        ("/admin/people/invite", {"name": "N", "email": "n@acme.test", "role-0": "requester",
                                  "unit-0": str(finance)}),
        (f"/admin/units/{finance}", {"name": "Otro nombre"}),
        (f"/admin/units/{finance}/archive", {}),
    ]
    for url, form in refusals:
        assert admin.post(url, form).status_code == 422, url
    assert state() == before
    page = admin.get("/admin/units").get_data(as_text=True)
    assert page.index("Archived") < page.index(">Finanzas<")
    # its people cannot file: they are told why
    ana = browser("ana@acme.test")
    category = db.session.scalar(select(Category.id).where(Category.name == "Limpieza"))
    filed = db.session.scalar(select(func.count(ServiceRequest.id)))
    response = ana.post("/requests/new", {"title": "Bombillo", "description": "Se fundió",
                                          "category_id": str(category)})
    assert response.status_code == 422
    assert "Finanzas" in response.get_data(as_text=True)
    db.session.rollback()
    assert db.session.scalar(select(func.count(ServiceRequest.id))) == filed
    # unarchived, it works again
    assert admin.post(f"/admin/units/{finance}/unarchive").status_code == 302
    assert last_entry("unit.unarchived").after == {"archived_at": None}
    assert ana.post("/requests/new", {"title": "Bombillo", "description": "Se fundió",
                                      "category_id": str(category)}).status_code == 302


def test_the_service_unit_flag_stays_while_categories_use_it(admin):
    service = unit_id("Servicios Generales")
    before = state()
    response = admin.post(f"/admin/units/{service}", {"name": "Servicios Generales"})
    assert response.status_code == 422  # the checkbox left off: no longer a service unit
    assert state() == before
    finance = unit_id("Finanzas")
    assert admin.post(f"/admin/units/{finance}", {"name": "Finanzas", "is_service_unit": "1"}
                      ).status_code == 302
    db.session.rollback()
    assert db.session.get(Unit, finance).is_service_unit


def test_another_companys_units_are_not_found(admin):
    other = unit_id("Operaciones")
    before = state()
    assert admin.get(f"/admin/units/{other}").status_code == 404
    for suffix, form in (("", {"name": "X"}), ("/move", {"parent_id": ""}), ("/archive", {}),
                         ("/unarchive", {}), ("/delete", {}),
                         ("/members", {"email": "pedro@globex.test", "role": "requester"})):
        assert admin.post(f"/admin/units/{other}{suffix}", form).status_code == 404, suffix
    assert admin.get("/admin/units/99999999999").status_code == 404
    assert state() == before


def test_the_api(api):
    finance = unit_id("Finanzas")
    created = api.post("/api/v1/admin/units", {"name": "Tesorería", "parent_id": finance})
    assert created.status_code == 201 and created.json["parent_id"] == finance
    treasury = created.json["id"]
    listed = api.get("/api/v1/admin/units?per_page=100").json
    assert "Tesorería" in [u["name"] for u in listed["items"]]
    assert "Operaciones" not in [u["name"] for u in listed["items"]]
    detail = api.get(f"/api/v1/admin/units/{finance}").json
    assert detail["in_use"]["people"] == 3 and detail["in_use"]["children"] == 1
    assert {m["role"] for m in detail["members"]} == {"unit_head", "requester"}
    assert api.patch(f"/api/v1/admin/units/{treasury}", {"name": "Caja"}).json["name"] == "Caja"
    cycle = api.post(f"/api/v1/admin/units/{finance}/move", {"parent_id": treasury})
    assert cycle.status_code == 422 and "parent_id" in cycle.json["errors"]
    other = api.post(f"/api/v1/admin/units/{treasury}/move",
                     {"parent_id": unit_id("Operaciones")})
    assert other.status_code == 422 and "parent_id" in other.json["errors"]
    assert api.post(f"/api/v1/admin/units/{treasury}/move", {"parent_id": None}
                    ).json["parent_id"] is None
    luis = factories.user("luis@acme.test").id
    member = api.post(f"/api/v1/admin/units/{treasury}/members",
                      {"user_id": luis, "role": "unit_head"})
    assert member.status_code == 201 and member.json["members"][0]["user_id"] == luis
    pedro = factories.user("pedro@globex.test").id
    assert api.post(f"/api/v1/admin/units/{treasury}/members",
                    {"user_id": pedro, "role": "unit_head"}).status_code == 422
    assert api.delete(f"/api/v1/admin/units/{treasury}").status_code == 409  # a head
    assert api.post(f"/api/v1/admin/units/{treasury}/archive").json["archived_at"]
    assert api.get("/api/v1/admin/units?archived=true").json["items"][0]["id"] == treasury
    assert api.post(f"/api/v1/admin/units/{treasury}/archive").status_code == 409
    assert api.post(f"/api/v1/admin/units/{treasury}/unarchive").json["archived_at"] is None
    empty = api.post("/api/v1/admin/units", {"name": "Vacía"}).json["id"]
    assert api.delete(f"/api/v1/admin/units/{empty}").status_code == 204
    assert api.get(f"/api/v1/admin/units/{empty}").status_code == 404
    for bad in ({"name": "x" * 201}, {"name": ""}, {"name": "Finanzas"},
                {"name": "N", "parent_id": "abc"}, {"name": "N", "is_service_unit": "maybe"},
                {"name": "N", "parent_id": 2**40}):
        response = api.post("/api/v1/admin/units", bad)
        assert response.status_code == 422, bad
    other_id = unit_id("Operaciones")
    for method, url, body in (("GET", f"/api/v1/admin/units/{other_id}", None),
                              ("PATCH", f"/api/v1/admin/units/{other_id}", {"name": "X"}),
                              ("POST", f"/api/v1/admin/units/{other_id}/move",
                               {"parent_id": None}),
                              ("POST", f"/api/v1/admin/units/{other_id}/archive", None),
                              ("DELETE", f"/api/v1/admin/units/{other_id}", None)):
        assert api.request(method, url, json=body).status_code == 404, url
    db.session.rollback()
    assert db.session.get(Unit, other_id).name == "Operaciones"
    actions = set(db.session.scalars(select(AuditEntry.action).where(
        AuditEntry.target_type == "unit")))
    assert actions == {"unit.created", "unit.updated", "unit.moved", "unit.archived",
                       "unit.unarchived", "unit.deleted"}


def test_create_for_the_import(demo):
    actor = factories.user(ADMIN)
    unit = unit_rules.create(actor, name="Importada", parent_id=unit_id("Finanzas"),
                             is_service_unit=True)
    db.session.commit()
    assert unit.id and unit.tenant_id == actor.tenant_id and unit.is_service_unit
    with pytest.raises(Exception) as refused:
        unit_rules.create(actor, name="importada")
    assert "name" in refused.value.messages
    db.session.rollback()
    assert db.session.scalar(select(func.count(User.id))) > 0


@pytest.mark.parametrize("role", ["service_director", "worker"])
def test_service_roles_are_held_in_a_service_unit_only(demo, role):
    """A director or worker of a unit that attends nobody's requests would do nothing: refused,
    as the CSV import refuses it."""
    from marshmallow import ValidationError

    from app.admin import people
    from app.models import Membership, Unit

    admin = demo.user("admin@acme.test")
    finanzas = db.session.query(Unit).filter_by(tenant_id=admin.tenant_id, name="Finanzas").one()
    before = db.session.query(Membership).count()
    with pytest.raises(ValidationError) as refused:
        people.invite(admin, email=f"{role}@acme.test", name="Nadie", memberships=[
            (role, finanzas.id)])
    assert "Finanzas" in str(refused.value.messages)
    db.session.rollback()
    assert db.session.query(Membership).count() == before
