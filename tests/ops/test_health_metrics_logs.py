"""Operations: /healthz (database and broker), /metrics (access and what it counts) and the
JSON request log."""

import json
import logging
import re
import socket
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from prometheus_client.parser import text_string_to_metric_families

from app import create_app
from app.config import _engine_options
from app.extensions import db
from app.ops import logs
from app.services import webhooks
from tests.api.conftest import ApiClient
from tests.factories import request_at, user
from tests.multinode.servers import free_port, redis_server

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _request_log_enabled(monkeypatch):
    """The suite's migrations (Alembic's fileConfig) disable loggers that existed before them;
    a served process never runs them."""
    monkeypatch.setattr(logs.REQUEST_LOG, "disabled", False)


@pytest.fixture
def client(app):
    return app.test_client()


def api(app, email):
    client = ApiClient(app)
    response = client.post("/api/v1/tokens", {"email": email, "password": "demo1234"})
    assert response.status_code == 201
    client.token = response.json["token"]
    return client


def scrape(client, **kwargs) -> dict[tuple, float]:
    """/metrics parsed: {(sample name, sorted labels): value}."""
    response = client.get("/metrics", **kwargs)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.content_type.startswith("text/plain; version=0.0.4")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(response.get_data(as_text=True))
            for s in family.samples}


# -- /healthz ---------------------------------------------------------------------------------

def test_healthz_answers_ok_without_a_session(app, client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "broker": "disabled"}
    assert "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"


def test_healthz_reports_an_unreachable_broker(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "CELERY_BROKER_URL", f"redis://127.0.0.1:{free_port()}/0")
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json["status"] == "unavailable"
    assert (response.json["database"], response.json["broker"]) == ("ok", "error")
    assert response.json["errors"] == {"broker": "ConnectionError"}


def test_healthz_pings_a_real_broker(app, client, monkeypatch):
    with tempfile.TemporaryDirectory() as workdir, redis_server(Path(workdir)) as url:
        monkeypatch.setitem(app.config, "CELERY_BROKER_URL", url)
        response = client.get("/healthz")
        assert response.status_code == 200
        assert response.json == {"status": "ok", "database": "ok", "broker": "ok"}


def test_healthz_reports_an_unreachable_database():
    down = create_app({
        "TESTING": True, "SECRET_KEY": "x",
        "SQLALCHEMY_DATABASE_URI": f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/none",
    })
    response = down.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] == "error"
    assert response.json["errors"]["database"] == "OperationalError"


def test_healthz_gives_up_on_a_database_that_never_answers(monkeypatch):
    """A server that accepts connections but never speaks (a hung host, a half-open firewall):
    the check fails after DB_CONNECT_TIMEOUT instead of waiting for ever."""
    monkeypatch.setenv("DB_CONNECT_TIMEOUT", "2")
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # the kernel completes the handshake; nobody answers
        url = f"postgresql+psycopg://nobody@127.0.0.1:{silent.getsockname()[1]}/none"
        down = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": url,
                           "SQLALCHEMY_ENGINE_OPTIONS": _engine_options(url)})
        response = down.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["errors"]["database"] == "OperationalError"


# -- /metrics -----------------------------------------------------------------------------------

def test_metrics_are_for_this_machine_unless_a_token_is_set(app, client, monkeypatch):
    assert client.get("/metrics").status_code == 200  # the test client comes from 127.0.0.1
    remote = {"environ_base": {"REMOTE_ADDR": "10.1.2.3"}}
    assert client.get("/metrics", **remote).status_code == 403
    monkeypatch.setitem(app.config, "METRICS_TOKEN", "s3cret")
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"}, **remote)
    assert wrong.status_code == 401 and wrong.headers["WWW-Authenticate"] == "Bearer"
    right = client.get("/metrics", headers={"Authorization": "Bearer s3cret"}, **remote)
    assert right.status_code == 200


def test_metrics_count_committed_completions_and_time_requests(app, client, demo):
    req, task = request_at("Task_Authorize")
    head = api(app, "jefe.finanzas@acme.test")
    completions = ("mesa_task_completions_total", (("role", "unit_head"),))
    latency = ("mesa_http_request_duration_seconds_count",
               (("endpoint", "api_tasks.complete"), ("method", "POST"), ("status", "200")))
    refused = ("mesa_http_request_duration_seconds_count",
               (("endpoint", "api_tasks.complete"), ("method", "POST"), ("status", "422")))
    before = scrape(client)

    bad = head.post(f"/api/v1/tasks/{task.id}/complete", {"decision": "maybe"})
    assert bad.status_code == 422                      # rolled back: not a completion
    done = head.post(f"/api/v1/tasks/{task.id}/complete", {"decision": "authorize"})
    assert done.status_code == 200

    after = scrape(client)
    assert after[completions] == before.get(completions, 0) + 1
    assert after[latency] == before.get(latency, 0) + 1
    assert after[refused] == before.get(refused, 0) + 1


