"""Webhooks end to end: a real HTTP receiver on 127.0.0.1 checks every signature and records
what it gets; lifecycle changes reach it exactly once, after commit, retried after a failure,
never after a rollback, never across tenants. Then the admin pages."""

import json
import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine
from sqlalchemy import select

from app.extensions import db
from app.models import WEBHOOK_EVENTS, Category, OutboxMessage, WebhookEndpoint
from app.services import requests, webhooks, workflow
from app.services.background import run_pass
from app.services.webhooks import deliver_due
from app.sqlite import writing
from tests.factories import file, open_task, request_at, user
from tests.views.helpers import html

WEBHOOKS = OutboxMessage.channel == "webhook"  # the outbox rows that are webhook deliveries

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LIFECYCLE = ["request.filed", "request.authorized", "request.approved", "ticket.assigned",
             "ticket.started", "ticket.on_hold", "ticket.resumed", "ticket.finished",
             "request.confirmed"]


class Receiver:
    """An HTTP server in a thread: verifies X-Mesa-Signature with ``secret`` and records every
    request it gets in ``hits``; answers the statuses queued in ``script`` first, then 200."""

    def __init__(self):
        self.secret = None
        self.hits: list[dict] = []
        self.script: list[int] = []
        self.arrived = threading.Event()
        self.gate: threading.Event | None = None  # when set, hold each answer until it opens
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                valid = webhooks.verify(receiver.secret, self.headers["X-Mesa-Signature"], body)
                status = (receiver.script.pop(0) if receiver.script else 200) if valid else 401
                receiver.hits.append({"path": self.path, "headers": dict(self.headers),
                                      "body": body, "valid": valid, "status": status})
                receiver.arrived.set()
                if receiver.gate is not None:
                    receiver.gate.wait(10)
                self.send_response(status)
                if status in (301, 302, 307, 308):
                    self.send_header("Location", "/elsewhere")
                self.end_headers()
                self.wfile.write(b"ok" if status == 200 else b"boom")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/mesa"

    def accepted(self) -> list[dict]:
        """The payloads answered 2xx: what the receiver acted on."""
        return [json.loads(h["body"]) for h in self.hits if 200 <= h["status"] < 300]

    def close(self):
        if self.gate is not None:
            self.gate.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch):
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture
def receivers():
    made = []

    def make():
        made.append(Receiver())
        return made[-1]

    yield make
    for r in made:
        r.close()


def register(receiver, by="admin@acme.test", events=WEBHOOK_EVENTS, url=None):
    endpoint = webhooks.create_endpoint(
        user(by), {"url": url or receiver.url, "events": list(events)})
    db.session.commit()
    if receiver is not None:
        receiver.secret = endpoint.secret
    return endpoint


def deliveries(**filters) -> list[OutboxMessage]:
    db.session.rollback()  # a fresh snapshot
    return db.session.query(OutboxMessage).filter(WEBHOOKS).filter_by(**filters).order_by(
        OutboxMessage.id).all()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- delivery ---------------------------------------------------------------------------------

def test_each_lifecycle_event_arrives_once_signed(demo, receivers):
    acme, globex = receivers(), receivers()
    register(acme)
    register(globex, by="director@globex.test")
    req, task = request_at("Task_Confirm")
    workflow.complete(user("ana@acme.test"), task, "confirm", {"rating": "5"})
    db.session.commit()
    rejected = file(title="Pintar la oficina")
    workflow.complete(user("jefe.finanzas@acme.test"), open_task(rejected, "Task_Authorize"),
                      "authorize", {"decision": "reject", "comment": "No hay presupuesto"})
    db.session.commit()

    assert deliver_due() == 11
    assert deliver_due() == 0  # nothing twice

    got = acme.accepted()
    assert [(p["request"]["number"], p["event"]) for p in got] == (
        [(req.number, e) for e in LIFECYCLE]
        + [(rejected.number, "request.filed"), (rejected.number, "request.rejected")])
    assert len(acme.hits) == 11 and all(h["valid"] for h in acme.hits)
    for hit, payload in zip(acme.hits, got, strict=True):
        h = hit["headers"]
        assert h["Content-Type"] == "application/json"
        assert h["User-Agent"] == "MesaDeServicios-Webhooks/1"
        assert h["X-Mesa-Event"] == payload["event"]
        assert h["X-Mesa-Delivery"] == h["Idempotency-Key"] == payload["id"]
        assert hit["body"] == webhooks.encode(payload).encode()
        assert payload["tenant"] == "acme"
    assert len({p["id"] for p in got}) == 11
    assert got[0]["actor"]["email"] == "ana@acme.test"
    assert got[-1]["request"]["status"] == "rejected"
    assert globex.hits == []  # subscribed to everything, but of another tenant
    assert {(d.status, d.attempts, d.response_status) for d in deliveries()} == {
        ("delivered", 1, 200)}


