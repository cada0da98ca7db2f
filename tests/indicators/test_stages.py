"""Each request's milestones and stage lead times (app.indicators.stages).

First the fold on its own, over histories shaped as the workflow writes them, with a business
calendar (weekdays 08:00-18:00 in Bogotá) and without one (wall-clock minutes); then real walks
through the workflow, whose stored columns must be what replaying their history gives, and
the ``flask indicators rebuild`` command. Expected minutes are worked out by hand in comments.
"""

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select, update

from app.extensions import db
from app.indicators import stages
from app.models import HistoryEvent, ServiceRequest
from app.services import workflow
from app.sla.calendar import Calendar, weekdays
from tests import factories
from tests.indicators.walks import at, bogota, file_at, reload, walk
from tests.sla import sla_helpers

OFFICE = Calendar("America/Bogota", weekdays("08:00", "18:00"))


def bog(day: int, hour: int, minute: int = 0) -> datetime:
    """December 2026 in Bogotá (UTC-5); the 4th is a Friday, the 7th a Monday."""
    return datetime(2026, 12, day, hour, minute, tzinfo=UTC) + timedelta(hours=5)


FILED = bog(4, 17)  # Friday 17:00


def entry(from_status, to_status, at, ticket=None):
    """A history entry as (from_status, to_status, changes, at)."""
    return (from_status, to_status, {"ticket_status": ticket} if ticket else {}, at)


# The whole life of a request, as the workflow writes it (the request's status moves at each
# person's step; the ticket's change rides along in the step's entry)
LIFE = [
    entry(None, "pending_authorization", FILED),
    entry("pending_authorization", "pending_evaluation", bog(7, 9)),          # authorized
    entry("pending_evaluation", "returned", bog(7, 10)),                      # returned
    entry("returned", "pending_evaluation", bog(7, 11)),                      # resubmitted
    entry("pending_evaluation", "pending_assignment", bog(7, 12)),            # approved
    entry("pending_assignment", "in_service", bog(8, 8), [None, "pending"]),  # assigned
    entry(None, None, bog(8, 8)),                                             # ticket created
    entry("in_service", "in_service", bog(8, 9), ["pending", "in_progress"]),   # started
    entry("in_service", "in_service", bog(8, 10), ["in_progress", "on_hold"]),  # held
    entry("in_service", "in_service", bog(8, 11), ["on_hold", "in_progress"]),  # resumed
    entry("in_service", "completed", bog(9, 9), ["in_progress", "finished"]),   # finished
    entry("completed", "completed", bog(10, 8, 30), ["finished", "closed"]),    # confirmed
]


def test_a_whole_life_in_business_minutes():
    m = stages.replay(FILED, LIFE, OFFICE)
    assert (m.authorized_at, m.approved_at, m.assigned_at, m.started_at, m.finished_at,
            m.confirmed_at) == (bog(7, 9), bog(7, 12), bog(8, 8), bog(8, 9), bog(9, 9),
                                bog(10, 8, 30))
    assert (m.rejected_by, m.returns, m.reopens) == (None, 1, 0)
    # authorization: Fri 17-18 (60) + Mon 08-09 (60)
    assert m.authorization_minutes == 120
    # evaluation: Mon 09:00-12:00, the return for information inside it
    assert m.evaluation_minutes == 180
    # assignment: Mon 12-18 (360), Tue at 08:00
    assert m.assignment_minutes == 360
    assert m.start_minutes == 60                      # Tue 08:00-09:00
    # work: Tue 09-18 (540) + Wed 08-09 (60); the hold does not stop it
    assert m.work_minutes == 600
    # confirmation: Wed 09-18 (540) + Thu 08:00-08:30 (30)
    assert m.confirmation_minutes == 570
    # resolution (filing to finish): Fri 60 + Mon 600 + Tue 600 + Wed 60
    assert m.resolution_minutes == 1320


