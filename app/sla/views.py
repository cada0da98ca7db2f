"""Service level pages under /sla: business calendars and SLA targets. Tenant admins edit them;
directors read them (what their units are measured by); anyone else finds nothing (404). Thin:
load by the person's company and id, check with ``app.policy``, call ``calendars`` /
``targets``, commit once."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from app import policy
from app.api.common import paginate
from app.extensions import db, login_manager
from app.models import PRIORITIES, Tenant
from app.sla import calendars, targets
from app.sla import clock as clk
from app.sla.calendar import WEEKDAYS
from app.sla.calendars import Refused
from app.sla.models import BusinessCalendar, SlaTarget

bp = Blueprint("sla", __name__, url_prefix="/sla", template_folder="templates")
PER_PAGE = 25
TARGETS_PER_PAGE = 50


@bp.before_request
def _readers_only():
    """Log in first; who may not read the service levels finds nothing here (404)."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not policy.can_view_sla_settings(current_user):
        abort(404)
    return None


@bp.context_processor
def _labels():
    return {"weekdays": WEEKDAYS, "weekday_labels": calendars.WEEKDAY_LABELS,
            "kind_labels": targets.KIND_LABELS, "kind_help": targets.KIND_HELP,
            "duration": calendars.duration_text,
            "can_manage": policy.can_manage_sla(current_user)}


def _managers_only() -> None:
    if not policy.can_manage_sla(current_user):
        abort(403)


def _no_store(page, status=200):
    return page, status, {"Cache-Control": "no-store"}


def _page_arg() -> int:
    value = request.args.get("page", type=int)
    return value if value is not None and 1 <= value <= 100_000 else 1


def _tenant() -> Tenant:
    return db.session.get(Tenant, current_user.tenant_id)


@bp.get("")
def index():
    return redirect(url_for("sla.targets_index"))


# --- calendars ---------------------------------------------------------------------------

def _calendar_or_404(calendar_id: int) -> BusinessCalendar:
    row = calendars.find(current_user, calendar_id, to_change=request.method == "POST")
    if row is None:
        abort(404)
    return row


@bp.get("/calendars")
def calendars_index():
    found = paginate(calendars.search(current_user.tenant_id),
                     {"page": _page_arg(), "per_page": PER_PAGE})
    return _no_store(render_template("sla/calendars.html", found=found,
                                     week_hours=calendars.week_hours))


@bp.get("/calendars/<int:calendar_id>")
def calendar_detail(calendar_id: int):
    row = _calendar_or_404(calendar_id)
    return _no_store(render_template(
        "sla/calendar.html", calendar=row, holidays=calendars.holiday_lines(row),
        week_hours=calendars.week_hours(row)))


def _calendar_editor(row: BusinessCalendar | None, values: dict, errors=None, status=200):
    return _no_store(render_template(
        "sla/calendar_form.html", calendar=row, values=values, errors=errors or {},
        zones=calendars.zone_names()), status)


def _calendar_refused(row: BusinessCalendar | None, exc: Refused):
    db.session.rollback()
    if row is not None:
        db.session.refresh(row)
    typed = {key: request.form.get(key, "") for key in (
        "name", "time_zone", "holidays", *(f"week_{day}" for day in WEEKDAYS))}
    return _calendar_editor(row, typed, exc.errors, 422)


@bp.route("/calendars/new", methods=["GET", "POST"])
def calendar_new():
    _managers_only()
    if request.method == "GET":
        return _calendar_editor(None, calendars.form_values(None, _tenant()))
    try:
        row = calendars.create(current_user, calendars.read_form(request.form))
    except Refused as exc:
        return _calendar_refused(None, exc)
    db.session.commit()
    flash(_("The calendar was created.") if not row.is_default
          else _("The calendar was created; it is the company's default."), "success")
    return redirect(url_for("sla.calendar_detail", calendar_id=row.id))


@bp.route("/calendars/<int:calendar_id>/edit", methods=["GET", "POST"])
def calendar_edit(calendar_id: int):
    _managers_only()
    row = _calendar_or_404(calendar_id)
    if request.method == "GET":
        return _calendar_editor(row, calendars.form_values(row, _tenant()))
    try:
        changed = calendars.update(current_user, row, calendars.read_form(request.form))
    except Refused as exc:
        return _calendar_refused(row, exc)
    db.session.commit()
    if not changed:
        flash(_("Nothing changed."), "success")
    elif any(name in calendars.CLOCK_FIELDS for name in changed):
        flash(_("The calendar was saved; the clocks of the open requests measured by it "
                "will be recomputed."), "success")
    else:
        flash(_("The calendar was saved."), "success")
    return redirect(url_for("sla.calendar_detail", calendar_id=row.id))


