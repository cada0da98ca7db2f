"""Shared by the reopen, reassign and cancel tests: the default diagram as it was before the
confirmation could answer "not solved", and a second service unit with its own director."""

from lxml import etree

from app.extensions import db
from app.models import Membership, Notification, ServiceRequest, Unit, User
from app.services import definitions

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
DI = "http://www.omg.org/spec/BPMN/20100524/DI"
GONE = {"Gateway_Solved", "Flow_ToClose", "Flow_NotSolved"}


def diagram_before_reopen(keep_reopen_handler: bool = False) -> str:
    """The default diagram without its "¿Resuelto?" gateway: the confirmation leads straight
    to closing, as every version deployed before it did (``keep_reopen_handler``: a diagram
    that offers "not solved" all the same, and cannot route it)."""
    root = etree.fromstring(definitions.default_diagram().encode())
    for el in list(root.iter()):
        if el.get("id") in GONE or el.get("bpmnElement") in GONE \
                or (el.tag == f"{{{BPMN}}}flowNodeRef" and el.text in GONE) \
                or (el.tag == f"{{{BPMN}}}incoming" and el.text == "Flow_NotSolved"):
            el.getparent().remove(el)
    for el in root.iter(f"{{{BPMN}}}sequenceFlow"):
        if el.get("id") == "Flow_ConfirmToDecision":
            el.set("targetRef", "Service_Close")
    for el in root.iter(f"{{{BPMN}}}incoming"):
        if el.text == "Flow_ToClose":
            el.text = "Flow_ConfirmToDecision"
    for el in root.iter("{http://spiffworkflow.org/bpmn/schema/1.0/core}property"):
        if el.get("value") == "confirm,reopen" and not keep_reopen_handler:
            el.set("value", "confirm")
    for el in root.iter(f"{{{DI}}}waypoint"):  # the edge now ends at the close step
        if el.getparent().get("bpmnElement") == "Flow_ConfirmToDecision" and el.get("x") == "2015":
            el.set("x", "2110")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8").decode()


def second_service_unit(tenant_id: int) -> User:
    """Another service unit of the company (IT) with its own director; returns the director."""
    unit = Unit(tenant_id=tenant_id, name="Tecnología", is_service_unit=True)
    director = User(tenant_id=tenant_id, email="director.ti@acme.test", name="Directora TI",
                    password_hash=db.session.query(User).filter_by(
                        email="director@acme.test").one().password_hash)
    db.session.add_all([unit, director])
    db.session.flush()
    db.session.add(Membership(tenant_id=tenant_id, user_id=director.id, unit_id=unit.id,
                              role="service_director"))
    db.session.commit()
    return director


def notices_of(req: ServiceRequest, event: str) -> list[str]:
    """The e-mails of who got an in-app notice of ``event`` about ``req``."""
    rows = db.session.query(Notification).filter_by(request_id=req.id, event=event).all()
    return sorted(db.session.get(User, n.user_id).email for n in rows)
