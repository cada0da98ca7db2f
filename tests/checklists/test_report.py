"""The report of a security incident: every step with who and when, its checklist's ticks,
alerts, comments the viewer may read, files, timings; as a printable page and in the API, for
those who may see the request only."""

import re

import pytest

from app.checklists.defaults import LABELS
from app.conversation.comments import add_comment
from app.extensions import db
from app.models import ServiceRequest
from tests.checklists.conftest import (
    ADMIN,
    DIRECTOR,
    REPORTER,
    RESPONDERS,
    do,
    report_incident,
)
from tests.factories import user

STEP_NAMES = ("Clasificar el incidente", "Contener el incidente", "Erradicar la causa",
              "Recuperar el servicio", "Lecciones aprendidas")


def shown(name: str, html: str) -> bool:
    """A step's name on a page: in Spanish, or its label until the catalog has the string."""
    return name in html or str(LABELS[name]) in html


INTERNAL = "Nota interna: la IP atacante es 203.0.113.9"
PUBLIC = "Comentario público: ya estamos en ello"


@pytest.fixture
def closed_incident(security):
    """A security incident worked to its close, recovery failing once; one public comment
    and one internal note."""
    req = report_incident(security)
    do(req, "Task_Triage", {"severity": "high", "false_positive": "false",
                            "triage_notes": "Correo de suplantación"})
    add_comment(user(DIRECTOR), req, {"comment": PUBLIC})
    add_comment(user(DIRECTOR), req, {"comment": INTERNAL, "internal": "true"})
    db.session.commit()
    do(req, "Task_Contain", {"containment_notes": "Buzón aislado"})
    do(req, "Task_Eradicate", {}, RESPONDERS[1])
    do(req, "Task_Recover", {"restored": "false"})
    do(req, "Task_Eradicate", {})
    do(req, "Task_Recover", {"restored": "true"})
    do(req, "Task_Lessons", {"lessons": "Formación contra el phishing"}, RESPONDERS[1])
    db.session.rollback()
    req = db.session.get(ServiceRequest, req.id)
    assert req.status == "completed" and req.closed_at is not None
    return req


def test_the_page_holds_every_step_its_ticks_and_what_the_director_may_read(closed_incident,
                                                                            browser):
    page = browser(DIRECTOR).get(f"/requests/{closed_incident.id}/report")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for name in STEP_NAMES:
        assert shown(name, html)
    assert html.count(str(LABELS["Erradicar la causa"])) + html.count(
        "Erradicar la causa") >= 2  # done twice: both listed
    assert "Aislar los equipos o cuentas comprometidos" in html  # a checklist item
    assert "Tomás Herrera" in html and "Teresa Mora" in html  # who ticked, who did
    assert PUBLIC in html and INTERNAL in html
    assert "Formación contra el phishing" in html  # the lessons' answer
    assert "@media print" in html
    assert closed_incident.number in html


def test_the_reporter_gets_it_without_internal_notes(closed_incident, browser, api):
    html = browser(REPORTER).get(f"/requests/{closed_incident.id}/report").get_data(
        as_text=True)
    assert PUBLIC in html and INTERNAL not in html
    for name in STEP_NAMES:
        assert shown(name, html)
    body = api(REPORTER).get(f"/api/v1/requests/{closed_incident.id}/report").json
    assert INTERNAL not in str(body)
    assert not any(e["internal"] for e in body["history"])
    assert [c["comment"] for c in body["comments"]] == [PUBLIC]