@bp.post("/calendars/<int:calendar_id>/default")
def calendar_default(calendar_id: int):
    _managers_only()
    row = _calendar_or_404(calendar_id)
    changed = calendars.make_default(current_user, row)
    db.session.commit()
    flash(_("%(name)s is now the default calendar.", name=row.name) if changed
          else _("Nothing changed."), "success")
    return redirect(url_for("sla.calendars_index"))


@bp.route("/calendars/<int:calendar_id>/delete", methods=["GET", "POST"])
def calendar_delete(calendar_id: int):
    _managers_only()
    row = _calendar_or_404(calendar_id)
    if request.method == "GET":
        return _no_store(render_template("sla/calendar_delete.html", calendar=row,
                                         reasons=calendars.refusals(row)))
    try:
        calendars.delete(current_user, row)
    except Refused as exc:
        db.session.rollback()
        return _no_store(render_template("sla/calendar_delete.html", calendar=row,
                                         reasons=exc.errors["_schema"]), 409)
    db.session.commit()
    flash(_("The calendar was deleted."), "success")
    return redirect(url_for("sla.calendars_index"))


# --- targets -----------------------------------------------------------------------------

def _target_or_404(target_id: int) -> SlaTarget:
    row = targets.find(current_user, target_id, to_change=request.method == "POST")
    if row is None:
        abort(404)
    return row


@bp.get("/targets")
def targets_index():
    kind = request.args.get("kind") if request.args.get("kind") in clk.KINDS else None
    found = paginate(targets.search(current_user.tenant_id, kind),
                     {"page": _page_arg(), "per_page": TARGETS_PER_PAGE}, model=SlaTarget,
                     load=targets.LIST_LOAD)
    return _no_store(render_template(
        "sla/targets.html", found=found, kind=kind,
        has_calendar=calendars.default_of(current_user.tenant_id) is not None))


def _target_editor(row: SlaTarget | None, values: dict, errors=None, status=200):
    tenant_id = current_user.tenant_id
    return _no_store(render_template(
        "sla/target_form.html", target=row, values=values, errors=errors or {},
        categories=targets.categories(tenant_id), priorities=PRIORITIES,
        calendars=calendars.all_of(tenant_id), kinds=clk.KINDS,
        request_pauses=clk.PAUSABLE_REQUEST_STATUSES,
        ticket_pauses=clk.PAUSABLE_TICKET_STATUSES), status)


def _target_refused(row: SlaTarget | None, exc: Refused):
    db.session.rollback()
    if row is not None:
        db.session.refresh(row)
    return _target_editor(row, targets.typed_values(request.form), exc.errors, 422)


def _saved_message(flagged: int | None) -> str:
    if flagged is None:
        return _("Open requests keep the terms they were filed with.")
    return ngettext("%(num)s open request will be measured again by the targets that "
                    "match it now.",
                    "%(num)s open requests will be measured again by the targets that "
                    "match them now.", flagged)


@bp.route("/targets/new", methods=["GET", "POST"])
def target_new():
    _managers_only()
    if request.method == "GET":
        return _target_editor(None, targets.form_values(
            None, calendars.default_of(current_user.tenant_id)))
    try:
        _row, flagged = targets.create(current_user, targets.read_form(request.form))
    except Refused as exc:
        return _target_refused(None, exc)
    db.session.commit()
    flash(_("The target was created.") + " " + _saved_message(flagged), "success")
    return redirect(url_for("sla.targets_index"))


@bp.route("/targets/<int:target_id>/edit", methods=["GET", "POST"])
def target_edit(target_id: int):
    _managers_only()
    row = _target_or_404(target_id)
    if request.method == "GET":
        return _target_editor(row, targets.form_values(row, None))
    try:
        changed, flagged = targets.update(current_user, row, targets.read_form(request.form))
    except Refused as exc:
        return _target_refused(row, exc)
    db.session.commit()
    if changed or flagged is not None:
        saved = _("The target was saved.") if changed else ""
        flash(" ".join(filter(None, (saved, _saved_message(flagged)))), "success")
    else:
        flash(_("Nothing changed."), "success")
    return redirect(url_for("sla.targets_index"))


@bp.route("/targets/<int:target_id>/delete", methods=["GET", "POST"])
def target_delete(target_id: int):
    _managers_only()
    row = _target_or_404(target_id)
    if request.method == "GET":
        return _no_store(render_template("sla/target_delete.html", target=row))
    targets.delete(current_user, row)
    db.session.commit()
    flash(_("The target was deleted; requests already measured by it keep their terms."),
          "success")
    return redirect(url_for("sla.targets_index"))


def init_app(app) -> None:
    app.register_blueprint(bp)
    app.context_processor(lambda: {"can_view_sla_settings": policy.can_view_sla_settings})
