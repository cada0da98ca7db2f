"""The filing page's box, the admin page and the API: who may, bounded input, never a 500."""

from urllib.parse import quote

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, Tenant
from app.suggestions import training
from app.suggestions.models import SuggestionModel
from tests.suggestions.conftest import spanish, tenant_id

TRUCK = "title=Cami%C3%B3n%20de%20entrega&description=el%20conductor%20y%20la%20llanta%20pinchada"


@pytest.fixture
def trained(history):
    categories = history("acme", 400)
    assert training.run(sweep=True) == 1
    return categories


def settings_of(slug="acme") -> dict:
    db.session.rollback()
    return db.session.scalar(select(Tenant).where(Tenant.slug == slug)).settings or {}


# -- the API -----------------------------------------------------------------------------------

def test_api_suggestion_for_whoever_files(app, trained, api):
    ana = api("ana@acme.test")
    answer = ana.get(f"/api/v1/suggestions?{TRUCK}")
    assert answer.status_code == 200, answer.json
    assert answer.json["source"] == "model"
    assert answer.json["category"]["id"] == trained["Transporte"]
    assert answer.json["category"]["confidence"] >= 60
    with app.test_request_context():
        assert answer.json["text"].startswith(spanish("Suggestion") + ": Transporte (")
    # Someone of another company: its own (untrained) model, nothing
    pedro = api("pedro@globex.test")
    assert pedro.get(f"/api/v1/suggestions?{TRUCK}").json["source"] is None
    # Who files nothing (an admin with no unit) is told so
    assert api("admin@acme.test").get(f"/api/v1/suggestions?{TRUCK}").status_code == 403
    assert api().get(f"/api/v1/suggestions?{TRUCK}").status_code == 401


@pytest.mark.parametrize("query", [
    "title=" + "a" * 201,
    "description=" + "b" * 10001,
])
def test_api_refuses_text_longer_than_a_request(demo, api, query):
    answer = api("ana@acme.test").get(f"/api/v1/suggestions?{query}")
    assert answer.status_code == 422


@pytest.mark.parametrize("query", [
    "", "title=", "title=%00%01", "title=" + quote("ñ" * 200), "title=a&title=b",
    "description=" + quote("<script>alert(1)</script>"), "unknown=1", "title=%ZZ",
])
def test_api_odd_input_is_never_a_500(trained, api, query):
    answer = api("ana@acme.test").get(f"/api/v1/suggestions?{query}")
    assert answer.status_code in (200, 400, 422)


def test_admin_api_status_settings_and_train(history, api):
    history("acme", 150)
    admin = api("admin@acme.test")
    status = admin.get("/api/v1/admin/suggestions")
    assert status.status_code == 200
    assert status.json["enough_history"] is False
    assert status.json["settings"]["min_history"] == 200
    assert status.json["trained_at"] is None
    refused = admin.post("/api/v1/admin/suggestions/train")
    assert refused.status_code == 409 and "of 200" in refused.json["detail"]
    changed = admin.patch("/api/v1/admin/suggestions", {"min_history": 100,
                                                         "min_confidence": 70})
    assert changed.status_code == 200
    assert changed.json["settings"] == {"enabled": True, "min_history": 100,
                                        "retrain_after": 200, "min_confidence": 70}
    assert settings_of()["suggestions_min_confidence"] == 70
    assert admin.patch("/api/v1/admin/suggestions", {"min_history": 5}).status_code == 422
    assert admin.patch("/api/v1/admin/suggestions", {"enabled": "maybe"}).status_code == 422
    asked = admin.post("/api/v1/admin/suggestions/train")
    assert asked.status_code == 202 and asked.json["train_requested_at"]
    assert training.run(sweep=False) == 1
    done = admin.get("/api/v1/admin/suggestions").json
    assert done["status"] == "trained" and done["training_rows"] >= 150
    assert done["targets"]["category"]["accuracy"] > done["targets"]["category"]["baseline"]
    labels = {c["label"] for c in done["targets"]["category"]["classes"]}
    assert "Transporte" in labels
    assert db.session.scalar(select(AuditEntry).where(
        AuditEntry.action == "suggestions.train_requested")) is not None


@pytest.mark.parametrize("email", ["ana@acme.test", "director@acme.test",
                                   "pedro@globex.test"])
