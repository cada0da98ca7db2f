"""The triage's severity sets the security incident's priority (critical -> urgent, high ->
high, medium -> normal, low -> low): the System's step, in the history, on the report, and the
request's running SLA clocks take the terms of the new priority's targets."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from app.checklists.severity import PRIORITY_OF
from app.extensions import db
from app.models import HistoryEvent, ServiceRequest, SlaClock
from tests.checklists.conftest import RESPONDERS, do, report_incident
from tests.sla.sla_helpers import ALWAYS, calendar, target


def _entries(req, action):
    db.session.rollback()
    return list(db.session.scalars(select(HistoryEvent).where(
        HistoryEvent.request_id == req.id, HistoryEvent.action == action)
        .order_by(HistoryEvent.id)))


def _triage(req, severity, false_positive="false"):
    return do(req, "Task_Triage", {"severity": severity, "false_positive": false_positive})


def _filed_as(req, priority):
    db.session.get(ServiceRequest, req.id).priority = priority
    db.session.commit()


@pytest.mark.parametrize("severity, priority", [("critical", "urgent"), ("high", "high"),
                                                ("medium", "normal"), ("low", "low")])
def test_the_triages_severity_sets_the_priority_as_the_systems_step(security, severity,
                                                                   priority):
    req = report_incident(security)
    filed = "normal" if priority != "normal" else "high"
    _filed_as(req, filed)
    _triage(req, severity)
    assert db.session.get(ServiceRequest, req.id).priority == priority == PRIORITY_OF[severity]
    (entry,) = _entries(req, "prioritized_by_severity")
    assert entry.actor_id is None  # the System's, not the responder's
    assert entry.changes == {"priority": priority, "severity": severity}
    actions = [e.action for e in _entries(req, "form") + [entry]]
    assert actions == ["form", "prioritized_by_severity"]  # after the triage's own entry


def test_a_severity_that_keeps_the_priority_writes_nothing(security):
    req = report_incident(security)
    _filed_as(req, "normal")
    _triage(req, "medium")
    assert db.session.get(ServiceRequest, req.id).priority == "normal"
    assert _entries(req, "prioritized_by_severity") == []


def test_a_false_positive_is_prioritized_too(security):
    req = report_incident(security)
    _filed_as(req, "normal")
    _triage(req, "low", false_positive="true")
    found = db.session.get(ServiceRequest, req.id)
    assert (found.priority, found.status) == ("low", "completed")


def test_the_running_clocks_take_the_new_prioritys_terms(security):
    cal = calendar(week=ALWAYS)
    anyone = target(cal, "resolution", 2400)
    urgent = target(cal, "resolution", 60, priority="urgent")
    db.session.commit()
    req = report_incident(security)
    _filed_as(req, "normal")
    (clock,) = db.session.scalars(select(SlaClock).where(SlaClock.request_id == req.id))
    assert (clock.target_id, clock.minutes) == (anyone.id, 2400)
    _triage(req, "critical")
    clock = db.session.get(SlaClock, clock.id)
    assert (clock.target_id, clock.minutes) == (urgent.id, 60)
    found = db.session.get(ServiceRequest, req.id)
    assert found.sla_rematch is None
    assert found.sla_due_at == clock.due_at  # the request's cache follows
    assert clock.due_at - clock.started_at == timedelta(minutes=60)  # measured from filing
    (changed,) = _entries(req, "sla_terms_changed")
    assert changed.actor_id is None and changed.changes["minutes"] == [2400, 60]


def test_a_priority_with_no_target_of_its_own_keeps_the_terms(security):
    cal = calendar(week=ALWAYS)
    anyone = target(cal, "resolution", 2400)
    target(cal, "resolution", 60, priority="urgent")
    db.session.commit()
    req = report_incident(security)
    _filed_as(req, "normal")
    _triage(req, "high")
    (clock,) = db.session.scalars(select(SlaClock).where(SlaClock.request_id == req.id))
    assert (clock.target_id, clock.minutes) == (anyone.id, 2400)
    assert _entries(req, "sla_terms_changed") == []


def test_a_priority_raised_to_one_with_a_target_opens_its_clock_from_filing(security):
    """Filed under a priority no target covers (no clock), raised by the severity to one a
    target covers: its clock opens, counted from filing, as an admin's applied target would."""
    cal = calendar(week=ALWAYS)
    urgent = target(cal, "resolution", 60, priority="urgent")
    db.session.commit()
    req = report_incident(security)
    _filed_as(req, "normal")
    assert db.session.scalars(select(SlaClock).where(SlaClock.request_id == req.id)).all() == []
    with time_machine.travel(datetime.now(UTC) + timedelta(hours=2)):
        _triage(req, "critical")
    (clock,) = db.session.scalars(select(SlaClock).where(SlaClock.request_id == req.id))
    filed = db.session.get(ServiceRequest, req.id).created_at
    assert (clock.target_id, clock.minutes) == (urgent.id, 60)
    assert abs(clock.started_at.replace(tzinfo=None) - filed.replace(tzinfo=None)) \
        < timedelta(seconds=5)  # the filing's moment, not the triage's two hours later
    assert clock.due_at - clock.started_at == timedelta(minutes=60)


def test_the_history_reads_the_severity_in_words_and_no_list_key(security, browser):
    req = report_incident(security)
    _filed_as(req, "normal")
    _triage(req, "critical")
    page = browser("director@acme.test").get(f"/requests/{req.id}").get_data(as_text=True)
    timeline = page[page.index('class="timeline"'):]
    assert "Crítica" in timeline and ">critical<" not in timeline
    assert "Lista de chequeo" not in timeline and ">triage<" not in timeline


def test_the_report_shows_the_priority_the_severity_set(security, browser):
    req = report_incident(security)
    _filed_as(req, "normal")
    _triage(req, "high")
    page = browser(RESPONDERS[0]).get(f"/requests/{req.id}/report").get_data(as_text=True)
    assert "<dt>Severidad</dt><dd>Alta</dd>" in page
    assert "<dt>Prioridad</dt><dd>Alta</dd>" in page
    history = browser(RESPONDERS[0]).get(f"/requests/{req.id}").get_data(as_text=True)
    assert "Priorizada según la severidad" in history


def test_the_incidents_prioritize_step_moves_running_clocks_the_same_way(security):
    """One reaction to a priority a step changes: the incident template's ``prioritize``, run
    once clocks are running (a company may move it after a person's step), rematches them
    as ``prioritize_by_severity`` does."""
    from app.handlers.base import OperationContext
    from app.process_catalog.operations import prioritize

    cal = calendar(week=ALWAYS)
    target(cal, "resolution", 2400)
    urgent = target(cal, "resolution", 60, priority="urgent")
    db.session.commit()
    req = report_incident(security)
    _filed_as(req, "normal")
    found = db.session.get(ServiceRequest, req.id)
    result = prioritize(OperationContext(request=found, actor=None),
                        {"impact": "high", "urgency": "high"}, {})
    db.session.commit()
    assert result["priority"] == "urgent"
    (clock,) = db.session.scalars(select(SlaClock).where(SlaClock.request_id == req.id))
    assert (clock.target_id, clock.minutes) == (urgent.id, 60)
    assert [e.actor_id for e in _entries(req, "sla_terms_changed")] == [None]
