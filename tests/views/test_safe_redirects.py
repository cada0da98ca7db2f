"""``next`` after logging in and after choosing a language: only a path of this site
(``inputs.same_site_path``); anything else sends the person to the home page."""

import unicodedata
from urllib.parse import urljoin, urlsplit

import pytest

from app.inputs import MAX_RETURN_PATH, same_site_path

HOME = "/"
# Open-redirect payloads: each must end on the home page (or be refused outright by the input
# layer, for the control characters it refuses everywhere).
ELSEWHERE = [
    "//evil.example", "//evil.example/", "///evil.example", "////evil.example/x",
    "/\\evil.example", "\\\\evil.example", "/\\/evil.example", "\\/evil.example",
    "/\t/evil.example", "/\t\\evil.example", "/\n/evil.example", "/\r\n/evil.example",
    "/ /evil.example", " /evil.example", "/\x00/evil.example", "/\x0b/evil.example",
    "/\x7f/evil.example", "/\u3000/evil.example", "/\u200b/evil.example",
    "/\u2028/evil.example", "/\u202e/elpmaxe.live", "/%2F%2Fevil.example",
    "/%2f%2fevil.example", "/%2F/evil.example", "/%5Cevil.example", "/%5cevil.example",
    "/%5C%5Cevil.example", "/%09/evil.example", "/%0A/evil.example", "/%0D%0A/evil.example",
    "/%00/evil.example", "/%E3%80%80/evil.example", "/%252F%252Fevil.example",
    "/%25252F%25252Fevil.example", "/%25%32%46%25%32%46evil.example",
    "https://evil.example", "http://evil.example/", "HTTPS://evil.example", "http:evil.example",
    "https:/evil.example", "//evil.example@localhost", "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>", "evil.example", ".evil.example",
    "@evil.example", "?next=//evil.example", "#//evil.example", "/https://evil.example",
    "/requests//evil.example", "/requests?q=\x00", "/requests?q=%00", "/requests#\t",
    "/" + "a" * MAX_RETURN_PATH, "", " ",
]
# Paths of this site, kept as they are.
SAME_SITE = ["/requests", "/requests?status=completed&q=l%C3%A1mpara", "/requests/1#history",
             "/inbox?", "/requests?q=a%20b", "/requests?q=a+b", "/caf%C3%A9",
             "/requests?next=https://evil.example", "/director/requests?q=x%2Fy"]


def assert_same_site(response, expected=None):
    """A redirect that a browser follows to this site: relative (or absolute to this host),
    a path with one leading slash, nothing a browser would strip or read as a slash."""
    assert response.status_code in (302, 303), response.status_code
    location = response.headers["Location"]
    parts = urlsplit(location)
    assert parts.scheme in ("", "http") and parts.netloc in ("", "localhost"), location
    assert parts.path.startswith("/") and not parts.path.startswith("//"), location
    assert "\\" not in location, location
    assert not any(ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf")
                   for ch in location), repr(location)
    assert urlsplit(urljoin("http://localhost/login", location)).netloc == "localhost"
    if expected is not None:  # Werkzeug drops an empty query's "?" (``/inbox?`` from a page)
        expected = expected.rstrip("?")
        assert location in (expected, f"http://localhost{expected}"), (location, expected)


def login_with_next(browser, target):
    client = browser()
    client.get("/login")
    with client.app.app_context():
        return client.client.post("/login", query_string={"next": target}, data={
            "email": "ana@acme.test", "password": "demo1234", "csrf_token": client.token})


@pytest.mark.parametrize("target", ELSEWHERE)
def test_login_never_sends_a_person_elsewhere(demo, browser, target):
    response = login_with_next(browser, target)
    if response.status_code == 400:  # a control character: refused by the input layer
        assert any(unicodedata.category(ch) == "Cc" for ch in target) or "%00" in target
        return
    assert_same_site(response, HOME)


@pytest.mark.parametrize("target", ELSEWHERE)
def test_the_language_switch_never_sends_a_person_elsewhere(demo, browser, target):
    client = browser()
    response = client.post("/language", {"code": "en", "next": target})
    if response.status_code == 400:
        assert any(unicodedata.category(ch) == "Cc" for ch in target) or "%00" in target
        return
    assert_same_site(response, HOME)


@pytest.mark.parametrize("target", SAME_SITE)
def test_paths_of_this_site_are_kept(demo, browser, target):
    assert_same_site(login_with_next(browser, target), target)
    assert_same_site(browser().post("/language", {"code": "en", "next": target}), target)


def test_the_language_switch_returns_to_the_page_it_was_used_on(demo, browser):
    ana = browser("ana@acme.test")
    page = ana.get("/requests?status=completed&q=l%C3%A1mpara")
    assert 'name="next" value="/requests?status=completed&amp;q=l%C3%A1mpara"' in (
        page.get_data(as_text=True))
    response = ana.post("/language", {"code": "en",
                                      "next": "/requests?status=completed&q=l%C3%A1mpara"})
    assert_same_site(response, "/requests?status=completed&q=l%C3%A1mpara")


def test_the_checker_itself():
    for target in ELSEWHERE:
        assert same_site_path(target) is None, repr(target)
    for target in SAME_SITE:
        assert same_site_path(target) == target
    assert same_site_path(None) is None
    assert same_site_path("/" + "a" * (MAX_RETURN_PATH - 1)) is not None
