"""The process heatmap's figures, walked through the real workflow in November 2026 and counted
by hand: passes, requests, times (median and p90), waiting, flows taken; each role's scope; the
API and the page; bad parameters."""

import json

import pytest
from sqlalchemy import select

from app.extensions import db
from app.indicators import heatmap
from app.models import BusinessCalendar, Membership, ProcessDefinition, User
from app.services import definitions
from tests.api.conftest import ApiClient
from tests.indicators.walks import at, bogota, file_at, ids, more_acme, walk

NOW = bogota(12, 1, 7)
NOVEMBER = {"from": "2026-11-01", "to": "2026-11-30"}
URL = "/api/v1/indicators/heatmap"
H = 60  # minutes


def november():
    """Four acme requests and one of globex's (never counted in acme's figures):

    R1 ana (Finanzas): filed 3 Nov 09:00, authorized 11:00 (2 h), approved 15:00 (4 h): waits
       at the assignment.
    R2 luis (Finanzas): filed 4 Nov 09:00, rejected by the head 13:00 (4 h).
    R3 maria (Producción): filed 4 Nov 09:00: waits at the authorization.
    R4 teo (Tesorería, under Finanzas; Redes, attended by Sistemas): filed 5 Nov 09:00,
       authorized 10:00 (1 h): waits at the evaluation.
    """
    more_acme()
    walk(file_at(bogota(11, 3, 9)), (bogota(11, 3, 11), "authorize"),
         (bogota(11, 3, 15), "approve"))
    walk(file_at(bogota(11, 4, 9), "luis@acme.test"), (bogota(11, 4, 13), "reject_head"))
    file_at(bogota(11, 4, 9), "maria@acme.test")
    r4 = file_at(bogota(11, 5, 9), "teo@acme.test", "Redes")
    walk(r4, (bogota(11, 5, 10), "authorize"))
    walk(file_at(bogota(11, 5, 9), "pedro@globex.test"), (bogota(11, 5, 10), "authorize"))


def person(email) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def figures_for(email, args=None, process_key="service_request", number=None):
    user = person(email)
    with at(NOW):
        view = heatmap.view_of(user, args or NOVEMBER)
        found = heatmap.find_version(user.tenant_id, process_key, number)
        return heatmap.heatmap(view, found)


def by_id(found) -> dict:
    return {e["id"]: e for e in found["elements"]}


def taken(found) -> dict:
    return {f["id"]: f["taken"] for f in found["flows"] if f["taken"]}


def brief(element) -> tuple:
    return (element["passes"], element["requests"], element["waiting"],
            element["median_minutes"], element["p90_minutes"])


def test_the_admin_sees_every_acme_pass_counted_by_hand(app, demo):
    november()
    found = figures_for("admin@acme.test")
    els = by_id(found)
    assert found["measure"] == "wall_clock" and found["version"] == 1 and found["active"]
    # Authorization: R1 2 h, R2 4 h, R4 1 h -> [60, 120, 240]: median 120, p90 120 + .8 * 120
    assert brief(els["Task_Authorize"]) == (3, 3, 1, 2 * H, 216.0)
    assert brief(els["Task_Evaluate"]) == (1, 1, 1, 4 * H, 4 * H)
    assert brief(els["Task_Assign"]) == (0, 0, 1, None, None)
    assert brief(els["Start_Filed"]) == (4, 4, 0, 0.0, 0.0)
    assert brief(els["Gateway_Authorized"]) == (3, 3, 0, 0.0, 0.0)
    assert els["Gateway_MergeEvaluate"]["passes"] == 2
    assert els["End_Rejected"]["passes"] == 1
    assert els["Timer_AuthorizationReminder"]["passes"] == 0  # no reminder was due
    assert taken(found) == {
        "Flow_Start": 4, "Flow_ToAuthorize": 4, "Flow_AuthorizeToDecision": 3,
        "Flow_Authorized": 2, "Flow_AuthorizationRejected": 1, "Flow_ToMarkRejected": 1,
        "Flow_Rejected": 1, "Flow_ToEvaluate": 2, "Flow_EvaluateToDecision": 1,
        "Flow_Approve": 1, "Flow_WithinBudget": 1,
    }
    assert found["requests"] == 4
    assert not any(e["cut_short"] for e in found["elements"])
    assert els["Task_Authorize"]["name"] == "Autorizar solicitud"
    assert els["Task_Authorize"]["kind"] == "userTask"


