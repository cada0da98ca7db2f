"""Canned responses: kept by tenant admins (any) and directors (their units'), rendered for a
request in the notification sandbox, offered only to the service unit's people."""

import pytest
from sqlalchemy import select

from app.conversation.models import CannedResponse
from app.extensions import db
from app.models import ServiceRequest
from tests.conversation.conftest import (
    ADMIN,
    DIRECTOR,
    HEAD,
    OTHER_TENANT,
    REQUESTER,
    WORKER,
)

BODY = ("Hola {{ requester_name }}: sobre {{ request_number }} «{{ request_title }}», "
        "{{ agent_name }} le informa que {{ worker_name }} ya tiene la orden {{ ticket_number }}.")


def create(api, email, **data):
    return api(email).post("/api/v1/admin/canned-responses", {"title": "Saludo", "body": BODY,
                                                               **data})


def unit_id(request_id: int) -> int:
    db.session.rollback()
    return db.session.get(ServiceRequest, request_id).service_unit_id


def test_admins_write_company_wide_ones_and_directors_their_units(api, working):
    assert create(api, ADMIN).status_code == 201
    assert create(api, DIRECTOR, service_unit_id=unit_id(working)).status_code == 201
    refused = create(api, DIRECTOR)  # the whole company is the admin's
    assert refused.status_code == 422 and "service_unit_id" in refused.json["errors"]
    for email in (REQUESTER, WORKER, HEAD):
        assert create(api, email).status_code == 403
    mine = api(DIRECTOR).get("/api/v1/admin/canned-responses").json
    assert [c["service_unit_id"] for c in mine["items"]] == [unit_id(working)]
    assert api(ADMIN).get("/api/v1/admin/canned-responses").json["total"] == 2


def test_another_companys_canned_response_is_not_found(api, working):
    row = create(api, ADMIN).json
    globex_admin = api("director@globex.test")
    assert globex_admin.get(f"/api/v1/admin/canned-responses/{row['id']}").status_code == 404
    assert globex_admin.patch(f"/api/v1/admin/canned-responses/{row['id']}",
                              {"title": "x"}).status_code == 404
    assert globex_admin.delete(f"/api/v1/admin/canned-responses/{row['id']}").status_code == 404
    assert api(OTHER_TENANT).get(f"/api/v1/requests/{working}/canned-responses"
                                 ).status_code == 404


def test_rendered_for_a_request_with_its_placeholders(api, working):
    row = create(api, ADMIN).json
    db.session.rollback()
    req = db.session.get(ServiceRequest, working)
    text = api(DIRECTOR).get(
        f"/api/v1/requests/{working}/canned-responses/{row['id']}/render").json["text"]
    assert text == (f"Hola Ana Gómez: sobre {req.number} «{req.title}», Diana Castro "
                    f"(Directora de Servicios Generales) le informa que Tomás Herrera (Técnico) "
                    f"ya tiene la orden {req.ticket.number}.")
    listed = api(WORKER).get(f"/api/v1/requests/{working}/canned-responses").json
    assert [c["id"] for c in listed] == [row["id"]]


def test_the_requester_is_offered_none(api, browser, working):
    row = create(api, ADMIN).json
    ana = api(REQUESTER)
    assert ana.get(f"/api/v1/requests/{working}/canned-responses").json == []
    assert ana.get(f"/api/v1/requests/{working}/canned-responses/{row['id']}/render"
                   ).status_code == 404
    page = browser(REQUESTER).get(f"/requests/{working}?canned={row['id']}")
    assert "canned-choice" not in page.get_data(as_text=True)
    assert browser(REQUESTER).get(f"/requests/{working}/canned/{row['id']}").status_code == 404