def test_a_whole_life_in_wall_minutes_without_a_calendar():
    m = stages.replay(FILED, LIFE, None)
    assert m.authorization_minutes == 64 * 60         # Fri 17:00 -> Mon 09:00
    assert m.evaluation_minutes == 180
    assert m.assignment_minutes == 20 * 60            # Mon 12:00 -> Tue 08:00
    assert m.start_minutes == 60
    assert m.work_minutes == 24 * 60                  # Tue 09:00 -> Wed 09:00
    assert m.confirmation_minutes == 23 * 60 + 30     # Wed 09:00 -> Thu 08:30
    assert m.resolution_minutes == 112 * 60           # Fri 17:00 -> Wed 09:00
    assert m.returns == 1


def test_each_return_for_information_counts():
    life = [entry(None, "pending_authorization", FILED),
            entry("pending_authorization", "pending_evaluation", bog(7, 9)),
            entry("pending_evaluation", "returned", bog(7, 10)),
            entry("returned", "pending_evaluation", bog(7, 11)),
            entry("pending_evaluation", "returned", bog(7, 14)),
            entry("returned", "pending_evaluation", bog(8, 9)),
            entry("pending_evaluation", "pending_assignment", bog(8, 10))]
    m = stages.replay(FILED, life, OFFICE)
    assert m.returns == 2
    # evaluation from the authorization (Mon 09:00) to the approval (Tue 10:00): 540 + 120
    assert m.evaluation_minutes == 660
    assert m.approved_at == bog(8, 10)


def test_a_rejection_by_the_head_ends_the_authorization_only():
    life = [entry(None, "pending_authorization", FILED),
            entry("pending_authorization", "rejected", bog(7, 9))]
    m = stages.replay(FILED, life, OFFICE)
    assert (m.rejected_by, m.authorized_at, m.authorization_minutes) == (
        "unit_head", bog(7, 9), 120)
    assert m.approved_at is None and m.evaluation_minutes is None


def test_a_rejection_by_the_director_ends_the_evaluation():
    life = [entry(None, "pending_authorization", FILED),
            entry("pending_authorization", "pending_evaluation", bog(7, 9)),
            entry("pending_evaluation", "rejected", bog(7, 11, 30))]
    m = stages.replay(FILED, life, OFFICE)
    assert (m.rejected_by, m.authorization_minutes, m.evaluation_minutes) == (
        "service_director", 120, 150)
    assert m.approved_at is None


def test_without_an_authorization_the_evaluation_runs_from_the_filing():
    """A head's own request goes straight to the director."""
    life = [entry(None, "pending_evaluation", FILED),
            entry("pending_evaluation", "pending_assignment", bog(7, 9))]
    m = stages.replay(FILED, life, OFFICE)
    assert m.authorized_at is None and m.authorization_minutes is None
    assert (m.approved_at, m.evaluation_minutes) == (bog(7, 9), 120)


def test_an_approval_over_budget_ends_the_evaluation_at_the_second_approval():
    """The director approves over budget (the request stays pending evaluation), a tenant
    admin approves it the next morning."""
    life = [entry(None, "pending_authorization", FILED),
            entry("pending_authorization", "pending_evaluation", bog(7, 9)),
            entry("pending_evaluation", "pending_evaluation", bog(7, 10)),
            entry("pending_evaluation", "pending_assignment", bog(8, 9))]
    m = stages.replay(FILED, life, OFFICE)
    # Mon 09-18 (540) + Tue 08-09 (60)
    assert (m.approved_at, m.evaluation_minutes) == (bog(8, 9), 600)


def test_a_reopened_ticket_counts_and_finishes_again():
    life = [*LIFE[:10],
            entry("in_service", "completed", bog(9, 9), ["in_progress", "finished"]),
            # the ticket goes back to work (a diagram's status step), then finishes again
            entry("completed", "in_service", bog(9, 11), ["finished", "in_progress"]),
            entry("in_service", "completed", bog(9, 15), ["in_progress", "finished"]),
            entry("completed", "completed", bog(10, 8, 30), ["finished", "closed"])]
    m = stages.replay(FILED, life, OFFICE)
    assert m.reopens == 1
    assert m.finished_at == bog(9, 15)
    # work from the first start (Tue 09:00) to the last finish (Wed 15:00): 540 + 420
    assert m.work_minutes == 960
    # confirmation from the last finish: Wed 15-18 (180) + Thu 30
    assert (m.confirmed_at, m.confirmation_minutes) == (bog(10, 8, 30), 210)
    assert m.resolution_minutes == 60 + 600 + 600 + 420


