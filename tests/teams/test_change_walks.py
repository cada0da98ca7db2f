"""Every path of processes/change_request.bpmn through the real services, the instance saved
and restored between every step: the board with all / any / majority, ties, a withdrawn
approver, a second vote on one seat, the implementation window's timer (time set by the test),
the review that fails and the rollback."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from app.extensions import db
from app.models import Notification, ProcessInstance
from app.services import workflow
from app.services.background import run_due_timers
from app.teams import service as teams
from app.tenancy import clock
from tests.factories import user
from tests.teams.helpers import (
    BOARD,
    actions,
    assess,
    board_data,
    deploy_change,
    file_change,
    history,
    open_tasks,
    step,
    vote,
    vote_task,
    waiting,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
FIN, PROD, TEC2 = BOARD


def _at_vote(rule="majority", members=BOARD):
    deploy_change(rule, members)
    req = file_change()
    assert waiting(req) == ["Task_Assess"]
    assess(req)
    return req


def _decision(req) -> str:
    (decided,) = history(req, "board_decided")
    return decided.changes["outcome"]


def test_the_vote_opens_one_seat_per_member_each_assigned_to_its_member(demo):
    req = _at_vote()
    seats = open_tasks(req, "Task_BoardVote")
    assert sorted(t.assigned_user_id for t in seats) == sorted(user(e).id for e in BOARD)
    assert {t.role for t in seats} == {"team"}
    team = teams.get(req.tenant_id, "change_board")
    assert {t.team_id for t in seats} == {team.id}
    assert "vote_opened" in actions(req)
    # Opened by the process after the assessment, not by whoever assessed: the System
    assert [h.actor_id for h in history(req, "vote_opened")] == [None]
    assert board_data(req)["members"] == sorted(user(e).id for e in BOARD)


@pytest.mark.parametrize("rule, answers, outcome, asked", [
    # all: every member approves; one rejection is enough to reject
    ("all", [(FIN, "approve"), (PROD, "approve"), (TEC2, "approve")], "approved", 3),
    ("all", [(FIN, "approve"), (PROD, "reject")], "rejected", 2),
    # any: the first approval decides; rejected only when everybody rejected
    ("any", [(FIN, "reject"), (PROD, "approve")], "approved", 2),
    ("any", [(FIN, "reject"), (PROD, "reject"), (TEC2, "reject")], "rejected", 3),
    # majority of three: two approvals, or two rejections
    ("majority", [(FIN, "approve"), (PROD, "approve")], "approved", 2),
    ("majority", [(FIN, "reject"), (PROD, "approve"), (TEC2, "reject")], "rejected", 3),
])
def test_each_rule_decides_as_early_as_it_can(demo, rule, answers, outcome, asked):
    req = _at_vote(rule)
    for email, answer in answers:
        vote(req, email, answer)
    assert _decision(req) == outcome
    # the seats still open when it was decided are closed with it
    assert open_tasks(req, "Task_BoardVote") == []
    assert len(history(req, "form")) == 1 + asked  # the assessment and each vote counted
    if outcome == "approved":
        assert waiting(req) == ["Task_Schedule"]
    else:
        db.session.refresh(req)
        assert req.status == "rejected" and req.closed_at is not None
        assert waiting(req) == [] and req.instance.status == "completed"
        assert history(req, "form")[-1].to_status == "rejected"
        # the requester is told (a notice of the 'request.rejected' wording)
        told = db.session.scalars(select(Notification).where(
            Notification.request_id == req.id, Notification.event == "process.message")).all()
        assert [n.user_id for n in told] == [req.requester_id]


def test_a_majority_tie_rejects(demo):
    members = BOARD + ["tecnico1@acme.test"]
    req = _at_vote("majority", members)
    vote(req, FIN, "approve")
    vote(req, PROD, "reject")
    vote(req, TEC2, "approve")
    assert history(req, "board_decided") == []  # 2 of 4 for: not yet a majority
    vote(req, "tecnico1@acme.test", "reject")
    (decided,) = history(req, "board_decided")
    assert decided.changes == {"outcome": "rejected", "rule": "majority", "approvals": 2,
                               "rejections": 2, "withdrawn": 0, "pending": 0}


def test_a_seat_answers_once(demo):
    req = _at_vote("all")
    task = vote_task(req, FIN)
    vote(req, FIN, "approve")
    db.session.refresh(task)
    with pytest.raises(workflow.TaskConflict):
        workflow.complete(user(FIN), task, "form", {"vote": "approve"})
    db.session.rollback()
    assert board_data(req)["approvals"] == 1


def test_nobody_votes_on_another_members_seat(demo):
    req = _at_vote()
    with pytest.raises(workflow.NotAllowed):
        workflow.complete(user(PROD), vote_task(req, FIN), "form", {"vote": "reject"})
    db.session.rollback()
    assert board_data(req)["votes"] == {}


def test_a_removed_member_is_skipped_and_the_rule_applies_to_the_others(demo):
    req = _at_vote("all")
    vote(req, FIN, "approve")
    team = teams.get(req.tenant_id, "change_board")
    assert teams.remove_member(team, user(TEC2).id, user("admin@acme.test")) == 1
    db.session.commit()
    (withdrawn,) = history(req, "vote_withdrawn")
    assert withdrawn.changes["member"] == user(TEC2).id
    assert [t.assigned_user_id for t in open_tasks(req, "Task_BoardVote")] == [user(PROD).id]
    vote(req, PROD, "approve")  # all of the two remaining approved
    (decided,) = history(req, "board_decided")
    assert decided.changes["outcome"] == "approved" and decided.changes["withdrawn"] == 1
    assert waiting(req) == ["Task_Schedule"]


def test_a_deactivated_member_is_skipped_and_that_can_decide_the_vote(demo):
    from app.admin import people

    req = _at_vote("all")
    vote(req, FIN, "approve")
    vote(req, PROD, "approve")
    people.deactivate(user("admin@acme.test"), user(TEC2))
    db.session.commit()
    assert [h.changes["member"] for h in history(req, "vote_withdrawn")] == [user(TEC2).id]
    assert _decision(req) == "approved"
    assert waiting(req) == ["Task_Schedule"]


def test_a_withdrawal_not_hooked_is_caught_at_the_next_vote(demo):
    """A member taken out without the hook (e.g. a row deleted by hand) is skipped when the
    next vote is counted."""
    from app.teams.models import TeamMember

    req = _at_vote("majority")
    db.session.query(TeamMember).filter_by(user_id=user(TEC2).id).delete()
    db.session.commit()
    vote(req, FIN, "approve")  # 1 of the 2 remaining: not yet more than half
    assert [h.changes["member"] for h in history(req, "vote_withdrawn")] == [user(TEC2).id]
    assert history(req, "board_decided") == []
    assert [t.assigned_user_id for t in open_tasks(req, "Task_BoardVote")] == [user(PROD).id]
    vote(req, PROD, "approve")
    assert _decision(req) == "approved"


def test_everyone_withdrawn_rejects(demo):
    req = _at_vote("any", [FIN])
    team = teams.get(req.tenant_id, "change_board")
    teams.remove_member(team, user(FIN).id, user("admin@acme.test"))
    db.session.commit()
    assert _decision(req) == "rejected"
    db.session.refresh(req)
    assert req.status == "rejected"


def test_an_empty_board_leaves_one_seat_to_the_directors(demo):
    req = _at_vote("majority", [])
    (seat,) = open_tasks(req, "Task_BoardVote")
    assert seat.assigned_user_id is None
    from app import policy

    assert policy.is_task_candidate(user("director@acme.test"), seat)
    assert not policy.is_task_candidate(user(FIN), seat)
    workflow.complete(user("director@acme.test"), seat, "form", {"vote": "approve"})
    db.session.commit()
    assert _decision(req) == "approved"


def _approved(req):
    for email in (FIN, PROD):
        vote(req, email, "approve")
    assert waiting(req) == ["Task_Schedule"]


def _schedule(req, start: datetime):
    """The director schedules the window to open at ``start``, typed in the company's zone."""
    local = start.astimezone(clock.zone(clock.tenant_of(req)))
    (task,) = open_tasks(req, "Task_Schedule")
    workflow.complete(user("director@acme.test"), task, "schedule_window", {
        "window_start": local.date().isoformat(), "window_start_hour": f"{local.hour:02d}",
        "window_end": (local + timedelta(days=1)).date().isoformat()})
    db.session.commit()


