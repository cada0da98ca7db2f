"""The input layer (app/inputs.py): bad input gets a clear 4xx before any view runs, on every
route, pages and API alike, and changes nothing; never a 500.

NUL is what PostgreSQL refuses in text, so these tests matter most with TEST_DATABASE_URL set;
on SQLite they still show the refusal comes first and nothing was stored.
"""

import io
import json
import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.inputs import MAX_ID, MAX_JSON_DEPTH, json_depth_exceeds
from app.models import ApiToken, HistoryEvent, LoginAttempt, ServiceRequest
from tests.views.helpers import html

PROBLEM = "application/problem+json"
RULE_PART = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


# --- helpers ---------------------------------------------------------------------------------

def api_token(app, email: str) -> str:
    with app.app_context():
        response = app.test_client().post("/api/v1/tokens",
                                          json={"email": email, "password": "demo1234"})
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.json["token"]


class Api:
    """Raw calls to the API with a bearer token (bodies sent exactly as given)."""

    def __init__(self, app, email=None):
        self.app = app
        self.client = app.test_client()
        self.headers = {"Authorization": f"Bearer {api_token(app, email)}"} if email else {}

    def call(self, method, url, body=None, content_type="application/json", headers=None):
        if body is not None and not isinstance(body, bytes):
            body = body.encode("utf-8", "surrogatepass")
        with self.app.app_context():
            return self.client.open(url, method=method, data=body, content_type=content_type,
                                    headers={**self.headers, **(headers or {})})


def raw_post(browser_client, url, body: str, content_type="application/x-www-form-urlencoded"):
    """A form post whose body is sent as written (percent-encoding of our own choosing)."""
    body = body.replace("CSRF", browser_client.token or "")
    with browser_client.app.app_context():
        return browser_client.client.post(url, data=body.encode("ascii"),
                                          content_type=content_type)


def assert_refused_page(response, status=400):
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/html"
    assert "Traceback" not in html(response)


def assert_refused_problem(response, status=400, detail_has=None):
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == PROBLEM
    body = response.get_data(as_text=True)
    assert response.json["status"] == status
    # the bad value is never said back, raw or escaped
    for bad in ("\x00", "\\u0000", "\\ud800", "\\udfff", "\x1b", "\\u001b"):
        assert bad not in body
    if detail_has:
        assert detail_has in response.json["detail"], response.json["detail"]
    return response.json["detail"]


def count(model, *where) -> int:
    db.session.rollback()  # a new snapshot, as a new request would see
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def ana_request_id() -> int:
    db.session.rollback()
    return db.session.scalar(select(ServiceRequest.id).where(
        ServiceRequest.title.like("Cambiar l%mpara%")))


@pytest.fixture
def ana(demo, browser):
    return browser("ana@acme.test")


# --- ids in paths: every rule with an <int:...> part -----------------------------------------

BAD_IDS = [2**31, 2**31 + 1, 2**32, 2**63 - 1, 2**63, 2**64 + 1, 10**30, "9" * 400, 0,
           "00", "01", "0001", "-1", "+1", "1.0", "0x1", "1e3", "1_0", "%201", "1%20",
           "\u0661", "\uff11", "\u00b9", "%00", "1%00"]


def int_rules(app):
    """(rule, method, int argument names, other argument names) of every rule with an int."""
    found = []
    for rule in app.url_map.iter_rules():
        parts = RULE_PART.findall(rule.rule)
        ints = [name for conv, name in parts if conv == "int"]
        if not ints:
            continue
        others = [name for conv, name in parts if conv != "int"]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((rule.rule, method, ints, others))
    return found


def fill(rule: str, values: dict) -> str:
    return RULE_PART.sub(lambda m: str(values[m.group(2)]), rule)


