"""Internal notes never reach the requester: not on the request, ticket or task pages, the
API, notifications (in-app and outbox), exports or webhooks; the service unit's people see
them, marked."""

import pytest
from sqlalchemy import select

from app import policy
from app.extensions import db
from app.models import HistoryEvent, OutboxMessage, ServiceRequest, User
from app.services import webhooks
from tests.conversation.conftest import (
    ADMIN,
    DIRECTOR,
    HEAD,
    OTHER_WORKER,
    OUTSIDER,
    REQUESTER,
    SECRET,
    WORKER,
    messages_of,
    notices,
    notices_of,
)
from tests.factories import request_at, user


def comment(api, email, request_id, text, internal=False, **more):
    return api(email).post(f"/api/v1/requests/{request_id}/comments",
                           {"comment": text, "internal": internal, **more})


def test_an_internal_note_is_written_by_the_service_unit_and_marked(api, working):
    response = comment(api, DIRECTOR, working, SECRET, internal=True)
    assert response.status_code == 201, response.json
    db.session.rollback()
    entry = db.session.get(HistoryEvent, response.json["id"])
    assert entry.internal is True and entry.action == "commented"


@pytest.mark.parametrize("email", [REQUESTER])
def test_the_requester_may_not_write_an_internal_note(api, working, email):
    response = comment(api, email, working, SECRET, internal=True)
    assert response.status_code == 422
    assert "internal" in response.json["errors"]
    db.session.rollback()
    assert db.session.scalar(select(HistoryEvent).where(HistoryEvent.comment == SECRET)) is None


def test_who_may_see_internal_notes(working):
    req = db.session.get(ServiceRequest, working)
    allowed = {email: policy.can_see_internal(user(email), req)
               for email in (REQUESTER, HEAD, DIRECTOR, WORKER, OTHER_WORKER, ADMIN, OUTSIDER,
                             "pedro@globex.test")}
    assert allowed == {REQUESTER: False, HEAD: True, DIRECTOR: True, WORKER: True,
                       OTHER_WORKER: False, ADMIN: True, OUTSIDER: False,
                       "pedro@globex.test": False}


def test_the_query_form_agrees_with_the_predicate_for_every_person_and_request(demo):
    """What search and lists filter with (``internal_visibility``) is ``can_see_internal``."""
    request_at("Task_Work")
    people = db.session.scalars(select(User)).all()
    requests = db.session.scalars(select(ServiceRequest)).all()
    for person in people:
        clause = policy.internal_visibility(person)
        found = set(db.session.scalars(select(ServiceRequest.id).where(clause)))
        expected = {r.id for r in requests if policy.can_see_internal(person, r)}
        assert found == expected, person.email


def test_pages_hide_internal_notes_from_the_requester(api, browser, working):
    comment(api, DIRECTOR, working, SECRET, internal=True)
    comment(api, WORKER, working, "PUBLICO-ok")
    page = browser(REQUESTER).get(f"/requests/{working}").get_data(as_text=True)
    assert "PUBLICO-ok" in page and SECRET not in page
    assert 'name="internal"' not in page  # the form offers no internal note to the requester
    ticket = db.session.get(ServiceRequest, working).ticket
    ticket_page = browser(REQUESTER).get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert "PUBLICO-ok" in ticket_page and SECRET not in ticket_page
    staff = browser(DIRECTOR).get(f"/requests/{working}").get_data(as_text=True)
    assert SECRET in staff and "ev-internal" in staff and 'name="internal"' in staff
    assert SECRET in browser(HEAD).get(f"/requests/{working}").get_data(as_text=True)


def test_the_confirm_task_page_hides_internal_notes_from_the_requester(api, browser, demo):
    req, task = request_at("Task_Confirm")
    comment(api, DIRECTOR, req.id, SECRET, internal=True)
    comment(api, DIRECTOR, req.id, "PUBLICO-ok")
    page = browser(REQUESTER).get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "PUBLICO-ok" in page and SECRET not in page


