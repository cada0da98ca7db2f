"""/healthz and /metrics: for load balancers and Prometheus; no login, no session, no CSRF."""

import hmac
import ipaddress

from flask import Blueprint, Response, current_app, jsonify, request

from app.ops import health, metrics

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz():
    """200 when the database (and the broker, if configured) answer; 503 naming what failed."""
    errors = {}
    database_error = health.check_database()
    if database_error:
        errors["database"] = database_error
    broker_url = current_app.config["CELERY_BROKER_URL"]
    broker = "disabled"
    if broker_url:
        broker_error = health.check_broker(broker_url)
        broker = "error" if broker_error else "ok"
        if broker_error:
            errors["broker"] = broker_error
    body = {"status": "unavailable" if errors else "ok",
            "database": "error" if database_error else "ok", "broker": broker}
    if errors:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = 503 if errors else 200
    response.headers["Cache-Control"] = "no-store"
    return response


def _loopback(address: str | None) -> bool:
    try:
        return ipaddress.ip_address(address or "").is_loopback
    except ValueError:
        return False


@bp.get("/metrics")
def metrics_view():
    """Prometheus text format. With METRICS_TOKEN set, only for ``Authorization: Bearer
    <token>``; without it, only for clients on this machine (loopback)."""
    token = current_app.config["METRICS_TOKEN"]
    if token:
        sent = request.headers.get("Authorization", "")
        if not hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
            return Response("A bearer token is needed (METRICS_TOKEN).\n", 401,
                            {"WWW-Authenticate": "Bearer", "Content-Type": "text/plain"})
    elif not _loopback(request.remote_addr):
        return Response("Only from this machine; set METRICS_TOKEN to allow others.\n", 403,
                        {"Content-Type": "text/plain"})
    return Response(metrics.render(), 200, {
        "Content-Type": "text/plain; version=0.0.4; charset=utf-8", "Cache-Control": "no-store"})