def test_every_route_with_an_id_refuses_ids_that_cannot_exist(app, demo, browser):
    admin = browser("admin@acme.test")  # tenant admin and process owner: every page exists
    api = Api(app, "admin@acme.test")
    rules = int_rules(app)
    assert len({r[0] for r in rules}) >= 25  # pages and API; a new route is checked here too
    assert any(r[0].startswith("/api/") for r in rules)
    assert any(not r[0].startswith("/api/") for r in rules)
    tried = 0
    for rule, method, ints, others in rules:
        for bad_name in ints:
            for bad in BAD_IDS:
                values = {name: 1 for name in ints} | {name: "service_request" for name in others}
                values[bad_name] = bad
                url = fill(rule, values)
                if url.startswith("/api/"):
                    response = api.call(method, url, body="{}")
                    assert response.status_code == 404, (method, url, response.status_code)
                    assert response.mimetype == PROBLEM, (method, url)
                else:
                    with app.app_context():
                        response = admin.client.open(url, method=method,
                                                     data={"csrf_token": admin.token})
                    assert response.status_code == 404, (method, url, response.status_code)
                    assert "Traceback" not in html(response)
                tried += 1
    assert tried >= 25 * len(BAD_IDS)


def test_a_canonical_id_still_works_and_its_odd_spellings_do_not(app, ana):
    req_id = ana_request_id()
    api = Api(app, "ana@acme.test")
    assert ana.get(f"/requests/{req_id}").status_code == 200
    assert api.call("GET", f"/api/v1/requests/{req_id}").status_code == 200
    digits = str(req_id)
    arabic = "".join(chr(0x0660 + int(d)) for d in digits)
    fullwidth = "".join(chr(0xFF10 + int(d)) for d in digits)
    for spelling in (f"0{digits}", f"00{digits}", arabic, fullwidth, f"+{digits}",
                     f"{digits}.0", f"{digits}%00", f"{digits}%20"):
        assert ana.get(f"/requests/{spelling}").status_code == 404, spelling
        assert api.call("GET", f"/api/v1/requests/{spelling}").status_code == 404, spelling


def test_the_api_document_bounds_every_id_in_a_path(app):
    with app.app_context():
        spec = app.test_client().get("/api/v1/openapi.json").json
    ids = [param for item in spec["paths"].values() for op in item.values()
           if isinstance(op, dict) for param in op.get("parameters", [])
           if param.get("in") == "path" and param["schema"].get("type") == "integer"]
    ids += [param for item in spec["paths"].values()
            for param in (item.get("parameters") or [])
            if param.get("in") == "path" and param["schema"].get("type") == "integer"]
    assert len(ids) >= 10
    for param in ids:
        assert (param["schema"]["minimum"], param["schema"]["maximum"]) == (1, MAX_ID), param


def test_text_path_parameters_with_control_characters_name_nothing(app, demo, browser):
    admin = browser("admin@acme.test")
    api = Api(app, "admin@acme.test")
    for key in ("%00", "service_request%00", "a%01b", "%1B", "%09", "a%0Ab", "%ED%A0%80"):
        assert admin.get(f"/processes/{key}/versions").status_code == 404, key
        response = api.call("GET", f"/api/v1/processes/{key}/versions")
        assert response.status_code == 404, key
        assert response.mimetype == PROBLEM
    assert admin.get("/static/app.css%00").status_code == 404


# --- query strings ---------------------------------------------------------------------------

REFUSED_QUERIES = ["q=%00", "q=a%00b", "q=%01", "q=%08", "q=%0E", "q=%10", "q=%1B%5B2J",
                   "q=%1F", "%00=1", "q%00=1", "q%09=1", "q%0A=1", "q=ok&status=%00",
                   "q=ok&q=%00", "q=%00%ED%A0%80"]
ACCEPTED_QUERIES = ["q=a%09b", "q=a%0Ab", "q=a%0D%0Ab", "q=%ED%A0%80", "q=%C0%80", "q=%FF",
                    "q=%F4%90%80%80", "q=%E0%80%AF", "q=caf%C3%A9", "q=%F0%9F%98%80"]
PAGE_QUERIES = [("ana@acme.test", "/requests"), ("ana@acme.test", "/inbox"),
                ("director@acme.test", "/director/requests"),
                ("director@acme.test", "/director/tickets"),
                ("jefe.finanzas@acme.test", "/unit/requests"),
                ("admin@acme.test", "/admin/webhooks"), (None, "/login")]
API_QUERIES = [("ana@acme.test", "/api/v1/requests"), ("director@acme.test", "/api/v1/tasks"),
               ("director@acme.test", "/api/v1/tickets"), ("ana@acme.test", "/api/v1/users"),
               ("ana@acme.test", "/api/v1/categories"), (None, "/api/v1/openapi.json")]


