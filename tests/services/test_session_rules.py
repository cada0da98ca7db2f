"""services.sessions: ending every session of a person, a bounded table, browser names."""

import secrets
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.api import tokens_service
from app.extensions import db
from app.models import ApiToken, UserSession
from app.models.base import utcnow
from app.services import sessions


def _row(user, created, ended=None, reason=None) -> UserSession:
    row = UserSession(tenant_id=user.tenant_id, user_id=user.id,
                      sid_hash=secrets.token_hex(32), created_at=created, last_seen_at=created,
                      ended_at=ended, end_reason=reason)
    db.session.add(row)
    return row


def _count(*where) -> int:
    return db.session.scalar(select(func.count(UserSession.id)).where(*where))


@pytest.mark.parametrize("reason, revokes", [("password_changed", True), ("deactivated", True),
                                             ("logout_everywhere", False)])
def test_ending_every_session_revokes_tokens_only_when_the_person_changed(demo, reason,
                                                                          revokes):
    ana, luis = demo.user("ana@acme.test"), demo.user("luis@acme.test")
    first = sessions.start(ana, "ua", "10.0.0.1")
    sessions.start(ana, "ua", "10.0.0.2")
    luis_raw = sessions.start(luis, "ua", "10.0.0.3")
    tokens_service.issue(ana, "script", 24)
    tokens_service.issue(luis, "script", 24)
    db.session.commit()
    assert sessions.end_sessions(ana, reason) == 2
    db.session.commit()
    assert sessions.load(str(ana.id), first) is None
    assert sessions.load(str(luis.id), luis_raw) is not None        # only that person
    revoked = {t.user_id: t.revoked_at is not None
               for t in db.session.scalars(select(ApiToken))}
    assert revoked == {ana.id: revokes, luis.id: False}
    assert _count(UserSession.end_reason == reason) == 2


def test_ending_the_others_keeps_the_given_session(demo):
    ana = demo.user("ana@acme.test")
    kept, other = sessions.start(ana, "", ""), sessions.start(ana, "", "")
    assert sessions.end_sessions(ana, "logout_everywhere", keep=kept) == 1
    db.session.commit()
    assert sessions.load(str(ana.id), kept) is not None
    assert sessions.load(str(ana.id), other) is None


def test_old_rows_are_deleted_a_bounded_batch_per_login(demo):
    ana = demo.user("ana@acme.test")
    now = utcnow()
    long_ago = now - sessions.KEEP_ENDED - timedelta(days=1)
    for _ in range(sessions.FORGET_BATCH + 30):
        _row(ana, long_ago, ended=long_ago, reason="logout")
    never_ended = now - timedelta(hours=12) - sessions.KEEP_ENDED - timedelta(hours=1)
    for _ in range(10):
        _row(ana, never_ended)                                      # closed browsers
    recent = _row(ana, now - timedelta(days=2), ended=now - timedelta(days=1), reason="logout")
    db.session.commit()
    sessions.start(ana, "", "")
    db.session.commit()
    assert _count() == sessions.FORGET_BATCH + 30 + 10 + 1 + 1 - sessions.FORGET_BATCH
    sessions.start(ana, "", "")
    db.session.commit()
    assert _count() == 3                                            # recent + two new
    assert db.session.get(UserSession, recent.id) is not None


def test_a_person_keeps_at_most_max_live_sessions(demo):
    ana = demo.user("ana@acme.test")
    now = utcnow()
    for minutes in range(sessions.MAX_LIVE + 5):
        _row(ana, now - timedelta(minutes=60 - minutes))
    db.session.commit()
    newest = sessions.start(ana, "", "")
    db.session.commit()
    assert _count(UserSession.ended_at.is_(None)) == sessions.MAX_LIVE
    assert _count(UserSession.end_reason == "limit") == 6
    assert len(sessions.live_sessions(ana)) == sessions.MAX_LIVE
    assert sessions.load(str(ana.id), newest) is not None


@pytest.mark.parametrize("agent, expected", [
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0", ("Edge", "Windows")),
    ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/126.0.0.0 Mobile Safari/537.36", ("Chrome", "Android")),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.5 Safari/605.1.15", ("Safari", "macOS")),
    ("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
     ("Firefox", "Linux")),
    ("curl/8.5.0", (None, None)),
    ("", (None, None)),
])
def test_browser_names(agent, expected):
    assert sessions.browser_of(agent) == expected
