"""The bell over the API: a person's notifications (pages, the unread filter, titles, links and
deliveries per channel), marking one or all read (another's or another tenant's id is not
found), and what they choose to receive (refusals leave everything as it was); all of it in
the OpenAPI document."""

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import (
    HumanTask,
    Notification,
    NotificationPreference,
    NotificationTemplate,
    ServiceRequest,
    Tenant,
)
from app.notifications import service
from app.services import requests, workflow
from tests.factories import file, open_task, user
from tests.incidents import store_version

REQUESTER, HEAD, ADMIN = "ana@acme.test", "jefe.finanzas@acme.test", "admin@acme.test"
OUTSIDER = "jefe@globex.test"
BASE = "http://mesa.test"
PROBLEM = "application/problem+json"
GROUPS = ("tasks", "requests", "tickets", "comments", "process")
DEFAULTS = {group: ["inapp", "email"] for group in GROUPS}
NOT_CONFIGURED = "E-mail is not configured (SMTP_HOST)."


class Api:
    """A client that logs in with POST /api/v1/tokens and sends the bearer token."""

    def __init__(self, app, email: str | None):
        self.app, self.client, self.headers = app, app.test_client(), {}
        if email:
            token = self.call("POST", "/api/v1/tokens",
                              {"email": email, "password": "demo1234"})
            assert token.status_code == 201, token.json
            self.headers = {"Authorization": f"Bearer {token.json['token']}"}

    def call(self, method: str, url: str, json=None):
        with self.app.app_context():  # a fresh context per request, as in production
            return self.client.open(url, method=method, json=json, headers=self.headers)


