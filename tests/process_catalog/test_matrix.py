"""The incident priority matrix: the pure rules, the tenant's copy (API and page), checked
cell by cell, nothing saved when anything is wrong."""

import pytest
from sqlalchemy import select

from app.admin.models import AuditEntry
from app.extensions import db
from app.models import Tenant
from app.process_catalog import matrix, settings

OWNER = "admin@acme.test"
URL = "/api/v1/processes/priority-matrix"


def stored(slug="acme") -> dict:
    db.session.rollback()
    return db.session.scalar(select(Tenant).where(Tenant.slug == slug)).settings or {}


def test_the_default_matrix_is_itils():
    table = matrix.DEFAULT_MATRIX
    assert matrix.clean_matrix(table) == table
    assert matrix.priority_for(table, "high", "high") == "urgent"
    assert matrix.priority_for(table, "medium", "medium") == "normal"
    assert matrix.priority_for(table, "low", "low") == "low"
    # the priority never falls when impact or urgency rises
    order = {"low": 0, "normal": 1, "high": 2, "urgent": 3}
    levels = list(reversed(matrix.LEVELS))  # low, medium, high
    for i, impact in enumerate(levels):
        for j, urgency in enumerate(levels):
            here = order[table[impact][urgency]]
            if i + 1 < len(levels):
                assert order[table[levels[i + 1]][urgency]] >= here
            if j + 1 < len(levels):
                assert order[table[impact][levels[j + 1]]] >= here


@pytest.mark.parametrize("value, expected", [
    ("high", "high"), ("Alta", "high"), (" medio ", "medium"), ("BAJO", "low"), ("3", "low"),
    ("", None), (None, None), ("crítico", None), (7, None)])
def test_levels_as_people_write_them(value, expected):
    assert matrix.level(value) == expected


@pytest.mark.parametrize("raw, cell", [
    ({**matrix.DEFAULT_MATRIX, "high": {**matrix.DEFAULT_MATRIX["high"], "low": "p1"}},
     "high.low"),
    ({**matrix.DEFAULT_MATRIX, "low": {"high": "low"}}, "low.medium"),
    ({**matrix.DEFAULT_MATRIX, "extreme": {}}, "extreme"),
    ({"high": matrix.DEFAULT_MATRIX["high"], "medium": matrix.DEFAULT_MATRIX["medium"]}, "low"),
    ({**matrix.DEFAULT_MATRIX, "high": {**matrix.DEFAULT_MATRIX["high"], "now": "urgent"}},
     "high.now"),
])
def test_a_matrix_with_a_bad_cell_is_refused_naming_it(raw, cell):
    with pytest.raises(matrix.MatrixError) as refused:
        matrix.clean_matrix(raw)
    assert cell in refused.value.problems


@pytest.mark.parametrize("value", ["", "4 horas", "PT0S", "PT10S", "P99Y", "x" * 200, None])
def test_bad_escalation_times(value):
    with pytest.raises(matrix.MatrixError) as refused:
        matrix.clean_escalation({**matrix.DEFAULT_ESCALATION, "high": value})
    assert "high" in refused.value.problems


def test_the_api_reads_the_defaults_then_the_companys_own(demo, api):
    owner = api(OWNER)
    first = owner.get(URL)
    assert first.status_code == 200
    assert first.json == {"matrix": matrix.DEFAULT_MATRIX,
                          "escalation_after": matrix.DEFAULT_ESCALATION, "is_default": True}
    table = {**matrix.DEFAULT_MATRIX, "low": {"high": "high", "medium": "normal", "low": "low"}}
    saved = owner.put(URL, {"matrix": table})
    assert saved.status_code == 200, saved.json
    assert saved.json["matrix"]["low"]["high"] == "high" and saved.json["is_default"] is False
    assert stored()[settings.MATRIX_KEY] == table
    assert settings.ESCALATION_KEY not in stored()  # left as it was
    times = owner.put(URL, {"escalation_after": {**matrix.DEFAULT_ESCALATION, "urgent": "pt30m"}})
    assert times.json["escalation_after"]["urgent"] == "PT30M"
    db.session.rollback()
    entries = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "settings.changed")).all()
    assert len(entries) == 2
    # the other company keeps the defaults
    assert settings.MATRIX_KEY not in stored("globex")


