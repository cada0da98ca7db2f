"""Logs: plain text by default; with ``LOG_FORMAT=json`` one JSON object per line, and one line
per web request (method, path, status, duration, tenant, user, request id)."""

import json
import logging
import sys
from datetime import UTC, datetime

from flask import g, has_request_context

REQUEST_LOG = logging.getLogger("mesa.request")


class JsonFormatter(logging.Formatter):
    """``{"ts", "level", "logger", "msg", ...fields, "request_id", "exc"}`` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update(getattr(record, "fields", None) or {})
        if "request_id" not in entry and has_request_context() and g.get("request_id"):
            entry["request_id"] = g.request_id
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class _JsonHandler(logging.StreamHandler):
    """Ours, so configuring twice (several apps in one process) replaces instead of adding."""


def json_handler() -> logging.Handler:
    handler = _JsonHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    return handler


def configure(app) -> None:
    """Install the JSON formatter on the root logger (and gunicorn's) when LOG_FORMAT=json."""
    if app.config["LOG_FORMAT"] != "json":
        return
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _JsonHandler)]:
        root.removeHandler(handler)
    root.addHandler(json_handler())
    root.setLevel(app.config["LOG_LEVEL"])
    # gunicorn's own messages (start, worker exits) keep its handlers, in the same format.
    for handler in logging.getLogger("gunicorn.error").handlers:
        handler.setFormatter(JsonFormatter())
    app.logger.handlers.clear()  # Flask's default handler would print each record again
    app.logger.propagate = True


def request_line(fields: dict) -> None:
    REQUEST_LOG.info("%s %s %s", fields["method"], fields["path"], fields["status"],
                     extra={"fields": fields})
