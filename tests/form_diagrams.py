"""The default diagram with a review step whose form is defined in the diagram.

The unit head fills "Revisar" (``Task_Review``: a ``<mesa:form>``, no handler, no properties)
before authorizing; a gateway then routes on the answer: more than 8 hours goes on to the usual
authorization, anything smaller skips it and goes straight to the viability evaluation.
"""

from app.extensions import db
from app.models import HistoryEvent, HumanTask, ProcessInstance, ServiceRequest
from app.services import definitions
from app.services.definitions import default_diagram
from tests.factories import user

MESA = 'xmlns:mesa="https://mesa-de-servicios.org/schema/bpmn/1.0"'

FORM = """<mesa:form>
  <mesa:field name="reason" type="text" label="Motivo" required="true" minLength="3"
              maxLength="200"/>
  <mesa:field name="hours" type="number" label="Horas" required="true" min="0" max="40"/>
  <mesa:field name="when" type="date" label="Fecha" min="2026-01-01" max="2027-12-31"/>
  <mesa:field name="job_kind" type="choice" label="Tipo" required="true">
    <mesa:option value="a" label="Opción A"/><mesa:option value="b" label="Opción B"/>
  </mesa:field>
  <mesa:field name="ok" type="boolean" label="¿Conforme?"/>
  <mesa:field name="notes" type="longtext" label="Notas &lt;b&gt;internas&lt;/b&gt;"
              maxLength="4000"/>
</mesa:form>"""

CONDITION = "hours > 8"


def review_task(form: str = FORM, extra: str = "") -> str:
    return (
        '<bpmn:userTask id="Task_Review" name="Revisar">'
        f"<bpmn:extensionElements>{extra}{form}</bpmn:extensionElements>"
        "<bpmn:incoming>Flow_ToAuthorize</bpmn:incoming>"
        "<bpmn:outgoing>Flow_ReviewToHours</bpmn:outgoing></bpmn:userTask>"
    )


def with_review(form: str = FORM, extra: str = "", condition: str = CONDITION) -> str:
    """The default diagram with ``Task_Review`` (holding ``form``) before the authorization."""
    xml = default_diagram()
    xml = xml.replace("xmlns:spiffworkflow=", f"{MESA} xmlns:spiffworkflow=", 1)
    xml = xml.replace(
        "<bpmn:flowNodeRef>Task_Authorize</bpmn:flowNodeRef>",
        "<bpmn:flowNodeRef>Task_Review</bpmn:flowNodeRef>"
        "<bpmn:flowNodeRef>Gateway_Hours</bpmn:flowNodeRef>"
        "<bpmn:flowNodeRef>Task_Authorize</bpmn:flowNodeRef>",
        1,
    )
    xml = xml.replace('targetRef="Task_Authorize" />', 'targetRef="Task_Review" />', 1)
    xml = xml.replace(
        "<bpmn:incoming>Flow_ToAuthorize</bpmn:incoming>",
        "<bpmn:incoming>Flow_BigJob</bpmn:incoming>",
        1,
    )
    xml = xml.replace(
        "<bpmn:incoming>Flow_SkipAuthorization</bpmn:incoming>",
        "<bpmn:incoming>Flow_SkipAuthorization</bpmn:incoming>"
        "<bpmn:incoming>Flow_SmallJob</bpmn:incoming>",
        1,
    )
    added = (
        review_task(form, extra)
        + '<bpmn:exclusiveGateway id="Gateway_Hours" name="¿Trabajo grande?" '
        'default="Flow_SmallJob"><bpmn:incoming>Flow_ReviewToHours</bpmn:incoming>'
        "<bpmn:outgoing>Flow_BigJob</bpmn:outgoing><bpmn:outgoing>Flow_SmallJob</bpmn:outgoing>"
        "</bpmn:exclusiveGateway>"
        '<bpmn:sequenceFlow id="Flow_ReviewToHours" sourceRef="Task_Review" '
        'targetRef="Gateway_Hours" />'
        '<bpmn:sequenceFlow id="Flow_BigJob" sourceRef="Gateway_Hours" '
        'targetRef="Task_Authorize"><bpmn:conditionExpression>'
        f"{condition}</bpmn:conditionExpression></bpmn:sequenceFlow>"
        '<bpmn:sequenceFlow id="Flow_SmallJob" sourceRef="Gateway_Hours" '
        'targetRef="Gateway_MergeEvaluate" />'
    )
    xml = xml.replace("</bpmn:process>", added + "</bpmn:process>", 1)
    assert "Task_Review" in xml and 'targetRef="Task_Review"' in xml
    return xml


def with_fields(*fields: str, extra: str = "", condition: str = CONDITION) -> str:
    """The review diagram whose form holds exactly ``fields`` (raw ``<mesa:field>`` XML)."""
    form = "<mesa:form>" + "".join(fields) + "</mesa:form>"
    return with_review(form, extra=extra, condition=condition)


VALID = {
    "reason": "Revisión del tablero",
    "hours": "10",
    "when": "2026-05-04",
    "job_kind": "b",
    "ok": "true",
    "notes": "Llevar escalera",
}


def request_state(req_id: int) -> tuple:
    """Everything a refused completion must leave as it was: the instance (version and state),
    the history, the human tasks and the request's status."""
    db.session.rollback()  # a new snapshot, as a new request would see
    inst = db.session.query(ProcessInstance).filter_by(request_id=req_id).one()
    return (
        inst.version,
        inst.state,
        db.session.query(HistoryEvent).filter_by(request_id=req_id).count(),
        sorted(
            (t.spec_id, t.status) for t in db.session.query(HumanTask).filter_by(request_id=req_id)
        ),
        db.session.get(ServiceRequest, req_id).status,
    )


def deploy_for_acme(xml: str, note: str = "forms") -> None:
    """Acme runs ``xml`` from now on, deployed by its process owner."""
    definitions.deploy(user("admin@acme.test").tenant_id, xml, user=user("admin@acme.test"),
                       note=note)
    db.session.commit()
