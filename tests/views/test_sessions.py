"""Server-side login sessions: a cookie is only as alive as its session row.

Each replay copies the signed session cookie into a fresh client, as a thief would."""

import secrets
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import partial

import time_machine
from flask_login.utils import encode_cookie
from sqlalchemy import create_engine, event, select, text, update

from app.extensions import db
from app.models import User, UserSession
from app.services import sessions
from tests.views.helpers import html

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
          "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1")


def cookie_of(browser) -> str:
    return browser.client.get_cookie("session").value


def replay(app, value: str, url: str = "/inbox", **cookies):
    thief = app.test_client()
    thief.set_cookie("session", value)
    for name, cookie in cookies.items():
        thief.set_cookie(name, cookie)
    with app.app_context():
        return thief.get(url)


def assert_logged_out(response):
    assert response.status_code == 302, response.status_code
    assert response.headers["Location"].startswith("/login")


def signed(app, data: dict) -> str:
    """A session cookie signed with the app's key: what only the server can make."""
    return app.session_interface.get_signing_serializer(app).dumps(data)


def rows_of(email: str) -> list[UserSession]:
    db.session.rollback()  # a new snapshot, as a new request would see
    user = db.session.scalar(select(User).where(User.email == email))
    return list(db.session.scalars(
        select(UserSession).where(UserSession.user_id == user.id).order_by(UserSession.id)))


def test_a_cookie_copied_before_logout_is_dead_after_it(demo, browser, app):
    ana = browser("ana@acme.test")
    copied = cookie_of(ana)
    assert replay(app, copied).status_code == 200           # the copy works while logged in
    assert ana.post("/logout").status_code == 302
    response = replay(app, copied)
    assert_logged_out(response)
    thief = app.test_client()
    thief.set_cookie("session", copied)
    with app.app_context():
        landed = thief.get("/inbox", follow_redirects=True)
    assert landed.request.path == "/login" and 'name="password"' in html(landed)
    assert [(r.end_reason, r.ended_at is not None) for r in rows_of("ana@acme.test")] == [
        ("logout", True)]


def test_log_out_everywhere_else_kills_the_other_cookies(demo, browser, app):
    laptop, phone = browser("ana@acme.test"), browser("ana@acme.test")
    phone_copy = cookie_of(phone)
    luis = browser("luis@acme.test")
    assert laptop.post("/account/sessions/end-others").status_code == 302
    assert "Se cerró 1 sesión más" in html(laptop.get("/account/sessions"))
    assert laptop.get("/inbox").status_code == 200          # this one goes on
    assert_logged_out(phone.get("/inbox"))
    assert_logged_out(replay(app, phone_copy))
    assert luis.get("/inbox").status_code == 200            # nobody else's
    assert sorted(r.end_reason or "" for r in rows_of("ana@acme.test")) == [
        "", "logout_everywhere"]


def test_a_deactivated_person_is_refused_and_stays_out(demo, browser, app):
    ana = browser("ana@acme.test")
    copied = cookie_of(ana)
    user = demo.user("ana@acme.test")
    user.active = False
    db.session.commit()
    assert_logged_out(replay(app, copied))                  # refused at load, sessions or not
    user = demo.user("ana@acme.test")
    assert sessions.end_sessions(user, "deactivated") == 1
    db.session.commit()
    user = demo.user("ana@acme.test")
    user.active = True                                      # taken back later:
    db.session.commit()
    assert_logged_out(replay(app, copied))                  # the old session stays dead
    assert browser("ana@acme.test").get("/inbox").status_code == 200


def test_a_password_change_ends_sessions_and_revokes_tokens(demo, browser, app):
    ana = browser("ana@acme.test")
    copied = cookie_of(ana)
    client = app.test_client()
    with app.app_context():
        raw = client.post("/api/v1/tokens", json={"email": "ana@acme.test",
                                                  "password": "demo1234"}).json["token"]
    user = demo.user("ana@acme.test")
    user.set_password("otra-clave-larga")
    sessions.end_sessions(user, "password_changed")
    db.session.commit()
    assert_logged_out(replay(app, copied))
    with app.app_context():
        assert client.get("/api/v1/me",
                          headers={"Authorization": f"Bearer {raw}"}).status_code == 401
    fresh = browser()
    fresh.get("/login")
    assert fresh.post("/login", {"email": "ana@acme.test",
                                 "password": "otra-clave-larga"}).status_code == 302


