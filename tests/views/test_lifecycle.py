"""The whole lifecycle through the web pages, as the four people involved."""

from datetime import date, timedelta

from app.extensions import db
from app.models import Category, HistoryEvent, ServiceRequest
from tests.views.helpers import html, open_task, reload


def _category_id(name="Electricidad"):
    return db.session.query(Category).filter_by(name=name).one().id


def test_request_to_rated_ticket_through_the_pages(demo, browser):
    ana = browser("ana@acme.test")
    page = ana.get("/requests/new")
    assert page.status_code == 200 and "Nueva solicitud" in html(page) or "New" in html(page)
    response = ana.post("/requests/new", {
        "title": "Aire acondicionado ruidoso", "description": "Hace ruido desde ayer.",
        "category_id": _category_id(), "priority": "high", "location": "Piso 3",
    })
    assert response.status_code == 302
    db.session.rollback()
    req = db.session.query(ServiceRequest).filter_by(title="Aire acondicionado ruidoso").one()
    assert req.number.startswith(f"SOL-{date.today().year}-")
    assert req.status == "pending_authorization"
    detail = html(ana.get(f"/requests/{req.id}"))
    assert req.number in detail and "Autorizar solicitud" in detail

    head = browser("jefe.finanzas@acme.test")
    assert "Autorizar solicitud" in html(head.get("/inbox"))
    task = open_task(req.id, "Task_Authorize")
    assert head.get(f"/tasks/{task.id}").status_code == 200
    assert head.post(f"/tasks/{task.id}", {"handler": "authorize", "decision": "authorize",
                                           "comment": "Adelante"}).status_code == 302
    assert reload(req.id).status == "pending_evaluation"

    director = browser("director@acme.test")
    assert req.number in html(director.get("/director/requests"))
    task = open_task(req.id, "Task_Evaluate")
    assert director.post(f"/tasks/{task.id}", {
        "handler": "evaluate", "decision": "approve", "estimated_cost": "250000",
        "estimated_hours": "8", "staff_available": "true"}).status_code == 302
    assert reload(req.id).status == "pending_assignment"
    task = open_task(req.id, "Task_Assign")
    page = html(director.get(f"/tasks/{task.id}"))
    assert "Tomás Herrera" in page
    tecnico = demo.user("tecnico1@acme.test")
    assert director.post(f"/tasks/{task.id}", {
        "handler": "assign", "worker_id": tecnico.id,
        "planned_start": date.today().isoformat(),
        "planned_end": (date.today() + timedelta(days=1)).isoformat(),
        "comment": "Llevar escalera"}).status_code == 302
    req = reload(req.id)
    assert req.status == "in_service"
    assert req.ticket.number.startswith(f"TKT-{date.today().year}-")
    assert req.ticket.status == "pending"
    assert req.ticket.number in html(director.get("/director/tickets"))
    assert "Tomás Herrera" in html(director.get("/director/workload"))

    worker = browser("tecnico1@acme.test")
    assert req.ticket.number in html(worker.get("/my/tickets"))
    assert worker.get(f"/tickets/{req.ticket.id}").status_code == 200
    task = open_task(req.id, "Task_Start")
    assert worker.post(f"/tasks/{task.id}", {"handler": "start"}).status_code == 302
    assert reload(req.id).ticket.status == "in_progress"
    task = open_task(req.id, "Task_Work")
    assert worker.post(f"/tasks/{task.id}", {"handler": "hold",
                                             "reason": "Esperando repuesto"}).status_code == 302
    assert reload(req.id).ticket.status == "on_hold"
    task = open_task(req.id, "Task_OnHold")
    assert worker.post(f"/tasks/{task.id}", {"handler": "resume"}).status_code == 302
    task = open_task(req.id, "Task_Work")
    assert worker.post(f"/tasks/{task.id}", {
        "handler": "finish", "resolution": "Se cambió el ventilador", "hours_spent": "3",
        "materials_cost": "80000"}).status_code == 302
    req = reload(req.id)
    assert (req.status, req.ticket.status) == ("completed", "finished")

    task = open_task(req.id, "Task_Confirm")
    assert ana.post(f"/tasks/{task.id}", {"handler": "confirm", "rating": "5",
                                          "comment": "Excelente"}).status_code == 302
    req = reload(req.id)
    assert (req.status, req.ticket.status, req.rating) == ("completed", "closed", 5)
    assert req.instance.status == "completed"
    actions = [e.action for e in db.session.query(HistoryEvent).filter_by(request_id=req.id)
               .order_by(HistoryEvent.id)]
    assert actions == ["filed", "authorize", "evaluate", "assign", "ticket_created", "start",
                       "hold", "resume", "finish", "confirm"]
    timeline = html(ana.get(f"/requests/{req.id}"))
    assert "Esperando repuesto" in timeline and "Excelente" in timeline