def test_a_cancelled_request_has_no_milestones():
    life = [entry(None, "pending_authorization", FILED),
            entry("pending_authorization", "cancelled", bog(7, 9))]
    m = stages.replay(FILED, life, OFFICE)
    assert m == stages.Milestones(created_at=FILED)


# --- real walks ------------------------------------------------------------------------------

def nov(day: int, hour: int, minute: int = 0) -> datetime:
    """November 2026 in Bogotá: the 6th is a Friday, the 9th a Monday."""
    return bogota(11, day, hour, minute)


def columns(req: ServiceRequest) -> dict:
    return {name: getattr(req, name) for name in stages.COLUMNS}


def rebuilt_changes_nothing(req: ServiceRequest) -> None:
    before = columns(reload(req))
    assert stages.rebuild([req.id]) == 0
    db.session.commit()
    assert columns(reload(req)) == before


def the_whole_life(requester: str = "ana@acme.test") -> ServiceRequest:
    req = file_at(nov(6, 17), requester)                 # Friday 17:00
    return walk(req,
                (nov(9, 9), "authorize"), (nov(9, 10), "return"), (nov(9, 11), "resubmit"),
                (nov(9, 12), "approve"), (nov(10, 8), "assign"), (nov(10, 9), "start"),
                (nov(10, 10), "hold"), (nov(10, 11), "resume"), (nov(11, 9), "finish"),
                (nov(12, 8, 30), "confirm"))


def test_a_walk_with_a_default_business_calendar_folds_business_minutes(demo):
    sla_helpers.calendar("acme")          # weekdays 08:00-18:00 in Bogotá, the default
    db.session.commit()
    req = the_whole_life()
    assert (req.status, req.returns, req.reopens, req.rejected_by) == ("completed", 1, 0, None)
    assert (req.authorized_at, req.approved_at, req.assigned_at, req.started_at,
            req.finished_at, req.confirmed_at) == (nov(9, 9), nov(9, 12), nov(10, 8),
                                                   nov(10, 9), nov(11, 9), nov(12, 8, 30))
    # as in the pure walk above, a month earlier on the same weekdays
    assert (req.authorization_minutes, req.evaluation_minutes, req.assignment_minutes,
            req.start_minutes, req.work_minutes, req.confirmation_minutes,
            req.resolution_minutes) == (120, 180, 360, 60, 600, 570, 1320)
    rebuilt_changes_nothing(req)


def test_a_walk_without_a_calendar_folds_wall_minutes(demo):
    req = the_whole_life()
    assert (req.authorization_minutes, req.evaluation_minutes, req.assignment_minutes,
            req.start_minutes, req.work_minutes, req.confirmation_minutes,
            req.resolution_minutes) == (3840, 180, 1200, 60, 1440, 1410, 6720)
    rebuilt_changes_nothing(req)


def test_a_cancelled_request(demo):
    req = file_at(nov(6, 17))
    req = walk(req, (nov(9, 9), "authorize"), (nov(9, 10), "cancel"))
    assert req.status == "cancelled" and req.closed_at == nov(9, 10)
    assert (req.authorized_at, req.authorization_minutes) == (nov(9, 9), 3840)
    assert req.approved_at is None and req.evaluation_minutes is None
    rebuilt_changes_nothing(req)


def test_a_request_rejected_by_the_head(demo):
    sla_helpers.calendar("acme")
    db.session.commit()
    req = walk(file_at(nov(6, 17)), (nov(9, 9), "reject_head"))
    assert (req.status, req.rejected_by, req.closed_at) == ("rejected", "unit_head", nov(9, 9))
    assert (req.authorized_at, req.authorization_minutes, req.evaluation_minutes) == (
        nov(9, 9), 120, None)
    rebuilt_changes_nothing(req)


def test_a_request_rejected_by_the_director(demo):
    sla_helpers.calendar("acme")
    db.session.commit()
    req = walk(file_at(nov(6, 17)), (nov(9, 9), "authorize"), (nov(9, 11, 30), "reject"))
    assert (req.status, req.rejected_by, req.closed_at) == (
        "rejected", "service_director", nov(9, 11, 30))
    assert (req.authorization_minutes, req.evaluation_minutes) == (120, 150)
    rebuilt_changes_nothing(req)


