"""Junk sent to the classification pages and API: a clear 4xx, never a 500, nothing stored."""

import pytest
from sqlalchemy import func, select

from app.classification.models import ClassificationRule, WorkerSkill
from app.extensions import db
from tests.classification.helpers import ADMIN, DIRECTOR, help_desk

RULES = "/api/v1/admin/classification-rules"
JUNK = [None, 0, -1, 2**63, "x", "", [], {}, [1, 2], {"a": 1}, True, 1.5, "💥" * 300, "a\x00b",
        ["a\x00b"], [{"name": "piso", "value": "\x00"}],
        ["a"] * 1000, [{"name": "a", "value": {"x": 1}}], [None], "1e9"]
FIELDS = ["name", "words", "words_mode", "unit_id", "include_subunits", "field_conditions",
          "category_id", "priority", "service_unit_id", "position", "active"]


@pytest.fixture
def desk(demo):
    return help_desk(process_key=None)


def test_the_api_never_answers_500(desk, api):
    admin = api(ADMIN)
    base = {"name": "Regla", "words": ["x"], "priority": "low"}
    for name in FIELDS:
        for junk in JUNK:
            response = admin.post(RULES, {**base, name: junk})
            assert response.status_code in (201, 400, 422), (name, junk, response.status_code)
    for body in (None, [], "x", {"title": 5}, {"fields": {"a": [1] * 10}},
                 {"unit_id": "x"}, {"fields": {str(i): i for i in range(200)}}):
        assert admin.post(f"{RULES}/match", body).status_code in (200, 400, 415, 422)
    for query in ("?page=0", "?page=abc", "?per_page=1000", "?page=99999999999999"):
        assert admin.get(RULES + query).status_code in (200, 422)
    director = api(DIRECTOR)
    w1 = desk["workers"][0].id
    for junk in JUNK:
        for body in ({"service_unit_id": desk["desk"].id, "category_ids": junk},
                     {"service_unit_id": junk, "category_ids": []}):
            assert director.put(f"/api/v1/admin/worker-skills/{w1}", body).status_code in (
                200, 400, 404, 422), (body,)
    assert director.get("/api/v1/admin/worker-skills?service_unit_id=abc").status_code == 422


def test_the_pages_never_answer_500(desk, browser):
    admin = browser(ADMIN)
    for junk in ("", "abc", "-1", "99999999999999999999", "1.5", "💥" * 500, "\x00"):
        form = {"name": junk, "words": junk, "words_mode": junk, "unit_id": junk,
                "include_subunits": junk, "field_conditions": junk, "category_id": junk,
                "priority": junk, "service_unit_id": junk, "position": junk}
        assert admin.post("/classification/rules/new", form).status_code in (302, 400, 422)
        assert admin.get(f"/classification/rules?try=1&title={junk}&unit_id={junk}"
                         f"&page={junk}").status_code in (200, 400)
        assert browser(DIRECTOR).get(f"/classification/skills?unit={junk}").status_code in (
            200, 400)
    director = browser(DIRECTOR)
    w1 = desk["workers"][0].id
    for junk in ("abc", "-1", "99999999999999999999", ""):
        assert director.post(f"/classification/skills/{desk['desk'].id}/{w1}",
                             {"category_ids": [junk]}).status_code == 302
    assert director.post("/classification/skills/99999999999999/1", {}).status_code == 404
    db.session.rollback()
    assert db.session.scalar(select(func.count(WorkerSkill.id))) == 0
    assert db.session.scalar(select(func.count(ClassificationRule.id))) <= 7
