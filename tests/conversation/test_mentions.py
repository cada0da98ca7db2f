"""Mentions: @e-mail of a colleague who may see the request (or read internal notes, in one)
notifies them exactly once; anyone else named is refused and nothing is saved."""

from sqlalchemy import select

from app.extensions import db
from app.models import HistoryEvent, ServiceRequest
from tests.conversation.conftest import (
    ADMIN,
    DIRECTOR,
    HEAD,
    OTHER_TENANT,
    OTHER_WORKER,
    OUTSIDER,
    REQUESTER,
    SECRET,
    WORKER,
    messages_of,
    notices,
    notices_of,
)
from tests.factories import user


def comment(api, email, request_id, text, **more):
    return api(email).post(f"/api/v1/requests/{request_id}/comments", {"comment": text, **more})


def new_notices(request_id, before):
    return [n for n in notices(request_id) if n.id not in before]


def test_a_mention_notifies_the_person_once(api, working):
    before = {n.id for n in notices(working)}
    response = comment(api, DIRECTOR, working, f"@{HEAD} ¿lo autorizó usted? (y @{ADMIN}).")
    assert response.status_code == 201, response.json
    written = new_notices(working, before)
    by_person = {}
    for n in written:
        by_person.setdefault(n.user_id, []).append(n.event)
    assert by_person == {user(HEAD).id: ["request.mention"],
                         user(ADMIN).id: ["request.mention"],
                         user(REQUESTER).id: ["request.comment"],
                         user(WORKER).id: ["ticket.comment"]}
    mention = next(n for n in written if n.user_id == user(HEAD).id)
    assert mention.params["actor_name"].startswith("Diana") and "autorizó" in \
        mention.params["comment"]
    emails = [m for m in messages_of(HEAD) if m.notification_id == mention.id]
    assert [m.channel for m in emails] == ["email"]


def test_the_worker_mentioned_hears_of_the_mention_only(api, working):
    before = {n.id for n in notices(working)}
    comment(api, DIRECTOR, working, f"@{WORKER} y otra vez @{WORKER.upper()}")
    mine = [n.event for n in new_notices(working, before) if n.user_id == user(WORKER).id]
    assert mine == ["request.mention"]


def test_mention_ids_from_the_picker(api, working):
    before = {n.id for n in notices(working)}
    response = comment(api, WORKER, working, "Mire esto", mention_ids=[user(HEAD).id])
    assert response.status_code == 201
    assert [n.event for n in new_notices(working, before)
            if n.user_id == user(HEAD).id] == ["request.mention"]


def test_someone_who_may_not_see_the_request_cannot_be_mentioned(api, working):
    for who in (OUTSIDER, OTHER_WORKER, OTHER_TENANT, "nadie@acme.test"):
        response = comment(api, DIRECTOR, working, f"Hola @{who}")
        assert response.status_code == 422, who
        assert f"@{who}" in response.json["errors"]["comment"][0]
    response = comment(api, DIRECTOR, working, "Hola", mention_ids=[user(OUTSIDER).id])
    assert response.status_code == 422
    db.session.rollback()
    assert db.session.scalar(select(HistoryEvent).where(
        HistoryEvent.action == "commented")) is None
    assert notices_of(OUTSIDER, working) == []


def test_an_internal_note_never_mentions_the_requester(api, working):
    before = {n.id for n in notices(working)}
    response = comment(api, DIRECTOR, working, f"{SECRET} @{REQUESTER}", internal=True)
    assert response.status_code == 422
    response = comment(api, DIRECTOR, working, SECRET, internal=True,
                       mention_ids=[user(REQUESTER).id])
    assert response.status_code == 422
    assert new_notices(working, before) == []
    # a colleague who may read internal notes may be
    response = comment(api, DIRECTOR, working, f"{SECRET} @{HEAD}", internal=True)
    assert response.status_code == 201
    written = new_notices(working, before)
    assert {(n.user_id, n.event) for n in written} == {
        (user(HEAD).id, "request.mention"), (user(WORKER).id, "ticket.comment")}


def test_the_mentionable_list_matches_who_may_see(api, working):
    people = api(DIRECTOR).get(f"/api/v1/requests/{working}/mentionable").json
    assert {p["email"] for p in people} == {REQUESTER, HEAD, DIRECTOR, WORKER, ADMIN}
    internal = api(DIRECTOR).get(f"/api/v1/requests/{working}/mentionable?internal=1").json
    assert {p["email"] for p in internal} == {HEAD, DIRECTOR, WORKER, ADMIN}
    assert api(REQUESTER).get(f"/api/v1/requests/{working}/mentionable?internal=1").json == []
    assert api(OUTSIDER).get(f"/api/v1/requests/{working}/mentionable").status_code == 404


def test_the_page_form_mentions_and_says_why_it_refuses(browser, working):
    director = browser(DIRECTOR)
    page = director.get(f"/requests/{working}").get_data(as_text=True)
    assert 'name="mention_ids"' in page
    response = director.post(f"/requests/{working}/comments",
                             {"comment": "Vea", "mention_ids": str(user(HEAD).id)})
    assert response.status_code == 302
    assert notices_of(HEAD, working).count("request.mention") == 1
    director.post(f"/requests/{working}/comments", {"comment": f"Hola @{OUTSIDER}"})
    page = director.get(f"/requests/{working}").get_data(as_text=True)
    assert f"@{OUTSIDER}" in page and "Solo se puede mencionar" in page  # demo people read Spanish
    db.session.rollback()
    assert db.session.get(ServiceRequest, working) is not None
