"""Errors under /api/ are JSON problem details (RFC 9457), never an HTML page."""

from flask import jsonify, request
from marshmallow import Schema, fields
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

API_PREFIX = "/api/"
PROBLEM_JSON = "application/problem+json"


class ProblemSchema(Schema):
    """The body of every error answer of the API."""

    type = fields.String(metadata={"example": "about:blank"})
    title = fields.String(metadata={"example": "Unprocessable Entity"})
    status = fields.Integer(metadata={"example": 422})
    detail = fields.String(metadata={"example": "The data sent is not valid."})
    errors = fields.Dict(
        keys=fields.String(), values=fields.List(fields.String()),
        metadata={"description": "Field name -> messages, for invalid data"})


# Keyword arguments for blp.alt_response: an error documented as it is sent.
problem_doc = {"schema": ProblemSchema, "content_type": PROBLEM_JSON}


def is_api_request() -> bool:
    return request.path.startswith(API_PREFIX)


def problem(status: int, detail: str | None = None, errors: dict | None = None, headers=None):
    body = {"type": "about:blank", "title": HTTP_STATUS_CODES.get(status, "Error"),
            "status": status}
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = _flatten(errors)
    response = jsonify(body)
    response.status_code = status
    response.content_type = PROBLEM_JSON
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def _flatten(errors) -> dict:
    """webargs nests messages by location ({"json": {...}}); callers want fields."""
    if (isinstance(errors, dict) and set(errors) <= {"json", "query", "form", "path", "headers"}
            and all(isinstance(v, dict) for v in errors.values())):  # not a field named so
        merged = {}
        for value in errors.values():
            merged.update(_flatten(value))
        return merged
    flat = {}
    for key, value in (errors or {}).items():
        if isinstance(value, dict):
            for sub, messages in _flatten(value).items():
                flat[f"{key}.{sub}"] = messages
        else:
            flat[str(key)] = [str(v) for v in (value if isinstance(value, list) else [value])]
    return flat


def from_http_exception(error: HTTPException):
    data = getattr(error, "data", None) or {}
    errors = data.get("messages") or data.get("errors")
    detail = data.get("message") or error.description
    if errors and error.code == 422:
        detail = "The data sent is not valid."
    return problem(error.code or 500, detail, errors)


def problem_responses(blp, descriptions: dict, always: tuple = ()):
    """The decorator factory every API module documents its problem answers with:
    ``doc(403, 422)`` adds those statuses (and ``always``) to a view of ``blp``, each with its
    description from ``descriptions``."""
    def doc(*statuses):
        def decorate(view):
            for status in sorted({*always, *statuses}, reverse=True):
                view = blp.alt_response(status, **problem_doc,
                                        description=descriptions[status])(view)
            return view

        return decorate

    return doc