def test_a_session_ends_after_its_absolute_lifetime_however_busy(demo, browser, app):
    start = datetime(2030, 3, 4, 8, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as clock:
        ana = browser("ana@acme.test")
        copied = cookie_of(ana)
        for _ in range(7):                                  # busy: a page every 100 minutes
            clock.shift(timedelta(minutes=100))
            assert ana.get("/inbox").status_code == 200     # 11 h 40 min in
        clock.shift(timedelta(minutes=20))                  # 12 h (SESSION_MAX_AGE_HOURS)
        assert_logged_out(ana.get("/inbox"))
        assert_logged_out(replay(app, copied))
    assert rows_of("ana@acme.test")[0].end_reason == "expired"


def test_a_session_ends_after_the_idle_timeout(demo, browser, app):
    start = datetime(2030, 3, 4, 8, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as clock:
        ana = browser("ana@acme.test")
        copied = cookie_of(ana)
        clock.shift(timedelta(minutes=119))
        assert ana.get("/inbox").status_code == 200         # activity moves the idle clock
        clock.shift(timedelta(minutes=119))
        assert replay(app, copied).status_code == 200
        clock.shift(timedelta(minutes=121))                 # SESSION_IDLE_MINUTES is 120
        assert_logged_out(replay(app, copied))
        assert_logged_out(ana.get("/inbox"))
        again = browser("ana@acme.test")                    # logging in again works
        assert again.get("/inbox").status_code == 200


def test_forged_and_tampered_cookies_log_nobody_in(demo, browser, app):
    ana = browser("ana@acme.test")
    luis = browser("luis@acme.test")
    ana_id = str(demo.user("ana@acme.test").id)
    genuine = cookie_of(ana)
    # Tampered: the signature no longer matches, so Flask drops the whole session.
    assert_logged_out(replay(app, genuine[:-2] + ("AA" if genuine[-2:] != "AA" else "BB")))
    # Signed with the real key (as if it had leaked) but with a made-up session id...
    for sid in (secrets.token_urlsafe(32), "", None, 12345, "x" * 300, ["a"]):
        assert_logged_out(replay(app, signed(app, {"_user_id": ana_id, "_sid": sid})))
    # ...or no session id at all (how cookies looked before server-side sessions).
    assert_logged_out(replay(app, signed(app, {"_user_id": ana_id, "_fresh": True})))
    # Luis's live session id under Ana's user id: neither of them is logged in.
    luis_sid = luis.client.get_cookie("session")
    with app.test_request_context():
        luis_data = app.session_interface.get_signing_serializer(app).loads(luis_sid.value)
    assert_logged_out(replay(app, signed(app, {"_user_id": ana_id, "_sid": luis_data["_sid"]})))
    for user_id in ("99999999999", "²", "-1", "", None):
        assert_logged_out(replay(app, signed(app, {"_user_id": user_id,
                                                   "_sid": luis_data["_sid"]})))
    assert luis.get("/inbox").status_code == 200


def test_a_remember_me_cookie_cannot_log_in(demo, browser, app):
    ana = browser("ana@acme.test")
    ana_id = str(demo.user("ana@acme.test").id)
    assert ana.post("/logout").status_code == 302
    with app.test_request_context():
        remember = encode_cookie(ana_id)                    # correctly signed, even
    thief = app.test_client()
    thief.set_cookie("remember_token", remember)
    with app.app_context():
        assert_logged_out(thief.get("/inbox"))
        assert_logged_out(thief.get("/inbox"))


def test_a_session_of_another_tenants_user(demo, browser, app):
    pedro = browser("pedro@globex.test")
    copied = cookie_of(pedro)
    with app.test_request_context():
        data = app.session_interface.get_signing_serializer(app).loads(copied)
    ana_id = str(demo.user("ana@acme.test").id)
    assert_logged_out(replay(app, signed(app, {**data, "_user_id": ana_id})))
    page = replay(app, copied, "/requests")
    assert page.status_code == 200 and "Globex Ltda." in html(page)   # Pedro sees only his company
    acme_id = demo.user("ana@acme.test").tenant_id
    db.session.execute(update(UserSession).where(UserSession.user_id == int(data["_user_id"]))
                       .values(tenant_id=acme_id))          # a row claiming another company
    db.session.commit()
    assert_logged_out(replay(app, copied))


def test_concurrent_logins_keep_separate_sessions(demo, browser, app):
    first, second = browser("ana@acme.test"), browser("ana@acme.test")
    assert cookie_of(first) != cookie_of(second)
    rows = rows_of("ana@acme.test")
    assert len(rows) == 2 and rows[0].sid_hash != rows[1].sid_hash
    second_copy = cookie_of(second)
    assert first.post("/logout").status_code == 302
    assert_logged_out(first.get("/inbox"))
    assert second.get("/inbox").status_code == 200
    assert replay(app, second_copy).status_code == 200


def test_every_login_gets_a_new_session_id(demo, browser, app):
    client = browser()
    client.get("/login")
    before_login = cookie_of(client)                        # anonymous, with a CSRF token
    client.post("/login", {"email": "ana@acme.test", "password": "demo1234"})
    first = cookie_of(client)
    assert first != before_login
    assert_logged_out(replay(app, before_login))            # the pre-login cookie stays anonymous
    client.get("/inbox")                                    # the new session's CSRF token
    assert client.post("/logout").status_code == 302
    client.get("/login")
    client.post("/login", {"email": "ana@acme.test", "password": "demo1234"})
    assert_logged_out(replay(app, first))
    assert replay(app, cookie_of(client)).status_code == 200
    hashes = {r.sid_hash for r in rows_of("ana@acme.test")}
    assert len(hashes) == 2


def test_the_language_switch_keeps_working(demo, browser):
    visitor = browser()
    visitor.post("/language", {"code": "en"})
    assert '<html lang="en">' in html(visitor.get("/login"))
    ana = browser("ana@acme.test")
    ana.post("/language", {"code": "en"})
    page = ana.get("/inbox")
    assert page.status_code == 200 and '<html lang="en">' in html(page)


def test_the_account_page_lists_and_ends_sessions(demo, browser, app):
    laptop = browser()
    laptop.client.environ_base["HTTP_USER_AGENT"] = FIREFOX
    laptop.login("ana@acme.test")
    phone = browser()
    phone.client.environ_base["HTTP_USER_AGENT"] = IPHONE
    phone.login("ana@acme.test")
    browser("luis@acme.test")                               # someone else's session
    page = laptop.get("/account/sessions")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    body = html(page)
    assert "Firefox en Linux" in body and "Safari en iOS" in body
    marked = [row for row in body.split("<tr>") if "badge st-in_progress" in row]
    assert len(marked) == 1 and "Firefox en Linux" in marked[0]   # "this session", once
    assert body.count("/account/sessions/") == 3             # two "end" forms + end-others
    ana_rows = rows_of("ana@acme.test")
    phone_row = next(r for r in ana_rows if "iPhone" in r.user_agent)
    laptop_row = next(r for r in ana_rows if "Firefox" in r.user_agent)
    luis = browser("luis@acme.test")
    assert luis.post(f"/account/sessions/{phone_row.id}/end").status_code == 404
    with app.app_context():                                  # no CSRF token: refused
        assert laptop.client.post(f"/account/sessions/{phone_row.id}/end").status_code == 400
    assert phone.get("/inbox").status_code == 200
    assert laptop.post(f"/account/sessions/{phone_row.id}/end").status_code == 302
    assert_logged_out(phone.get("/inbox"))
    assert laptop.post(f"/account/sessions/{phone_row.id}/end").status_code == 404  # ended
    assert "Safari on iOS" not in html(laptop.get("/account/sessions"))
    ended_own = laptop.post(f"/account/sessions/{laptop_row.id}/end")
    assert ended_own.headers["Location"].startswith("/login")
    assert_logged_out(laptop.get("/inbox"))


def test_the_sessions_page_fits_a_phone(demo, browser):
    body = html(browser("ana@acme.test").get("/account/sessions"))
    assert 'class="list stack"' in body and 'data-label="' in body   # rows stack below 640 px
    assert 'name="viewport"' in body


def test_every_demo_user_can_log_in(demo, browser):
    emails = db.session.scalars(select(User.email).order_by(User.email)).all()
    assert len(emails) > 10
    for email in emails:
        assert browser(email).get("/inbox").status_code == 200, email


def _statements(app, browser, url):
    seen = []

    def hook(conn, cursor, statement, params, context, executemany):
        seen.append(" ".join(statement.split()))

    event.listen(db.engine, "before_cursor_execute", hook)
    try:
        assert browser.get(url).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", hook)
    return seen


def test_a_page_loads_the_person_and_session_in_one_query(demo, browser, app):
    start = datetime(2030, 3, 4, 8, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as clock:
        ana = browser("ana@acme.test")
        clock.shift(timedelta(minutes=1))
        seen = _statements(app, ana, "/account/password")
        loading = [s for s in seen if "user_sessions" in s]
        assert len(loading) == 1 and loading[0].startswith("SELECT")
        assert "JOIN users" in loading[0] and "tenants" in loading[0] \
            and "memberships" in loading[0]
        assert not [s for s in seen if s.startswith("SELECT") and "user_sessions" not in s
                    and (" FROM users" in s or " FROM tenants" in s or " FROM memberships" in s)]
        clock.shift(timedelta(minutes=6))                   # last seen is due again: one write
        seen = _statements(app, ana, "/account/password")
        assert len([s for s in seen if s.startswith("UPDATE user_sessions")]) == 1
        clock.shift(timedelta(minutes=1))
        seen = _statements(app, ana, "/account/password")
        assert not [s for s in seen if s.startswith("UPDATE")]


@contextmanager
def refusing_writes():
    """The database refuses every write for real: SQLite connections opened ``query_only``
    ("attempt to write a readonly database"), a PostgreSQL database whose sessions begin
    read-only. New connections only: the pool is emptied before and after."""
    db.session.remove()
    if db.engine.dialect.name == "sqlite":
        def read_only(dbapi_conn, _record):
            dbapi_conn.execute("PRAGMA query_only = ON")

        event.listen(db.engine, "connect", read_only)
        undo = partial(event.remove, db.engine, "connect", read_only)
    else:
        admin = create_engine(db.engine.url, isolation_level="AUTOCOMMIT")
        name = db.engine.url.database

        def as_admin(statement):
            with admin.connect() as conn:
                conn.execute(text("SET default_transaction_read_only = off"))
                conn.execute(text(statement))

        as_admin(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')

        def undo():
            as_admin(f'ALTER DATABASE "{name}" RESET default_transaction_read_only')
            admin.dispose()
    db.engine.dispose()
    try:
        yield
    finally:
        undo()
        db.session.remove()
        db.engine.dispose()


def test_reading_pages_work_while_the_database_refuses_writes(demo, browser, app):
    """A page whose "last seen" is due still draws when the database refuses the write."""
    start = datetime(2030, 3, 4, 8, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as clock:
        ana = browser("ana@acme.test")
        with refusing_writes():
            clock.shift(timedelta(minutes=30))
            assert ana.get("/inbox").status_code == 200
        assert rows_of("ana@acme.test")[0].last_seen_at == start   # left as it was
        assert ana.get("/inbox").status_code == 200                 # written once it can be
        assert rows_of("ana@acme.test")[0].last_seen_at == start + timedelta(minutes=30)
