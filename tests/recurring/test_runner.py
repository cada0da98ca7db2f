"""The runner: each occurrence filed once through the filing service (workflow, history,
mark), catch-up after a downtime (all, or skip to the latest), pause and end, failures
recorded and told, never retried; time set by the tests."""

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import Category, HistoryEvent, Notification, ProcessInstance, User
from app.recurring import runner, schedules
from app.tenancy.plans import PLANS
from tests.recurring.helpers import (
    ADMIN,
    REQUESTER,
    filed,
    make,
    occurrences,
    schedule,
    tenant,
    user,
)

NINE = datetime(2026, 12, 7, 14, 0, tzinfo=UTC)  # 09:00 in Bogota


def test_nothing_is_filed_before_its_time(demo):
    row = make()
    assert schedule(row.id).next_at == NINE
    assert runner.run_due(NINE - timedelta(seconds=1)) == 0
    assert filed(row.id) == []


def test_an_occurrence_is_filed_once_through_the_filing_service(demo):
    row = make()
    assert runner.run_due(NINE + timedelta(seconds=5)) == 1
    assert runner.run_due(NINE + timedelta(seconds=10)) == 0  # the next pass: nothing new
    [req] = filed(row.id)
    assert req.requester_id == user(REQUESTER).id
    assert (req.title, req.status) == ("Limpieza de la bodega", "pending_authorization")
    assert db.session.scalar(select(ProcessInstance).where(
        ProcessInstance.request_id == req.id)) is not None  # its workflow started
    assert db.session.scalar(select(HistoryEvent.action).where(
        HistoryEvent.request_id == req.id)) == "filed"
    [occ] = occurrences(row.id)
    assert (occ.status, occ.request_id, occ.occurrence_at) == ("filed", req.id, NINE)
    again = schedule(row.id)
    assert again.next_at == NINE + timedelta(days=1) and again.last_at == NINE


def test_a_second_runner_after_the_first_files_nothing_and_the_unique_row_guards(demo):
    row = make()
    runner.run_schedule(row.id, row.tenant_id, NINE)
    # A runner that read the schedule before the first one moved it on: its claim re-reads
    assert runner.run_schedule(row.id, row.tenant_id, NINE) == 0
    # Were a claim ever to let a second runner through, the occurrence's row stops it
    db.session.rollback()
    again = schedule(row.id)
    again.next_at, again.next_local = NINE, datetime(2026, 12, 7, 9)
    db.session.commit()
    assert runner.run_schedule(row.id, row.tenant_id, NINE) == 0
    assert len(filed(row.id)) == 1 and len(occurrences(row.id)) == 1
    assert schedule(row.id).next_at == NINE  # that transaction rolled back whole


def test_catch_up_files_every_missed_occurrence(demo):
    row = make()
    later = NINE + timedelta(days=3, hours=1)  # down for three days
    assert runner.run_due(later) == 4
    assert [o.occurrence_at for o in occurrences(row.id)] == [
        NINE + timedelta(days=n) for n in range(4)]
    assert schedule(row.id).next_at == NINE + timedelta(days=4)


def test_catch_up_goes_on_in_later_passes_past_the_per_pass_bound(demo, monkeypatch):
    monkeypatch.setattr(runner, "PER_PASS", 3)
    row = make()
    later = NINE + timedelta(days=6, hours=1)
    assert runner.run_due(later) == 3
    assert runner.run_due(later) == 3
    assert runner.run_due(later) == 1
    assert runner.run_due(later) == 0
    assert len(filed(row.id)) == 7


def test_skipping_files_only_the_latest_and_counts_the_rest(demo):
    row = make(catch_up="latest")
    later = NINE + timedelta(days=3, hours=1)
    assert runner.run_due(later) == 1
    [occ] = occurrences(row.id)
    assert (occ.occurrence_at, occ.skipped) == (NINE + timedelta(days=3), 3)
    assert schedule(row.id).next_at == NINE + timedelta(days=4)


def test_a_paused_schedule_files_nothing_and_resumes_from_now(demo):
    row = make()
    schedules.pause(user(ADMIN), schedule(row.id))
    db.session.commit()
    assert runner.run_due(NINE + timedelta(days=2)) == 0
    schedules.resume(user(ADMIN), schedule(row.id), now=NINE + timedelta(days=2, hours=1))
    db.session.commit()
    assert schedule(row.id).next_at == NINE + timedelta(days=3)  # the pause's are not filed
    assert runner.run_due(NINE + timedelta(days=3)) == 1


def test_the_end_date_ends_it(demo):
    row = make(ends_on=date(2026, 12, 8))
    assert runner.run_due(NINE + timedelta(days=5)) == 2
    assert schedule(row.id).next_at is None
    assert schedules.state(schedule(row.id)) == "ended"


def test_a_deleted_schedule_files_nothing_and_its_requests_stay_marked(demo):
    row = make()
    runner.run_due(NINE)
    schedules.delete(user(ADMIN), schedule(row.id))
    db.session.commit()
    assert runner.run_due(NINE + timedelta(days=3)) == 0
    assert len(filed(row.id)) == 1


