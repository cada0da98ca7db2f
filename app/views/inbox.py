"""Inboxes per role: my tasks, the unit head's requests, the director's boards, my tickets."""

from flask import Blueprint, abort, flash, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app import policy
from app.extensions import db
from app.models import REQUEST_STATUSES, TICKET_STATUSES, Unit
from app.services import inbox
from app.services.requests import categories_for
from app.sla import display
from app.views.common import MAX_ID, scoped_get

bp = Blueprint("inbox", __name__)


def _int_arg(name):
    value = request.args.get(name, "")
    if not (value.isascii() and value.isdigit() and len(value) < 12):
        return None
    number = int(value)
    return number if 0 < number <= MAX_ID else None


def list_options(sorts: tuple[str, ...], default: str) -> dict:
    """The SLA filter (``sla``) and the order (``sort``) a list page was asked for. A value
    the page does not know is ignored, with a message saying so (never an error page)."""
    sla, sort = request.args.get("sla") or None, request.args.get("sort") or None
    if sla is not None and sla not in inbox.SLA_FILTERS:
        flash(_("The service-level filter was not understood and is not applied."), "info")
        sla = None
    if sort is not None and sort not in sorts:
        flash(_("The order asked for was not understood; the default order is shown."), "info")
        sort = None
    return {"sla": sla, "sort": sort or default}


def sla_context(options: dict, sorts: tuple[str, ...], requests) -> dict:
    """What a list template needs to show and pick the SLA filter and order."""
    return {"sla": inbox.time_left(requests), "list_options": {
        "sla_filter": options["sla"], "sort": options["sort"], "sla_filters": display.FILTERS,
        "sorts": [(code, display.SORT_LABELS[code]) for code in sorts]}}


@bp.route("/inbox")
@login_required
def tasks():
    options = list_options(inbox.TASK_SORTS, "sla")
    items = inbox.my_tasks(current_user, **options)
    waiting = {t.id: inbox.candidates(t) for t in items}
    return render_template("inbox/tasks.html", items=items, waiting=waiting,
                           **sla_context(options, inbox.TASK_SORTS, [t.request for t in items]))


@bp.route("/unit/requests")
@login_required
def unit_requests():
    heads = policy.headed_unit_ids(current_user)
    if not heads:
        abort(404)
    status = request.args.get("status") if request.args.get("status") in REQUEST_STATUSES else None
    unit_id = _int_arg("unit_id")
    if unit_id is not None and unit_id not in heads:
        abort(404)
    units = [db.session.get(Unit, uid) for uid in sorted(heads)]
    options = list_options(inbox.REQUEST_SORTS, "newest")
    items = inbox.list_requests(current_user, status=status, unit_ids=sorted(heads),
                                unit_id=unit_id, q=request.args.get("q"), **options)
    return render_template("inbox/unit_requests.html", items=items, units=units,
                           status=status, unit_id=unit_id, statuses=REQUEST_STATUSES,
                           **sla_context(options, inbox.REQUEST_SORTS, items))


def _directed_unit():
    directs = sorted(policy.directed_unit_ids(current_user))
    if not directs:
        abort(404)
    chosen = _int_arg("service_unit_id") or directs[0]
    if chosen not in directs:
        abort(404)
    return scoped_get(Unit, chosen), [scoped_get(Unit, d) for d in directs]


@bp.route("/director/requests")
@login_required
def director_requests():
    unit, units = _directed_unit()
    status = request.args.get("status") if request.args.get("status") in REQUEST_STATUSES else None
    options = list_options(inbox.REQUEST_SORTS, "sla")
    items = inbox.list_requests(current_user, status=status, service_unit_id=unit.id,
                                q=request.args.get("q"), **options)
    return render_template("inbox/director_requests.html", items=items, unit=unit, units=units,
                           status=status, statuses=REQUEST_STATUSES,
                           **sla_context(options, inbox.REQUEST_SORTS, items))


@bp.route("/director/tickets")
@login_required
def director_tickets():
    unit, units = _directed_unit()
    status = request.args.get("status") if request.args.get("status") in TICKET_STATUSES else None
    filters = {
        "status": status,
        "worker_id": _int_arg("worker_id"),
        "category_id": _int_arg("category_id"),
        "overdue": request.args.get("overdue") == "1",
    }
    options = list_options(inbox.TICKET_SORTS, "planned_end")
    items = inbox.list_tickets(current_user, service_unit_id=unit.id, **filters, **options)
    workers = [row["worker"] for row in inbox.workload(current_user, unit.id)]
    return render_template("inbox/director_tickets.html", items=items, unit=unit, units=units,
                           filters=filters, statuses=TICKET_STATUSES, workers=workers,
                           categories=categories_for(current_user.tenant_id),
                           **sla_context(options, inbox.TICKET_SORTS, [t.request for t in items]))


@bp.route("/director/workload")
@login_required
def workload():
    unit, units = _directed_unit()
    return render_template("inbox/workload.html", board=inbox.workload(current_user, unit.id),
                           unit=unit, units=units)


@bp.route("/my/tickets")
@login_required
def my_tickets():
    if not current_user.has_role("worker"):
        abort(404)
    show_all = request.args.get("all") == "1"
    options = list_options(inbox.TICKET_SORTS, "resolution")
    items = inbox.list_tickets(current_user, mine_only=True, open_only=not show_all, **options)
    return render_template("inbox/my_tickets.html", items=items, show_all=show_all,
                           **sla_context(options, inbox.TICKET_SORTS, [t.request for t in items]))
