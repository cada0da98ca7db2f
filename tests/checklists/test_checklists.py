"""Checklists: editing and validation (service, page, API), the items a task starts with, ticks
in the history, and completion refused until every item is ticked (page AND API)."""

import pytest
from marshmallow import ValidationError
from sqlalchemy import func, select

from app.admin.models import AuditEntry
from app.checklists import service
from app.checklists import tasks as checklist_tasks
from app.checklists.models import Checklist, TaskChecklistItem
from app.extensions import db
from app.models import HistoryEvent, HumanTask, Tenant
from app.services import workflow
from tests.checklists.conftest import (
    ADMIN,
    DIRECTOR,
    REPORTER,
    RESPONDERS,
    SECURITY,
    do,
    open_task,
    report_incident,
    tick_all,
)
from tests.factories import user

TRIAGE = {"severity": "high", "false_positive": "false", "triage_notes": "Enlace malicioso"}


def _count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


# --- editing ----------------------------------------------------------------------------------

def test_defaults_are_seeded_once_in_the_companys_language_and_edits_are_kept(security):
    admin = user(ADMIN)
    rows = service.list_for(admin.tenant_id, SECURITY)
    assert [r.key for r in rows] == sorted(
        ["triage", "containment", "eradication", "recovery", "lessons_learned"])
    containment = service.get(admin.tenant_id, SECURITY, "containment")
    assert containment.items[0] == "Aislar los equipos o cuentas comprometidos"
    service.save(admin, SECURITY, "containment", ["Solo esto"])
    assert service.ensure_defaults(admin.tenant_id, SECURITY, SECURITY, admin) == []
    db.session.commit()
    assert service.get(admin.tenant_id, SECURITY, "containment").items == ["Solo esto"]
    # another process key of the same template gets its own, in English for an English company
    db.session.get(Tenant, admin.tenant_id).locale = "en"
    seeded = service.ensure_defaults(admin.tenant_id, "security_two", SECURITY)
    assert {r.key for r in seeded} == {r.key for r in rows}
    assert service.get(admin.tenant_id, "security_two", "recovery").items[0] == \
        "Restore the systems from clean copies"
    assert service.ensure_defaults(admin.tenant_id, "anything", "no_such_template") == []


@pytest.mark.parametrize("items, field", [
    ([], "items"), (["   ", ""], "items"), ("texto", "items"), ([1, 2], "items"),
    (["x" * 301], "items"), ([f"paso {i}" for i in range(31)], "items"),
    ([f"paso {i}" for i in range(100_000)], "items"),
])
def test_bad_items_are_refused_and_nothing_is_saved(security, items, field):
    admin = user(ADMIN)
    with pytest.raises(ValidationError) as refused:
        service.save(admin, SECURITY, "nuevo", items)
    assert field in refused.value.messages
    db.session.rollback()
    assert service.get(admin.tenant_id, SECURITY, "nuevo") is None


def test_items_are_trimmed_and_control_characters_dropped(security):
    row, created = service.save(user(ADMIN), SECURITY, "nuevo",
                                ["  Uno  ", "", "Dos\x00\x1b[31m", "tres\tcuatro"])
    assert created and row.items == ["Uno", "Dos[31m", "tres cuatro"]


@pytest.mark.parametrize("process_key, key", [
    ("Security", "ok"), ("security", "A"), ("security", "x"), ("1abc", "ok"),
    ("security", "a" * 41), ("s" * 81, "ok"), ("security", "con espacio"),
])
def test_bad_keys_are_refused(security, process_key, key):
    with pytest.raises(ValidationError):
        service.save(user(ADMIN), process_key, key, ["Uno"])


def test_the_page_edits_a_checklist_and_the_audit_says_so(security, browser):
    b = browser(ADMIN)
    page = b.get("/checklists")
    assert page.status_code == 200
    assert "Aislar los equipos o cuentas comprometidos" in page.get_data(as_text=True)
    response = b.post(f"/checklists/{SECURITY}/containment",
                      {"items": "Primero\n\n  Segundo  \nTercero"})
    assert response.status_code == 303
    db.session.rollback()  # what the page committed, not this session's copy
    tenant_id = user(ADMIN).tenant_id
    assert service.get(tenant_id, SECURITY, "containment").items == [
        "Primero", "Segundo", "Tercero"]
    entry = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "checklist.updated")).one()
    assert entry.after == {"items": ["Primero", "Segundo", "Tercero"]}
    assert entry.before["items"][0] == "Aislar los equipos o cuentas comprometidos"
    refused = b.post(f"/checklists/{SECURITY}/containment", {"items": "x" * 400})
    assert refused.status_code == 422
    db.session.rollback()
    assert service.get(tenant_id, SECURITY, "containment").items[0] == "Primero"
    created = b.post("/checklists/new", {"process_key": "service_request", "key": "revision",
                                         "items": "Mirar\nAnotar"})
    assert created.status_code == 303
    again = b.post("/checklists/new", {"process_key": "service_request", "key": "revision",
                                       "items": "Otra"})
    assert again.status_code == 422
    assert b.post(f"/checklists/{SECURITY}/containment/delete").status_code == 303
    db.session.rollback()
    assert service.get(tenant_id, SECURITY, "containment") is None
    assert b.get(f"/checklists/{SECURITY}/containment").status_code == 404


