"""What a login lets in and what a failure leaves behind: the person with that e-mail and
nobody else; an unknown e-mail costs a password hash like a known one (no timing tells which
e-mails exist); what a failure stores fits its columns; on PostgreSQL, guesses at one e-mail
take turns (an advisory lock held until the attempt is committed)."""

import pytest
from sqlalchemy import text

from app.extensions import db
from app.models import LoginAttempt
from app.services import login

ADDRESS = "203.0.113.9"


@pytest.mark.parametrize("email", ["ana@acme.test", "luis@acme.test", "director@acme.test",
                                   "jefe@globex.test"])
def test_a_login_lets_in_the_person_with_that_email_only(demo, email):
    found = login.check_credentials(f"  {email.upper()} ", "demo1234", ADDRESS)
    assert found is not None and found.email == email


def test_a_wrong_password_or_an_unknown_email_lets_nobody_in(demo):
    assert login.check_credentials("ana@acme.test", "demo12345", ADDRESS) is None
    assert login.check_credentials("nadie@acme.test", "demo1234", ADDRESS) is None
    assert login.check_credentials("", "demo1234", ADDRESS) is None
    assert login.check_credentials(None, None, None) is None


def test_an_unknown_email_costs_one_password_hash_like_a_known_one(demo, monkeypatch):
    from app.accounts import passwords

    checked = []
    real = passwords.verify

    def spy(hashed, password):
        checked.append(hashed)
        return real(hashed, password)

    monkeypatch.setattr(passwords, "verify", spy)
    assert login.check_credentials("nadie@acme.test", "x", ADDRESS) is None
    assert checked == [passwords.dummy_hash()]
    checked.clear()
    assert login.check_credentials("ana@acme.test", "x", ADDRESS) is None
    ana = demo.user("ana@acme.test")
    assert checked == [ana.password_hash]  # her own hash, once, instead of the dummy


def test_what_a_failure_stores_fits_its_columns(demo):
    columns = LoginAttempt.__table__.c
    email = "a" * 300 + "@acme.test"
    address = "f" * 100  # behind a proxy, the address comes from a header
    assert login.check_credentials(email, "x" * 5000, address) is None
    db.session.commit()
    stored = db.session.query(LoginAttempt).one()
    assert stored.email == email[:columns.email.type.length] and len(stored.email) == 254
    assert stored.address == address[:columns.address.type.length] and len(stored.address) == 64


def test_guesses_at_one_email_take_turns_on_postgresql(demo):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite serializes writers itself (BEGIN IMMEDIATE)")

    def free(email: str) -> bool:
        with db.engine.connect() as other:
            taken = other.scalar(text("SELECT pg_try_advisory_xact_lock(hashtext(:key))"),
                                 {"key": f"login:{email}"})
            other.rollback()
        return taken

    assert login.check_credentials("ana@acme.test", "wrong", ADDRESS) is None
    assert not free("ana@acme.test")  # held by this attempt until it is committed
    assert free("luis@acme.test")
    db.session.commit()
    assert free("ana@acme.test")