def test_the_api_hides_internal_notes_from_the_requester(api, working):
    comment(api, DIRECTOR, working, SECRET, internal=True)
    comment(api, WORKER, working, "PUBLICO-ok")
    ana = api(REQUESTER)
    history = ana.get(f"/api/v1/requests/{working}/history?per_page=100")
    assert history.status_code == 200
    assert SECRET not in history.get_data(as_text=True)
    assert "PUBLICO-ok" in history.get_data(as_text=True)
    assert SECRET not in ana.get(f"/api/v1/requests/{working}").get_data(as_text=True)
    staff = api(DIRECTOR).get(f"/api/v1/requests/{working}/history?per_page=100").json
    internal = [e for e in staff["items"] if e["comment"] == SECRET]
    assert len(internal) == 1 and internal[0]["internal"] is True


def test_notices_of_an_internal_note_reach_only_those_who_may_read_it(api, working):
    before = {n.id for n in notices(working)}
    comment(api, DIRECTOR, working, SECRET, internal=True)
    written = [n for n in notices(working) if n.id not in before]
    assert [n.event for n in written] == ["ticket.comment"]
    assert written[0].user_id == user(WORKER).id
    for notice in written:
        reader = db.session.get(User, notice.user_id)
        assert policy.can_see_internal(reader, db.session.get(ServiceRequest, working))
    assert all(SECRET not in str(m.payload) for m in messages_of(REQUESTER))
    # a public comment still reaches the requester, in-app and by e-mail
    comment(api, DIRECTOR, working, "PUBLICO-ok")
    assert notices_of(REQUESTER, working).count("request.comment") == 1
    assert any(m.channel == "email" for m in messages_of(REQUESTER))


def test_exports_carry_no_comment(api, working):
    """Exports list requests and tickets, never their comments: an internal note cannot leak
    through them (nor through a requester's own download)."""
    comment(api, DIRECTOR, working, SECRET, internal=True)
    for email in (ADMIN, DIRECTOR):
        for what in ("requests.csv", "tickets.csv"):
            response = api(email).get(f"/api/v1/exports/{what}")
            assert response.status_code == 200, (email, what)
            assert SECRET not in response.get_data(as_text=True)


def test_webhooks_send_public_comments_only(api, working):
    webhooks.create_endpoint(user(ADMIN), {"url": "https://hooks.example.com/mesa",
                                           "events": ["request.commented"]})
    db.session.commit()
    comment(api, DIRECTOR, working, SECRET, internal=True)
    comment(api, WORKER, working, "PUBLICO-ok")
    db.session.rollback()
    sent = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.channel == "webhook")).all()
    assert len(sent) == 1
    assert sent[0].payload["comment"]["text"] == "PUBLICO-ok"
    assert sent[0].payload["event"] == "request.commented"
    assert all(SECRET not in str(m.payload) for m in sent)


def test_the_comment_form_on_the_page_writes_an_internal_note(browser, working):
    director = browser(DIRECTOR)
    response = director.post(f"/requests/{working}/comments",
                             {"comment": SECRET, "internal": "true"})
    assert response.status_code == 302
    db.session.rollback()
    entry = db.session.scalar(select(HistoryEvent).where(HistoryEvent.comment == SECRET))
    assert entry.internal is True


def test_a_requester_forging_the_internal_box_on_the_page_saves_nothing(browser, working):
    ana = browser(REQUESTER)
    response = ana.post(f"/requests/{working}/comments", {"comment": SECRET, "internal": "true"})
    assert response.status_code == 303
    db.session.rollback()
    assert db.session.scalar(select(HistoryEvent).where(HistoryEvent.comment == SECRET)) is None
    page = ana.get(f"/requests/{working}").get_data(as_text=True)
    assert "escribe notas internas" in page  # the flash says why (in the demo's Spanish)


def test_the_requester_who_heads_their_own_unit_reads_no_internal_note(api, demo):
    """A head files a request of their own unit: being its head does not let them read the
    internal notes on it (they are its requester)."""
    from tests.factories import file

    req = file(HEAD)
    assert policy.can_view_request(user(HEAD), req)
    assert not policy.can_see_internal(user(HEAD), req)