@pytest.mark.parametrize("body", [
    {"matrix": {**matrix.DEFAULT_MATRIX, "high": {"high": "p1", "medium": "high",
                                                  "low": "normal"}}},
    {"matrix": "urgent"},
    {"matrix": {"high": "urgent"}},
    {"escalation_after": {"urgent": "soon", "high": "PT4H", "normal": "PT8H", "low": "P1D"}},
    {"escalation_after": ["PT1H"]},
    {"matrix": matrix.DEFAULT_MATRIX, "escalation_after": {"urgent": "PT1H"}},
])
def test_the_api_refuses_a_bad_matrix_and_saves_nothing(demo, api, body):
    response = api(OWNER).put(URL, body)
    assert response.status_code == 422, response.json
    assert response.json["errors"]
    assert settings.MATRIX_KEY not in stored() and settings.ESCALATION_KEY not in stored()


def test_the_page_saves_and_refuses(demo, browser):
    owner = browser(OWNER)
    page = owner.get("/processes/priority-matrix")
    assert page.status_code == 200
    assert 'name="m-high-high"' in page.get_data(as_text=True)
    form = {f"m-{i}-{u}": matrix.DEFAULT_MATRIX[i][u] for i in matrix.LEVELS
            for u in matrix.LEVELS}
    form.update({f"e-{p}": v for p, v in matrix.DEFAULT_ESCALATION.items()})
    form["m-medium-medium"] = "high"
    saved = owner.post("/processes/priority-matrix", form)
    assert saved.status_code == 302
    assert stored()[settings.MATRIX_KEY]["medium"]["medium"] == "high"
    refused = owner.post("/processes/priority-matrix", {**form, "m-low-low": "whenever",
                                                        "e-low": "mañana"})
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert html.count('aria-invalid="true"') == 2
    assert stored()[settings.MATRIX_KEY]["low"]["low"] == "low"
    assert browser("director@acme.test").get("/processes/priority-matrix").status_code == 404



def test_a_tenant_admin_adds_impact_and_urgency_to_a_category(demo, browser):
    from app.models import Category
    from app.process_catalog import adopt

    category = db.session.scalar(select(Category).where(Category.name == "Soporte TI"))
    adopt(category.tenant_id, "incident", None, deploy=True)
    category.process_key = "incident"  # the fields mean something to its process only
    db.session.commit()
    owner = browser(OWNER)  # process owner and tenant admin
    assert "Add the fields" in owner.get("/processes/priority-matrix").get_data(as_text=True) \
        or 'action="/processes/priority-matrix/fields"' in owner.get(
            "/processes/priority-matrix").get_data(as_text=True)
    done = owner.post("/processes/priority-matrix/fields", {"category_id": category.id})
    assert done.status_code == 302
    db.session.rollback()
    names = [f["name"] for f in db.session.get(Category, category.id).request_fields]
    assert names == ["impact", "urgency"]
    again = owner.post("/processes/priority-matrix/fields", {"category_id": category.id})
    assert again.status_code == 302
    db.session.rollback()
    assert len(db.session.get(Category, category.id).request_fields) == 2
    audit = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "category.updated")).all()
    assert len(audit) == 1
    other = db.session.scalar(select(Category).where(Category.name == "Aire acondicionado"))
    assert owner.post("/processes/priority-matrix/fields",
                      {"category_id": other.id}).status_code == 404  # another company's
    assert owner.post("/processes/priority-matrix/fields",
                      {"category_id": "x"}).status_code == 404


def test_a_process_owner_who_is_not_a_tenant_admin_may_not_edit_categories(demo, browser):
    from app.models import Category, Membership

    director = demo.user("director@acme.test")
    db.session.add(Membership(tenant_id=director.tenant_id, user=director, role="process_owner"))
    db.session.commit()
    category = db.session.scalar(select(Category).where(Category.name == "Soporte TI"))
    page = browser("director@acme.test")
    assert page.get("/processes/priority-matrix").status_code == 200
    assert page.post("/processes/priority-matrix/fields",
                     {"category_id": category.id}).status_code == 403
    db.session.rollback()
    assert not db.session.get(Category, category.id).request_fields
