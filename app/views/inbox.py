"""Inboxes per role: my tasks, the unit head's requests, the director's boards, my tickets.
Every list pages and sorts (``app.views.listing``, ``app.services.paging``)."""

from flask import Blueprint, abort, render_template, request
from flask_login import current_user, login_required

from app import policy
from app.extensions import db
from app.models import REQUEST_STATUSES, TICKET_STATUSES, Unit
from app.services import inbox
from app.services.requests import categories_for
from app.views import listing
from app.views.common import MAX_ID, scoped_get
from app.views.listing import list_context, list_options, page_args

bp = Blueprint("inbox", __name__)
bp.record_once(listing.register)


def _int_arg(name):
    value = request.args.get(name, "")
    if not (value.isascii() and value.isdigit() and len(value) < 12):
        return None
    number = int(value)
    return number if 0 < number <= MAX_ID else None


@bp.route("/inbox")
@login_required
def tasks():
    options = list_options(inbox.TASK_ORDERS, "sla")
    page = inbox.task_page(current_user, page_args(), **options)
    waiting = {t.id: inbox.candidates(t) for t in page.items}
    return render_template("inbox/tasks.html", items=page.items, waiting=waiting,
                           **list_context(options, inbox.TASK_ORDERS, page,
                                          [t.request for t in page.items]))


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
    options = list_options(inbox.REQUEST_ORDERS, "newest")
    page = inbox.request_page(current_user, page_args(), status=status, unit_ids=sorted(heads),
                              unit_id=unit_id, q=request.args.get("q"), **options)
    return render_template("inbox/unit_requests.html", items=page.items, units=units,
                           status=status, unit_id=unit_id, statuses=REQUEST_STATUSES,
                           **list_context(options, inbox.REQUEST_ORDERS, page, page.items))


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
    options = list_options(inbox.REQUEST_ORDERS, "sla")
    page = inbox.request_page(current_user, page_args(), status=status,
                              service_unit_id=unit.id, q=request.args.get("q"), **options)
    return render_template("inbox/director_requests.html", items=page.items, unit=unit,
                           units=units, status=status, statuses=REQUEST_STATUSES,
                           **list_context(options, inbox.REQUEST_ORDERS, page, page.items))


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
    options = list_options(inbox.TICKET_ORDERS, "planned_end")
    page = inbox.ticket_page(current_user, page_args(), service_unit_id=unit.id, **filters,
                             **options)
    workers = [row["worker"] for row in inbox.workload(current_user, unit.id)]
    return render_template("inbox/director_tickets.html", items=page.items, unit=unit,
                           units=units, filters=filters, statuses=TICKET_STATUSES,
                           workers=workers, categories=categories_for(current_user.tenant_id),
                           **list_context(options, inbox.TICKET_ORDERS, page,
                                          [t.request for t in page.items]))


@bp.route("/director/workload")
@login_required
def workload():
    unit, units = _directed_unit()
    return render_template("inbox/workload.html", board=inbox.workload(current_user, unit.id),
                           unit=unit, units=units)


@bp.route("/my/tickets")
@login_required
def my_tickets():
    """The tickets the worker works on or helps with (helpers' marked as such)."""
    if not current_user.has_role("worker"):
        abort(404)
    show_all = request.args.get("all") == "1"
    options = list_options(inbox.TICKET_ORDERS, "resolution")
    page = inbox.ticket_page(current_user, page_args(), mine_only=True,
                             open_only=not show_all, **options)
    return render_template("inbox/my_tickets.html", items=page.items, show_all=show_all,
                           **list_context(options, inbox.TICKET_ORDERS, page,
                                          [t.request for t in page.items]))
