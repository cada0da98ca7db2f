"""The API's `sla` object: hand-computed against the calendar, the same in a list (from the
clock rows' cache brought to the time of the call) as for one request (from its history)."""

from datetime import UTC, datetime

import pytest

from tests import factories
from tests.sla import sla_helpers
from tests.sla.sla_walks import (
    api_client,
    approve_at,
    assign_at,
    at,
    bogota,
    file_at,
    step_at,
)

DIRECTOR, WORKER = "director@acme.test", "tecnico1@acme.test"
HOUR = 3600


def _both(app, req_id, email=DIRECTOR) -> dict:
    """The request's `sla` from GET /requests/{id}, checked equal to the list's."""
    client = api_client(app, email)
    detail = client.get(f"/api/v1/requests/{req_id}")
    assert detail.status_code == 200
    listed = {r["id"]: r for r in client.get("/api/v1/requests?per_page=100").json["items"]}
    assert listed[req_id]["sla"] == detail.json["sla"]
    return detail.json["sla"]


@pytest.fixture
def filed(demo):
    """Filed Monday 09:00 (Bogotá; 08:00-18:00 Monday to Friday): decision 4 h, start 8 h,
    resolution 40 h, warning at 75%."""
    sla_helpers.targets(decision=240, start=480, resolution=2400)
    return file_at(bogota(7, 9), "Pedido medido")


def test_a_running_clock_at_its_warning(filed, app):
    with at(bogota(7, 12, 30)):
        sla = _both(app, filed.id)
    assert sla == {
        "decision": {"due_at": "2026-12-07T18:00:00+00:00",     # 13:00 Bogotá
                     "elapsed_business_seconds": 3.5 * HOUR,
                     "remaining_business_seconds": 0.5 * HOUR,
                     "state": "warning", "paused_since": None, "target_minutes": 240},
        "start": {"due_at": None, "elapsed_business_seconds": 0,
                  "remaining_business_seconds": 8 * HOUR, "state": "not_started",
                  "paused_since": None, "target_minutes": 480},
        "resolution": {"due_at": "2026-12-11T14:00:00+00:00",  # Friday 09:00 Bogotá
                       "elapsed_business_seconds": 3.5 * HOUR,
                       "remaining_business_seconds": 36.5 * HOUR,
                       "state": "running", "paused_since": None, "target_minutes": 2400},
    }


def test_overnight_the_clock_counts_working_hours_only(filed, app):
    """Tuesday 08:30: Monday 09:00-18:00 (9 h) and 08:00-08:30 have run: 9.5 h."""
    with at(bogota(8, 8, 30)):
        sla = _both(app, filed.id)
    assert sla["decision"]["state"] == "breached"
    assert sla["decision"]["elapsed_business_seconds"] == 9.5 * HOUR
    assert sla["decision"]["remaining_business_seconds"] == -5.5 * HOUR
    assert sla["decision"]["due_at"] == "2026-12-07T18:00:00+00:00"
    assert sla["resolution"]["remaining_business_seconds"] == 30.5 * HOUR
    assert sla["resolution"]["state"] == "running"


def test_a_hold_freezes_the_resolution_clock(filed, app):
    approve_at(bogota(7, 10), filed)
    assign_at(bogota(7, 10), filed, "2026-12-11")
    step_at(bogota(7, 11), filed, "Task_Start", WORKER, "start", {})
    step_at(bogota(7, 13), filed, "Task_Work", WORKER, "hold", {"reason": "Falta material"})
    for moment in (bogota(7, 15), bogota(9, 17)):
        with at(moment):
            sla = _both(app, filed.id)
        assert sla["resolution"] == {
            "due_at": None, "elapsed_business_seconds": 4 * HOUR,
            "remaining_business_seconds": 36 * HOUR, "state": "paused",
            "paused_since": "2026-12-07T18:00:00+00:00", "target_minutes": 2400}
        assert sla["decision"] == {
            "due_at": None, "elapsed_business_seconds": 1 * HOUR,
            "remaining_business_seconds": 3 * HOUR, "state": "met", "paused_since": None,
            "target_minutes": 240}
        assert sla["start"]["state"] == "met"
        assert sla["start"]["elapsed_business_seconds"] == 1 * HOUR
    # Resumed Tuesday 09:00: 6 business hours on hold, so due Friday 15:00 (Bogotá)
    step_at(bogota(8, 9), filed, "Task_OnHold", WORKER, "resume", {})
    with at(bogota(8, 10)):
        sla = _both(app, filed.id)
    assert sla["resolution"]["state"] == "running"
    assert sla["resolution"]["due_at"] == "2026-12-11T20:00:00+00:00"
    assert sla["resolution"]["elapsed_business_seconds"] == 5 * HOUR
    assert sla["resolution"]["paused_since"] is None