@pytest.fixture
def api(app, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", BASE)
    return lambda email=None: Api(app, email)


def authorize(req) -> None:
    workflow.complete(user(HEAD), open_task(req, "Task_Authorize"), "authorize",
                      {"decision": "authorize"})
    db.session.commit()


def notice_of(email: str, req) -> Notification:
    db.session.rollback()
    return db.session.scalars(select(Notification).where(
        Notification.user_id == user(email).id, Notification.request_id == req.id)).one()


def counts(email: str) -> int:
    db.session.rollback()
    return db.session.query(Notification).filter_by(user_id=user(email).id, inapp=True).count()


def unread(email: str) -> int:
    db.session.rollback()
    return db.session.query(Notification).filter_by(user_id=user(email).id, inapp=True,
                                                    read_at=None).count()


def preference_rows() -> list[tuple[int, str, list]]:
    db.session.rollback()
    return sorted((p.user_id, p.event_group, p.channels)
                  for p in db.session.scalars(select(NotificationPreference)))


# -- the list -------------------------------------------------------------------------------------

def test_the_list_pages_newest_first_with_titles_links_and_deliveries(demo, api):
    db.session.rollback()
    seeded = db.session.query(Notification).filter_by(user_id=user(HEAD).id).count()
    filed = [file(REQUESTER, title=f"Pedido {n}") for n in range(5)]
    head = api(HEAD)
    first = head.call("GET", "/api/v1/notifications?per_page=2")
    assert first.status_code == 200
    total = seeded + 5  # the demo's own request waiting for the head, and these five
    assert (first.json["page"], first.json["per_page"], first.json["total"],
            first.json["pages"]) == (1, 2, total, -(-total // 2))
    items = [i for page in range(1, first.json["pages"] + 1)
             for i in head.call("GET", f"/api/v1/notifications?per_page=2&page={page}")
             .json["items"]]
    assert [i["id"] for i in items] == sorted((i["id"] for i in items), reverse=True)
    items = items[:5]  # the five filed here are the newest
    assert [i["request_id"] for i in items] == [r.id for r in reversed(filed)]
    for item, req in zip(items, reversed(filed), strict=True):
        task = open_task(req, "Task_Authorize")
        assert item["event"] == "task.waiting" and item["task_id"] == task.id
        assert item["title"] == f"{req.number}: «Autorizar solicitud» le espera"
        assert item["link"] == f"{BASE}/tasks/{task.id}"
        assert item["read_at"] is None
        assert item["deliveries"] == [{"channel": "email", "status": "unsent", "attempts": 0,
                                       "last_error": NOT_CONFIGURED, "delivered_at": None}]
    past_the_end = head.call("GET", "/api/v1/notifications?per_page=2&page=9").json
    assert (past_the_end["items"], past_the_end["total"]) == ([], total)
    # Nobody else's: the requester and another tenant's head see none of these.
    for email in (REQUESTER, OUTSIDER):
        ids = {i["id"] for i in api(email).call("GET", "/api/v1/notifications?per_page=100")
               .json["items"]}
        assert not ids & {i["id"] for i in items}, email


def test_each_channel_the_person_chose_is_a_delivery_and_only_in_app_notices_are_listed(
        demo, api):
    ana = user(REQUESTER)
    service.set_phone(ana, "+573001234567")
    service.set_preferences(ana, {"requests": ["inapp", "email", "sms", "whatsapp"],
                                  "comments": ["email"]})  # comments: no bell
    db.session.commit()
    req = file(REQUESTER)
    authorize(req)
    requests.add_comment(user(HEAD), db.session.get(ServiceRequest, req.id),
                                {"comment": "Visto"})
    db.session.commit()
    listed = api(REQUESTER).call("GET", "/api/v1/notifications").json
    (item,) = [i for i in listed["items"] if i["request_id"] == req.id]
    assert item["event"] == "request.authorized"
    assert item["title"] == f"{req.number} fue autorizada"
    assert item["link"] == f"{BASE}/requests/{req.id}"
    assert [(d["channel"], d["status"]) for d in item["deliveries"]] == [
        ("email", "unsent"), ("sms", "unsent"), ("whatsapp", "unsent")]


def test_the_unread_filter_and_marking_one_read(demo, api):
    seeded, seeded_unread = counts(HEAD), unread(HEAD)  # the demo's own request waits too
    reqs = [file(REQUESTER) for _ in range(3)]
    head = api(HEAD)
    target = notice_of(HEAD, reqs[1])
    marked = head.call("POST", f"/api/v1/notifications/{target.id}/read")
    assert marked.status_code == 200
    assert marked.json["id"] == target.id and marked.json["read_at"] is not None
    again = head.call("POST", f"/api/v1/notifications/{target.id}/read")
    assert again.status_code == 200 and again.json["read_at"] == marked.json["read_at"]
    everything = head.call("GET", "/api/v1/notifications").json
    only_unread = head.call("GET", "/api/v1/notifications?unread=true").json
    assert everything["total"] == seeded + 3 and only_unread["total"] == seeded_unread + 2
    assert target.id not in {i["id"] for i in only_unread["items"]}
    assert unread(HEAD) == seeded_unread + 2


def test_marking_another_persons_or_tenants_notice_or_no_notice_is_not_found(demo, api):
    seeded = unread(HEAD)
    req = file(REQUESTER)
    mine = notice_of(HEAD, req)
    globex = db.session.scalars(select(Notification).where(
        Notification.user_id == user(OUTSIDER).id)).first()
    assert globex is not None  # the demo's Globex request waits for its head
    head = api(HEAD)
    for who, notice_id in ((REQUESTER, mine.id), (ADMIN, mine.id), (OUTSIDER, mine.id),
                           (HEAD, globex.id), (HEAD, 0), (HEAD, 2**40), (HEAD, 2**31),
                           (HEAD, 999999)):
        client = head if who == HEAD else api(who)
        answer = client.call("POST", f"/api/v1/notifications/{notice_id}/read")
        assert answer.status_code == 404, (who, notice_id)
        assert answer.content_type == PROBLEM, (who, notice_id)
    assert unread(HEAD) == seeded + 1 and unread(OUTSIDER) >= 1
    assert api().call("POST", f"/api/v1/notifications/{mine.id}/read").status_code == 401
    assert unread(HEAD) == seeded + 1


def test_read_all_marks_only_the_callers_own(demo, api):
    seeded = unread(HEAD)
    for _ in range(3):
        file(REQUESTER)
    outsider_before = unread(OUTSIDER)
    answer = api(HEAD).call("POST", "/api/v1/notifications/read-all")
    assert answer.status_code == 200 and answer.json == {"marked": seeded + 3}
    assert unread(HEAD) == 0 and unread(OUTSIDER) == outsider_before
    assert api(HEAD).call("POST", "/api/v1/notifications/read-all").json == {"marked": 0}
    assert api(OUTSIDER).call("POST", "/api/v1/notifications/read-all").json == {
        "marked": outsider_before}


def test_a_title_follows_the_tenants_own_wording(demo, api):
    acme = user(ADMIN).tenant_id
    db.session.add(NotificationTemplate(tenant_id=acme, event="request.authorized",
                                        locale="es", subject="Luz verde para {{ request_number }}",
                                        text="Hola.", html="", sms=""))
    db.session.commit()
    req = file(REQUESTER)
    authorize(req)
    (item,) = [i for i in api(REQUESTER).call("GET", "/api/v1/notifications").json["items"]
               if i["request_id"] == req.id]
    assert item["title"] == f"Luz verde para {req.number}"


NOTIFY_REQUESTER = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
  id="Definitions_NotifyApi" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="service_request" isExecutable="true">
    <bpmn:laneSet id="LaneSet_1">
      <bpmn:lane id="Lane_1" name="UnitHead">
        <bpmn:flowNodeRef>Start_1</bpmn:flowNodeRef><bpmn:flowNodeRef>Service_1</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Task_H</bpmn:flowNodeRef><bpmn:flowNodeRef>End_1</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="Start_1" />
    <bpmn:sequenceFlow id="Flow_1" sourceRef="Start_1" targetRef="Service_1" />
    <bpmn:serviceTask id="Service_1" name="Avisar">
      <bpmn:extensionElements>
        <spiffworkflow:serviceTaskOperator id="notify" resultVariable="result">
          <spiffworkflow:parameters>
            <spiffworkflow:parameter id="to" type="str" value="'requester'" />
            <spiffworkflow:parameter id="template" type="str" value="'custom.visita'" />
          </spiffworkflow:parameters>
        </spiffworkflow:serviceTaskOperator>
      </bpmn:extensionElements>
    </bpmn:serviceTask>
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Service_1" targetRef="Task_H" />
    <bpmn:userTask id="Task_H" name="Revisar">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="handlers" value="authorize" />
      </spiffworkflow:properties></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="Flow_3" sourceRef="Task_H" targetRef="End_1" />
    <bpmn:endEvent id="End_1" />
  </bpmn:process>
</bpmn:definitions>
"""


def test_a_diagrams_own_message_is_titled_with_the_tenants_subject(demo, api):
    acme = user(ADMIN).tenant_id
    db.session.add(NotificationTemplate(tenant_id=acme, event="custom.visita", locale="es",
                                        subject="Visita técnica para {{ request_number }}",
                                        text="Hola {{ recipient_name }}.", html="", sms=""))
    db.session.commit()
    store_version(NOTIFY_REQUESTER)
    req = file(REQUESTER)
    (item,) = [i for i in api(REQUESTER).call("GET", "/api/v1/notifications").json["items"]
               if i["request_id"] == req.id]
    assert item["event"] == "process.message"
    assert item["title"] == f"Visita técnica para {req.number}"


# -- preferences ----------------------------------------------------------------------------------

def test_preferences_start_from_the_tenants_defaults(demo, api):
    answer = api(REQUESTER).call("GET", "/api/v1/me/preferences")
    assert answer.status_code == 200
    assert answer.json == {"channels": DEFAULTS, "phone": None}
    tenant = db.session.get(Tenant, user(REQUESTER).tenant_id)
    service.set_tenant_defaults(tenant, {"tasks": ["inapp"]})
    db.session.commit()
    assert api(REQUESTER).call("GET", "/api/v1/me/preferences").json["channels"] == {
        **DEFAULTS, "tasks": ["inapp"]}
    assert api().call("GET", "/api/v1/me/preferences").status_code == 401


@pytest.mark.parametrize("body", [
    {"channels": {"nope": ["email"]}},
    {"channels": {"tasks": ["fax"]}},
    {"channels": {"tasks": ["inapp"], "requests": ["pigeon"]}},       # one bad: none saved
    {"channels": {"tasks": "email"}},
    {"channels": ["tasks"]},
    {"channels": {"tasks": ["inapp"]}, "phone": "300 123"},           # no country code
    {"phone": "+0123456789"},
    {"phone": "+57 300 123 4567 ext 9"},
    {"channels": {"nope": []}, "phone": "+57 300 123 4567"},          # a good phone, not kept
    {"channels": {"requests": ["sms"]}},                              # SMS without a phone
    {"channels": {"tickets": ["inapp", "whatsapp"]}, "phone": None},  # WhatsApp without one
    {"channels": {"tickets": ["whatsapp"]}, "phone": ""},
])
def test_a_refused_change_is_a_problem_and_changes_nothing(demo, api, body):
    ana = api(REQUESTER)
    before = (preference_rows(), user(REQUESTER).phone)
    answer = ana.call("PUT", "/api/v1/me/preferences", body)
    assert answer.status_code == 422, answer.json
    assert answer.content_type == PROBLEM
    assert answer.json["status"] == 422 and answer.json["errors"]
    assert (preference_rows(), user(REQUESTER).phone) == before
    assert ana.call("GET", "/api/v1/me/preferences").json == {"channels": DEFAULTS,
                                                              "phone": None}


def test_removing_the_phone_while_sms_is_chosen_is_refused(demo, api):
    ana = api(REQUESTER)
    chosen = ana.call("PUT", "/api/v1/me/preferences",
                      {"channels": {"requests": ["inapp", "sms"]}, "phone": "+573001234567"})
    assert chosen.status_code == 200
    refused = ana.call("PUT", "/api/v1/me/preferences", {"phone": None})
    assert refused.status_code == 422 and refused.content_type == PROBLEM
    assert "phone" in refused.json["errors"]
    assert user(REQUESTER).phone == "+573001234567"


@pytest.mark.parametrize(("typed", "stored"), [
    ("+57 (300) 123-4567", "+573001234567"),
    ("0057 300 123 4567", "+573001234567"),
    ("+1.415.555.2671", "+14155552671"),
    ("+44 20 7946 0958", "+442079460958"),
])
def test_a_valid_phone_is_kept_in_e164(demo, api, typed, stored):
    ana = api(REQUESTER)
    answer = ana.call("PUT", "/api/v1/me/preferences", {"phone": typed})
    assert answer.status_code == 200, answer.json
    assert answer.json["phone"] == stored
    db.session.rollback()
    assert user(REQUESTER).phone == stored


def test_a_partial_update_keeps_the_other_groups(demo, api):
    ana = api(REQUESTER)
    first = ana.call("PUT", "/api/v1/me/preferences",
                     {"channels": {"tasks": ["inapp"], "tickets": []}})
    assert first.status_code == 200
    assert first.json["channels"] == {**DEFAULTS, "tasks": ["inapp"], "tickets": []}
    second = ana.call("PUT", "/api/v1/me/preferences",
                      {"channels": {"requests": ["whatsapp", "sms", "inapp"]},
                       "phone": "+573001234567"})
    assert second.status_code == 200
    expected = {**DEFAULTS, "tasks": ["inapp"], "tickets": [],
                "requests": ["inapp", "sms", "whatsapp"]}  # in the product's order
    assert second.json == {"channels": expected, "phone": "+573001234567"}
    assert ana.call("GET", "/api/v1/me/preferences").json == second.json
    ana_id = user(REQUESTER).id
    assert preference_rows() == sorted([(ana_id, "requests", ["inapp", "sms", "whatsapp"]),
                                        (ana_id, "tasks", ["inapp"]), (ana_id, "tickets", [])])
    # Only the caller's own rows changed: another person keeps the tenant's defaults.
    assert api(HEAD).call("GET", "/api/v1/me/preferences").json["channels"] == DEFAULTS
    # And the choice is what the next notice follows: the bell only, for tasks.
    req = file(REQUESTER)
    authorize(req)
    notice = notice_of(REQUESTER, req)
    assert [m.channel for m in notice.messages] == ["sms", "whatsapp"]


def test_the_openapi_document_lists_the_notification_paths(app, api):
    spec = api().call("GET", "/api/v1/openapi.json").json
    paths = spec["paths"]
    expected = {
        "/api/v1/notifications": {"get"},
        "/api/v1/notifications/{notification_id}/read": {"post"},
        "/api/v1/notifications/read-all": {"post"},
        "/api/v1/me/preferences": {"get", "put"},
    }
    for path, methods in expected.items():
        assert path in paths, path
        assert methods <= set(paths[path]), path
        for method in methods:
            assert "200" in paths[path][method]["responses"], (path, method)
    assert "404" in paths["/api/v1/notifications/{notification_id}/read"]["post"]["responses"]
    assert "422" in paths["/api/v1/me/preferences"]["put"]["responses"]
    listing = {p["name"] for p in paths["/api/v1/notifications"]["get"]["parameters"]}
    assert {"page", "per_page", "unread"} <= listing
    (notice_id,) = paths["/api/v1/notifications/{notification_id}/read"]["parameters"]
    assert (notice_id["schema"]["minimum"], notice_id["schema"]["maximum"]) == (1, 2**31 - 1)


def test_task_links_point_at_the_task_for_the_person_who_may_open_it(demo, api, browser):
    req = file(REQUESTER)
    (item,) = [i for i in api(HEAD).call("GET", "/api/v1/notifications").json["items"]
               if i["request_id"] == req.id]
    task = db.session.scalar(select(HumanTask).where(HumanTask.request_id == req.id))
    assert item["link"] == f"{BASE}/tasks/{task.id}"
    assert browser(HEAD).get(item["link"].removeprefix(BASE)).status_code == 200
    assert browser(OUTSIDER).get(item["link"].removeprefix(BASE)).status_code == 404
