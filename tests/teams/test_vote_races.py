"""Votes posted at the same moment (the instance's lock gives one winner per seat; different
seats are counted one after the other). Through the task page, as people post them."""

import threading

from app.extensions import db
from tests.teams.helpers import (
    BOARD,
    assess,
    board_data,
    deploy_change,
    file_change,
    history,
    vote_task,
)

FIN, PROD, TEC2 = BOARD


def _race(browser, posts):
    """``posts``: (email, task id, form) posted at once, one client each; the responses."""
    clients = [browser(email) for email, _, _ in posts]
    barrier = threading.Barrier(len(posts))
    results = [None] * len(posts)

    def submit(index):
        _, task_id, form = posts[index]
        barrier.wait()
        results[index] = clients[index].post(f"/tasks/{task_id}", form)

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(len(posts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def _vote_form(answer):
    return {"handler": "form", "vote": answer, "vote_comment": ""}


def test_one_approver_posting_twice_at_once_is_counted_once(demo, browser):
    deploy_change("all")
    for _ in range(2):
        req = file_change()
        assess(req)
        task_id = vote_task(req, FIN).id
        results = _race(browser, [(FIN, task_id, _vote_form("approve"))] * 2)
        assert sorted(r.status_code for r in results) == [302, 409]
        db.session.rollback()
        board = board_data(req)
        assert board["approvals"] == 1 and len(board["votes"]) == 1
        votes = history(req, "form")[1:]  # after the assessment
        assert len(votes) == 1


def test_two_approvers_at_once_are_both_counted(demo, browser):
    deploy_change("all")
    req = file_change()
    assess(req)
    posts = [(email, vote_task(req, email).id, _vote_form("approve")) for email in (FIN, PROD)]
    results = _race(browser, posts)
    assert [r.status_code for r in results] == [302, 302]
    db.session.rollback()
    board = board_data(req)
    assert board["approvals"] == 2 and board["outcome"] == ""
    assert len(history(req, "form")) == 3  # the assessment and two votes