def test_returned_resubmitted_then_approved_counts_one_return(demo):
    req = walk(file_at(nov(6, 17)), (nov(9, 9), "authorize"), (nov(9, 10), "return"),
               (nov(9, 15), "resubmit"), (nov(10, 9), "approve"))
    assert (req.status, req.returns, req.approved_at) == ("pending_assignment", 1, nov(10, 9))
    assert req.evaluation_minutes == 24 * 60          # Mon 09:00 -> Tue 09:00, wall clock
    rebuilt_changes_nothing(req)


def test_the_request_closes_when_the_requester_confirms(demo):
    """A finished request is completed but not closed until the confirmation (why the
    'completed' volume reads the finish, not closed_at)."""
    req = walk(file_at(nov(6, 17)), (nov(9, 9), "authorize"), (nov(9, 12), "approve"),
               (nov(10, 8), "assign"), (nov(10, 9), "start"), (nov(11, 9), "finish"))
    assert (req.status, req.closed_at, req.finished_at) == ("completed", None, nov(11, 9))
    req = walk(req, (nov(12, 8, 30), "confirm"))
    assert (req.closed_at, req.confirmed_at) == (nov(12, 8, 30), nov(12, 8, 30))


def test_a_walk_in_real_time_is_what_its_history_replays_to(demo):
    req, _task = factories.request_at("Task_Confirm")    # every step in real time
    db.session.rollback()
    workflow.complete(factories.user("ana@acme.test"),
                      factories.open_task(reload(req), "Task_Confirm"), "confirm",
                      {"rating": "4"})
    db.session.commit()
    req = reload(req)
    history = db.session.execute(
        select(HistoryEvent.action, HistoryEvent.created_at)
        .where(HistoryEvent.request_id == req.id).order_by(HistoryEvent.id)).all()
    when = dict(history)
    assert (req.authorized_at, req.approved_at, req.finished_at, req.confirmed_at) == (
        when["authorize"], when["evaluate"], when["finish"], when["confirm"])
    rebuilt_changes_nothing(req)


# --- flask indicators rebuild ----------------------------------------------------------------

EMPTY = {name: None for name in stages.COLUMNS} | {"returns": 0, "reopens": 0}


def test_the_rebuild_command_fills_columns_emptied_by_hand(app, demo):
    sla_helpers.calendar("acme")
    db.session.commit()
    acme = the_whole_life()
    walked = columns(acme)
    globex = walk(file_at(nov(6, 17), "pedro@globex.test"), (nov(9, 9), "authorize"),
                  (nov(9, 10), "return"))
    globex_walked = columns(globex)
    assert globex_walked["returns"] == 1 and globex_walked["authorization_minutes"] == 3840
    # the demo's own requests were walked in real time: settle them first, so that what the
    # command changes below is only what was emptied here
    every = list(db.session.scalars(select(ServiceRequest.id)))
    stages.rebuild(every)
    db.session.commit()
    db.session.execute(update(ServiceRequest)
                       .where(ServiceRequest.id.in_([acme.id, globex.id])).values(**EMPTY))
    db.session.commit()
    assert columns(reload(acme)) == EMPTY

    result = app.test_cli_runner().invoke(args=["indicators", "rebuild", "--tenant", "acme",
                                                "--batch", "2"])
    assert result.exit_code == 0, result.output
    acme_count = db.session.scalar(select(db.func.count(ServiceRequest.id)).where(
        ServiceRequest.tenant_id == acme.tenant_id))
    assert f"acme: {acme_count} request(s) replayed, 1 changed" in result.output
    assert columns(reload(acme)) == walked
    assert columns(reload(globex)) == EMPTY            # another company: not touched

    result = app.test_cli_runner().invoke(args=["indicators", "rebuild"])
    assert result.exit_code == 0, result.output
    assert "globex: 2 request(s) replayed, 1 changed" in result.output
    assert "acme: " in result.output and f"{acme_count} request(s) replayed, 0 changed" in \
        result.output
    assert columns(reload(globex)) == globex_walked