def test_english_switch(demo, browser):
    ana = browser("ana@acme.test")
    assert "Mis solicitudes" in html(ana.get("/requests"))
    ana.post("/language", {"code": "en", "next": "/requests"})
    assert "My requests" in html(ana.get("/requests"))


def test_requester_withdraws_a_request_before_it_has_a_ticket(demo, browser):
    from tests.factories import request_at

    req, task = request_at("Task_Evaluate")
    ana = browser("ana@acme.test")
    assert "Withdraw" in html(ana.get(f"/requests/{req.id}")) or "Retirar" in html(
        ana.get(f"/requests/{req.id}"))
    assert ana.post(f"/requests/{req.id}/cancel", {"reason": ""}).status_code == 302
    assert reload(req.id).status == "pending_evaluation"      # no reason: nothing changed
    assert ana.post(f"/requests/{req.id}/cancel", {"reason": "Ya no se necesita"}
                    ).status_code == 302
    req = reload(req.id)
    assert req.status == "cancelled" and req.instance.status == "completed"
    assert open_task_count(req.id) == 0
    director = browser("director@acme.test")
    assert director.post(f"/tasks/{task.id}", {"handler": "evaluate", "decision": "reject",
                                                "comment": "x"}).status_code == 409
    luis = browser("luis@acme.test")
    assert luis.post(f"/requests/{req.id}/cancel", {"reason": "x"}).status_code == 404


def test_a_request_with_a_ticket_cannot_be_withdrawn(demo, browser):
    from tests.factories import request_at

    req, _ = request_at("Task_Start")
    ana = browser("ana@acme.test")
    assert ana.post(f"/requests/{req.id}/cancel", {"reason": "x"}).status_code == 303
    assert reload(req.id).status == "in_service"


def open_task_count(req_id):
    from app.models import HumanTask

    db.session.rollback()
    return db.session.query(HumanTask).filter_by(request_id=req_id, status="open").count()


def test_task_page_shows_the_question_and_steps_follow_the_language(demo, browser):
    from app.services import workflow
    from tests.factories import request_at, user

    req, task = request_at("Task_Evaluate")
    workflow.complete(user("director@acme.test"), task, "evaluate",
                      {"decision": "return", "comment": "¿En qué piso exactamente?"})
    db.session.commit()
    ana = browser("ana@acme.test")
    task = open_task(req.id, "Task_ProvideInformation")
    page = html(ana.get(f"/tasks/{task.id}"))
    assert "¿En qué piso exactamente?" in page and "Completar información" in page
    ana.post("/language", {"code": "en", "next": "/inbox"})
    assert "Provide more information" in html(ana.get(f"/tasks/{task.id}"))


def test_people_who_see_a_request_can_comment_on_it(demo, browser):
    from tests.factories import request_at

    req, _ = request_at("Task_Start")
    ana, worker = browser("ana@acme.test"), browser("tecnico1@acme.test")
    assert ana.post(f"/requests/{req.id}/comments", {"comment": "Estoy en la oficina 3"}
                    ).status_code == 302
    assert worker.post(f"/requests/{req.id}/comments", {"comment": "Voy a las 3 pm"}
                       ).status_code == 302
    assert worker.post(f"/requests/{req.id}/comments", {"comment": "  "}).status_code == 303
    page = html(worker.get(f"/tickets/{req.ticket.id}"))
    assert "Estoy en la oficina 3" in page and "Voy a las 3 pm" in page
    outsider = browser("maria@acme.test")
    assert outsider.post(f"/requests/{req.id}/comments", {"comment": "x"}).status_code == 404
    db.session.rollback()
    assert db.session.query(HistoryEvent).filter_by(request_id=req.id,
                                                    action="commented").count() == 2



def test_the_inbox_shows_priority_and_puts_the_most_urgent_first(demo, browser):
    from tests.factories import file

    file(title="Primero, normal")
    later = file(title="Después, urgente")
    db.session.get(ServiceRequest, later.id).priority = "urgent"
    db.session.commit()
    page = browser("jefe.finanzas@acme.test").get("/inbox").get_data(as_text=True)
    assert page.index("Después, urgente") < page.index("Primero, normal")
    assert 'class="prio p-urgent">Urgente<' in page
