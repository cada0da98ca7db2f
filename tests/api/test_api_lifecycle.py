"""The whole lifecycle through the API, as the four people involved."""

from datetime import date, timedelta

from app.extensions import db
from app.models import Category, HistoryEvent


def first(items, **match):
    return next(i for i in items if all(i.get(k) == v for k, v in match.items()))


def inbox_task(client, request_id):
    tasks = client.get("/api/v1/tasks?per_page=100").json["items"]
    return first(tasks, request_id=request_id)


def test_request_to_rated_ticket_through_the_api(demo, api):
    ana = api("ana@acme.test")
    me = ana.get("/api/v1/me").json
    assert me["tenant"]["slug"] == "acme"
    assert me["roles"][0]["role"] == "requester"
    categories = ana.get("/api/v1/categories").json["items"]
    electric = first(categories, name="Electricidad")
    created = ana.post("/api/v1/requests", {
        "title": "Cambiar tomacorriente", "description": "Está suelto.",
        "category_id": electric["id"], "priority": "high", "location": "Piso 2"})
    assert created.status_code == 201, created.json
    req_id = created.json["id"]
    assert created.json["number"].startswith(f"SOL-{date.today().year}-")
    assert created.json["status"] == "pending_authorization"
    detail = ana.get(f"/api/v1/requests/{req_id}").json
    (step,) = detail["current_steps"]
    assert step["kind"] == "authorize"
    assert [p["email"] for p in step["waiting_on"]] == ["jefe.finanzas@acme.test"]
    assert step["team"] is None  # only a Team lane's step names a team

    head = api("jefe.finanzas@acme.test")
    task = inbox_task(head, req_id)
    assert (task["kind"], task["request_priority"]) == ("authorize", "high")
    assert task["forms"]["authorize"]["properties"]["decision"]["enum"] == ["authorize", "reject"]
    done = head.post(f"/api/v1/tasks/{task['id']}/complete",
                     {"decision": "authorize", "comment": "OK"})
    assert done.status_code == 200, done.json
    assert done.json["status"] == "pending_evaluation"
    again = head.post(f"/api/v1/tasks/{task['id']}/complete", {"decision": "authorize"})
    assert again.status_code == 409 and again.json["title"] == "Conflict"

    director = api("director@acme.test")
    task = inbox_task(director, req_id)
    bad = director.post(f"/api/v1/tasks/{task['id']}/complete", {"decision": "approve"})
    assert bad.status_code == 422 and "estimated_cost" in bad.json["errors"]
    assert director.post(f"/api/v1/tasks/{task['id']}/complete", {
        "decision": "approve", "estimated_cost": 120000,
            "estimated_hours": 8, "staff_available": True}
    ).json["status"] == "pending_assignment"
    workers = director.get("/api/v1/users?role=worker").json["items"]
    tecnico = first(workers, email="tecnico1@acme.test")
    task = inbox_task(director, req_id)
    assigned = director.post(f"/api/v1/tasks/{task['id']}/complete", {
        "worker_id": tecnico["id"], "planned_start": date.today().isoformat(),
        "planned_end": (date.today() + timedelta(days=1)).isoformat()})
    assert assigned.json == {**assigned.json, "status": "in_service", "ticket_status": "pending"}

    worker = api("tecnico1@acme.test")
    tickets = worker.get("/api/v1/tickets?status=pending").json["items"]
    ticket = first(tickets, request_id=req_id)
    assert ticket["number"].startswith("TKT-")
    task = inbox_task(worker, req_id)
    assert worker.post(f"/api/v1/tasks/{task['id']}/complete", {}).json["ticket_status"] \
        == "in_progress"
    task = inbox_task(worker, req_id)
    assert task["kinds"] == ["finish", "hold"]
    held = worker.post(f"/api/v1/tasks/{task['id']}/complete",
                       {"kind": "hold", "reason": "Falta repuesto"})
    assert held.json["ticket_status"] == "on_hold"
    task = inbox_task(worker, req_id)
    worker.post(f"/api/v1/tasks/{task['id']}/complete", {"comment": "Llegó"})
    task = inbox_task(worker, req_id)
    finished = worker.post(f"/api/v1/tasks/{task['id']}/complete", {
        "kind": "finish", "resolution": "Cambiado", "hours_spent": 1.5, "materials_cost": "8000"})
    assert (finished.json["status"], finished.json["ticket_status"]) == ("completed", "finished")

    task = inbox_task(ana, req_id)
    rated = ana.post(f"/api/v1/tasks/{task['id']}/complete", {"rating": 4, "comment": "Bien"})
    assert (rated.json["status"], rated.json["ticket_status"]) == ("completed", "closed")
    assert ana.post(f"/api/v1/requests/{req_id}/comments", {"comment": "Gracias"}
                    ).status_code == 201
    history = ana.get(f"/api/v1/requests/{req_id}/history?per_page=100").json
    events = [e["action"] for e in history["items"]]
    assert history["total"] == len(events)
    assert events == ["filed", "authorize", "evaluate", "assign", "ticket_created", "start",
                      "hold", "resume", "finish", "confirm", "commented"]
    assert ana.get(f"/api/v1/requests/{req_id}").json["rating"] == 4
    assert db.session.query(HistoryEvent).filter_by(request_id=req_id).count() == len(events)