def test_a_failed_delivery_is_retried_after_backoff_and_seen_once(demo, receivers):
    acme = receivers()
    acme.script = [500]  # the first answer fails
    with time_machine.travel(T0, tick=False) as clock:
        register(acme)
        file()
        assert deliver_due() == 1
        [d] = deliveries()
        assert (d.status, d.attempts, d.response_status) == ("pending", 1, 500)
        assert d.last_error.startswith("HTTP 500") and d.last_attempt_at == T0
        assert d.next_attempt_at == T0 + timedelta(seconds=30)
        assert deliver_due() == 0  # not due yet
        clock.move_to(T0 + timedelta(seconds=29))
        assert deliver_due() == 0
        clock.move_to(T0 + timedelta(seconds=31))
        assert deliver_due() == 1
        assert deliver_due() == 0

    [d] = deliveries()
    assert (d.status, d.attempts, d.response_status) == ("delivered", 2, 200)
    assert d.delivered_at == T0 + timedelta(seconds=31)
    first, second = acme.hits
    assert first["valid"] and second["valid"]
    assert first["headers"]["X-Mesa-Delivery"] == second["headers"]["X-Mesa-Delivery"]
    assert first["body"] == second["body"]  # the same event, signed anew
    assert first["headers"]["X-Mesa-Signature"].startswith(f"t={int(T0.timestamp())},")
    assert second["headers"]["X-Mesa-Signature"].startswith(f"t={int(T0.timestamp()) + 31},")
    assert [p["id"] for p in acme.accepted()] == [d.idempotency_key]


def test_after_the_last_attempt_a_delivery_fails_and_can_be_retried(demo, receivers, browser):
    acme = receivers()
    acme.script = [503] * webhooks.MAX_ATTEMPTS
    with time_machine.travel(T0, tick=False) as clock:
        endpoint = register(acme)
        file()
        waits = []
        for _ in range(webhooks.MAX_ATTEMPTS):
            assert deliver_due() == 1
            [d] = deliveries()
            if d.status == "pending":
                waits.append((d.next_attempt_at - d.last_attempt_at).total_seconds())
                clock.move_to(d.next_attempt_at)
        assert waits == [30, 120, 480, 1920, 7680, 21600, 21600]
        [d] = deliveries()
        assert (d.status, d.attempts, d.response_status) == ("failed", 8, 503)
        assert deliver_due() == 0

        admin = browser("admin@acme.test")
        page = html(admin.get(f"/admin/webhooks/{endpoint.id}"))
        retry_url = f"/admin/webhooks/{endpoint.id}/deliveries/{d.id}/retry"
        assert retry_url in page and "HTTP 503" in page
        assert admin.post(retry_url).status_code == 302
        [d] = deliveries()
        assert (d.status, d.attempts) == ("pending", 0)
        assert deliver_due() == 1
    [d] = deliveries()
    assert (d.status, d.attempts, d.response_status) == ("delivered", 1, 200)
    assert len(acme.hits) == webhooks.MAX_ATTEMPTS + 1 and len(acme.accepted()) == 1