def test_a_unit_reply_is_not_offered_on_another_units_request(api, working):
    from app.models import Unit

    db.session.rollback()
    other = Unit(tenant_id=db.session.get(ServiceRequest, working).tenant_id,
                 name="Tecnología", is_service_unit=True)
    db.session.add(other)
    db.session.commit()
    row = create(api, ADMIN, service_unit_id=other.id).json
    assert api(DIRECTOR).get(f"/api/v1/requests/{working}/canned-responses").json == []
    assert api(ADMIN).get(f"/api/v1/requests/{working}/canned-responses/{row['id']}/render"
                          ).status_code == 404


@pytest.mark.parametrize("body", [
    "{{ ''.__class__.__mro__ }}",
    "{{ request_title.__class__ }}",
    "{% for x in request_title %}{{ x }}{% endfor %}",
    "{{ request_title * 1000 }}",
    "{{ config }}",
    "{{ self }}",
    "{% include 'base.html' %}",
    "{{ lipsum() }}",
    "{{ request_title|attr('upper') }}",
    "{{ unclosed",
])
def test_sandbox_escapes_are_refused_when_saved(api, working, body):
    response = create(api, ADMIN, body=body)
    assert response.status_code == 422, body
    assert "body" in response.json["errors"]
    db.session.rollback()
    assert db.session.scalar(select(CannedResponse)) is None


def test_a_request_s_own_text_is_shown_never_run(api, browser, demo):
    """A title holding template syntax or markup is a value: it is not rendered again and the
    page escapes it."""
    from tests.factories import request_at

    req, _task = request_at("Task_Work")
    target = db.session.get(ServiceRequest, req.id)
    target.title = "{{ 7*7 }} <script>alert(1)</script>"
    db.session.commit()
    row = create(api, ADMIN, body="Re: {{ request_title }} · {{ request_title|upper }}").json
    text = api(DIRECTOR).get(
        f"/api/v1/requests/{target.id}/canned-responses/{row['id']}/render").json["text"]
    assert text == "Re: {{ 7*7 }} <script>alert(1)</script> · {{ 7*7 }} <SCRIPT>ALERT(1)</SCRIPT>"
    page = browser(DIRECTOR).get(f"/requests/{target.id}?canned={row['id']}").get_data(
        as_text=True)
    assert "Re: {{ 7*7 }} &lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)</script>" not in page


def test_the_page_inserts_the_chosen_reply_without_a_script(api, browser, working):
    row = create(api, ADMIN, body="Hola {{ requester_name }}").json
    director = browser(DIRECTOR)
    page = director.get(f"/requests/{working}").get_data(as_text=True)
    assert 'id="canned-choice"' in page and "Saludo" in page
    page = director.get(f"/requests/{working}?canned={row['id']}").get_data(as_text=True)
    assert ">Hola Ana Gómez</textarea>" in page
    plain = director.get(f"/requests/{working}/canned/{row['id']}")
    assert plain.status_code == 200 and plain.get_data(as_text=True) == "Hola Ana Gómez"


def test_admin_pages_for_admins_and_directors_only(browser, working):
    director = browser(DIRECTOR)
    assert director.get("/canned-responses").status_code == 200
    response = director.post("/canned-responses/new", {
        "title": "Visita", "body": "{{ agent_name }} irá hoy.",
        "service_unit_id": str(unit_id(working))})
    assert response.status_code == 303
    refused = director.post("/canned-responses/new", {"title": "Mala", "body": "{{ x.y }}",
                                                      "service_unit_id": str(unit_id(working))})
    assert refused.status_code == 422
    db.session.rollback()
    row = db.session.scalar(select(CannedResponse))
    assert row.title == "Visita"
    assert browser(REQUESTER).get("/canned-responses").status_code == 404
    assert browser(WORKER).get(f"/canned-responses/{row.id}").status_code == 404
    edited = director.post(f"/canned-responses/{row.id}", {
        "title": "Visita técnica", "body": "{{ agent_name }} irá mañana.",
        "service_unit_id": str(unit_id(working))})
    assert edited.status_code == 303
    assert director.post(f"/canned-responses/{row.id}/delete").status_code == 303
    db.session.rollback()
    assert db.session.scalar(select(CannedResponse)) is None