@pytest.mark.parametrize(("email", "authorize", "evaluate", "filed"), [
    # Finanzas and Tesorería under it: R1, R2, R4
    ("jefe.finanzas@acme.test", (3, 3, 0, 2 * H, 216.0), (1, 1, 1, 4 * H, 4 * H), 3),
    # Producción: R3, waiting at the authorization
    ("jefe.produccion@acme.test", (0, 0, 1, None, None), (0, 0, 0, None, None), 1),
    # Servicios Generales attends R1, R2, R3: [120, 240]
    ("director@acme.test", (2, 2, 1, 3 * H, 228.0), (1, 1, 0, 4 * H, 4 * H), 3),
    # Sistemas attends R4
    ("director.sistemas@acme.test", (1, 1, 0, 1 * H, 1 * H), (0, 0, 1, None, None), 1),
])
def test_heads_and_directors_count_only_their_requests(app, demo, email, authorize, evaluate,
                                                      filed):
    november()
    els = by_id(figures_for(email))
    assert brief(els["Task_Authorize"]) == authorize
    assert brief(els["Task_Evaluate"]) == evaluate
    assert els["Start_Filed"]["passes"] == filed


def process_owner() -> User:
    """Acme's process owner, with no other role."""
    acme = ids("acme")
    owner = User(tenant_id=acme["tenant"], email="procesos@acme.test", name="Paula Procesos",
                 password_hash=person("admin@acme.test").password_hash)
    db.session.add(owner)
    db.session.flush()
    db.session.add(Membership(tenant_id=acme["tenant"], user_id=owner.id,
                              role="process_owner"))
    db.session.commit()
    return owner


def test_a_process_owner_sees_the_company_but_may_not_narrow_by_unit(app, demo):
    from app.indicators import filters

    november()
    process_owner()
    assert figures_for("procesos@acme.test") == figures_for("admin@acme.test")
    # By category (Redes: R4 only) and priority, as the admin would
    redes = ids("acme")["Redes"]
    args = {**NOVEMBER, "category_id": str(redes)}
    assert figures_for("procesos@acme.test", args) == figures_for("admin@acme.test", args)
    for name, value in (("unit_id", ids("acme")["Finanzas"]),
                        ("service_unit_id", ids("acme")["Sistemas"]),
                        ("worker_id", ids("acme")["tecnico1@acme.test"])):
        with pytest.raises(filters.FilterError) as refused:
            figures_for("procesos@acme.test", {**NOVEMBER, name: str(value)})
        assert (refused.value.status, refused.value.field) == (404, name)


def test_nobody_else_sees_it(app, demo):
    november()
    with pytest.raises(PermissionError):
        figures_for("ana@acme.test")
    assert not heatmap.may_view(person("tecnico1@acme.test"))
    assert heatmap.may_view(person("jefe.finanzas@acme.test"))


def test_the_period_counts_passes_that_ended_in_it_and_those_open_before_its_end(app, demo):
    november()
    found = by_id(figures_for("admin@acme.test", {"from": "2026-11-04", "to": "2026-11-30"}))
    # R1's authorization ended on the 3rd: R2 (4 h) and R4 (1 h) remain
    assert brief(found["Task_Authorize"]) == (2, 2, 1, 150.0, 222.0)
    before = by_id(figures_for("admin@acme.test", {"from": "2026-11-01", "to": "2026-11-03"}))
    # Only R1 had been filed; R3 waited at the authorization only from the 4th
    assert brief(before["Task_Authorize"]) == (1, 1, 0, 2 * H, 2 * H)
    assert before["Task_Assign"]["waiting"] == 1  # R1 waits there since the 3rd


def test_times_are_business_time_on_the_company_calendar(app, demo):
    acme = ids("acme")
    week = {day: [["08:00", "12:00"], ["14:00", "18:00"]] for day in
            ("mon", "tue", "wed", "thu", "fri")}
    db.session.add(BusinessCalendar(tenant_id=acme["tenant"], name="Oficina",
                                    time_zone="America/Bogota", is_default=True,
                                    week={**week, "sat": [], "sun": []}, holidays=[]))
    db.session.commit()
    # Tuesday 3 Nov, filed 09:00, authorized 15:00: 6 h of clock, 3 h + 1 h of office
    walk(file_at(bogota(11, 3, 9)), (bogota(11, 3, 15), "authorize"))
    found = figures_for("admin@acme.test")
    assert found["measure"] == "business"
    assert brief(by_id(found)["Task_Authorize"]) == (1, 1, 0, 4 * H, 4 * H)