def test_nothing_is_delivered_when_the_transaction_rolls_back(demo, receivers):
    acme = receivers()
    register(acme)
    req, task = request_at("Task_Authorize")  # committed: request.filed
    assert deliver_due() == 1

    ana = user("ana@acme.test")
    category = db.session.query(Category).filter_by(tenant_id=ana.tenant_id).first()
    requests.file_request(ana, {"title": "Nunca guardada", "description": "Se deshace",
                                "category_id": category.id})
    db.session.rollback()
    workflow.complete(user("jefe.finanzas@acme.test"), open_task(req, "Task_Authorize"),
                      "authorize", {"decision": "authorize"})
    db.session.rollback()

    assert deliver_due() == 0
    assert [p["event"] for p in acme.accepted()] == ["request.filed"]
    assert len(deliveries()) == 1


def test_another_tenants_endpoint_never_gets_an_event(demo, receivers):
    acme, globex = receivers(), receivers()
    register(acme)
    register(globex, by="director@globex.test")
    mine = file("ana@acme.test")
    theirs = file("pedro@globex.test")
    assert deliver_due() == 2
    assert [(p["tenant"], p["request"]["number"]) for p in acme.accepted()] == [
        ("acme", mine.number)]
    assert [(p["tenant"], p["request"]["number"]) for p in globex.accepted()] == [
        ("globex", theirs.number)]
    assert all(h["valid"] for h in acme.hits + globex.hits)


def test_only_subscribed_events_and_enabled_endpoints(demo, receivers):
    acme = receivers()
    endpoint = register(acme, events=["request.authorized"])
    request_at("Task_Evaluate")  # filed (not subscribed), then authorized
    webhooks.set_active(db.session.get(WebhookEndpoint, endpoint.id), False)
    db.session.commit()
    assert deliver_due() == 0  # queued, but held while disabled
    file()
    request_at("Task_Evaluate")  # nothing queued for a disabled endpoint
    assert [d.event for d in deliveries()] == ["request.authorized"]
    webhooks.set_active(db.session.get(WebhookEndpoint, endpoint.id), True)
    db.session.commit()
    assert deliver_due() == 1
    assert [p["event"] for p in acme.accepted()] == ["request.authorized"]


def test_an_unreachable_endpoint_costs_one_attempt_per_pass(demo):
    register(None, url=f"http://127.0.0.1:{closed_port()}/hook")
    file()
    file(title="Segunda")
    assert deliver_due() == 1  # the second is not tried against a receiver that is down
    first, second = deliveries()
    assert (first.status, first.attempts, first.response_status) == ("pending", 1, None)
    assert "URLError" in first.last_error
    assert (second.attempts, second.last_error) == (0, None)


def test_redirects_are_not_followed(demo, receivers):
    acme = receivers()
    acme.script = [302]
    register(acme)
    file()
    assert deliver_due() == 1
    [d] = deliveries()
    assert (d.status, d.response_status) == ("pending", 302)
    assert [h["path"] for h in acme.hits] == ["/hooks/mesa"]


def test_urls_other_than_http_are_never_called(demo):
    endpoint = register(None, url="http://127.0.0.1:9/unused")
    endpoint.url = "file:///etc/passwd"  # as if written around the form's check
    db.session.commit()
    file()
    assert deliver_due() == 1
    [d] = deliveries()
    assert (d.status, d.attempts, d.response_status) == ("failed", 1, None)
    assert "Only http and https" in d.last_error


def test_a_slow_receiver_blocks_no_writer(app, demo, receivers):
    acme = receivers()
    register(acme)
    file()
    acme.gate = threading.Event()

    def send():
        with app.app_context():
            deliver_due()
            db.session.remove()

    sender = threading.Thread(target=send)
    sender.start()
    try:
        assert acme.arrived.wait(10)
        started = time.monotonic()
        db.session.rollback()
        with writing():
            file(title="Mientras tanto")
        if db.engine.dialect.name == "postgresql":  # the delivery row itself is not locked
            db.session.execute(select(OutboxMessage).where(WEBHOOKS).with_for_update(nowait=True)).all()
            db.session.rollback()
        assert time.monotonic() - started < 5
        assert not acme.gate.is_set() and sender.is_alive()  # still waiting for the answer
    finally:
        acme.gate.set()
        sender.join(20)
    deliver_due()  # the second one, unless the sender's pass already took it
    assert [p["request"]["title"] for p in acme.accepted()] == ["Cambiar bombillo",
                                                                "Mientras tanto"]