def test_implementation_waits_for_its_window_then_review_passes_and_closes(demo):
    with time_machine.travel(T0, tick=False) as clock:
        req = _at_vote()
        _approved(req)
        window = T0 + timedelta(days=3, hours=13)  # 2026-03-05 22:00 UTC
        _schedule(req, window)
        assert waiting(req) == []
        row = db.session.query(ProcessInstance).filter_by(request_id=req.id).one()
        assert row.next_timer_at == window
        clock.move_to(window - timedelta(minutes=1))
        assert run_due_timers() == 0
        clock.move_to(window + timedelta(minutes=1))
        assert run_due_timers() == 1
        db.session.rollback()
        assert waiting(req) == ["Task_Implement"]
        step(req, "Task_Implement", "tecnico1@acme.test", {"implementation_notes": "Hecho"})
        assert waiting(req) == ["Task_Review"]
        step(req, "Task_Review", "director@acme.test", {"review_result": "passed"})
        db.session.refresh(req)
        assert req.status == "completed" and req.instance.status == "completed"


def test_a_failed_review_rolls_back_then_closes(demo):
    with time_machine.travel(T0, tick=False) as clock:
        req = _at_vote()
        _approved(req)
        _schedule(req, T0 + timedelta(hours=2))
        clock.move_to(T0 + timedelta(hours=3))
        assert run_due_timers() == 1
        db.session.rollback()
        step(req, "Task_Implement", "tecnico1@acme.test", {"implementation_notes": "Hecho"})
        step(req, "Task_Review", "director@acme.test",
             {"review_result": "failed", "review_notes": "Falla el envío"})
        assert waiting(req) == ["Task_Rollback"]
        step(req, "Task_Rollback", "tecnico2@acme.test", {"rollback_notes": "Restaurado"})
        db.session.refresh(req)
        assert req.status == "completed" and req.instance.status == "completed"