def test_dst_keeps_nine_local_in_madrid(demo):
    start = datetime(2027, 3, 26, 12, 0, tzinfo=UTC)
    row = make("FREQ=DAILY;BYHOUR=9", now=start, starts_on=date(2027, 3, 26), zone="Europe/Madrid")
    assert runner.run_due(datetime(2027, 3, 30, 12, 0, tzinfo=UTC)) == 4  # 27, 28, 29, 30
    times = [o.occurrence_at for o in occurrences(row.id)]
    assert [t.strftime("%d %H:%M") for t in times] == [
        "27 08:00", "28 07:00", "29 07:00", "30 07:00"]  # 09:00 CET, then 09:00 CEST


def test_dst_fall_back_in_new_york(demo):
    start = datetime(2027, 11, 5, 14, 0, tzinfo=UTC)  # 10:00 EDT: today's 09:00 is past
    row = make("FREQ=DAILY;BYHOUR=9", now=start, starts_on=date(2027, 11, 5),
               zone="America/New_York")
    assert runner.run_due(datetime(2027, 11, 8, 15, 0, tzinfo=UTC)) == 3  # 6, 7, 8
    assert [o.occurrence_at.strftime("%d %H:%M") for o in occurrences(row.id)] == [
        "06 13:00", "07 14:00", "08 14:00"]


def _notices(email):
    db.session.rollback()
    return list(db.session.scalars(select(Notification).where(
        Notification.user_id == user(email).id, Notification.event == "recurring.failed")))


def test_a_failed_occurrence_is_recorded_told_and_not_retried(demo):
    row = make()
    ana = user(REQUESTER)
    ana.active = False
    db.session.commit()
    assert runner.run_due(NINE) == 0
    [occ] = occurrences(row.id)
    # recorded in the company's language (the demo's: Spanish)
    assert occ.status == "failed" and "solicitante" in occ.error
    again = schedule(row.id)
    assert again.last_error == occ.error and again.failures == 1
    assert again.next_at == NINE + timedelta(days=1)  # moved on: never retried
    assert runner.run_due(NINE + timedelta(hours=1)) == 0
    assert len(occurrences(row.id)) == 1
    [notice] = _notices(ADMIN)
    assert notice.params["schedule_title"] == "Limpieza de la bodega"


def test_three_failures_in_a_row_pause_it_and_a_filing_clears_the_error(demo):
    row = make()
    category = db.session.get(Category, schedule(row.id).category_id)
    category.active = False
    db.session.commit()
    assert runner.run_due(NINE + timedelta(days=2, hours=1)) == 0
    again = schedule(row.id)
    assert [o.status for o in occurrences(row.id)] == ["failed"] * 3
    assert again.paused and again.failures == 3 and "categoría" in again.last_error
    assert len(_notices(ADMIN)) == 1  # one notice per pass
    db.session.get(Category, again.category_id).active = True
    schedules.resume(user(ADMIN), again, now=NINE + timedelta(days=2, hours=2))
    db.session.commit()
    assert runner.run_due(NINE + timedelta(days=3)) == 1
    again = schedule(row.id)
    assert again.last_error is None and again.failures == 0


def test_the_plans_quota_fails_the_occurrence_with_its_message(demo, monkeypatch):
    row = make()
    acme = tenant()
    acme.plan = "basico"
    db.session.commit()
    from app.tenancy import quotas
    monkeypatch.setattr(quotas, "count", lambda tenant, limit: PLANS["basico"].requests_per_month)
    assert runner.run_due(NINE) == 0
    [occ] = occurrences(row.id)
    assert occ.status == "failed" and "300" in occ.error
    assert filed(row.id) == []


def test_fields_no_longer_valid_fail_with_the_reason(demo):
    row = make()
    category = db.session.get(Category, schedule(row.id).category_id)
    category.request_fields = [{"name": "area", "label": "Área", "type": "text",
                                "required": True}]
    db.session.commit()
    assert runner.run_due(NINE) == 0
    [occ] = occurrences(row.id)
    assert occ.status == "failed" and "area" in occ.error


def test_an_unexpected_error_is_counted_and_pauses_after_three(demo, monkeypatch):
    row = make()

    def broken(*_args):
        raise RuntimeError("boom")

    monkeypatch.setattr(runner, "_file_due", broken)
    for _ in range(3):
        assert runner.run_due(NINE) == 0
    again = schedule(row.id)
    assert again.paused and again.failures == 3 and again.last_error


def test_each_company_files_its_own(demo):
    acme_row = make()
    globex_row = make(by="director@globex.test", requester="pedro@globex.test", slug="globex")
    assert runner.run_due(NINE) == 2
    [a], [g] = filed(acme_row.id), filed(globex_row.id)
    assert (a.tenant_id, g.tenant_id) == (acme_row.tenant_id, globex_row.tenant_id)
    assert a.tenant_id != g.tenant_id
    assert db.session.get(User, g.requester_id).email == "pedro@globex.test"