@pytest.mark.parametrize("user,path", PAGE_QUERIES)
def test_pages_refuse_control_characters_in_the_query(demo, browser, user, path):
    client = browser(user) if user else browser()
    for query in REFUSED_QUERIES:
        assert_refused_page(client.get(f"{path}?{query}"))
    for query in ACCEPTED_QUERIES:
        assert client.get(f"{path}?{query}").status_code == 200, query


@pytest.mark.parametrize("user,path", API_QUERIES)
def test_the_api_refuses_control_characters_in_the_query(app, demo, user, path):
    api = Api(app, user)
    for query in REFUSED_QUERIES:
        detail = assert_refused_problem(api.call("GET", f"{path}?{query}"))
        assert "query parameter" in detail
    detail = assert_refused_problem(api.call("GET", f"{path}?q=%00"))
    assert detail.startswith("The query parameter 'q' contains")
    detail = assert_refused_problem(api.call("GET", f"{path}?%3Cb%3E%00=1"))
    assert "<b>" not in detail  # a name that is not plainly a name is not said back
    for query in ACCEPTED_QUERIES:
        response = api.call("GET", f"{path}?{query}")
        assert response.status_code in (200, 422), (query, response.status_code)


def test_a_search_with_a_nul_is_refused_where_postgresql_would_fail(app, demo, browser):
    """The searches that reached the database with the NUL (a 500 on PostgreSQL before)."""
    api = Api(app, "director@acme.test")
    director = browser("director@acme.test")
    for url in ("/api/v1/requests?q=l%C3%A1mpara%00", "/api/v1/users?role=worker%00",
                "/api/v1/requests?status=completed%00"):
        assert_refused_problem(api.call("GET", url))
    for url in ("/requests?q=%00", "/director/requests?q=l%C3%A1mpara%00"):
        assert_refused_page(director.get(url))
    assert api.call("GET", "/api/v1/requests?q=l%C3%A1mpara").status_code == 200


# --- forms -----------------------------------------------------------------------------------

def test_login_refuses_control_characters_and_records_nothing(demo, browser):
    attempts = count(LoginAttempt)
    for body in ("email=ana%40acme.test%00&password=demo1234&csrf_token=CSRF",
                 "email=ana%40acme.test&password=demo1234%00&csrf_token=CSRF",
                 "email=%1B%5B31mana%40acme.test&password=demo1234&csrf_token=CSRF",
                 "em%00ail=ana%40acme.test&password=demo1234&csrf_token=CSRF",
                 "email=ana%40acme.test&password=demo1234&csrf_token=CSRF%00",
                 "email=ana%40acme.test&password=demo1234&csrf_token=CSRF&x%01=1"):
        client = browser()
        client.get("/login")
        assert_refused_page(raw_post(client, "/login", body))
        assert client.get("/inbox").status_code == 302  # not logged in
    assert count(LoginAttempt) == attempts


def test_comments_refuse_control_characters_and_keep_line_breaks(demo, ana):
    req_id = ana_request_id()
    url = f"/requests/{req_id}/comments"
    comments = count(HistoryEvent, HistoryEvent.action == "commented")
    for body in ("comment=hola%00&csrf_token=CSRF", "comment=%00&csrf_token=CSRF",
                 "comment=bell%07&csrf_token=CSRF", "comment=%1B%5B2Jclear&csrf_token=CSRF",
                 "comment=a%0Eb&csrf_token=CSRF", "comm%00ent=hola&csrf_token=CSRF",
                 "comment=ok&csrf_token=CSRF&%0D%0A=1"):
        assert_refused_page(raw_post(ana, url, body))
    assert count(HistoryEvent, HistoryEvent.action == "commented") == comments
    # tab, CR and LF are text, and so are the vertical tab and form feed a word processor
    # writes for a manual line or page break (pasted text); Werkzeug keeps invalid UTF-8 as
    # the percent-encoded text it was
    response = ana.post(url, {"comment": "línea 1\r\nlínea 2\tcon tabulador"})
    assert response.status_code == 302
    assert ana.post(url, {"comment": "de Word\x0bsalto\x0cpágina"}).status_code == 302
    assert raw_post(ana, url, "comment=a%ED%A0%80b%C0%80%FF&csrf_token=CSRF").status_code == 302
    db.session.rollback()
    stored = db.session.scalars(select(HistoryEvent.comment).where(
        HistoryEvent.action == "commented").order_by(HistoryEvent.id)).all()
    assert stored[-3:] == ["línea 1\r\nlínea 2\tcon tabulador", "de Word\x0bsalto\x0cpágina",
                           "a%ED%A0%80b%C0%80%FF"]


