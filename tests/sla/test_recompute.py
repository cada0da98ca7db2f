"""Recomputing: a changed target applied to open requests, or a changed calendar, gives the
same clocks as a request filed under them; requests that were not applied keep their terms;
`flask sla recompute` recomputes in batches."""

from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import select

from app.extensions import db
from app.models import ServiceRequest, SlaClock
from app.sla import service
from app.sla.cli import recompute_tenant
from tests import factories
from tests.sla import sla_helpers

MONDAY_9 = datetime(2026, 12, 7, 14, 0, tzinfo=UTC)  # 09:00 in Bogotá
# (elapsed_seconds is the cache's as of computed_at: written when more than it changed)
FIELDS = ("kind", "state", "started_at", "stopped_at", "due_at", "warn_at", "paused_since",
          "minutes", "warn_percent", "calendar_id")


def snapshot(req_id: int) -> dict:
    db.session.expire_all()
    rows = db.session.scalars(select(SlaClock).where(SlaClock.request_id == req_id))
    return {c.kind: {f: getattr(c, f) for f in FIELDS} for c in rows}


def file_at(at, title="Cambiar bombillo"):
    with time_machine.travel(at, tick=False):
        return factories.file(title=title).id


def authorize_at(req_id, at):
    from app.services import workflow

    req = db.session.get(ServiceRequest, req_id)
    with time_machine.travel(at, tick=False):
        workflow.complete(factories.user("jefe.finanzas@acme.test"),
                          factories.open_task(req, "Task_Authorize"), "authorize",
                          {"decision": "authorize"})
        db.session.commit()


def recompute_at(at, tenant_id, include_closed=False):
    with time_machine.travel(at, tick=False):
        return recompute_tenant(tenant_id, include_closed)


def test_a_target_applied_to_open_requests_equals_filing_under_it(demo):
    made = sla_helpers.targets(decision=240)
    tenant_id = made["calendar"].tenant_id
    old = file_at(MONDAY_9)
    authorize_at(old, MONDAY_9 + timedelta(hours=1))
    kept = file_at(MONDAY_9, "No se aplica")
    # The target becomes 6 hours: requests filed from now on run under it...
    target = db.session.get(type(made["decision"]), made["decision"].id)
    target.minutes, target.warn_percent = 360, 50
    db.session.commit()
    assert snapshot(kept)["decision"]["minutes"] == 240   # not applied: keeps its terms
    # ...and once applied to open requests, an older one is as if filed under it.
    service.mark_target_applied(target)
    db.session.commit()
    assert recompute_at(MONDAY_9 + timedelta(hours=2), tenant_id) >= 2
    fresh = file_at(MONDAY_9)
    authorize_at(fresh, MONDAY_9 + timedelta(hours=1))
    recompute_at(MONDAY_9 + timedelta(hours=2), tenant_id)
    assert snapshot(old)["decision"] == snapshot(fresh)["decision"]
    assert snapshot(old)["decision"]["due_at"] == MONDAY_9 + timedelta(hours=6)
    assert snapshot(old)["decision"]["warn_at"] == MONDAY_9 + timedelta(hours=3)
    assert db.session.get(ServiceRequest, old).sla_rematch is None


def test_a_changed_calendar_recomputes_exactly(demo):
    made = sla_helpers.targets(decision=240)
    tenant_id = made["calendar"].tenant_id
    # Friday 17:50 with 4 business hours: due Monday 11:50 (Bogotá)
    friday = datetime(2026, 12, 4, 22, 50, tzinfo=UTC)
    req = file_at(friday)
    assert snapshot(req)["decision"]["due_at"] == datetime(2026, 12, 7, 16, 50, tzinfo=UTC)
    calendar = db.session.get(type(made["calendar"]), made["calendar"].id)
    calendar.holidays = [{"date": "2026-12-07", "yearly": False, "name": "Festivo"}]
    assert service.mark_calendar_changed(calendar) == 3
    db.session.commit()
    assert service.stale_request_ids(tenant_id=tenant_id) == [req]
    recompute_at(friday + timedelta(minutes=5), tenant_id)
    assert snapshot(req)["decision"]["due_at"] == datetime(2026, 12, 8, 16, 50, tzinfo=UTC)
    assert service.stale_request_ids(tenant_id=tenant_id) == []
    # the same as a request filed under the calendar as it is now
    twin = file_at(friday)
    recompute_at(friday + timedelta(minutes=5), tenant_id)
    assert snapshot(twin)["decision"] == snapshot(req)["decision"]


def test_recompute_changes_nothing_when_nothing_changed(demo):
    made = sla_helpers.targets()
    tenant_id = made["calendar"].tenant_id
    req = file_at(MONDAY_9)
    authorize_at(req, MONDAY_9 + timedelta(minutes=30))
    before = snapshot(req)
    updated_at = db.session.get(ServiceRequest, req).updated_at
    recompute_at(MONDAY_9 + timedelta(days=1), tenant_id, include_closed=True)
    after = snapshot(req)
    assert after["decision"]["state"] == "breached"  # a day later
    for clock in (*before.values(), *after.values()):  # what time passing changes
        del clock["state"]
    assert after == before  # the due times did not move
    assert db.session.get(ServiceRequest, req).updated_at == updated_at


def test_the_command(demo, app):
    sla_helpers.targets()
    file_at(MONDAY_9)
    result = app.test_cli_runner().invoke(args=["sla", "recompute", "--tenant", "acme"])
    assert result.exit_code == 0, result.output
    assert "request(s) recomputed" in result.output
    result = app.test_cli_runner().invoke(args=["sla", "recompute", "--tenant", "nadie"])
    assert result.exit_code != 0 and "No company 'nadie'" in result.output


def test_only_the_kind_applied_changes_an_open_request(demo):
    """The admin applies a new decision target to open requests, then saves a resolution
    target without applying it: the open request's resolution clock keeps its terms."""
    made = sla_helpers.targets(decision=240, resolution=2400)
    tenant_id = made["calendar"].tenant_id
    req = file_at(MONDAY_9)
    decision = db.session.get(type(made["decision"]), made["decision"].id)
    decision.minutes = 120
    service.mark_target_applied(decision)
    resolution = db.session.get(type(made["resolution"]), made["resolution"].id)
    resolution.minutes = 60  # saved, not applied
    db.session.commit()
    recompute_at(MONDAY_9 + timedelta(minutes=10), tenant_id)
    clocks = snapshot(req)
    assert clocks["decision"]["minutes"] == 120
    assert clocks["resolution"]["minutes"] == 2400
    # the history says why its decision clock moved
    from app.models import HistoryEvent
    changed = db.session.scalars(select(HistoryEvent).where(
        HistoryEvent.request_id == req, HistoryEvent.action == "sla_terms_changed")).all()
    assert [e.changes for e in changed] == [{"target": "decision", "minutes": [240, 120]}]
    # applying it twice flags the kind once
    service.mark_target_applied(decision)
    service.mark_target_applied(decision)
    db.session.commit()
    assert db.session.get(ServiceRequest, req).sla_rematch == "decision"
    service.mark_target_applied(resolution)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(ServiceRequest, req).sla_rematch == "decision resolution"
