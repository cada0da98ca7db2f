"""The teams' pages and API: tenant admins edit (audited), directors read, everyone else 403,
another company's team 404, bad input 4xx (never a 500)."""

import pytest
from sqlalchemy import select

from app.admin.models import AuditEntry
from app.extensions import db
from app.teams import service as teams
from tests.factories import user

ADMIN, DIRECTOR, WORKER = "admin@acme.test", "director@acme.test", "tecnico1@acme.test"


def _board():
    team = teams.ensure(user(ADMIN).tenant_id, "change_board",
                        {"es": "Comité de cambios", "en": "Change board"})
    teams.add_member(team, user("jefe.finanzas@acme.test"))
    db.session.commit()
    return team


def _audit(action):
    db.session.rollback()  # what the requests committed
    return list(db.session.scalars(select(AuditEntry.action).where(
        AuditEntry.action == action)))


def test_the_admin_creates_renames_and_fills_a_team_on_the_pages(demo, browser):
    page = browser(ADMIN)
    assert page.get("/teams").status_code == 200
    response = page.post("/teams", {"key": "second_line", "name_es": "Segunda línea",
                                    "name_en": "Second line", "description": "Soporte"})
    assert response.status_code == 303
    body = page.get("/teams/second_line").get_data(as_text=True)
    assert "Segunda línea" in body and 'id="team-empty"' in body  # the directors' note
    assert page.post("/teams/second_line/members",
                     {"email": "tecnico2@acme.test"}).status_code == 303
    assert teams.member_ids(user(ADMIN).tenant_id, "second_line") == [user("tecnico2@acme.test").id]
    assert page.post("/teams/second_line", {"name_es": "Segunda línea TI",
                                            "name_en": "IT second line"}).status_code == 303
    db.session.rollback()
    assert teams.get(user(ADMIN).tenant_id, "second_line").names == {
        "es": "Segunda línea TI", "en": "IT second line"}
    removed = page.post(f"/teams/second_line/members/{user('tecnico2@acme.test').id}/delete", {})
    assert removed.status_code == 303
    db.session.rollback()
    assert teams.member_ids(user(ADMIN).tenant_id, "second_line") == []
    for action in ("team.created", "team.updated", "team.member_added", "team.member_removed"):
        assert _audit(action) == [action]


@pytest.mark.parametrize("form", [
    {"key": "Mal Clave", "name_es": "X"}, {"key": "ok_key", "name_es": ""},
    {"key": "x" * 60, "name_es": "X"}, {"key": "ok_key", "name_es": "X" * 400},
])
def test_bad_input_on_the_page_is_422_and_nothing_is_made(demo, browser, form):
    page = browser(ADMIN)
    assert page.post("/teams", form).status_code == 422
    assert teams.list_teams(user(ADMIN).tenant_id) == []


def test_adding_nobody_or_twice_is_refused(demo, browser):
    _board()
    page = browser(ADMIN)
    assert page.post("/teams/change_board/members", {"email": "nadie@acme.test"}).status_code == 422
    assert page.post("/teams/change_board/members",
                     {"email": "jefe.finanzas@acme.test"}).status_code == 422
    assert page.post("/teams/change_board/members",
                     {"email": "pedro@globex.test"}).status_code == 422  # another company's
    assert page.post("/teams/change_board/members/999999/delete", {}).status_code == 404


def test_directors_read_and_others_are_refused(demo, browser):
    _board()
    director = browser(DIRECTOR)
    assert 'href="/teams"' in director.get("/inbox").get_data(as_text=True)  # in the menu
    assert director.get("/teams").status_code == 200
    assert "Comité de cambios" in director.get("/teams/change_board").get_data(as_text=True)
    assert director.post("/teams", {"key": "nuevo", "name_es": "N"}).status_code == 403
    assert director.post("/teams/change_board/members",
                         {"email": "ana@acme.test"}).status_code == 403
    worker = browser(WORKER)
    assert 'href="/teams"' not in worker.get("/inbox").get_data(as_text=True)
    assert worker.get("/teams").status_code == 403
    assert worker.get("/teams/change_board").status_code == 403