def test_filing_and_other_forms_refuse_control_characters(demo, browser):
    ana = browser("ana@acme.test")
    requests = count(ServiceRequest)
    tokens = count(ApiToken)
    for url, body in (
            ("/requests/new", "title=L%C3%A1mpara%00&description=Se%20fundi%C3%B3&csrf_token=CSRF"),
            ("/requests/new", "title=L%C3%A1mpara&description=%01%02&csrf_token=CSRF"),
            ("/account/tokens", "name=mi%00token&days=90&csrf_token=CSRF"),
            ("/language", "code=en%00&next=%2Frequests&csrf_token=CSRF"),
            ("/language", "code=en&next=%2Frequests%00&csrf_token=CSRF"),
            ("/logout", "csrf_token=CSRF&%00=1")):
        assert_refused_page(raw_post(ana, url, body))
    admin = browser("admin@acme.test")
    assert_refused_page(raw_post(admin, "/admin/webhooks/new",
                                 "url=https%3A%2F%2Fexample.com%2F%00&events=request.filed"
                                 "&csrf_token=CSRF"))
    assert count(ServiceRequest) == requests
    assert count(ApiToken) == tokens
    assert ana.get("/inbox").status_code == 200  # still logged in


def test_uploaded_file_names_with_control_characters_are_refused(app, demo, ana):
    url = f"/requests/{ana_request_id()}/comments"
    for data in ({"file": (io.BytesIO(b"x"), "a\x00b.txt")},
                 {"file": (io.BytesIO(b"x"), "a\x1b.txt")},
                 {"fi\x01le": (io.BytesIO(b"x"), "a.txt")}):
        with app.app_context():
            response = ana.client.post(url, data={"comment": "hola", "csrf_token": ana.token,
                                                  **data}, content_type="multipart/form-data")
        assert_refused_page(response)
    with app.app_context():
        response = ana.client.post(url, data={"comment": "hola", "csrf_token": ana.token,
                                              "file": (io.BytesIO(b"x"), "informe.pdf")},
                                   content_type="multipart/form-data")
    assert response.status_code == 302


# --- JSON ------------------------------------------------------------------------------------

def new_request(category_id, **overrides) -> dict:
    return {"title": "Lámpara fundida", "description": "En la oficina 204",
            "category_id": category_id, **overrides}


def first_category(api) -> int:
    return api.call("GET", "/api/v1/categories").json["items"][0]["id"]


BAD_STRINGS = ["a\x00b", "\x00", "\x01", "\x08", "\x0e", "\x10", "\x1b[2J", "\x1f",
               "\ud800", "\udbff", "\udc00", "\udfff", "ok\ud83d", "\ude00ok"]


def test_api_filing_refuses_bad_strings_anywhere_and_files_nothing(app, demo):
    api = Api(app, "ana@acme.test")
    category = first_category(api)
    requests = count(ServiceRequest)
    for bad in BAD_STRINGS:
        for field in ("title", "description", "location", "priority"):
            body = json.dumps(new_request(category, **{field: bad}))
            assert_refused_problem(api.call("POST", "/api/v1/requests", body),
                                   detail_has=f"'{field}'")
        body = json.dumps({**new_request(category), f"x{bad}": 1})
        assert_refused_problem(api.call("POST", "/api/v1/requests", body),
                               detail_has="JSON object key")
    # the same escapes written by hand, as a client might send them
    for raw in ('"\\u0000"', '"\\ud800"', '"a\\udfffb"', '"\\u001b"'):
        body = f'{{"title": {raw}, "description": "abc", "category_id": {category}}}'
        assert_refused_problem(api.call("POST", "/api/v1/requests", body), detail_has="'title'")
    assert count(ServiceRequest) == requests
    # a surrogate *pair* is one character (an emoji); tabs and line breaks are text
    body = ('{"title": "L\\u00e1mpara \\ud83d\\ude00", "description": "l\\u00ednea 1\\n'
            f'l\\u00ednea\\t2", "category_id": {category}}}')
    response = api.call("POST", "/api/v1/requests", body)
    assert response.status_code == 201, response.json
    db.session.rollback()
    assert db.session.get(ServiceRequest, response.json["id"]).title == "Lámpara \U0001F600"


