"""Names of the indicators' keys, for people: the figures' JSON carries keys only
(``filed``, ``authorization``, ``lt_1d``...), pages and exports name them in the reader's
language. Statuses and the SLA kinds are named in ``app.labels`` (STATUS, SLA_TARGET)."""

from flask_babel import lazy_gettext as _l

# volumes: how many requests went through each event in a bucket of the period
VOLUME = {
    "filed": _l("Filed requests"),
    "authorized": _l("Authorized"),
    "rejected_by_head": _l("Rejected by the unit head"),
    "rejected_by_director": _l("Rejected by the director"),
    "returned": _l("Returned for information"),
    "approved": _l("Approved"),
    "completed": _l("Completed"),
    "cancelled": _l("Cancelled"),
}

RATE = {
    "authorization": _l("Authorization"),
    "approval": _l("Approval"),
    "return": _l("Return for information"),
    "rejection_by_head": _l("Rejection by the unit head"),
    "rejection_by_director": _l("Rejection by the director"),
    "reopen": _l("Reopened work"),
}

# the stages of app.indicators.stages, each from one milestone to the next
STAGE = {
    "authorization": _l("Authorization"),
    "evaluation": _l("Evaluation"),
    "assignment": _l("Assignment"),
    "start": _l("Start of work"),
    "work": _l("Work"),
    "confirmation": _l("Confirmation"),
    "resolution": _l("Whole service"),
}
STAGE_SPAN = {
    "authorization": _l("filing → the unit head's decision"),
    "evaluation": _l("authorization → the director's decision"),
    "assignment": _l("approval → a worker assigned"),
    "start": _l("assignment → work started"),
    "work": _l("work started → finished"),
    "confirmation": _l("finished → confirmed by the requester"),
    "resolution": _l("filing → work finished"),
}

# how long open requests have been waiting
BAND = {
    "lt_1d": _l("Under 1 day"),
    "1_3d": _l("1 to 3 days"),
    "3_7d": _l("3 to 7 days"),
    "7_30d": _l("7 to 30 days"),
    "gt_30d": _l("Over 30 days"),
}

# how trends are grouped (Filters.bucket)
BUCKET = {"day": _l("Day"), "week": _l("Week starting"), "month": _l("Month")}
