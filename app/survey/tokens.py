"""The survey link's token: the tenant, request and task it answers and when it was made,
signed with the app's SECRET_KEY (itsdangerous, its own salt, so no other token of the app
passes for one). Pure: no database."""

from dataclasses import dataclass
from datetime import UTC, datetime

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

SALT = "mesa-survey-link"
MAX_TOKEN = 300  # characters; ours are about 90


class BadToken(ValueError):
    """Not a token we made (tampered, cut, another secret's)."""


@dataclass(frozen=True)
class Claim:
    tenant_id: int
    request_id: int
    task_id: int
    issued_at: datetime


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def make(tenant_id: int, request_id: int, task_id: int, issued_at: datetime) -> str:
    return _serializer().dumps([int(tenant_id), int(request_id), int(task_id),
                                int(issued_at.timestamp())])


def read(token: str) -> Claim:
    """The claim a token carries; raises BadToken."""
    if not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN:
        raise BadToken(token)
    try:
        data = _serializer().loads(token)
    except BadSignature:
        raise BadToken(token) from None
    if (not isinstance(data, list) or len(data) != 4
            or not all(type(v) is int and 0 < v < 2**62 for v in data)):
        raise BadToken(token)
    tenant_id, request_id, task_id, issued = data
    if not all(v < 2**31 for v in (tenant_id, request_id, task_id)):
        raise BadToken(token)
    try:
        issued_at = datetime.fromtimestamp(issued, UTC)
    except (OverflowError, OSError, ValueError):
        raise BadToken(token) from None
    return Claim(tenant_id, request_id, task_id, issued_at)
