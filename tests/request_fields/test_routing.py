"""A gateway routes on a category field: the answers reach the workflow's task data when it
starts, stay there through every save and restore, and deploy checks know the names."""

import pytest

from app.engine.runner import Instance
from app.engine.xml import DiagramError
from app.extensions import db
from app.models import ProcessInstance
from app.request_fields import process
from app.services import definitions, requests, workflow
from app.services.definitions import default_diagram
from tests.factories import open_task, user
from tests.request_fields.conftest import TRANSPORT_FIELDS, VALID, set_fields, transport
from tests.views.helpers import reload

SKIP_AUTHORIZATION = "requester_is_head == True</bpmn:conditionExpression>"


def routed(condition: str) -> str:
    """The default diagram where the authorization is also skipped when ``condition``."""
    xml = default_diagram()
    assert xml.count(SKIP_AUTHORIZATION) == 1
    return xml.replace(SKIP_AUTHORIZATION,
                       f"requester_is_head == True or {condition}</bpmn:conditionExpression>")


def _deploy_transport_process(xml: str) -> None:
    """Transporte follows its own process ``transport`` (only it: its fields are always
    there). As a process owner would: a first version, the category set to follow it, then
    the version whose gateway reads the category's fields (known once the category follows
    the process)."""
    admin = user("admin@acme.test")
    definitions.deploy(admin.tenant_id, default_diagram(), process_key="transport",
                       user=admin, note="first version")
    category = transport()
    category.process_key = "transport"
    db.session.commit()
    definitions.deploy(admin.tenant_id, xml, process_key="transport", user=admin,
                       note="big groups skip the authorization")
    db.session.commit()


def _file(passengers: str):
    req = requests.file_request(user("ana@acme.test"), {
        "title": "Viaje", "description": "Salida de campo", "category_id": transport().id,
        "fields": {**VALID, "passengers": passengers}})
    db.session.commit()
    return req


def _task_data(req) -> dict:
    """The data of the request's open task, from its instance restored as a step would."""
    db.session.rollback()
    row = db.session.query(ProcessInstance).filter_by(request_id=req.id).one()
    instance = Instance.restore(definitions.compiled(row.definition), row.state, None)
    (task,) = [t for t in instance.workflow.get_tasks() if t.task_spec.bpmn_id ==
               instance.ready_tasks()[0].spec_id]
    return task.data


def test_a_gateway_routes_on_passengers_and_the_data_survives_each_restore(demo):
    set_fields([{"name": "passengers", "type": "number", "label": "Pasajeros",
                 "required": True, "min": 1, "max": 40},
                *[f for f in TRANSPORT_FIELDS if f["name"] != "passengers"]])
    _deploy_transport_process(routed("passengers > 10"))
    big, small = _file("20"), _file("4")
    assert reload(big.id).status == "pending_evaluation"      # straight to the director
    assert reload(small.id).status == "pending_authorization"  # its unit head first
    assert _task_data(big)["passengers"] == 20
    # Walk the small one on: each step restores the saved instance and saves it again
    small = reload(small.id)
    workflow.complete(user("jefe.finanzas@acme.test"), open_task(small, "Task_Authorize"),
                      "authorize", {"decision": "authorize"})
    db.session.commit()
    assert reload(small.id).status == "pending_evaluation"
    data = _task_data(small)
    assert data["passengers"] == 4 and data["origin"] == "Sede norte"
    assert data["trip_date"] == "2026-06-05" and data["luggage"] is True


def test_deploy_knows_the_fields_of_the_categories_following_the_process(demo):
    set_fields(TRANSPORT_FIELDS)
    admin = user("admin@acme.test")
    # The default process is followed by every category: Electricidad's requests have no
    # passengers, so an unguarded condition would fail on them, and deploy says so.
    with pytest.raises(DiagramError) as refused:
        definitions.compile_xml(routed("passengers > 10"), admin.tenant_id, "service_request")
    assert "passengers" in str(refused.value)
    definitions.compile_xml(routed("passengers is not None and passengers > 10"),
                            admin.tenant_id, "service_request")
    # A choice's values are known: a value it never takes is a dead flow
    with pytest.raises(DiagramError) as refused:
        definitions.compile_xml(routed("vehicle == 'avion'"), admin.tenant_id,
                                "service_request")
    assert "never 'avion'" in str(refused.value)
    # Without the company's categories (or another company) the name is unknown
    with pytest.raises(DiagramError) as refused:
        definitions.compile_xml(routed("passengers is not None and passengers > 10"))
    assert "unknown name 'passengers'" in str(refused.value)


def test_a_request_of_another_category_starts_with_the_name_as_none(demo):
    set_fields(TRANSPORT_FIELDS)
    admin = user("admin@acme.test")
    definitions.deploy(admin.tenant_id, routed("passengers is not None and passengers > 10"),
                       user=admin)
    db.session.commit()
    electric = db.session.query(type(transport())).filter_by(
        tenant_id=admin.tenant_id, name="Electricidad").one()
    req = requests.file_request(user("ana@acme.test"), {
        "title": "Bombillo", "description": "Cambiar bombillo", "category_id": electric.id})
    db.session.commit()
    assert reload(req.id).status == "pending_authorization"
    assert _task_data(req)["passengers"] is None
    big = _file("30")
    assert reload(big.id).status == "pending_evaluation"


def test_the_modeler_lists_the_fields(demo):
    set_fields(TRANSPORT_FIELDS)
    names = {e["name"]: e for e in process.known_names(user("admin@acme.test").tenant_id,
                                                         "service_request")}
    assert names["passengers"]["categories"] == ["Transporte"]
    assert names["vehicle"]["values"] == ["'van'", "'bus'"]
