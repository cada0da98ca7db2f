"""A form defined in the diagram, through the API: its JSON schema, and completion."""

import pytest

from tests.factories import file, open_task
from tests.form_diagrams import deploy_for_acme, request_state, with_fields, with_review

HEAD = "jefe.finanzas@acme.test"
BODY = {
    "reason": "Revisión del tablero",
    "hours": 12.5,
    "when": "2026-05-04",
    "job_kind": "a",
    "ok": False,
}


def deploy(xml):
    deploy_for_acme(xml)
    req = file()
    return req.id, open_task(req, "Task_Review").id


@pytest.fixture
def review(demo):
    return deploy(with_review())



def test_the_form_schema_has_the_diagrams_fields_and_limits(review, api):
    req_id, task_id = review
    head = api(HEAD)
    (task,) = [
        t for t in head.get("/api/v1/tasks?per_page=100").json["items"] if t["request_id"] == req_id
    ]
    assert (task["id"], task["kind"], task["kinds"]) == (task_id, "form", ["form"])
    schema = task["forms"]["form"]
    assert schema == head.get(f"/api/v1/tasks/{task_id}").json["forms"]["form"]
    assert schema["type"] == "object" and schema["title"] == "Revisar"
    assert sorted(schema["required"]) == ["hours", "job_kind", "reason"]
    props = schema["properties"]
    assert schema["x-order"] == ["reason", "hours", "when", "job_kind", "ok", "notes"]
    assert sorted(props) == sorted(schema["x-order"])
    assert props["reason"] == {
        "title": "Motivo",
        "type": "string",
        "minLength": 3,
        "maxLength": 200,
    }
    assert (props["hours"]["type"], props["hours"]["minimum"], props["hours"]["maximum"]) == (
        "number",
        0,
        40,
    )
    assert props["when"]["format"] == "date"
    assert (props["when"]["formatMinimum"], props["when"]["formatMaximum"]) == (
        "2026-01-01",
        "2027-12-31",
    )
    assert props["when"]["nullable"] is True
    assert props["job_kind"]["enum"] == ["a", "b"]
    assert props["job_kind"]["oneOf"] == [
        {"const": "a", "title": "Opción A"},
        {"const": "b", "title": "Opción B"},
    ]
    assert props["ok"]["type"] == "boolean" and props["ok"]["title"] == "¿Conforme?"
    assert (props["notes"]["type"], props["notes"]["maxLength"]) == ("string", 4000)
    assert props["notes"]["title"] == "Notas <b>internas</b>"  # JSON: the text as written


def test_decimal_limits_of_handler_forms_are_json_numbers(demo, api):
    from tests.factories import request_at

    req, task = request_at("Task_Work")
    forms = api("tecnico1@acme.test").get(f"/api/v1/tasks/{task.id}").json["forms"]
    hours = forms["finish"]["properties"]["hours_spent"]
    assert (hours["minimum"], hours["maximum"]) == (0, 10000)


@pytest.mark.parametrize(
    "body,fields",
    [
        ({}, {"reason", "hours", "job_kind"}),
        ({**BODY, "hours": 41}, {"hours"}),
        ({**BODY, "hours": "doce"}, {"hours"}),
        ({**BODY, "hours": True}, {"hours"}),
        ({**BODY, "reason": None}, {"reason"}),
        ({**BODY, "reason": 7}, {"reason"}),
        ({**BODY, "when": "2030-01-01"}, {"when"}),
        ({**BODY, "job_kind": "z"}, {"job_kind"}),
        ({**BODY, "ok": "quizás"}, {"ok"}),
        ({**BODY, "notes": "n" * 4001}, {"notes"}),
    ],
)
def test_invalid_bodies_get_field_errors_and_change_nothing(review, api, body, fields):
    req_id, task_id = review
    before = request_state(req_id)
    response = api(HEAD).post(f"/api/v1/tasks/{task_id}/complete", body)
    assert response.status_code == 422, response.json
    assert response.content_type == "application/problem+json"
    assert set(response.json["errors"]) == fields
    assert all(m and isinstance(m, str) for ms in response.json["errors"].values() for m in ms)
    assert request_state(req_id) == before


def test_a_wrong_kind_is_refused(review, api):
    req_id, task_id = review
    response = api(HEAD).post(f"/api/v1/tasks/{task_id}/complete", {**BODY, "kind": "finish"})
    assert response.status_code == 422 and "kind" in response.json["errors"]


def test_completion_stores_the_values_and_routes_on_them(review, api):
    req_id, task_id = review
    response = api(HEAD).post(f"/api/v1/tasks/{task_id}/complete", {**BODY, "kind": "form"})
    assert response.status_code == 200, response.json
    assert response.json["next_steps"] == ["Autorizar solicitud"]  # 12.5 hours > 8
    history = api("ana@acme.test").get(f"/api/v1/requests/{req_id}/history").json["items"]
    (event,) = [e for e in history if e["action"] == "form"]
    assert event["changes"]["form"][1] == {
        "name": "hours",
        "label": "Horas",
        "type": "number",
        "value": 12.5,
    }
    assert event["changes"]["form"][3]["text"] == "Opción A"
    again = api(HEAD).post(f"/api/v1/tasks/{task_id}/complete", BODY)
    assert again.status_code == 409


def test_a_field_named_like_an_error_location_keeps_its_errors(demo, api):
    req_id, task_id = deploy(
        with_fields('<mesa:field name="path" type="text" label="Ruta" required="true"/>',
                    condition="len(path) > 8")
    )
    response = api(HEAD).post(f"/api/v1/tasks/{task_id}/complete", {})
    assert response.status_code == 422 and list(response.json["errors"]) == ["path"]


def test_another_tenant_cannot_see_or_complete_it(review, api):
    req_id, task_id = review
    before = request_state(req_id)
    other = api("jefe@globex.test")
    assert other.get(f"/api/v1/tasks/{task_id}").status_code == 404
    assert other.post(f"/api/v1/tasks/{task_id}/complete", BODY).status_code == 404
    assert all(t["id"] != task_id for t in other.get("/api/v1/tasks").json["items"])
    assert request_state(req_id) == before
