"""Who is alerted at once, by severity, when a security incident is triaged.

The company keeps a mapping severity -> recipients in its settings (``security_alerts``);
a recipient is a role of the request (``requester``, ``unit_head``, ``service_director``,
``worker``) or of the company (``tenant_admin``), or a team (``team:security``,
``app.teams``). The service operation ``alert_by_severity`` reads it and writes one notice per
person through ``app.notifications`` (in-app, and one outbox message per channel they chose:
sent after commit, once, whatever the number of runners), with one history entry.
"""

from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from marshmallow import ValidationError
from sqlalchemy import select

from app import policy
from app.admin import audit
from app.extensions import db
from app.handlers.base import OperationContext
from app.handlers.operations import OperationError
from app.models import Membership, ServiceRequest, Tenant, User
from app.notifications import notices
from app.services import history, org

SETTING = "security_alerts"
SEVERITIES = ("low", "medium", "high", "critical")
SEVERITY_LABELS = {
    "low": _l("Low"), "medium": _l("Medium"), "high": _l("High"), "critical": _l("Critical"),
}
ROLES = ("requester", "unit_head", "service_director", "worker", "tenant_admin")
TEAM_PREFIX = "team:"
MAX_RECIPIENTS = 10  # per severity
DEFAULT_MAPPING = {
    "low": ["team:security"],
    "medium": ["team:security", "service_director"],
    "high": ["team:security", "service_director", "tenant_admin"],
    "critical": ["team:security", "service_director", "tenant_admin", "unit_head"],
}


def mapping(tenant: Tenant) -> dict[str, list[str]]:
    """The company's mapping, each severity it did not set taking the product's default."""
    kept = (tenant.settings or {}).get(SETTING) or {}
    return {s: list(kept.get(s, DEFAULT_MAPPING[s])) for s in SEVERITIES}


def _valid_recipient(value) -> bool:
    if not isinstance(value, str):
        return False
    if value.startswith(TEAM_PREFIX):
        from app.teams.service import valid_key

        return valid_key(value[len(TEAM_PREFIX):])
    return value in ROLES


def clean(values) -> dict[str, list[str]]:
    """A mapping as sent (severity -> list of recipients; severities not sent keep theirs);
    raises ValidationError naming the severity at fault."""
    if not isinstance(values, dict):
        raise ValidationError({"_schema": [str(_l("Send an object: severity -> recipients."))]})
    if len(values) > len(SEVERITIES):
        raise ValidationError({"_schema": [str(_l("Send only these severities: %(names)s.",
                                                  names=", ".join(SEVERITIES)))]})
    errors, cleaned = {}, {}
    for severity, recipients in values.items():
        if severity not in SEVERITIES:
            errors[str(severity)[:40]] = [str(_l("Unknown severity."))]
            continue
        if isinstance(recipients, str):
            recipients = [r.strip() for r in recipients.split(",")]
        if not isinstance(recipients, list) or len(recipients) > MAX_RECIPIENTS:
            errors[severity] = [ngettext("A list of at most %(num)s recipient.",
                                         "A list of at most %(num)s recipients.",
                                         MAX_RECIPIENTS)]
            continue
        recipients = [r for r in recipients if r != ""]
        bad = [r for r in recipients if not _valid_recipient(r)]
        if bad:
            errors[severity] = [str(_l(
                "Unknown recipient %(value)s: a role (%(roles)s) or team:<key>.",
                value=str(bad[0])[:60], roles=", ".join(ROLES)))]
            continue
        cleaned[severity] = list(dict.fromkeys(recipients))
    if errors:
        raise ValidationError(errors)
    return cleaned


def save(user: User, values) -> dict[str, list[str]]:
    """Change the company's mapping (the severities sent), audited; only flushes."""
    tenant = db.session.get(Tenant, user.tenant_id)
    cleaned = clean(values)
    before = mapping(tenant)
    after = {**before, **cleaned}
    if after != before:
        tenant.settings = {**(tenant.settings or {}), SETTING: after}
        audit.record(tenant.id, user, "security_alerts.changed", "tenant", tenant.id,
                     target_label=tenant.name, before=before, after=after)
        db.session.flush()
    return after


def _role_holders(req: ServiceRequest, role: str) -> list[int]:
    if role == "requester":
        return [req.requester_id]
    if role == "unit_head":
        unit_id = org.authorizing_unit_id(req)
        return org.heads_of(req.tenant_id, unit_id) if unit_id else []
    if role == "worker":
        ticket = req.ticket
        return [ticket.worker_id, *(h.id for h in ticket.helpers)] if ticket else []
    stmt = select(Membership.user_id).where(Membership.tenant_id == req.tenant_id,
                                            Membership.role == role)
    if role == "service_director":
        stmt = stmt.where(Membership.unit_id == req.service_unit_id)
    return list(db.session.scalars(stmt))


def recipients(req: ServiceRequest, severity: str) -> list[int]:
    """The active people of the company the mapping names for ``severity``, sorted by id:
    role holders among those who may see the request, and the named teams' members (the
    responders: their tasks on the request let them see it)."""
    from app.teams import service as teams

    tenant = db.session.get(Tenant, req.tenant_id)
    chosen: set[int] = set()
    for recipient in mapping(tenant)[severity]:
        if recipient.startswith(TEAM_PREFIX):
            chosen.update(teams.member_ids(req.tenant_id, recipient[len(TEAM_PREFIX):]))
            continue
        for person in _active(req.tenant_id, _role_holders(req, recipient)):
            if policy.can_view_request(person, req):
                chosen.add(person.id)
    return [p.id for p in _active(req.tenant_id, chosen)]


def _active(tenant_id: int, ids) -> list[User]:
    ids = sorted({i for i in ids if i is not None})
    if not ids:
        return []
    return list(db.session.scalars(select(User).where(
        User.tenant_id == tenant_id, User.active.is_(True), User.id.in_(ids))
        .order_by(User.id)))


def severity_of(operation: str, params: dict, data: dict) -> str:
    """The incident's severity for a service operation: its parameter ``severity``, else the
    task data's; OperationError (the operation named) when it is not one of SEVERITIES."""
    severity = params.get("severity") if params.get("severity") is not None \
        else data.get("severity")
    if severity not in SEVERITIES:
        raise OperationError(f"{operation}: severity must be one of "
                             f"{', '.join(SEVERITIES)}, not {str(severity)[:40]!r}")
    return severity


def alert_by_severity(ctx: OperationContext, params: dict, data: dict) -> dict:
    """Alert at once those the company's mapping names for the incident's severity (the
    parameter ``severity``, else the task data's); one history entry, one notice a person."""
    req = ctx.request
    severity = severity_of("alert_by_severity", params, data)
    people = recipients(req, severity)
    entry = history.record(req, "severity_alert", None,
                           changes={"severity": severity, "recipients": len(people)})
    if people:
        notices.announce(notices.Notice(
            "security.alert", req, people, cause=entry,
            values={"severity": severity}))
    return {"severity": severity, "alerted": len(people)}


OPERATIONS = {"alert_by_severity": alert_by_severity}
RESULT_SAMPLES = {
    "alert_by_severity": tuple({"severity": s, "alerted": n} for s in SEVERITIES
                               for n in (0, 1)),
}