@pytest.mark.parametrize("email", [REPORTER, DIRECTOR, RESPONDERS[0]])
def test_only_process_owners_and_tenant_admins_keep_checklists(security, browser, api, email):
    assert browser(email).get("/checklists").status_code == 403
    assert browser(email).post(f"/checklists/{SECURITY}/containment",
                               {"items": "Nada"}).status_code == 403
    client = api(email)
    assert client.get("/api/v1/admin/checklists").status_code == 403
    assert client.put(f"/api/v1/admin/checklists/{SECURITY}/containment",
                      {"items": ["Nada"]}).status_code == 403
    assert service.get(user(ADMIN).tenant_id, SECURITY, "containment").items != ["Nada"]


def test_the_api_lists_puts_and_deletes_checklists(security, api):
    client = api(ADMIN)
    listed = client.get(f"/api/v1/admin/checklists?process_key={SECURITY}")
    assert listed.status_code == 200 and len(listed.json) == 5
    created = client.put("/api/v1/admin/checklists/service_request/revision",
                         {"items": ["Mirar", "Anotar"]})
    assert created.status_code == 201 and created.json["items"] == ["Mirar", "Anotar"]
    replaced = client.put("/api/v1/admin/checklists/service_request/revision",
                          {"items": ["Solo mirar"]})
    assert replaced.status_code == 200 and replaced.json["items"] == ["Solo mirar"]
    assert client.get("/api/v1/admin/checklists/service_request/revision").json["items"] == [
        "Solo mirar"]
    for body in ({"items": "texto"}, {"items": []}, {}, {"items": ["x" * 301]},
                 {"items": [{"a": 1}]}):
        assert client.put("/api/v1/admin/checklists/service_request/revision",
                          body).status_code == 422, body
    assert client.put("/api/v1/admin/checklists/Mal/revision",
                      {"items": ["a"]}).status_code == 422
    assert client.delete("/api/v1/admin/checklists/service_request/revision").status_code == 204
    assert client.get("/api/v1/admin/checklists/service_request/revision").status_code == 404
    # another company's checklists are not there
    other = api("director@globex.test")
    assert other.get("/api/v1/admin/checklists").status_code == 403
    doc = client.get("/api/v1/openapi.json").json
    assert "/api/v1/admin/checklists/{process_key}/{key}" in doc["paths"]
    assert "/api/v1/tasks/{task_id}/checklist/{position}" in doc["paths"]
    assert "/api/v1/requests/{request_id}/report" in doc["paths"]
    assert "/api/v1/admin/security-alerts" in doc["paths"]


# --- a task's checklist -----------------------------------------------------------------------

def test_completion_is_refused_until_every_item_is_ticked_in_one_place(security):
    req = report_incident(security)
    task = open_task(req, "Task_Triage")
    items = checklist_tasks.items(task)
    assert [i.text for i in items] == service.items_of(req.tenant_id, SECURITY, "triage")
    responder = user(RESPONDERS[0])
    before = _count(HistoryEvent, HistoryEvent.request_id == req.id)
    with pytest.raises(ValidationError) as refused:
        workflow.complete(responder, task, "form", TRIAGE)
    assert "0" in refused.value.messages["_schema"][0]
    db.session.rollback()
    for item in items[:-1]:
        checklist_tasks.tick(responder, open_task(req, "Task_Triage"), item.position, True)
        db.session.commit()
    with pytest.raises(ValidationError):
        workflow.complete(responder, open_task(req, "Task_Triage"), "form", TRIAGE)
    db.session.rollback()
    task = open_task(req, "Task_Triage")
    assert task.status == "open"
    assert _count(HistoryEvent, HistoryEvent.request_id == req.id,
                  HistoryEvent.action == "form") == 0
    assert _count(HistoryEvent, HistoryEvent.request_id == req.id) == before + len(items) - 1
    checklist_tasks.tick(responder, task, items[-1].position, True)
    db.session.commit()
    workflow.complete(responder, open_task(req, "Task_Triage"), "form", TRIAGE)
    db.session.commit()
    assert open_task(req, "Task_Contain").spec_id == "Task_Contain"


