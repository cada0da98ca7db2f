"""Bearer tokens, rule by rule (app/api/tokens_service.py): only the hash is stored; a token
lets in its owner while it is neither revoked, expired nor its owner deactivated; use is
recorded at most hourly; people list only their own tokens."""

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from app.api import tokens_service
from app.extensions import db
from app.models import ApiToken
from app.sqlite import writing
from tests.factories import user

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def issue(email="ana@acme.test", name="Informe", hours=24) -> tuple[str, int]:
    raw, token = tokens_service.issue(user(email), name, hours)
    db.session.commit()
    return raw, token.id


def stored(token_id: int) -> ApiToken:
    db.session.rollback()  # a fresh snapshot
    return db.session.get(ApiToken, token_id)


def test_only_the_hash_and_a_short_prefix_are_stored(demo):
    with time_machine.travel(T0, tick=False):
        raw, token_id = issue(name="x" * 150, hours=30)
    token = stored(token_id)
    assert raw.startswith("mds_") and len(raw) > 40
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert token.prefix == raw[:12] and raw not in (token.token_hash, token.prefix)
    assert token.name == "x" * 100
    assert token.expires_at == T0 + timedelta(hours=30)
    assert (token.tenant_id, token.user_id) == (user("ana@acme.test").tenant_id,
                                                user("ana@acme.test").id)
    assert tokens_service.find(raw).id == token_id


@pytest.mark.parametrize("raw", ["", "mds_", "mds_nope", "xyz_" + "a" * 43, "mds_" + "a" * 300])
def test_unknown_or_malformed_tokens_let_nobody_in(demo, raw):
    issue()
    assert tokens_service.authenticate(raw) is None
    assert tokens_service.find(raw) is None


def test_a_token_lets_in_its_owner_until_it_expires(demo):
    with time_machine.travel(T0, tick=False) as clock:
        raw, _ = issue(hours=2)
        assert tokens_service.authenticate(raw).email == "ana@acme.test"
        clock.move_to(T0 + timedelta(hours=2) - timedelta(seconds=1))
        assert tokens_service.authenticate(raw).email == "ana@acme.test"
        clock.move_to(T0 + timedelta(hours=2))
        assert tokens_service.authenticate(raw) is None


def test_a_revoked_token_or_a_deactivated_owner_lets_nobody_in(demo):
    raw, token_id = issue()
    other_raw, _ = issue("luis@acme.test")
    tokens_service.revoke(stored(token_id))
    db.session.commit()
    assert tokens_service.authenticate(raw) is None
    assert tokens_service.authenticate(other_raw).email == "luis@acme.test"
    db.session.rollback()  # the use was recorded in a transaction of its own
    user("luis@acme.test").active = False
    db.session.commit()
    assert tokens_service.authenticate(other_raw) is None


def test_revoking_twice_keeps_the_first_time(demo):
    raw, token_id = issue()
    with time_machine.travel(T0, tick=False):
        tokens_service.revoke(stored(token_id))
        db.session.commit()
    with time_machine.travel(T0 + timedelta(days=1), tick=False):
        tokens_service.revoke(stored(token_id))
        db.session.commit()
    assert stored(token_id).revoked_at == T0


@pytest.mark.parametrize("writes", [False, True], ids=["a read", "a write"])
def test_use_is_recorded_at_most_hourly(demo, writes):
    raw, token_id = issue()

    def use():
        db.session.rollback()
        if writes:
            with writing():
                assert tokens_service.authenticate(raw) is not None
                db.session.commit()
        else:
            assert tokens_service.authenticate(raw) is not None
            db.session.rollback()  # a read commits nothing: the use is written on its own
        return stored(token_id).last_used_at

    with time_machine.travel(T0, tick=False) as clock:
        assert use() == T0
        clock.move_to(T0 + timedelta(hours=1))
        assert use() == T0  # an hour later: not yet
        clock.move_to(T0 + timedelta(hours=1, seconds=1))
        assert use() == T0 + timedelta(hours=1, seconds=1)


def test_people_list_their_own_tokens_newest_first(demo):
    with time_machine.travel(T0, tick=False) as clock:
        _, first = issue(name="primero")
        clock.move_to(T0 + timedelta(minutes=5))
        _, second = issue(name="segundo")
        issue("luis@acme.test", name="de Luis")
        issue("pedro@globex.test", name="de otra empresa")
    assert [t.id for t in tokens_service.tokens_of(user("ana@acme.test"))] == [second, first]
    assert [t.name for t in tokens_service.tokens_of(user("luis@acme.test"))] == ["de Luis"]
