"""Personal API tokens: created on the account page, shown once, listed, revoked; the pages and
their link only for people who use the API (policy.can_use_api)."""

import re

from app.extensions import db
from app.models import ApiToken
from tests.views.helpers import html


def test_create_use_and_revoke_a_personal_token(demo, browser, app):
    ana = browser("admin@acme.test")
    page = ana.post("/account/tokens", {"name": "Informe semanal", "days": "30"})
    assert page.status_code == 200
    raw = re.search(r'<code class="token">(mds_[^<]+)</code>', html(page)).group(1)
    client = app.test_client()
    with app.app_context():
        me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"})
    assert me.status_code == 200 and me.json["email"] == "admin@acme.test"
    listing = html(ana.get("/account/tokens"))
    assert "Informe semanal" in listing and raw not in listing   # shown once only
    db.session.rollback()
    token = db.session.query(ApiToken).filter_by(name="Informe semanal").one()
    assert token.token_hash != raw
    other = browser("luis@acme.test")
    assert other.post(f"/account/tokens/{token.id}/revoke").status_code == 404
    assert ana.post(f"/account/tokens/{token.id}/revoke").status_code == 302
    with app.app_context():
        assert client.get("/api/v1/me",
                          headers={"Authorization": f"Bearer {raw}"}).status_code == 401


def test_a_token_needs_a_name(demo, browser):
    ana = browser("admin@acme.test")
    assert ana.post("/account/tokens", {"name": " ", "days": "30"}).status_code == 422
    assert ana.post("/account/tokens", {"name": "x", "days": "7000"}).status_code == 422
    db.session.rollback()
    assert db.session.query(ApiToken).count() == 0


def test_a_new_token_says_how_to_send_it_with_the_placeholder_shown(demo, browser):
    page = html(browser("admin@acme.test").post("/account/tokens",
                                                {"name": "Scripts", "days": "30"}))
    assert "Bearer &lt;token&gt;" in page  # shown as text, not swallowed as an HTML tag


def test_the_token_pages_and_their_link_are_for_people_who_use_the_api(demo, browser, app):
    """Tenant admins and process owners use the API, so do people who already hold a token of
    their own; a requester never sees the link and the pages answer 404."""
    ana = browser("ana@acme.test")
    account = html(ana.get("/account/password"))
    assert "/account/tokens" not in account and "/account/tokens" not in html(ana.get("/inbox"))
    assert ana.get("/account/tokens").status_code == 404
    assert ana.post("/account/tokens", {"name": "x", "days": "30"}).status_code == 404
    db.session.rollback()
    assert db.session.query(ApiToken).count() == 0

    admin = browser("admin@acme.test")
    assert "/account/tokens" in html(admin.get("/account/password"))
    assert admin.get("/account/tokens").status_code == 200

    # someone who holds a token (issued through POST /api/v1/tokens) keeps its page
    with app.app_context():
        issued = app.test_client().post("/api/v1/tokens", json={
            "email": "ana@acme.test", "password": "demo1234"})
    assert issued.status_code == 201, issued.json
    assert "/account/tokens" in html(ana.get("/account/password"))
    assert ana.get("/account/tokens").status_code == 200