def test_parallel_runners_send_each_delivery_once(app, demo, receivers):
    acme = receivers()
    register(acme)
    for n in range(6):
        file(title=f"Pedido {n}")
    barrier = threading.Barrier(3)
    sent = [0, 0, 0]

    def work(index):
        with app.app_context():
            barrier.wait()
            sent[index] = deliver_due()
            db.session.remove()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sum(sent) == 6
    keys = [h["headers"]["X-Mesa-Delivery"] for h in acme.hits]
    assert len(keys) == len(set(keys)) == 6


def test_the_background_pass_and_the_command_deliver(app, demo, receivers):
    acme = receivers()
    register(acme)
    file()
    run_pass()
    file(title="Otra")
    result = app.test_cli_runner().invoke(args=["webhooks", "deliver"])
    assert result.exit_code == 0 and "sent 1 webhook" in result.output
    assert [p["request"]["title"] for p in acme.accepted()] == ["Cambiar bombillo", "Otra"]


def test_signatures_check_body_secret_and_time():
    body = '{"event":"request.filed"}'
    header = webhooks.signature_header("s3cret", 1_700_000_000, body)
    assert webhooks.verify("s3cret", header, body.encode(), now=1_700_000_100)
    assert not webhooks.verify("s3cret", header, body + " ", now=1_700_000_100)
    assert not webhooks.verify("other", header, body, now=1_700_000_100)
    assert not webhooks.verify("s3cret", header, body, now=1_700_000_301)  # too old
    assert not webhooks.verify("s3cret", header, body, now=1_699_999_699)  # from the future
    for bad in (None, "", "t=1700000000", header.split(",")[1], "t=abc," + header[13:]):
        assert not webhooks.verify("s3cret", bad, body, now=1_700_000_000)
    rotated = f"{header},v1={'0' * 64}"
    assert webhooks.verify("s3cret", rotated, body, now=1_700_000_000)


# -- admin pages ------------------------------------------------------------------------------

def test_tenant_admin_registers_an_endpoint_and_reads_its_log(demo, browser, receivers):
    acme = receivers()
    admin = browser("admin@acme.test")
    assert "/admin/webhooks" in html(admin.get("/admin/people"))  # in the administration menu
    assert admin.get("/admin/webhooks/new").status_code == 200
    response = admin.post("/admin/webhooks/new", {
        "url": acme.url, "description": "ERP", "events": ["request.filed", "ticket.assigned"]})
    assert response.status_code == 302
    endpoint = db.session.scalars(select(WebhookEndpoint)).one()
    assert response.headers["Location"].endswith(f"/admin/webhooks/{endpoint.id}")
    assert (endpoint.tenant_id, endpoint.events, endpoint.description, endpoint.active) == (
        user("admin@acme.test").tenant_id, ["request.filed", "ticket.assigned"], "ERP", True)
    assert len(endpoint.secret) >= 40
    acme.secret = endpoint.secret

    page = admin.get(f"/admin/webhooks/{endpoint.id}")
    assert endpoint.secret in html(page) and page.headers["Cache-Control"] == "no-store"
    assert acme.url in html(admin.get("/admin/webhooks"))

    file()
    deliver_due()
    [d] = deliveries()
    page = html(admin.get(f"/admin/webhooks/{endpoint.id}"))
    assert "request.filed" in page and d.idempotency_key in page and "/retry" not in page
    retry = admin.post(f"/admin/webhooks/{endpoint.id}/deliveries/{d.id}/retry")
    assert retry.status_code == 302 and deliveries()[0].status == "delivered"

    assert admin.post(f"/admin/webhooks/{endpoint.id}/active", {"active": "0"}).status_code == 302
    db.session.rollback()
    assert db.session.get(WebhookEndpoint, endpoint.id).active is False
    assert admin.post(f"/admin/webhooks/{endpoint.id}/active", {"active": "1"}).status_code == 302
    db.session.rollback()
    assert db.session.get(WebhookEndpoint, endpoint.id).active is True

    assert admin.post(f"/admin/webhooks/{endpoint.id}/delete").status_code == 302
    db.session.rollback()
    assert db.session.query(WebhookEndpoint).count() == 0 and deliveries() == []