def test_admin_api_is_for_tenant_admins_only(demo, api, email):
    client = api(email)
    assert client.get("/api/v1/admin/suggestions").status_code == 404
    assert client.patch("/api/v1/admin/suggestions", {"enabled": False}).status_code == 404
    assert client.post("/api/v1/admin/suggestions/train").status_code == 404
    assert "suggestions_enabled" not in settings_of()


def test_the_openapi_document_lists_the_endpoints(app):
    spec = app.test_client().get("/api/v1/openapi.json").json
    assert "/api/v1/suggestions" in spec["paths"]
    assert {"get", "patch"} <= set(spec["paths"]["/api/v1/admin/suggestions"])
    assert "post" in spec["paths"]["/api/v1/admin/suggestions/train"]


# -- the pages ---------------------------------------------------------------------------------

def test_the_filing_page_has_the_box_and_its_script_only_when_enabled(demo, browser):
    ana = browser("ana@acme.test")
    page = ana.get("/requests/new")
    html = page.get_data(as_text=True)
    assert 'id="suggestion"' in html and "dist/suggestions.js" in html
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    tenant = db.session.get(Tenant, tenant_id("acme"))
    tenant.settings = {**(tenant.settings or {}), "suggestions_enabled": False}
    db.session.commit()
    html = ana.get("/requests/new").get_data(as_text=True)
    assert 'id="suggestion"' not in html


def test_the_preview_the_script_asks(trained, browser):
    ana = browser("ana@acme.test")
    answer = ana.get(f"/suggestions/preview?{TRUCK}")
    assert answer.status_code == 200
    assert answer.json["category"]["label"] == "Transporte"
    assert answer.headers["Cache-Control"] == "no-store"
    assert ana.get("/suggestions/preview?title=" + "x" * 201).status_code == 422
    assert ana.get("/suggestions/preview").json["source"] is None
    assert browser("admin@acme.test").get(f"/suggestions/preview?{TRUCK}").status_code == 403
    assert browser().get(f"/suggestions/preview?{TRUCK}").status_code == 302  # log in first


def test_the_admin_page_status_settings_and_train_now(app, history, browser):
    history("acme", 150)
    settled = training.settled_count(tenant_id("acme"))  # and the demo's few
    admin = browser("admin@acme.test")
    html = admin.get("/admin/suggestions").get_data(as_text=True)
    with app.test_request_context():
        title = spanish("Learned suggestions")
        too_little = spanish("Not enough history yet: %(settled)s of %(needed)s settled "
                             "requests.", settled=settled, needed=200)
        accuracy = spanish("Accuracy on held-out requests")
    assert title in html
    assert too_little in html  # n of 200
    refused = admin.post("/admin/suggestions/train", follow_redirects=True)
    assert too_little in refused.get_data(as_text=True)
    bad = admin.post("/admin/suggestions/settings", {"enabled": "yes", "min_history": "1",
                                                     "retrain_after": "50",
                                                     "min_confidence": "70"})
    assert bad.status_code == 422
    saved = admin.post("/admin/suggestions/settings", {"enabled": "yes", "min_history": "100",
                                                       "retrain_after": "50",
                                                       "min_confidence": "70"})
    assert saved.status_code == 302
    assert settings_of()["suggestions_min_history"] == 100
    assert admin.post("/admin/suggestions/train").status_code == 302
    db.session.rollback()
    assert db.session.scalar(select(SuggestionModel.requested_at)) is not None
    training.run(sweep=False)
    html = admin.get("/admin/suggestions").get_data(as_text=True)
    assert accuracy in html
    assert "Transporte" in html


@pytest.mark.parametrize("email", ["ana@acme.test", "director@acme.test",
                                   "pedro@globex.test"])
def test_the_admin_page_is_for_tenant_admins_only(demo, browser, email):
    someone = browser(email)
    assert someone.get("/admin/suggestions").status_code == 404
    assert someone.post("/admin/suggestions/train").status_code == 404
    assert someone.post("/admin/suggestions/settings", {"enabled": ""}).status_code == 404
    assert "suggestions_enabled" not in settings_of()


def test_the_admin_forms_need_the_csrf_token(demo, browser):
    admin = browser("admin@acme.test")
    assert admin.post("/admin/suggestions/train", {"csrf_token": "wrong"}).status_code == 400