def test_times_are_over_the_latest_passes_when_there_are_more_than_the_sample(
        app, demo, monkeypatch):
    november()
    monkeypatch.setattr(heatmap, "SAMPLE", 2)
    authorize = by_id(figures_for("admin@acme.test"))["Task_Authorize"]
    # The two latest to end: R2 (4 h, the 4th) and R4 (1 h, the 5th)
    assert brief(authorize) == (3, 3, 1, 150.0, 222.0)
    assert authorize["sampled"] is True


def test_compare_two_versions_each_with_its_own_passes(app, demo):
    november()
    admin = person("admin@acme.test")
    xml = definitions.active_definition(admin.tenant_id).bpmn_xml
    with at(bogota(11, 10, 8)):
        definitions.deploy(admin.tenant_id, xml.replace('name="Evaluar viabilidad"',
                                                        'name="Revisar costo"'),
                           user=admin, note="v2")
        db.session.commit()
    walk(file_at(bogota(11, 10, 9)), (bogota(11, 10, 12), "authorize"))
    first = by_id(figures_for("admin@acme.test", number=1))
    second = by_id(figures_for("admin@acme.test", number=2))
    assert brief(first["Task_Authorize"])[:3] == (3, 3, 1)
    assert brief(second["Task_Authorize"]) == (1, 1, 0, 3 * H, 3 * H)
    assert second["Task_Evaluate"]["name"] == "Revisar costo"
    assert figures_for("admin@acme.test")["version"] == 2  # the active one by default


# --- the API ---------------------------------------------------------------------------------

def client(app, email) -> ApiClient:
    api = ApiClient(app)
    response = api.post("/api/v1/tokens", {"email": email, "password": "demo1234"})
    assert response.status_code == 201, response.json
    api.token = response.json["token"]
    return api


@pytest.mark.parametrize("email", ["admin@acme.test", "jefe.finanzas@acme.test",
                                   "director@acme.test"])
def test_the_api_answers_what_the_heatmap_computes(app, demo, email):
    november()
    with at(NOW):
        response = client(app, email).get(f"{URL}?from=2026-11-01&to=2026-11-30")
    assert response.status_code == 200, response.json
    assert response.json == json.loads(json.dumps(figures_for(email)))


def deploy_in_globex() -> None:
    """Globex gets a second version: acme has none."""
    globex = ids("globex")["tenant"]
    xml = definitions.active_definition(globex).bpmn_xml
    definitions.deploy(globex, xml.replace('name="Evaluar viabilidad"', 'name="Otra"'),
                       note="globex v2")
    db.session.commit()


@pytest.mark.parametrize(("query", "status", "field"), [
    ("version=2", 404, "version"),                        # globex's, not acme's
    ("process_key=otro_proceso", 404, "process_key"),
    ("process_key=..%2Fx", 404, "process_key"),
    ("version=abc", 422, "version"),
    ("version=0", 422, "version"),
    ("from=2026-11-30&to=2026-11-01", 422, "to"),
    ("preset=forever", 422, "preset"),
    ("from=2026-11-01", 422, "to"),
    ("unit_id=GLOBEX_UNIT", 404, "unit_id"),
    ("category_id=GLOBEX_CATEGORY", 404, "category_id"),
    ("priority=urgentisimo", 422, "priority"),
])
def test_the_api_refuses_bad_or_foreign_parameters(app, demo, query, status, field):
    deploy_in_globex()
    globex = ids("globex")
    query = query.replace("GLOBEX_UNIT", str(globex["Operaciones"])).replace(
        "GLOBEX_CATEGORY", str(globex["Mantenimiento locativo"]))
    with at(NOW):
        response = client(app, "admin@acme.test").get(f"{URL}?{query}")
    assert response.status_code == status, response.json
    assert field in json.dumps(response.json)


def test_the_api_refuses_people_without_a_role_for_it(app, demo):
    with at(NOW):
        response = client(app, "ana@acme.test").get(URL)
    assert response.status_code == 403


