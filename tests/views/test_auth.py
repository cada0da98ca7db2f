"""Logging in and out, CSRF on forms, rate-limited login, safe redirects."""

from tests.views.helpers import html


def test_login_and_logout(demo, browser):
    client = browser()
    assert client.get("/inbox").status_code == 302           # anonymous: to the login page
    client.get("/login")
    response = client.post("/login", {"email": "ANA@acme.test ", "password": "demo1234"})
    assert response.status_code == 302
    assert client.get("/inbox").status_code == 200
    assert client.post("/logout").status_code == 302
    assert client.get("/inbox").status_code == 302


def test_wrong_password_is_refused_without_saying_which_part(demo, browser):
    client = browser()
    client.get("/login")
    for email in ("ana@acme.test", "nobody@acme.test"):
        response = client.post("/login", {"email": email, "password": "wrong"})
        assert response.status_code == 401
        assert 'class="flash error"' in html(response)


def test_login_is_rate_limited(demo, browser):
    client = browser()
    client.get("/login")
    for _ in range(5):  # LOGIN_MAX_ATTEMPTS is 5 in the tests
        assert client.post("/login", {"email": "ana@acme.test", "password": "x"}
                           ).status_code == 401
    blocked = client.post("/login", {"email": "ana@acme.test", "password": "demo1234"})
    assert blocked.status_code == 429
    other = client.post("/login", {"email": "luis@acme.test", "password": "demo1234"})
    assert other.status_code == 302


def test_forms_without_csrf_token_are_refused(demo, browser):
    ana = browser("ana@acme.test")
    with ana.app.app_context():  # its own context, as Browser does: nothing leaks to other tests
        response = ana.client.post("/requests/new", data={"title": "x", "description": "y"})
        assert response.status_code == 400
        response = ana.client.post("/logout")
        assert response.status_code == 400
    assert ana.get("/inbox").status_code == 200               # still logged in


def test_login_redirects_only_inside_the_site(demo, browser):
    client = browser()
    client.get("/login")
    response = client.post("/login?next=https://evil.example/", {
        "email": "ana@acme.test", "password": "demo1234"})
    assert response.headers["Location"] in ("/", "http://localhost/")
    client = browser()
    client.get("/login")
    response = client.post("/login?next=/requests", {"email": "ana@acme.test",
                                                      "password": "demo1234"})
    assert response.headers["Location"].endswith("/requests")


def test_output_is_escaped(demo, browser):
    ana = browser("ana@acme.test")
    from tests.factories import file
    req = file(title="<script>alert(1)</script>")
    body = html(ana.get(f"/requests/{req.id}"))
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_pages_carry_security_headers(demo, browser):
    response = browser("ana@acme.test").get("/requests")
    assert "script-src 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "<script" not in html(response) and "onchange=" not in html(response)


def test_a_visitor_who_chose_no_language_gets_the_default_named_in_the_page(demo, browser):
    client = browser()
    page = html(client.get("/login"))
    assert '<html lang="es">' in page and 'value="en" title="English"' in page
    client.post("/language", {"code": "en"})
    page = html(client.get("/login"))
    assert '<html lang="en">' in page and 'value="es" title="Español"' in page