def test_lists_filter_and_paginate(demo, api):
    director = api("director@acme.test")
    page = director.get("/api/v1/requests?per_page=2&page=1").json
    assert page["per_page"] == 2 and len(page["items"]) == 2 and page["total"] >= 5
    assert page["pages"] == -(-page["total"] // 2)
    rejected = director.get("/api/v1/requests?status=rejected").json["items"]
    assert rejected and all(r["status"] == "rejected" for r in rejected)
    cat = db.session.query(Category).filter_by(name="Limpieza").one()
    by_cat = director.get(f"/api/v1/requests?category_id={cat.id}").json["items"]
    assert by_cat and all(r["category"]["id"] == cat.id for r in by_cat)
    assert director.get("/api/v1/requests?q=bodega").json["total"] == 1
    overdue = director.get("/api/v1/tickets?overdue=true").json["items"]
    assert overdue and all(t["overdue"] for t in overdue)
    bad = director.get("/api/v1/requests?status=nonsense&per_page=500")
    assert bad.status_code == 422 and {"status", "per_page"} <= set(bad.json["errors"])


def test_tokens_expire_and_can_be_revoked(demo, api, app):
    import time_machine

    from app.api import tokens_service
    from app.models import ApiToken
    from app.models.base import utcnow

    client = api("ana@acme.test")
    assert client.get("/api/v1/me").status_code == 200
    token = db.session.query(ApiToken).one()
    assert token.token_hash != client.token and client.token.startswith("mds_")
    with time_machine.travel(utcnow() + timedelta(hours=169)):
        assert client.get("/api/v1/me").status_code == 401
    db.session.rollback()
    tokens_service.revoke(db.session.get(ApiToken, token.id))
    db.session.commit()
    assert client.get("/api/v1/me").status_code == 401


def test_token_login_is_rate_limited_and_cookies_are_not_accepted(demo, api, browser):
    client = api()
    for _ in range(5):
        assert client.post("/api/v1/tokens", {"email": "ana@acme.test", "password": "no"}
                           ).status_code == 401
    assert client.post("/api/v1/tokens", {"email": "ana@acme.test", "password": "demo1234"}
                       ).status_code == 429
    web = browser("luis@acme.test")          # logged in with a session cookie...
    assert web.get("/api/v1/me").status_code == 401   # ...which the API ignores


def test_revoke_the_current_token_and_usage_is_recorded(demo, api):
    from app.models import ApiToken

    client = api("ana@acme.test")
    assert client.get("/api/v1/me").status_code == 200
    db.session.rollback()
    assert db.session.query(ApiToken).one().last_used_at is not None
    assert client.request("DELETE", "/api/v1/tokens/current").status_code == 204
    assert client.get("/api/v1/me").status_code == 401


def test_the_api_answers_in_the_callers_language(demo, api):
    from app.models import User

    db.session.query(User).filter_by(email="director@acme.test").update({"locale": "en"})
    db.session.commit()
    director, head = api("director@acme.test"), api("jefe.finanzas@acme.test")
    from tests.factories import request_at

    req, task = request_at("Task_Evaluate")
    english = director.get(f"/api/v1/tasks/{task.id}").json["forms"]["evaluate"]
    assert english["title"] == "Evaluate viability"
    bad = director.post(f"/api/v1/tasks/{task.id}/complete", {"decision": "approve"})
    assert "Give the estimated cost." in bad.json["errors"]["estimated_cost"]
    req2, task2 = request_at("Task_Authorize")
    spanish = head.get(f"/api/v1/tasks/{task2.id}").json["forms"]["authorize"]
    assert spanish["title"] == "Autorizar solicitud"


def test_requesters_list_the_tickets_they_may_open(demo, api):
    from tests.factories import request_at

    req, task = request_at("Task_Start", requester="maria@acme.test",
                           head="jefe.produccion@acme.test")
    for email in ("maria@acme.test", "jefe.produccion@acme.test", "tecnico1@acme.test"):
        client = api(email)
        listed = [t["id"] for t in client.get("/api/v1/tickets?per_page=100").json["items"]]
        assert req.ticket.id in listed, email
        assert client.get(f"/api/v1/tickets/{req.ticket.id}").status_code == 200
    assert api("ana@acme.test").get(f"/api/v1/tickets/{req.ticket.id}").status_code == 404
    worker = api("tecnico1@acme.test")
    assert worker.post(f"/api/v1/tasks/{task.id}/claim").status_code == 200  # already theirs


def test_a_fresh_token_can_write_at_once(demo, api):
    """Its first use is a POST: recording the use must not wait on the call's own lock."""
    client = api("ana@acme.test")
    from app.models import Category

    category = db.session.query(Category).filter_by(name="Limpieza").one()
    response = client.post("/api/v1/requests", {"title": "Limpiar", "description": "Oficina",
                                                "category_id": category.id})
    assert response.status_code == 201


def test_each_answer_names_the_step_that_comes_next(demo, api):
    """A client walks the whole lifecycle by the task ids the answers give, without reading
    the request or the inbox between steps."""
    ana, head = api("ana@acme.test"), api("jefe.finanzas@acme.test")
    director, worker = api("director@acme.test"), api("tecnico1@acme.test")
    category = ana.get("/api/v1/categories").json["items"][0]
    created = ana.post("/api/v1/requests", {"title": "Silla rota", "description": "Se cae.",
                                            "category_id": category["id"]}).json
    tecnico = first(director.get("/api/v1/users?role=worker").json["items"],
                    email="tecnico1@acme.test")
    today = date.today().isoformat()
    walk = [
        (head, "authorize", "unit_head", {"decision": "authorize"}),
        (director, "evaluate", "service_director", {"decision": "approve",
                                                    "estimated_cost": 10,
                                                    "estimated_hours": 8, "staff_available": True}),
        (director, "assign", "service_director", {"worker_id": tecnico["id"],
                                                  "planned_start": today, "planned_end": today}),
        (worker, "start", "worker", {}),
        (worker, "finish", "worker", {"kind": "finish", "resolution": "Arreglada",
                                      "hours_spent": 1, "materials_cost": 0}),
        (ana, "confirm", "requester", {"rating": 5}),
    ]
    steps = created["current_steps"]
    for person, kind, role, body in walk:
        (step,) = steps
        assert (step["kind"], step["role"]) == (kind, role)
        done = person.post(f"/api/v1/tasks/{step['task_id']}/complete", body)
        assert done.status_code == 200, done.json
        steps = done.json["current_steps"]
        assert done.json["next_steps"] == [s["name"] for s in steps]
    assert steps == [] and done.json["status"] == "completed"
    detail = ana.get(f"/api/v1/requests/{created['id']}").json
    assert detail["status"] == "completed" and detail["current_steps"] == []


def test_request_pages_keep_the_list_order(demo, api):
    director = api("director@acme.test")
    everything = director.get("/api/v1/requests?per_page=100").json["items"]
    paged = []
    for page in range(1, -(-len(everything) // 2) + 1):
        paged += director.get(f"/api/v1/requests?per_page=2&page={page}").json["items"]
    assert [r["id"] for r in paged] == [r["id"] for r in everything]
    keys = [(r["created_at"], r["id"]) for r in everything]
    assert keys == sorted(keys, reverse=True)
    assert all(r["requester"]["email"] and r["category"]["name"] for r in everything)