@pytest.mark.parametrize("form", [
    {"url": "ftp://example.com/hook"},
    {"url": "javascript:alert(1)"},
    {"url": "file:///etc/passwd"},
    {"url": "example.com/hook"},
    {"url": "http://"},
    {"url": "https://user:pw@example.com/hook"},
    {"url": "https://exa mple.com/hook"},
    {"url": "https://example.com:99999/hook"},
    {"url": "https://example.com/" + "a" * 481},
    {"url": "https://example.com/hook", "events": []},
    {"url": "https://example.com/hook", "events": ["request.deleted"]},
])
def test_bad_endpoint_forms_are_refused(demo, browser, form):
    admin = browser("admin@acme.test")
    data = {"events": ["request.filed"], **form}
    response = admin.post("/admin/webhooks/new", data)
    assert response.status_code == 422
    assert 'class="field-error"' in html(response)
    assert db.session.query(WebhookEndpoint).count() == 0


@pytest.fixture
def endpoints(demo):
    """An endpoint with a failed delivery in each tenant: {slug: (endpoint id, delivery id)}."""
    out = {}
    for slug, by, requester in (("acme", "admin@acme.test", "ana@acme.test"),
                                ("globex", "director@globex.test", "pedro@globex.test")):
        endpoint = register(None, by=by, url=f"https://{slug}.example/hook")
        file(requester)
        d = db.session.scalars(select(OutboxMessage).where(
            WEBHOOKS, OutboxMessage.endpoint_id == endpoint.id)).one()
        d.status, d.attempts, d.last_error = "failed", 8, "HTTP 500: boom"
        db.session.commit()
        out[slug] = (endpoint.id, d.id)
    return out


def _routes(endpoint_id, delivery_id):
    base = f"/admin/webhooks/{endpoint_id}"
    return ([base], [f"{base}/active", f"{base}/delete",
                     f"{base}/deliveries/{delivery_id}/retry"])


def _state():
    db.session.rollback()
    return (sorted((e.id, e.active) for e in db.session.query(WebhookEndpoint)),
            sorted((d.id, d.status, d.attempts)
                   for d in db.session.query(OutboxMessage).filter(WEBHOOKS)))


@pytest.mark.parametrize("email", ["ana@acme.test", "director@acme.test",
                                   "jefe.finanzas@acme.test", "tecnico1@acme.test"])
def test_people_who_are_not_tenant_admins_get_404(endpoints, browser, email):
    client = browser(email)
    before = _state()
    assert "/admin/webhooks" not in html(client.get("/inbox"))
    gets, posts = _routes(*endpoints["acme"])
    for url in ["/admin/webhooks", "/admin/webhooks/new", *gets]:
        assert client.get(url).status_code == 404, url
    for url in ["/admin/webhooks/new", *posts]:
        assert client.post(url, {"url": "https://x.example/", "events": ["request.filed"],
                                 "active": "0"}).status_code == 404, url
    assert _state() == before


def test_another_tenants_endpoints_answer_404(endpoints, browser):
    admin = browser("admin@acme.test")
    before = _state()
    assert "globex.example" not in html(admin.get("/admin/webhooks"))
    gets, posts = _routes(*endpoints["globex"])
    for url in gets:
        assert admin.get(url).status_code == 404, url
    for url in posts:
        assert admin.post(url, {"active": "0"}).status_code == 404, url
    acme_endpoint, _ = endpoints["acme"]
    _, globex_delivery = endpoints["globex"]
    mixed = f"/admin/webhooks/{acme_endpoint}/deliveries/{globex_delivery}/retry"
    assert admin.post(mixed).status_code == 404
    assert _state() == before


def test_ids_out_of_range_answer_404(endpoints, browser):
    admin = browser("admin@acme.test")
    endpoint_id, _ = endpoints["acme"]
    huge = 2**31
    assert admin.get(f"/admin/webhooks/{huge}").status_code == 404
    assert admin.post(f"/admin/webhooks/{endpoint_id}/deliveries/{huge}/retry").status_code == 404
    assert admin.get(f"/admin/webhooks/{endpoint_id}?before={huge}").status_code == 200


