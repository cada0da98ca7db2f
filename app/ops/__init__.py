"""Operations: health check, Prometheus metrics, structured request logs.

``init_app`` is called first thing by ``create_app``, so the request timer starts before any
other hook runs and stops after all of them.
"""

import logging
import re
import time
import uuid

from flask import Flask, current_app, g, request

from app.ops import logs, metrics

REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")


def _start() -> None:
    g.request_started = time.perf_counter()
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if REQUEST_ID_RE.match(incoming) else uuid.uuid4().hex


def _who() -> tuple[int | None, int | None]:
    """(tenant id, user id) of the caller, as noted when this request loaded them: never a
    query (after a commit or a rollback the user row is expired, and reading it would query a
    database that may just have failed)."""
    return g.get("who") or (None, None)


def _finish(response):
    started = g.get("request_started")
    if started is None:  # a request that failed before the first hook
        return response
    seconds = time.perf_counter() - started
    endpoint = request.endpoint or "unmatched"
    metrics.HTTP_LATENCY.labels(request.method, endpoint, str(response.status_code)).observe(
        seconds)
    response.headers.setdefault("X-Request-ID", g.request_id)
    if current_app.config["LOG_FORMAT"] == "json" and logs.REQUEST_LOG.isEnabledFor(logging.INFO):
        tenant_id, user_id = _who()
        logs.request_line({
            # a page whose address holds a secret (a reset link) names it without (g.log_path)
            "method": request.method, "path": g.get("log_path") or request.path,
            "status": response.status_code,
            "duration_ms": round(seconds * 1000, 2), "tenant_id": tenant_id,
            "user_id": user_id, "request_id": g.request_id,
        })
    return response


def init_app(app: Flask) -> None:
    logs.configure(app)
    metrics.install_session_hooks()
    app.before_request(_start)
    app.after_request(_finish)

    from app.ops.views import bp

    app.register_blueprint(bp)
