"""Followers: whoever may see a request may follow it and then hears of its steps and
comments once each; internal notes only if they may read them; nothing once they lost sight
of it; a request one may not see cannot be followed (404)."""

from sqlalchemy import select

from app.conversation.models import Follower
from app.extensions import db
from app.models import ServiceRequest
from app.services import workflow
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
    notices,
    notices_of,
)
from tests.factories import open_task, request_at, user


def follow(api, email, request_id, method="put"):
    return getattr(api(email), method)(f"/api/v1/requests/{request_id}/followers/me")


def new_notices(request_id, before, email):
    person = user(email)
    return [n for n in notices(request_id) if n.id not in before and n.user_id == person.id]


def test_follow_and_unfollow_through_the_api(api, working):
    assert follow(api, ADMIN, working).json == {"request_id": working, "following": True}
    assert follow(api, ADMIN, working, "post").status_code == 200  # idempotent
    assert [p["email"] for p in api(HEAD).get(f"/api/v1/requests/{working}/followers").json] \
        == [ADMIN]
    mine = api(ADMIN).get("/api/v1/me/following").json
    assert [r["id"] for r in mine["items"]] == [working]
    assert follow(api, ADMIN, working, "delete").json["following"] is False
    assert api(ADMIN).get("/api/v1/me/following").json["total"] == 0


def test_a_request_one_may_not_see_cannot_be_followed(api, browser, working):
    for email in (OUTSIDER, OTHER_WORKER, OTHER_TENANT):
        assert follow(api, email, working).status_code == 404, email
        assert api(email).get(f"/api/v1/requests/{working}/followers").status_code == 404
        assert browser(email).post(f"/requests/{working}/follow").status_code == 404
    db.session.rollback()
    assert db.session.scalar(select(Follower)) is None


def test_a_follower_hears_of_each_step_and_comment_once(api, demo):
    req, _task = request_at("Task_Start")
    follow(api, ADMIN, req.id)
    before = {n.id for n in notices(req.id)}
    workflow.complete(user(WORKER), open_task(req, "Task_Start"), "start", {})
    db.session.commit()
    assert [n.event for n in new_notices(req.id, before, ADMIN)] == ["request.followed"]
    before = {n.id for n in notices(req.id)}
    api(WORKER).post(f"/api/v1/requests/{req.id}/comments", {"comment": "Voy en camino"})
    heard = new_notices(req.id, before, ADMIN)
    assert [n.event for n in heard] == ["request.followed"]
    assert heard[0].params["comment"] == "Voy en camino"


def test_someone_already_told_is_told_once(api, working):
    """The worker and the requester follow: a comment tells each once, with their own
    notice (a follower's ranks below every other)."""
    follow(api, WORKER, working)
    follow(api, REQUESTER, working)
    before = {n.id for n in notices(working)}
    api(DIRECTOR).post(f"/api/v1/requests/{working}/comments", {"comment": "Hola"})
    assert [n.event for n in new_notices(working, before, WORKER)] == ["ticket.comment"]
    assert [n.event for n in new_notices(working, before, REQUESTER)] == ["request.comment"]
    # nobody hears of their own comment, followed or not
    before = {n.id for n in notices(working)}
    api(WORKER).post(f"/api/v1/requests/{working}/comments", {"comment": "Listo"})
    assert new_notices(working, before, WORKER) == []


def test_internal_notes_reach_only_followers_who_may_read_them(api, working):
    follow(api, REQUESTER, working)
    follow(api, ADMIN, working)
    before = {n.id for n in notices(working)}
    api(DIRECTOR).post(f"/api/v1/requests/{working}/comments",
                       {"comment": SECRET, "internal": True})
    assert new_notices(working, before, REQUESTER) == []
    assert [n.event for n in new_notices(working, before, ADMIN)] == ["request.followed"]
    for n in notices(working):
        if n.user_id == user(REQUESTER).id:
            assert SECRET not in str(n.params)


def test_a_follower_who_lost_sight_of_the_request_hears_nothing(api, working):
    follow(api, HEAD, working)
    db.session.rollback()
    head = user(HEAD)
    for membership in list(head.memberships):
        if membership.role == "unit_head":
            db.session.delete(membership)
    db.session.commit()
    before = {n.id for n in notices(working)}
    api(DIRECTOR).post(f"/api/v1/requests/{working}/comments", {"comment": "Público"})
    assert new_notices(working, before, HEAD) == []
    assert notices_of(HEAD, working).count("request.followed") == 0
    db.session.rollback()
    assert db.session.get(ServiceRequest, working) is not None


def test_the_follow_button_on_the_request_page(browser, working):
    head = browser(HEAD)
    page = head.get(f"/requests/{working}").get_data(as_text=True)
    assert f'action="/requests/{working}/follow"' in page
    assert head.post(f"/requests/{working}/follow").status_code == 303
    page = head.get(f"/requests/{working}").get_data(as_text=True)
    assert f'action="/requests/{working}/unfollow"' in page
    link = f'href="/requests/{working}"'
    assert link in head.get("/following").get_data(as_text=True)
    assert head.post(f"/requests/{working}/unfollow").status_code == 303
    assert link not in head.get("/following").get_data(as_text=True)