def test_the_api_gives_the_whole_record(closed_incident, api):
    answer = api(ADMIN).get(f"/api/v1/requests/{closed_incident.id}/report")
    assert answer.status_code == 200
    body = answer.json
    assert body["severity"] == "high"
    assert body["request"]["number"] == closed_incident.number
    steps = [s["spec_id"] for s in body["steps"]]
    assert steps == ["Task_Triage", "Task_Contain", "Task_Eradicate", "Task_Recover",
                     "Task_Eradicate", "Task_Recover", "Task_Lessons"]
    for step in body["steps"]:
        assert step["status"] == "completed" and step["completed_by"]["name"]
        assert step["checklist"] and all(i["ticked"] and i["ticked_by"] and i["ticked_at"]
                                         for i in step["checklist"])
        assert step["seconds"] is not None and step["seconds"] >= 0
    triage = {a["name"]: a for a in body["steps"][0]["answers"]}
    assert triage["severity"]["value"] == "high" and triage["severity"]["text"] == "Alta"
    recovery = {a["name"]: a["value"] for a in body["steps"][3]["answers"]}
    assert recovery["restored"] is False
    assert body["steps"][-1]["completed_by"]["name"] == "Teresa Mora (Técnica)"
    assert body["alerts"] == [{"at": body["alerts"][0]["at"], "severity": "high",
                               "recipients": 4}]
    assert {c["comment"] for c in body["comments"]} == {PUBLIC, INTERNAL}
    assert body["total_seconds"] >= 0 and body["attachments"] == []
    ticks = [e for e in body["history"] if e["action"] == "checklist_ticked"]
    assert len(ticks) == sum(len(s["checklist"]) for s in body["steps"])


@pytest.mark.parametrize("email", ["maria@acme.test", "director@globex.test",
                                   "tecnico@globex.test"])
def test_nobody_else_finds_it(closed_incident, browser, api, email):
    assert browser(email).get(f"/requests/{closed_incident.id}/report").status_code == 404
    assert api(email).get(f"/api/v1/requests/{closed_incident.id}/report").status_code == 404


@pytest.mark.parametrize("path", ["0", "99999999999999999999", "-1", "abc", "2147483648"])
def test_bad_ids_are_not_found(security, browser, api, path):
    assert browser(ADMIN).get(f"/requests/{path}/report").status_code == 404
    assert api(ADMIN).get(f"/api/v1/requests/{path}/report").status_code == 404


def test_an_open_incident_reports_the_steps_so_far(security, api):
    req = report_incident(security)
    body = api(RESPONDERS[0]).get(f"/api/v1/requests/{req.id}/report").json
    assert [s["spec_id"] for s in body["steps"]] == ["Task_Triage"]
    assert body["steps"][0]["status"] == "open" and body["severity"] is None
    assert not any(i["ticked"] for i in body["steps"][0]["checklist"])
    assert body["request"]["closed_at"] is None and body["total_seconds"] is None


def test_each_step_and_alert_reads_as_one_whole_sentence(closed_incident, browser):
    html = browser(DIRECTOR).get(f"/requests/{closed_incident.id}/report").get_data(
        as_text=True)
    steps = re.findall(r'<section class="step".*?<p class="muted">(.*?)</p>', html, re.S)
    assert len(steps) == 7
    for line in steps:
        line = " ".join(line.split())
        assert re.search(r"Abierto .+; terminado .+ por .+, en .+\.$", line), line
    assert "Teresa Mora (Técnica), en" in html
    assert "Severidad Alta: 4 personas alertadas." in html
    assert "Lista de chequeo: 4 de 4 marcados." in html
    assert "— Marcado por Tomás Herrera (Técnico), " in html
    assert "· abierto" not in html and " terminado " not in html.replace("; terminado ", "")


def test_one_person_alerted_is_said_in_the_singular(security, browser):
    from app.checklists import alerts

    alerts.save(user(ADMIN), {"medium": ["tenant_admin"]})
    db.session.commit()
    req = report_incident(security)
    do(req, "Task_Triage", {"severity": "medium", "false_positive": "false"})
    html = browser(DIRECTOR).get(f"/requests/{req.id}/report").get_data(as_text=True)
    assert "Severidad Media: 1 persona alertada." in html
    steps = re.findall(r'<section class="step".*?<p class="muted">(.*?)</p>', html, re.S)
    assert " ".join(steps[-1].split()).startswith("En espera · Abierto ")  # still open
    assert " ".join(steps[-1].split()).count(";") == 0