def test_a_window_already_open_lets_the_work_start_at_once(demo):
    with time_machine.travel(T0, tick=False):
        req = _at_vote()
        _approved(req)
        _schedule(req, T0 - timedelta(hours=4))  # today at 00:00 in Bogotá: past already
        assert waiting(req) == ["Task_Implement"]  # the timer fired as it started waiting


def test_the_request_page_says_it_waits_for_the_window_not_that_nothing_is_pending(
        demo, browser):
    with time_machine.travel(T0, tick=False):
        req = _at_vote()
        _approved(req)
        _schedule(req, T0 + timedelta(days=3, hours=13))  # 5 March, 17:00 in Bogotá
        page = browser("director@acme.test").get(f"/requests/{req.id}").get_data(as_text=True)
    assert "En espera hasta" in page and "5 mar 2026" in page
    assert "No hay nada pendiente" not in page


def test_the_history_names_the_board_and_the_window_step_in_words(demo, browser):
    with time_machine.travel(T0, tick=False):
        req = _at_vote()
        _approved(req)
        _schedule(req, T0 + timedelta(days=3, hours=13))
        page = browser("director@acme.test").get(f"/requests/{req.id}").get_data(as_text=True)
    timeline = page[page.index('class="timeline"'):]
    assert "Comité de cambios" in timeline and "change_board" not in timeline
    assert ">schedule_window" not in timeline
    assert "Programó la ventana de implementación" in timeline