def test_another_companys_team_is_not_found(demo, browser):
    _board()
    globex = browser("director@globex.test")
    assert globex.get("/teams/change_board").status_code == 404
    assert globex.post("/teams/change_board/members",
                       {"email": "director@globex.test"}).status_code == 403  # reads only
    assert globex.get("/teams/No-Such!").status_code == 404


def test_the_api_lists_creates_patches_and_edits_members(demo, api):
    _board()
    admin = api(ADMIN)
    listed = admin.get("/api/v1/admin/teams")
    assert listed.status_code == 200
    assert [t["key"] for t in listed.json] == ["change_board"]
    assert listed.json[0]["active_members"] == 1
    made = admin.post("/api/v1/admin/teams", {"key": "security", "names": {"es": "Seguridad"}})
    assert made.status_code == 201 and made.json["members"] == []
    assert admin.patch("/api/v1/admin/teams/security",
                       {"names": {"es": "Seguridad TI", "en": "IT security"}}).json["names"] == {
        "es": "Seguridad TI", "en": "IT security"}
    person = user("tecnico2@acme.test").id
    added = admin.post("/api/v1/admin/teams/security/members", {"user_id": person})
    assert added.status_code == 201 and added.json["user_id"] == person
    assert [m["user_id"] for m in admin.get("/api/v1/admin/teams/security/members").json] == [
        person]
    assert admin.delete(f"/api/v1/admin/teams/security/members/{person}").json == {
        "votes_skipped": 0}
    assert admin.delete(f"/api/v1/admin/teams/security/members/{person}").status_code == 404
    assert "team.member_removed" in _audit("team.member_removed")


@pytest.mark.parametrize("body", [
    {}, {"key": "ok_key"}, {"key": "BAD", "names": {"es": "X"}},
    {"key": "ok_key", "names": "texto"}, {"key": "ok_key", "names": {"fr": "X"}},
    {"key": "ok_key", "names": {"es": 5}}, {"key": "change_board", "names": {"es": "Otro"}},
    {"key": "ok_key", "names": {"es": "X"}, "description": "d" * 3000},
])
def test_bad_api_input_is_4xx(demo, api, body):
    _board()
    response = api(ADMIN).post("/api/v1/admin/teams", body)
    assert response.status_code == 422, response.json


def test_api_members_bad_input_and_other_companies(demo, api):
    _board()
    admin = api(ADMIN)
    assert admin.post("/api/v1/admin/teams/change_board/members",
                      {"user_id": "x"}).status_code == 422
    assert admin.post("/api/v1/admin/teams/change_board/members",
                      {"user_id": user("pedro@globex.test").id}).status_code == 404
    assert admin.post("/api/v1/admin/teams/change_board/members",
                      {"user_id": user("jefe.finanzas@acme.test").id}).status_code == 422
    assert admin.post("/api/v1/admin/teams/change_board/members",
                      {"user_id": 99999999999}).status_code == 422
    globex = api("director@globex.test")
    assert globex.get("/api/v1/admin/teams/change_board").status_code == 404
    assert globex.get("/api/v1/admin/teams").json == []


def test_api_roles(demo, api):
    _board()
    director = api(DIRECTOR)
    assert director.get("/api/v1/admin/teams/change_board").status_code == 200
    assert director.post("/api/v1/admin/teams", {"key": "x_y", "names": {"es": "X"}}
                         ).status_code == 403
    assert director.patch("/api/v1/admin/teams/change_board",
                          {"names": {"es": "X"}}).status_code == 403
    assert api(WORKER).get("/api/v1/admin/teams").status_code == 403


def test_the_openapi_document_has_the_teams(demo, api):
    spec = api().get("/api/v1/openapi.json").json
    paths = spec["paths"]
    assert "/api/v1/admin/teams" in paths
    assert "/api/v1/admin/teams/{key}/members/{user_id}" in paths