def test_api_login_comments_and_completion_refuse_bad_strings(app, demo):
    anonymous = Api(app)
    for body in ({"email": "ana@acme.test\x00", "password": "demo1234"},
                 {"email": "ana@acme.test", "password": "\ud800"},
                 {"email": "ana@acme.test", "password": "demo1234", "x": ["\x00"]}):
        assert_refused_problem(anonymous.call("POST", "/api/v1/tokens",
                                              json.dumps(body)))
    api = Api(app, "ana@acme.test")
    req_id = ana_request_id()
    comments = count(HistoryEvent, HistoryEvent.action == "commented")
    for bad in BAD_STRINGS:
        assert_refused_problem(api.call("POST", f"/api/v1/requests/{req_id}/comments",
                                        json.dumps({"comment": bad})), detail_has="'comment'")
    assert count(HistoryEvent, HistoryEvent.action == "commented") == comments
    director = Api(app, "director@acme.test")
    body = json.dumps({"data": {"notes": ["fine", {"deep": "\x00"}]}})
    assert_refused_problem(director.call("POST", "/api/v1/tasks/1/complete", body),
                           detail_has="'data.notes[1].deep'")
    body = json.dumps([{"<b>\u00e9": {"x": "\x00"}}])
    detail = assert_refused_problem(director.call("POST", "/api/v1/tasks/1/complete", body))
    assert "<b>" not in detail and "JSON value" in detail


def nested(depth: int, kind: str) -> str:
    if kind == "array":
        return "[" * depth + "]" * depth
    if kind == "object":
        return '{"a":' * depth + "1" + "}" * depth
    return '{"title":' + "[" * (depth - 1) + "]" * (depth - 1) + "}"  # inside a real body


@pytest.mark.parametrize("kind", ["array", "object", "in_a_field"])
def test_deep_json_is_refused_at_every_depth_beyond_the_limit(app, demo, browser, kind):
    api = Api(app, "ana@acme.test")
    anonymous = Api(app)
    admin = browser("admin@acme.test")
    for depth in (MAX_JSON_DEPTH + 1, 50, 1_000, 10_000, 200_000):
        body = nested(depth, kind)
        assert_refused_problem(api.call("POST", "/api/v1/requests", body), detail_has="nested")
        assert_refused_problem(anonymous.call("POST", "/api/v1/tokens", body),
                               detail_has="nested")
        assert_refused_problem(api.call("POST", "/api/v1/requests/1/comments", body),
                               detail_has="nested")
        with app.app_context():  # pages too, whether or not the route reads JSON
            for url in ("/processes/service_request/modeler/draft", "/login", "/inbox"):
                response = admin.client.post(url, data=body, content_type="application/json",
                                             headers={"X-CSRFToken": admin.token})
                assert response.status_code == 400, (url, response.status_code)
                assert "Traceback" not in html(response)
    for depth in (2, MAX_JSON_DEPTH - 1, MAX_JSON_DEPTH):  # within the limit: the view decides
        response = api.call("POST", "/api/v1/requests", nested(depth, kind))
        assert response.status_code == 422, (depth, response.get_data(as_text=True)[:300])


def test_deep_json_without_its_closing_brackets_or_inside_strings(app, demo):
    api = Api(app, "ana@acme.test")
    category = first_category(api)
    for body in ("[" * 100_000, '{"a":' * 100_000, '{"a": [' * 50_000 + '"x'):
        assert_refused_problem(api.call("POST", "/api/v1/requests", body), detail_has="nested")
    # brackets inside a string are text, however many
    body = json.dumps(new_request(category, description="[{" * 3000))
    assert api.call("POST", "/api/v1/requests", body).status_code == 201


