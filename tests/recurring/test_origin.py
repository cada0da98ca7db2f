"""A request a schedule filed says so: its page ("Recurrente: <schedule> — <rule in
words>", a link to the schedule for those who may open it) and the API's ``recurring``
object (schedule id, name, the occurrence it was filed for; null for a request filed by
hand), in one request and in the list."""

from datetime import UTC, datetime

from sqlalchemy import event, select

from app.extensions import db
from app.models import ServiceRequest
from app.recurring import runner, schedules
from tests.recurring.helpers import ADMIN, DIRECTOR, REQUESTER, filed, make, user

DUE = datetime(2026, 12, 7, 14, 0, tzinfo=UTC)  # 09:00 in Bogota


def recurring_request():
    row = make("FREQ=DAILY;BYHOUR=9", now=datetime(2026, 12, 7, 12, tzinfo=UTC))
    assert runner.run_due(datetime(2026, 12, 7, 14, 1, tzinfo=UTC)) == 1
    return row.id, filed(row.id)[0].id


def by_hand():
    """One of the requester's requests filed by hand."""
    db.session.rollback()
    return db.session.scalar(select(ServiceRequest).where(
        ServiceRequest.requester_id == user(REQUESTER).id,
        ServiceRequest.recurring_schedule_id.is_(None)).order_by(ServiceRequest.id).limit(1))


def test_the_request_page_names_the_schedule_and_its_rule(demo, browser):
    schedule_id, request_id = recurring_request()
    link = f'href="/recurring/{schedule_id}"'
    mine = browser(REQUESTER).get(f"/requests/{request_id}").get_data(as_text=True)
    assert "<dt>Recurrente</dt>" in mine
    assert "Limpieza de la bodega — Cada día, a las 09:00" in mine
    assert link not in mine  # the requester may not open the schedule
    for who in (ADMIN, DIRECTOR):
        assert link in browser(who).get(f"/requests/{request_id}").get_data(as_text=True)
    hand = browser(ADMIN).get(f"/requests/{by_hand().id}").get_data(as_text=True)
    assert "<dt>Recurrente</dt>" not in hand


def test_a_deleted_schedule_is_still_named_but_not_linked(demo, browser):
    schedule_id, request_id = recurring_request()
    schedules.delete(user(ADMIN), schedules.find(user(ADMIN), schedule_id))
    db.session.commit()
    page = browser(ADMIN).get(f"/requests/{request_id}").get_data(as_text=True)
    assert "Limpieza de la bodega — Cada día" in page
    assert f'href="/recurring/{schedule_id}"' not in page


def test_the_api_says_which_schedule_filed_it(demo, api):
    schedule_id, request_id = recurring_request()
    client = api(REQUESTER)
    one = client.get(f"/api/v1/requests/{request_id}").json
    assert one["recurring"] == {"schedule_id": schedule_id, "name": "Limpieza de la bodega",
                                "occurrence_at": "2026-12-07T14:00:00+00:00"}
    assert client.get(f"/api/v1/requests/{by_hand().id}").json["recurring"] is None
    listed = {item["id"]: item["recurring"]
              for item in api(ADMIN).get("/api/v1/requests?per_page=100").json["items"]}
    assert listed[request_id] == one["recurring"]
    assert listed[by_hand().id] is None


def test_the_openapi_document_describes_it(demo, api):
    doc = api().get("/api/v1/openapi.json").json
    schemas = doc["components"]["schemas"]
    assert set(schemas["RecurringOriginOut"]["properties"]) == {
        "schedule_id", "name", "occurrence_at"}
    recurring = schemas["RequestOut"]["properties"]["recurring"]
    assert "null" in str(recurring) or recurring.get("nullable") is not None


def statements(call) -> list[str]:
    seen = []

    def keep(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", keep)
    try:
        call()
    finally:
        event.remove(db.engine, "before_cursor_execute", keep)
    return seen


def test_one_read_for_a_recurring_request_none_for_one_by_hand(demo, api):
    _, request_id = recurring_request()
    client = api(REQUESTER)
    for url, reads in ((f"/api/v1/requests/{request_id}", 1),
                       (f"/api/v1/requests/{by_hand().id}", 0), ("/api/v1/requests", 1)):
        seen = statements(lambda url=url: client.get(url))
        assert sum("recurring_schedules" in sql for sql in seen) == reads, url