def test_metrics_show_queue_depths_from_the_database(app, client, demo):
    endpoint = webhooks.create_endpoint(user("admin@acme.test"), {
        "url": "https://hooks.example.org/mesa", "events": ["request.filed"]})
    db.session.commit()
    assert endpoint.id
    with time_machine.travel(T0, tick=False) as clock:
        request_at("Task_Authorize")
        request_at("Task_Authorize")
        clock.move_to(T0 + timedelta(hours=48, minutes=30))
        samples = scrape(client)
    assert samples[("mesa_timers_due", ())] == 2
    assert samples[("mesa_timers_oldest_due_seconds", ())] == pytest.approx(30 * 60, abs=1)
    assert samples[("mesa_webhook_deliveries_pending", ())] == 2
    assert samples[("mesa_webhook_deliveries_due", ())] == 2


# -- logs ---------------------------------------------------------------------------------------

def test_json_logs_have_one_line_per_request_with_who_and_the_request_id(
        app, demo, monkeypatch, caplog):
    monkeypatch.setitem(app.config, "LOG_FORMAT", "json")
    ana = api(app, "ana@acme.test")
    with caplog.at_level(logging.INFO, logger="mesa.request"):
        response = ana.get("/api/v1/me", headers={"X-Request-ID": "req-42"})
        anonymous = ana.request("GET", "/healthz", headers={"X-Request-ID": "bad id <script>"})
    assert response.headers["X-Request-ID"] == "req-42"
    generated = anonymous.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)    # a bad id is replaced, not echoed

    first, second = [r for r in caplog.records if r.name == "mesa.request"][-2:]
    person = user("ana@acme.test")
    line = json.loads(logs.JsonFormatter().format(first))
    assert line["level"] == "INFO" and line["logger"] == "mesa.request"
    assert {k: line[k] for k in ("method", "path", "status", "tenant_id", "user_id",
                                 "request_id")} == {
        "method": "GET", "path": "/api/v1/me", "status": 200, "tenant_id": person.tenant_id,
        "user_id": person.id, "request_id": "req-42"}
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert (second.fields["path"], second.fields["user_id"], second.fields["request_id"]) == (
        "/healthz", None, generated)


def test_page_requests_log_the_logged_in_person(app, demo, browser, monkeypatch, caplog):
    monkeypatch.setitem(app.config, "LOG_FORMAT", "json")
    director = browser("director@acme.test")
    with caplog.at_level(logging.INFO, logger="mesa.request"):
        assert director.get("/inbox").status_code == 200
    (line,) = [r.fields for r in caplog.records if r.name == "mesa.request"]
    director = user("director@acme.test")
    assert (line["user_id"], line["tenant_id"]) == (director.id, director.tenant_id)


def test_text_logs_leave_requests_to_the_server(app, client, caplog):
    with caplog.at_level(logging.INFO, logger="mesa.request"):
        client.get("/healthz")
    assert not [r for r in caplog.records if r.name == "mesa.request"]


def test_json_formatter_keeps_exceptions_on_one_line():
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("app", logging.ERROR, __file__, 1, "failed %s", ("x",),
                                   exc_info=__import__("sys").exc_info())
    text = logs.JsonFormatter().format(record)
    assert "\n" not in text
    line = json.loads(text)
    assert line["msg"] == "failed x" and "ValueError: boom" in line["exc"]


def test_configuring_json_logs_twice_installs_one_handler():
    class FakeApp:
        config = {"LOG_FORMAT": "json", "LOG_LEVEL": "INFO"}
        logger = logging.getLogger("fake-app")

    root = logging.getLogger()
    level = root.level
    try:
        logs.configure(FakeApp)
        logs.configure(FakeApp)
        ours = [h for h in root.handlers if isinstance(h.formatter, logs.JsonFormatter)]
        assert len(ours) == 1
    finally:
        for handler in [h for h in root.handlers if isinstance(h, logs._JsonHandler)]:
            root.removeHandler(handler)
        root.setLevel(level)
