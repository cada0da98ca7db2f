"""Alerts by severity: the company's mapping (default, page, API, validation) and the service
operation writing one notice per person, and one outbox message per person and channel."""

from collections import Counter

import pytest
from sqlalchemy import select

from app.admin.models import AuditEntry
from app.checklists import alerts
from app.extensions import db
from app.models import (
    HistoryEvent,
    HumanTask,
    Notification,
    OutboxMessage,
    ServiceRequest,
    Tenant,
    User,
)
from app.services import workflow
from tests.checklists.conftest import (
    ADMIN,
    DIRECTOR,
    REPORTER,
    RESPONDERS,
    do,
    open_task,
    report_incident,
    tick_all,
)
from tests.factories import user


def _alerted(req) -> dict[int, str]:
    """user id -> event of the notices the triage step wrote about ``req``."""
    db.session.rollback()
    return {n.user_id: n.event for n in db.session.scalars(
        select(Notification).where(Notification.request_id == req.id,
                                   Notification.event == "security.alert"))}


def _triage(req, severity, email=RESPONDERS[0]):
    return do(req, "Task_Triage", {"severity": severity, "false_positive": "false"}, email)


def test_the_default_mapping_names_the_security_team_first(security):
    mapping = alerts.mapping(db.session.get(Tenant, user(ADMIN).tenant_id))
    assert mapping == alerts.DEFAULT_MAPPING
    assert all(m[0] == "team:security" for m in mapping.values())


def test_a_critical_incident_alerts_each_person_once_through_the_outbox(security):
    req = report_incident(security)
    _triage(req, "critical")
    expected = {user(e).id for e in (RESPONDERS[1], DIRECTOR, ADMIN,
                                     "jefe.finanzas@acme.test")}
    # the triager (RESPONDERS[0]) is not told of what they did themselves
    assert set(_alerted(req)) == expected
    notices = list(db.session.scalars(select(Notification).where(
        Notification.request_id == req.id, Notification.event == "security.alert")))
    assert Counter(n.user_id for n in notices) == Counter({i: 1 for i in expected})
    assert all(n.params["severity"] == "critical" for n in notices)
    # the second responder's notice links to the containment step that waits for them
    teammate = next(n for n in notices if n.user_id == user(RESPONDERS[1]).id)
    assert teammate.task_id == open_task(req, "Task_Contain").id
    messages = list(db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.event == "security.alert")))
    emails = {db.session.get(User, i).email for i in expected}
    assert Counter(m.address for m in messages) == Counter({e: 1 for e in emails})
    assert len({m.idempotency_key for m in messages}) == len(messages) == 4
    entry = db.session.scalars(select(HistoryEvent).where(
        HistoryEvent.request_id == req.id, HistoryEvent.action == "severity_alert")).one()
    assert entry.changes == {"severity": "critical", "recipients": 5}


def test_the_alert_is_not_sent_again_by_a_second_completion(security):
    req = report_incident(security)
    task = open_task(req, "Task_Triage")
    tick_all(task)
    form = {"severity": "low", "false_positive": "false"}
    workflow.complete(user(RESPONDERS[0]), open_task(req, "Task_Triage"), "form", form)
    db.session.commit()
    with pytest.raises(workflow.TaskConflict):
        workflow.complete(user(RESPONDERS[1]), db.session.get(HumanTask, task.id), "form",
                          form)
    db.session.rollback()
    assert set(_alerted(req)) == {user(RESPONDERS[1]).id}
    assert len(list(db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.event == "security.alert")))) == 1


def test_a_false_positive_alerts_nobody(security):
    req = report_incident(security)
    do(req, "Task_Triage", {"severity": "critical", "false_positive": "true"})
    assert _alerted(req) == {}
    db.session.rollback()
    assert db.session.get(ServiceRequest, req.id).status == "completed"


def test_the_company_changes_who_a_severity_alerts_through_the_api(security, api):
    client = api(ADMIN)
    assert client.get("/api/v1/admin/security-alerts").json["low"] == ["team:security"]
    saved = client.put("/api/v1/admin/security-alerts",
                       {"low": ["requester", "service_director"]})
    assert saved.status_code == 200
    assert saved.json["low"] == ["requester", "service_director"]
    assert saved.json["high"] == alerts.DEFAULT_MAPPING["high"]  # not sent: kept
    db.session.rollback()
    assert db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "security_alerts.changed")).one()
    req = report_incident(security)
    _triage(req, "low")
    assert set(_alerted(req)) == {user(REPORTER).id, user(DIRECTOR).id}


@pytest.mark.parametrize("body", [
    {"urgent": ["requester"]}, {"low": ["nobody"]}, {"low": ["team:Mal Equipo"]},
    {"low": 5}, {"low": [f"team:t{i}x" for i in range(11)]},
    ["low"], "low", None, {"low": [None]},
])
def test_a_bad_mapping_is_refused_and_nothing_changes(security, api, body):
    client = api(ADMIN)
    answer = client.put("/api/v1/admin/security-alerts", body)
    assert answer.status_code == 422, (body, answer.json)
    db.session.rollback()
    assert alerts.mapping(db.session.get(Tenant, user(ADMIN).tenant_id)) == \
        alerts.DEFAULT_MAPPING


def test_the_page_edits_the_mapping_and_only_managers_may(security, browser, api):
    b = browser(ADMIN)
    answer = b.post("/checklists/alerts", {
        "low-roles": ["tenant_admin"], "low-teams": "security, guardia",
        "medium-roles": ["service_director"], "high-teams": "", "critical-roles": [
            "tenant_admin", "unit_head"]})
    assert answer.status_code == 303
    db.session.rollback()
    mapping = alerts.mapping(db.session.get(Tenant, user(ADMIN).tenant_id))
    assert mapping["low"] == ["tenant_admin", "team:security", "team:guardia"]
    assert mapping["high"] == []
    refused = b.post("/checklists/alerts", {"low-teams": "Mal Equipo"})
    assert refused.status_code == 422
    page = b.get("/checklists").get_data(as_text=True)
    assert 'value="security, guardia"' in page
    for email in (DIRECTOR, REPORTER, RESPONDERS[0]):
        assert browser(email).post("/checklists/alerts", {}).status_code == 403
        assert api(email).put("/api/v1/admin/security-alerts",
                              {"low": []}).status_code == 403
        assert api(email).get("/api/v1/admin/security-alerts").status_code == 403