def test_anonymous_visitors_are_sent_to_log_in(demo, browser):
    response = browser().get("/admin/webhooks")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_private_addresses_are_refused_unless_allowed(app, demo):
    from marshmallow import ValidationError

    from app.services import webhook_targets, webhooks

    admin = user("admin@acme.test")
    app.config["WEBHOOK_ALLOW_PRIVATE_NETWORKS"] = False
    try:
        for url in ("http://127.0.0.1:9/hook", "http://localhost/hook", "http://10.1.2.3/x",
                    "http://169.254.169.254/latest/meta-data", "http://[::1]/x"):
            with pytest.raises(ValidationError):
                webhooks.create_endpoint(admin, {"url": url, "events": ["request.filed"]})
        assert webhook_targets.private_address("192.168.1.10")
        assert not webhook_targets.private_address("93.184.215.14")
    finally:
        app.config["WEBHOOK_ALLOW_PRIVATE_NETWORKS"] = True
    db.session.rollback()


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_the_checked_address_is_the_one_called(app, monkeypatch, scheme):
    """DNS rebinding: a name answers a public address for the check and a loopback one a moment
    later. The send connects to the address that was checked, never to the second answer."""
    from app.services import webhooks

    real_getaddrinfo = socket.getaddrinfo
    answers = iter(["93.184.215.14"])

    def rebinding(host, *args, **kwargs):
        if host != "rebind.test":
            return real_getaddrinfo(host, *args, **kwargs)
        address = next(answers, "127.0.0.1")
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, 0))]

    called = []

    def refuse(target, *args, **kwargs):
        called.append(target)
        raise ConnectionRefusedError("test: no network")

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE_NETWORKS", False)
    monkeypatch.delenv(f"{scheme}_proxy", raising=False)
    claim = webhooks._Claim(1, 1, f"{scheme}://rebind.test:8443/hook", "s3cret", "request.filed",
                            "k" * 32, {"event": "request.filed"}, 1)
    outcome = webhooks._post(claim)
    assert called == [("93.184.215.14", 8443)]
    assert "no network" in outcome.error and not outcome.final  # retried later


def test_a_receiver_that_drips_its_answer_is_abandoned_at_the_deadline(demo, monkeypatch):
    """Headers arrive, then one byte a second: the send gives up at the deadline."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    stop = threading.Event()

    def drip():
        conn, _ = listener.accept()
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
        while not stop.is_set():
            try:
                conn.sendall(b"x")
            except OSError:
                break
            time.sleep(0.2)
        conn.close()

    threading.Thread(target=drip, daemon=True).start()
    monkeypatch.setattr(webhooks, "DEADLINE_SECONDS", 1)
    port = listener.getsockname()[1]
    endpoint = webhooks.create_endpoint(user("admin@acme.test"), {
        "url": f"http://127.0.0.1:{port}/hook", "events": ["request.filed"]})
    db.session.commit()
    file()
    started = time.monotonic()
    assert deliver_due() == 1
    assert time.monotonic() - started < 5
    # The abandoned sender does not live on reading the drip: its connection was cut.
    assert not [t for t in threading.enumerate()
                if t.name.startswith("webhook-") and t.is_alive()]
    stop.set()
    listener.close()
    db.session.rollback()
    delivery = db.session.scalars(select(OutboxMessage).where(WEBHOOKS).where(
        OutboxMessage.endpoint_id == endpoint.id)).one()
    assert delivery.status == "pending" and "within 1 s" in delivery.last_error


def test_an_automatic_close_is_announced_without_an_actor(demo, receivers):
    from app.services.background import run_due_timers

    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    receiver = receivers()
    with time_machine.travel(start, tick=False) as clock:
        req, _ = request_at("Task_Confirm")
        register(receiver, events=["request.closed"])
        clock.move_to(start + timedelta(days=8))
        assert run_due_timers() == 1
        assert deliver_due() == 1
    (payload,) = receiver.accepted()
    assert payload["event"] == "request.closed" and payload["actor"] is None
    assert payload["request"]["id"] == req.id and payload["request"]["ticket"]["status"] == "closed"
