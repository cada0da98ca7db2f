"""Pages of a request stopped by a process error: everyone sees it stopped, process owners see
the incident and retry it."""

from tests.factories import file, open_task
from tests.incidents import deploy_fix, failing_after_authorize, state
from tests.views.helpers import html
from tests.views.helpers import open_task as open_task_now


def test_pages_show_the_stop_to_everyone_and_the_incident_to_owners(demo, browser):
    failing_after_authorize()
    req = file()
    head = browser("jefe.finanzas@acme.test")
    task_id = open_task(req, "Task_Authorize").id
    response = head.post(f"/tasks/{task_id}",
                         {"handler": "authorize", "decision": "authorize"})
    assert response.status_code == 302
    page = html(head.get(response.headers["Location"]))
    assert "Detenida por un error del proceso" in page
    ana = browser("ana@acme.test")
    page = html(ana.get(f"/requests/{req.id}"))
    assert "Detenida por un error del proceso" in page
    assert "ZeroDivisionError" not in page  # the diagram's error is for the process owner
    assert "Detenida en el paso «¿Autorizada?»" in page and "No hay nada pendiente" not in page
    assert "Gateway_Authorized" not in page  # no internal ids for the requester
    diagram = ana.get(f"/requests/{req.id}/diagram.json").get_json()
    assert "Gateway_Authorized" in diagram["stopped"]  # drawn as "stopped here"
    assert "Task_Authorize" in diagram["completed"]
    assert ana.get("/processes/incidents").status_code == 404
    owner = browser("admin@acme.test")
    page = html(owner.get("/processes/incidents"))
    assert req.number in page and "Gateway_Authorized" in page and "ZeroDivisionError" in page
    assert "1 solicitud está detenida" in html(owner.get("/processes"))
    deploy_fix()
    _, _, [incident] = state(req.id)
    response = owner.post(f"/processes/incidents/{incident.id}/retry")
    assert response.status_code == 303
    assert open_task_now(req.id, "Task_Evaluate")
    page = html(owner.get("/processes/incidents?status=resolved"))
    assert req.number in page
    assert owner.post(f"/processes/incidents/{incident.id}/retry").status_code == 303
    assert owner.get("/processes/incidents?status=bogus").status_code == 404