def test_the_rebuild_command_refuses_an_unknown_company(app, demo):
    result = app.test_cli_runner().invoke(args=["indicators", "rebuild", "--tenant", "nadie"])
    assert result.exit_code != 0
    assert "nadie" in result.output


def test_a_heads_own_request_skips_the_authorization(demo):
    req = file_at(nov(6, 17), "jefe.finanzas@acme.test")
    assert req.status == "pending_evaluation"
    req = walk(req, (nov(9, 9), "approve"))
    assert (req.authorized_at, req.authorization_minutes) == (None, None)
    # evaluation from the filing: Fri 17:00 -> Mon 09:00, wall clock
    assert (req.approved_at, req.evaluation_minutes) == (nov(9, 9), 64 * 60)
    rebuilt_changes_nothing(req)


def over_budget_request():
    """Acme's November budget of 50 and its second approval on: the director's approval of a
    100 estimate waits on a tenant admin."""
    from app.models import Tenant
    from tests.viability.budget_helpers import add_budget

    add_budget(starts_on=date(2026, 11, 1), amount="50")
    acme = db.session.query(Tenant).filter_by(slug="acme").one()
    acme.settings = {**(acme.settings or {}), "over_budget_approval": True}
    db.session.commit()
    req = walk(file_at(nov(6, 17)), (nov(9, 9), "authorize"), (nov(9, 12), "approve"))
    assert (req.status, req.approved_at) == ("pending_evaluation", None)
    return req


def admin_decides(req, moment, decision):
    with at(moment):
        db.session.rollback()
        form = {"budget_decision": decision}
        if decision == "reject":
            form["comment"] = "Sin presupuesto"
        workflow.complete(factories.user("admin@acme.test"),
                          factories.open_task(reload(req), "Task_ApproveOverBudget"),
                          "approve_over_budget", form)
        db.session.commit()
    return reload(req)


def test_an_approval_over_budget_ends_the_evaluation_at_the_admins_approval(demo):
    req = admin_decides(over_budget_request(), nov(10, 9), "approve")
    assert (req.status, req.approved_at) == ("pending_assignment", nov(10, 9))
    # Mon 09:00 (authorized) -> Tue 09:00 (the admin's approval), wall clock
    assert req.evaluation_minutes == 24 * 60
    rebuilt_changes_nothing(req)


def test_a_rejection_over_budget_ends_the_evaluation(demo):
    req = admin_decides(over_budget_request(), nov(10, 9), "reject")
    assert (req.status, req.closed_at, req.approved_at) == ("rejected", nov(10, 9), None)
    assert req.evaluation_minutes == 24 * 60
    rebuilt_changes_nothing(req)


def test_an_automatic_close_ends_the_confirmation_unrated(demo):
    from app.services.background import run_due_timers

    req = walk(file_at(nov(6, 17)), (nov(9, 9), "authorize"), (nov(9, 12), "approve"),
               (nov(10, 8), "assign"), (nov(10, 9), "start"), (nov(11, 9), "finish"))
    with at(nov(18, 10)):                    # a week and an hour later (auto_close_after P7D)
        db.session.rollback()
        assert run_due_timers() == 1
    req = reload(req)
    assert (req.status, req.ticket.status, req.rating) == ("completed", "closed", None)
    assert (req.closed_at, req.confirmed_at) == (nov(18, 10), nov(18, 10))
    assert req.confirmation_minutes == 7 * 24 * 60 + 60
    rebuilt_changes_nothing(req)


def test_the_rebuild_command_measures_past_requests_by_a_new_default_calendar(app, demo):
    req = the_whole_life()
    assert req.authorization_minutes == 3840           # wall clock: no calendar yet
    sla_helpers.calendar("acme")                       # weekdays 08:00-18:00 from now on
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["indicators", "rebuild", "--tenant", "acme"])
    assert result.exit_code == 0, result.output
    req = reload(req)
    assert (req.authorization_minutes, req.evaluation_minutes, req.assignment_minutes,
            req.start_minutes, req.work_minutes, req.confirmation_minutes,
            req.resolution_minutes) == (120, 180, 360, 60, 600, 570, 1320)