def test_the_api_is_in_the_openapi_document(app, demo):
    with at(NOW):
        spec = client(app, "admin@acme.test").get("/api/v1/openapi.json").json
    operation = spec["paths"]["/api/v1/indicators/heatmap"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {
        "process_key", "version", "preset", "from", "to", "unit_id", "worker_id"}
    assert {"200", "403", "404", "422"} <= set(operation["responses"])


# --- the page ----------------------------------------------------------------------------------

def test_the_page_draws_the_version_with_its_table(app, demo, browser):
    november()
    with at(NOW):
        page = browser("admin@acme.test").get("/indicators/heatmap?from=2026-11-01&to=2026-11-30")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'id="heatmap-data"' in html and "dist/heatmap.js" in html
    assert 'id="heatmap-diagram-0"' in html and 'id="heatmap-diagram-1"' not in html
    assert '<tr data-element="Task_Authorize">' in html
    assert '<tr data-flow="Flow_ToAuthorize">' in html
    assert "<script>" not in html  # no inline script (the CSP)
    assert 'href="/indicators?from=2026-11-01&amp;to=2026-11-30"' in html  # back, same view


def test_the_page_compares_two_versions_side_by_side(app, demo, browser):
    november()
    admin = person("admin@acme.test")
    xml = definitions.active_definition(admin.tenant_id).bpmn_xml
    definitions.deploy(admin.tenant_id, xml, user=admin, note="v2")
    db.session.commit()
    with at(NOW):
        page = browser("admin@acme.test").get(
            "/indicators/heatmap?version=2&compare=1&preset=last_30_days")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'id="heatmap-diagram-0"' in html and 'id="heatmap-diagram-1"' in html
    assert "hm-compare" in html


@pytest.mark.parametrize(("email", "query", "status"), [
    ("ana@acme.test", "", 404),
    ("tecnico1@acme.test", "", 404),
    ("admin@acme.test", "version=2", 404),
    ("admin@acme.test", "compare=7", 404),
    ("admin@acme.test", "version=abc", 404),
    ("admin@acme.test", "from=2026-11-30&to=2026-11-01", 422),
    ("jefe.finanzas@acme.test", "unit_id=PRODUCCION", 404),
])
def test_the_page_refuses_what_the_caller_may_not_see(app, demo, browser, email, query,
                                                       status):
    deploy_in_globex()
    query = query.replace("PRODUCCION", str(ids("acme")["Producción"]))
    with at(NOW):
        page = browser(email).get(f"/indicators/heatmap?{query}")
    assert page.status_code == status


def test_the_versions_offered_are_the_company_s_own(app, demo, browser):
    deploy_in_globex()
    with at(NOW):
        html = browser("admin@acme.test").get("/indicators/heatmap").get_data(as_text=True)
    acme_versions = db.session.scalars(select(ProcessDefinition.version).where(
        ProcessDefinition.tenant_id == ids("acme")["tenant"])).all()
    assert acme_versions == [1]
    offered = html.split('id="filter-version"', 1)[1].split("</select>", 1)[0]
    assert '<option value="1" selected>' in offered and 'value="2"' not in offered


def test_a_process_owner_reaches_it_from_the_versions_of_a_process(app, demo, browser):
    november()
    process_owner()
    admin = person("admin@acme.test")
    xml = definitions.active_definition(admin.tenant_id).bpmn_xml
    definitions.deploy(admin.tenant_id, xml, user=admin, note="v2")
    db.session.commit()
    with at(NOW):
        owner = browser("procesos@acme.test")
        versions = owner.get("/processes/service_request/versions").get_data(as_text=True)
        assert "/indicators/heatmap?process_key=service_request" in versions
        assert "version=2&amp;compare=1" in versions
        page = owner.get("/indicators/heatmap?process_key=service_request&version=2&compare=1"
                         "&from=2026-11-01&to=2026-11-30")
        refused = owner.get(f"/indicators/heatmap?unit_id={ids('acme')['Finanzas']}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="heatmap-diagram-1"' in html
    assert 'id="filter-unit_id"' not in html and 'id="filter-worker_id"' not in html
    assert 'href="/indicators?' not in html  # no indicators for them: no link there
    assert refused.status_code == 404