def test_malformed_json_is_a_400_problem(app, demo):
    api = Api(app, "ana@acme.test")
    for body, detail in ((b'{"title": ', "not valid JSON"), (b"{'a': 1}", "not valid JSON"),
                         (b'{"a": 1}}', "not valid JSON"), (b"nul", "not valid JSON"),
                         (b"[" + b"1" * 5000 + b"]", "not valid JSON"),
                         (b'{"a": "\x01"}', "not valid JSON"),  # raw control character
                         ("\ufeff{}".encode(), "not valid JSON"),
                         (b'{"title": "\xff\xfe"}', "not UTF-8"),
                         (b'{"title": "\xed\xa0\x80"}', "not UTF-8"),
                         ('{"title": "x"}'.encode("utf-16"), "not UTF-8")):
        assert_refused_problem(api.call("POST", "/api/v1/requests", body), detail_has=detail)
        for content_type in ("application/merge-patch+json", "text/json; charset=utf-8"):
            assert_refused_problem(api.call("POST", "/api/v1/requests", body,
                                            content_type=content_type), detail_has=detail)
    # no body at all is not malformed: the view says what it needs
    response = api.call("POST", "/api/v1/requests", b"")
    assert response.status_code == 422


def test_bodies_over_the_limit_are_still_413(app, demo, browser, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 2000)
    api = Api(app, "ana@acme.test")
    response = api.call("POST", "/api/v1/requests", json.dumps({"title": "x" * 3000}))
    assert response.status_code == 413 and response.mimetype == PROBLEM
    response = api.call("POST", "/api/v1/requests", "[" * 3000)
    assert response.status_code == 413
    ana = browser("ana@acme.test")
    response = ana.post(f"/requests/{ana_request_id()}/comments", {"comment": "x" * 3000})
    assert response.status_code == 413


def test_the_depth_scan_counts_only_structure():
    assert not json_depth_exceeds(b"")
    assert not json_depth_exceeds(b"[" * 32 + b"]" * 32)
    assert json_depth_exceeds(b"[" * 33 + b"]" * 33)
    assert json_depth_exceeds(b'{"a":' * 33 + b"1" + b"}" * 33)
    assert not json_depth_exceeds(b'["' + b"[" * 100 + b'"]')
    assert not json_depth_exceeds(b'["\\"' + b"[" * 100 + b'"]')  # an escaped quote
    assert json_depth_exceeds(b'["\\\\"' + b"[" * 100)  # an escaped backslash ends the string
    assert not json_depth_exceeds(b'"' + b"[" * 100)  # unterminated: the parser refuses it
    assert not json_depth_exceeds(b"[]" * 100_000)
    assert json_depth_exceeds(b"[" * 2 + b"]" * 2, limit=1)


# --- headers ---------------------------------------------------------------------------------

def test_odd_headers_never_end_in_a_500(app, demo):
    client = app.test_client()

    def get(url, headers):
        with app.app_context():
            return client.get(url, headers=headers)

    for value in ("Bearer mds_\x00abc", "Bearer mds_\xff\xfe", "Bearer mds_" + "a" * 10_000,
                  "Bearer", "Bearer ", "Basic Zm9vOmJhcg==", "bearer  mds_x  ", "\x00",
                  "Bearer mds_\u0100", "Bearer mds_\x1b[2J"):
        response = get("/api/v1/me", {"Authorization": value})
        assert response.status_code == 401 and response.mimetype == PROBLEM, repr(value)
    for cookie in ("session=\x00\xff", "session=" + "a" * 5000, "remember_token=1|abc",
                   ";;;==", "session=.eJx.abc.def", "remember_token=\x00", "session"):
        assert get("/inbox", {"Cookie": cookie}).status_code == 302, repr(cookie)
        assert get("/login", {"Cookie": cookie}).status_code == 200, repr(cookie)
    for host in ("ex\x00ample", "evil.example:abc", "[::1", "a" * 300, "\xff", "a..b"):
        response = get("/login", {"Host": host})
        assert response.status_code in (200, 400), (repr(host), response.status_code)
        assert "Traceback" not in html(response)
    for name, value in (("Accept-Language", "\x00\xff;q=abc"), ("X-Request-ID", "\x00" * 10),
                        ("X-Forwarded-For", "\x00, 999.1.1.1"),
                        ("Content-Type", "application/json; charset=\x00")):
        assert get("/login", {name: value}).status_code == 200, name
