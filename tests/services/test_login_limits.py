"""Failed logins are limited per e-mail and per address. One address (several people behind a
NAT) may fail LOGIN_MAX_ATTEMPTS * ADDRESS_FACTOR times within the window, whatever e-mails it
tries; then every login from it waits, on the page and the API alike, while other addresses are
not affected. A success forgets the failures of that e-mail only."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from app.extensions import db
from app.models import LoginAttempt
from app.services import login

NAT, ELSEWHERE = "203.0.113.7", "198.51.100.20"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def limits(app):
    """(failures allowed per e-mail, per address): an address may fail five times as often as
    one e-mail (login.ADDRESS_FACTOR; written out here, so a change to it is noticed)."""
    per_email = app.config["LOGIN_MAX_ATTEMPTS"]
    return per_email, per_email * 5


def attempt(email, password="wrong", address=NAT) -> str:
    """One login through the service, committed as the views do: ok, failed or blocked."""
    try:
        found = login.check_credentials(email, password, address)
    except login.TooManyAttempts:
        db.session.rollback()
        return "blocked"
    db.session.commit()
    return "ok" if found else "failed"


def fail_from(address: str, times: int, prefix="guess") -> None:
    """``times`` failures from ``address``, each with another e-mail (no e-mail's own limit
    is ever reached)."""
    for i in range(times):
        assert attempt(f"{prefix}{i}@acme.test", address=address) == "failed", i


def page_login(browser, email, address, password="demo1234"):
    return browser().post("/login", {"email": email, "password": password},
                          environ_base={"REMOTE_ADDR": address})


def api_login(app, email, address, password="demo1234"):
    with app.app_context():
        return app.test_client().post("/api/v1/tokens",
                                      json={"email": email, "password": password},
                                      environ_base={"REMOTE_ADDR": address})


def test_one_address_is_stopped_after_its_own_limit_whatever_the_emails(demo, limits):
    per_email, per_address = limits
    assert per_address > per_email
    fail_from(NAT, per_address - 1)
    assert attempt("ana@acme.test", "demo1234") == "ok"  # one failure short of the limit
    assert attempt("luis@acme.test") == "failed"         # the address's last allowed failure
    assert attempt("maria@acme.test", "demo1234") == "blocked"
    assert attempt("maria@acme.test", "demo1234", address=ELSEWHERE) == "ok"


def test_the_page_and_the_api_answer_429_to_that_address_only(app, browser, demo, limits):
    fail_from(NAT, limits[1])
    assert page_login(browser, "ana@acme.test", NAT).status_code == 429
    assert api_login(app, "ana@acme.test", NAT).status_code == 429
    assert page_login(browser, "ana@acme.test", ELSEWHERE).status_code == 302
    assert api_login(app, "luis@acme.test", ELSEWHERE).status_code == 201


def test_failures_on_the_page_and_the_api_count_for_their_address(app, browser, demo, limits):
    _, per_address = limits
    for i in range(per_address // 2):
        assert page_login(browser, f"page{i}@acme.test", NAT, "wrong").status_code == 401
    for i in range(per_address - per_address // 2):
        assert api_login(app, f"api{i}@acme.test", NAT, "wrong").status_code == 401
    assert api_login(app, "ana@acme.test", NAT).status_code == 429
    counted = db.session.query(LoginAttempt).filter_by(address=NAT).count()
    assert counted == per_address


def test_a_success_forgets_the_failures_of_that_email_only(demo, limits):
    per_email, _ = limits
    for _ in range(per_email - 1):
        assert attempt("ana@acme.test") == "failed"
    assert attempt("luis@acme.test", "demo1234") == "ok"   # someone else gets in...
    assert attempt("ana@acme.test") == "failed"            # ...ana's count goes on: now full
    assert attempt("ana@acme.test", "demo1234") == "blocked"

    for _ in range(per_email - 1):
        assert attempt("luis@acme.test", address=ELSEWHERE) == "failed"
    assert attempt("luis@acme.test", "demo1234", address=ELSEWHERE) == "ok"
    for _ in range(per_email - 1):                         # luis starts again from zero
        assert attempt("luis@acme.test", address=ELSEWHERE) == "failed"
    assert attempt("luis@acme.test", "demo1234", address=ELSEWHERE) == "ok"


def test_an_email_is_counted_however_it_is_typed(demo, limits):
    per_email, _ = limits
    for i in range(per_email):
        typed = ["ANA@acme.test", "  ana@ACME.test  ", "ana@acme.test\t"][i % 3]
        assert attempt(typed, address=f"192.0.2.{i}") == "failed"
    assert attempt("ana@acme.test", "demo1234", address=ELSEWHERE) == "blocked"


def test_failures_older_than_the_window_no_longer_count(app, demo, limits):
    window = timedelta(seconds=app.config["LOGIN_WINDOW_SECONDS"])
    with time_machine.travel(T0, tick=False) as clock:
        fail_from(NAT, limits[1])
        clock.move_to(T0 + window)                        # the window still holds them
        assert attempt("ana@acme.test", "demo1234") == "blocked"
        clock.move_to(T0 + window + timedelta(seconds=1))
        assert attempt("ana@acme.test", "demo1234") == "ok"


def test_an_emails_failures_older_than_the_window_no_longer_count(app, demo, limits):
    window = timedelta(seconds=app.config["LOGIN_WINDOW_SECONDS"])
    with time_machine.travel(T0, tick=False) as clock:
        for i in range(limits[0]):
            assert attempt("ana@acme.test", address=f"192.0.2.{i}") == "failed"
        clock.move_to(T0 + window)
        assert attempt("ana@acme.test", "demo1234", address=ELSEWHERE) == "blocked"
        clock.move_to(T0 + window + timedelta(seconds=1))
        assert attempt("ana@acme.test", "demo1234", address=ELSEWHERE) == "ok"
