"""The incidents API: process owners list incidents and retry them; completions and request
details say when a request is stopped by a process error."""

from tests.factories import file, open_task
from tests.incidents import deploy_fix, failing_after_authorize, failing_at_filing


def test_api_lists_and_retries_incidents_for_owners_only(demo, api):
    failing_after_authorize()
    req = file()
    head = api("jefe.finanzas@acme.test")
    task_id = open_task(req, "Task_Authorize").id
    response = head.post(f"/api/v1/tasks/{task_id}/complete", {"decision": "authorize"})
    assert response.status_code == 200, response.json
    assert response.json["process_stopped"] is True and response.json["current_steps"] == []
    assert head.get(f"/api/v1/requests/{req.id}").json["stopped_at"] == "¿Autorizada?"
    assert head.get("/api/v1/incidents").status_code == 404
    owner = api("admin@acme.test")
    listing = owner.get("/api/v1/incidents").json
    assert listing["total"] == 1
    item = listing["items"][0]
    assert (item["request_number"], item["element_id"], item["status"]) == (
        req.number, "Gateway_Authorized", "open")
    assert owner.get(f"/api/v1/incidents/{item['id']}").json["error"] == item["error"]
    again = owner.post(f"/api/v1/incidents/{item['id']}/retry").json
    assert again["went_on"] is False and again["incident"]["attempts"] == 2
    deploy_fix()
    done = owner.post(f"/api/v1/incidents/{item['id']}/retry")
    assert done.status_code == 200 and done.json["went_on"] is True
    assert owner.post(f"/api/v1/incidents/{item['id']}/retry").status_code == 409
    assert head.get(f"/api/v1/requests/{req.id}").json["stopped_at"] is None
    globex = api("director@globex.test")
    assert globex.get(f"/api/v1/incidents/{item['id']}").status_code == 404
    for bad in ("0", "2147483648", "99999999999999999999"):
        assert owner.get(f"/api/v1/incidents/{bad}").status_code == 404


def test_filing_says_when_the_process_stopped_at_once(demo, api):
    failing_at_filing()
    ana = api("ana@acme.test")
    category = ana.get("/api/v1/categories").json["items"][0]["id"]
    response = ana.post("/api/v1/requests", {
        "title": "Cambiar bombillo", "description": "Detalle del pedido",
        "category_id": category, "location": "Piso 1"})
    assert response.status_code == 201, response.json
    assert response.json["process_stopped"] is True and response.json["current_steps"] == []
    detail = ana.get(f"/api/v1/requests/{response.json['id']}").json
    assert detail["stopped_at"] == "¿El solicitante es jefe de la unidad?"
    fine = api("pedro@globex.test")
    category = fine.get("/api/v1/categories").json["items"][0]["id"]
    response = fine.post("/api/v1/requests", {
        "title": "Otra", "description": "Detalle del pedido",
        "category_id": category, "location": "Planta"})
    assert response.json["process_stopped"] is False and response.json["current_steps"]