def test_a_worker_reads_the_same_through_their_tickets(filed, app):
    approve_at(bogota(7, 10), filed)
    assign_at(bogota(7, 10), filed, "2026-12-11")
    with at(bogota(7, 16)):
        detail = _both(app, filed.id, WORKER)
        worker = api_client(app, WORKER)
        ticket = next(t for t in worker.get("/api/v1/tickets").json["items"]
                      if t["request_id"] == filed.id)
    assert ticket["request_sla"] == detail
    assert detail["start"]["elapsed_business_seconds"] == 6 * HOUR   # 10:00-16:00


def test_no_targets_an_empty_object(demo, app):
    req = factories.file()
    client = api_client(app, DIRECTOR)
    assert client.get(f"/api/v1/requests/{req.id}").json["sla"] == {}
    assert all(r["sla"] == {} for r in client.get("/api/v1/requests").json["items"])


def test_due_times_are_utc_across_a_daylight_saving_change(demo, app):
    """New York springs forward on Sunday 2027-03-14 at 02:00: a 4-hour target on an
    always-open calendar filed Saturday 22:00 (EST, 03:00 UTC) is due four real hours later,
    03:00 EDT (07:00 UTC)."""
    sla_helpers.targets(decision=240, week=sla_helpers.ALWAYS, zone="America/New_York")
    filed_at = datetime(2027, 3, 14, 3, 0, tzinfo=UTC)
    req = file_at(filed_at, "Pedido de fin de semana")
    with at(datetime(2027, 3, 14, 6, 0, tzinfo=UTC)):
        sla = _both(app, req.id)
    assert sla["decision"]["due_at"] == "2027-03-14T07:00:00+00:00"
    assert sla["decision"]["elapsed_business_seconds"] == 3 * HOUR


def test_the_openapi_document_describes_sla(app):
    doc = app.test_client().get("/api/v1/openapi.json").json
    schemas = doc["components"]["schemas"]
    clock = schemas["SlaClockOut"]["properties"]
    assert set(clock) == {"due_at", "elapsed_business_seconds", "remaining_business_seconds",
                          "state", "paused_since", "target_minutes"}
    assert "breached" in clock["state"]["enum"]
    for name in ("RequestOut", "RequestDetail"):
        sla = schemas[name]["properties"]["sla"]
        assert sla["additionalProperties"]["$ref"].endswith("/SlaClockOut")
        assert "history" in sla["description"] and "list" in sla["description"]
    for path, sorts in (("/api/v1/requests", {"newest", "sla"}),
                        ("/api/v1/tasks", {"oldest", "sla"}),
                        ("/api/v1/tickets", {"resolution", "sla", "planned_end"})):
        params = {p["name"]: p for p in doc["paths"][path]["get"]["parameters"]}
        assert set(params["sla"]["schema"]["enum"]) == {"overdue", "at_risk"}, path
        assert set(params["sort"]["schema"]["enum"]) == sorts, path


def test_a_calendar_that_no_longer_reads_leaves_the_clocks_as_last_computed(filed, app):
    """Its zone dropped from the machine's zone database: one request and the lists answer
    with the clocks as computed at the last step (not brought to now), not a 500."""
    from app.extensions import db
    from app.models import BusinessCalendar

    db.session.query(BusinessCalendar).update({"time_zone": "America/Forgotten_Zone"})
    db.session.commit()
    with at(bogota(7, 12, 30)):
        sla = _both(app, filed.id)
        tasks = api_client(app, "jefe.finanzas@acme.test").get("/api/v1/tasks")
    assert sla["decision"] == {"due_at": "2026-12-07T18:00:00+00:00",
                               "elapsed_business_seconds": 0,
                               "remaining_business_seconds": 4 * HOUR, "state": "running",
                               "paused_since": None, "target_minutes": 240}
    assert tasks.status_code == 200
