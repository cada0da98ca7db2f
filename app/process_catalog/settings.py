"""A tenant's priority matrix and escalation times, kept in its settings JSON. Only flushes:
the view commits."""

import copy

from app.admin import audit
from app.models import Tenant
from app.process_catalog import matrix

MATRIX_KEY = "incident_priority_matrix"
ESCALATION_KEY = "incident_escalation_after"


def current(tenant: Tenant) -> dict:
    """``{"matrix": impact -> urgency -> priority, "escalation_after": priority -> duration,
    "is_default": bool}``: the tenant's own, or the product's defaults where it has none (a
    stored value that no longer checks out falls back to the default too)."""
    stored = tenant.settings or {}
    try:
        table = matrix.clean_matrix(stored[MATRIX_KEY])
    except (KeyError, matrix.MatrixError):
        table = copy.deepcopy(matrix.DEFAULT_MATRIX)
    try:
        escalation = matrix.clean_escalation(stored[ESCALATION_KEY])
    except (KeyError, matrix.MatrixError):
        escalation = dict(matrix.DEFAULT_ESCALATION)
    return {"matrix": table, "escalation_after": escalation,
            "is_default": table == matrix.DEFAULT_MATRIX
            and escalation == matrix.DEFAULT_ESCALATION}


def apply(actor, tenant: Tenant, raw_matrix=None, raw_escalation=None) -> bool:
    """Check and store what was sent (either part may be None: left as it is); raises
    ``matrix.MatrixError`` with every problem and changes nothing then. Audited; False when
    nothing changed."""
    before = current(tenant)
    problems, changed = {}, {}
    for key, raw, clean, now in (
            (MATRIX_KEY, raw_matrix, matrix.clean_matrix, before["matrix"]),
            (ESCALATION_KEY, raw_escalation, matrix.clean_escalation,
             before["escalation_after"])):
        if raw is None:
            continue
        try:
            value = clean(raw)
        except matrix.MatrixError as exc:
            problems.update({f"{key}.{k}": v for k, v in exc.problems.items()})
            continue
        if value != now:
            changed[key] = value
    if problems:
        raise matrix.MatrixError(problems)
    if not changed:
        return False
    tenant.settings = {**(tenant.settings or {}), **changed}
    olds = {MATRIX_KEY: before["matrix"], ESCALATION_KEY: before["escalation_after"]}
    audit.record(tenant.id, actor, "settings.changed", "tenant", tenant.id,
                 target_label=tenant.name, before={k: olds[k] for k in changed}, after=changed)
    return True