def test_the_page_refuses_completion_then_ticks_are_each_a_post_in_the_history(security,
                                                                                browser):
    req = report_incident(security)
    task = open_task(req, "Task_Triage")
    b = browser(RESPONDERS[0])
    page = b.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "Confirmar que el reporte describe un evento de seguridad real" in page
    assert f"/tasks/{task.id}/checklist/1" in page
    refused = b.post(f"/tasks/{task.id}", {"handler": "form", "severity": "high",
                                           "false_positive": "false"})
    assert refused.status_code == 422
    assert "0 " in refused.get_data(as_text=True)  # 0 of 4
    assert open_task(req, "Task_Triage").status == "open"
    answer = b.post(f"/tasks/{task.id}/checklist/2", {"ticked": "1"})
    assert answer.status_code == 303 and answer.headers["Location"].endswith(
        f"/tasks/{task.id}#item-2")
    shown = b.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "☑" in shown and "Tomás Herrera" in shown  # reflected at once, with who
    db.session.rollback()
    entry = db.session.scalars(select(HistoryEvent).where(
        HistoryEvent.request_id == req.id, HistoryEvent.action == "checklist_ticked")).one()
    assert entry.actor_id == user(RESPONDERS[0]).id and entry.step == task.name
    assert entry.changes["position"] == 2
    assert entry.changes["item"] == "Identificar los sistemas, datos y personas afectados"
    assert entry.created_at is not None
    b.post(f"/tasks/{task.id}/checklist/2", {"ticked": "0"})  # untick: recorded too
    b.post(f"/tasks/{task.id}/checklist/2", {"ticked": "0"})  # the same again: nothing
    db.session.rollback()
    actions = list(db.session.scalars(select(HistoryEvent.action).where(
        HistoryEvent.request_id == req.id, HistoryEvent.action.like("checklist_%"))
        .order_by(HistoryEvent.id)))
    assert actions == ["checklist_ticked", "checklist_unticked"]
    for position in (1, 2, 3, 4):
        b.post(f"/tasks/{task.id}/checklist/{position}", {"ticked": "1"})
    done = b.post(f"/tasks/{task.id}", {"handler": "form", "severity": "high",
                                        "false_positive": "false"})
    assert done.status_code == 302
    assert open_task(req, "Task_Contain")
    # the closed task's checklist no longer changes
    assert b.post(f"/tasks/{task.id}/checklist/1", {"ticked": "0"}).status_code == 303
    db.session.rollback()
    assert all(i.ticked_at for i in checklist_tasks.items(db.session.get(HumanTask, task.id)))


def test_the_api_refuses_completion_and_ticks_items(security, api):
    req = report_incident(security)
    task = open_task(req, "Task_Triage")
    client = api(RESPONDERS[1])
    body = {"severity": "medium", "false_positive": False}
    refused = client.post(f"/api/v1/tasks/{task.id}/complete", body)
    assert refused.status_code == 422
    assert "lista de chequeo" in str(refused.json)  # the message, in the default language
    shown = client.get(f"/api/v1/tasks/{task.id}/checklist").json
    assert (shown["total"], shown["ticked"], shown["can_tick"]) == (4, 0, True)
    for position in range(1, 5):
        answer = client.post(f"/api/v1/tasks/{task.id}/checklist/{position}", {"ticked": True})
        assert answer.status_code == 200
    assert answer.json["ticked"] == 4
    assert answer.json["items"][0]["ticked_by"]["name"] == "Teresa Mora (Técnica)"
    for bad in ({"ticked": "quizás"}, {}, None, {"ticked": [1]}):
        assert client.post(f"/api/v1/tasks/{task.id}/checklist/1", bad).status_code == 422
    assert client.post(f"/api/v1/tasks/{task.id}/checklist/99",
                       {"ticked": True}).status_code == 404
    assert client.post(f"/api/v1/tasks/{task.id}/checklist/0",
                       {"ticked": True}).status_code == 404
    done = client.post(f"/api/v1/tasks/{task.id}/complete", body)
    assert done.status_code == 200, done.json
    assert client.post(f"/api/v1/tasks/{task.id}/checklist/1",
                       {"ticked": False}).status_code == 409


def test_others_may_not_tick_and_other_companies_do_not_find_it(security, api, browser):
    req = report_incident(security)
    task = open_task(req, "Task_Triage")
    # the reporter sees the request (and so the task) but it is not theirs to tick
    assert api(REPORTER).post(f"/api/v1/tasks/{task.id}/checklist/1",
                              {"ticked": True}).status_code == 403
    assert browser(REPORTER).post(f"/tasks/{task.id}/checklist/1",
                                  {"ticked": "1"}).status_code == 403
    for email in ("maria@acme.test", "director@globex.test", "tecnico@globex.test"):
        assert api(email).post(f"/api/v1/tasks/{task.id}/checklist/1",
                               {"ticked": True}).status_code == 404
        assert api(email).get(f"/api/v1/tasks/{task.id}/checklist").status_code == 404
        assert browser(email).post(f"/tasks/{task.id}/checklist/1",
                                   {"ticked": "1"}).status_code == 404
    assert _count(TaskChecklistItem, TaskChecklistItem.ticked_at.is_not(None)) == 0


def test_a_task_keeps_the_items_it_started_with_and_later_tasks_get_the_edit(security):
    req = report_incident(security)
    do(req, "Task_Triage", {"severity": "low", "false_positive": "false"})
    contain = open_task(req, "Task_Contain")
    started_with = [i.text for i in checklist_tasks.items(contain)]
    admin = user(ADMIN)
    service.save(admin, SECURITY, "containment", ["Paso nuevo"])
    service.save(admin, SECURITY, "eradication", ["Solo un paso"])
    db.session.commit()
    assert [i.text for i in checklist_tasks.items(open_task(req, "Task_Contain"))] == \
        started_with
    do(req, "Task_Contain", {})  # ticks the four items it started with
    eradicate = open_task(req, "Task_Eradicate")
    assert [i.text for i in checklist_tasks.items(eradicate)] == ["Solo un paso"]
    # a checklist deleted meanwhile: the open task keeps its item all the same
    service.delete(admin, service.get(admin.tenant_id, SECURITY, "eradication"))
    db.session.commit()
    assert len(checklist_tasks.items(open_task(req, "Task_Eradicate"))) == 1
    do(req, "Task_Eradicate", {})
    do(req, "Task_Recover", {"restored": "false"})
    # the second eradication opens after the deletion: nothing to tick
    second = open_task(req, "Task_Eradicate")
    assert checklist_tasks.items(second) == []
    workflow.complete(user(RESPONDERS[0]), second, "form", {})
    db.session.commit()
    assert open_task(req, "Task_Recover")


def test_a_step_without_a_checklist_costs_no_query_and_is_not_gated(demo):
    from tests.factories import request_at

    req, task = request_at("Task_Authorize")
    assert checklist_tasks.items(task) == []
    workflow.complete(user("jefe.finanzas@acme.test"), task, "authorize",
                      {"decision": "authorize"})
    db.session.commit()
    assert _count(TaskChecklistItem) == 0
    assert _count(Checklist) == 0


def test_tick_all_helper_ticks_as_the_given_person(security):
    req = report_incident(security)
    tick_all(open_task(req, "Task_Triage"), RESPONDERS[1])
    people = set(db.session.scalars(select(TaskChecklistItem.ticked_by_id)))
    assert people == {user(RESPONDERS[1]).id}


@pytest.mark.parametrize("position", ["0", "31", "99999999999999999999999", "-1", "x"])
def test_no_such_item_is_not_found(security, api, browser, position):
    req = report_incident(security)
    task = open_task(req, "Task_Triage")
    assert api(RESPONDERS[0]).post(f"/api/v1/tasks/{task.id}/checklist/{position}",
                                   {"ticked": True}).status_code == 404
    assert browser(RESPONDERS[0]).post(f"/tasks/{task.id}/checklist/{position}",
                                       {"ticked": "1"}).status_code == 404


def test_each_company_sees_only_its_own_checklists_and_items(security):
    from app.tenancy import isolation

    req = report_incident(security)
    acme = req.tenant_id
    globex = db.session.scalar(select(Tenant.id).where(Tenant.slug == "globex"))
    service.ensure_defaults(globex, SECURITY, SECURITY)
    db.session.commit()
    for tenant_id in (acme, globex):
        with isolation.tenant(tenant_id):
            assert {c.tenant_id for c in db.session.scalars(select(Checklist))} == {tenant_id}
            items = {i.tenant_id for i in db.session.scalars(select(TaskChecklistItem))}
            assert items == ({acme} if tenant_id == acme else set())
            db.session.commit()
