"""The page /recurring: the schedules a tenant admin (all) or a director (their units'
categories) may change, with their next occurrences; create, edit (with a preview of the next
five occurrences in local time), pause, resume, delete. Anyone else finds nothing (404).
Thin: load by (company, id) through ``schedules.find``, call ``schedules``, commit once."""

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import format_datetime, lazy_pgettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app import policy
from app.api.common import paginate
from app.extensions import db, login_manager
from app.handlers.form import schema_for
from app.models import PRIORITIES, Tenant
from app.models.base import utcnow
from app.recurring import forms, rules, schedules, wording
from app.recurring.schedules import Refused
from app.request_fields.specs import form_of
from app.request_fields.values import PAGE_PREFIX
from app.tenancy import clock
from app.views.common import describe_form, form_values

bp = Blueprint("recurring", __name__, url_prefix="/recurring", template_folder="templates")
PER_PAGE = 25


@bp.before_request
def _schedulers_only():
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not policy.can_schedule_requests(current_user):
        abort(404)
    return None


@bp.context_processor
def _labels():
    return {"weekday_labels": wording.WEEKDAY_LABELS, "month_labels": wording.MONTH_LABELS,
            "ordinal_labels": wording.ORDINAL_LABELS,
            "frequency_labels": wording.FREQUENCY_LABELS,
            "catch_up_labels": wording.CATCH_UP_LABELS, "weekdays": rules.WEEKDAYS,
            "priorities": PRIORITIES, "state_labels": STATE_LABELS, "local": local_time}


# A schedule's state (Spanish "programación": feminine), apart from other things' "Active"
STATE_LABELS = {"active": lazy_pgettext("recurring schedule", "Active"), "paused": _l("Paused"),
                "ended": _l("Ended")}


def local_time(value) -> str:
    """A rule's wall-clock time (naive) as the page shows it, with its weekday."""
    return format_datetime(value, "EEE d MMM y, HH:mm", rebase=False) if value else ""


def _no_store(page, status=200):
    return page, status, {"Cache-Control": "no-store"}


def _page_arg() -> int:
    value = request.args.get("page", type=int)
    return value if value is not None and 1 <= value <= 100_000 else 1


def _today():
    return clock.today(db.session.get(Tenant, current_user.tenant_id))


def _schedule_or_404(schedule_id: int):
    row = schedules.find(current_user, schedule_id)
    if row is None:
        abort(404)
    return row


@bp.get("")
def index():
    found = paginate(schedules.visible(current_user), {"page": _page_arg(),
                                                        "per_page": PER_PAGE})
    now = utcnow()
    upcoming = {row.id: schedules.preview(row, now, 2) for row in found["items"]}
    return _no_store(render_template("recurring/index.html", found=found, upcoming=upcoming,
                                     state=schedules.state))


@bp.get("/<int:schedule_id>")
def detail(schedule_id: int):
    row = _schedule_or_404(schedule_id)
    return _no_store(render_template(
        "recurring/detail.html", row=row, state=schedules.state(row),
        upcoming=schedules.preview(row, utcnow(), 5),
        occurrences=schedules.occurrences(row)))


# --- the form ----------------------------------------------------------------------------------

def _field_groups(categories, chosen_id, values: dict, errors: dict) -> list[dict]:
    """Each category's own fields (as on the filing page: ``cf-<category>-<name>``), the
    chosen one's with its values and messages."""
    groups = []
    for category in categories:
        spec = form_of(category)
        if not spec.fields:
            continue
        chosen = category.id == chosen_id
        own_errors = errors.get("fields") if chosen and isinstance(errors.get("fields"),
                                                                   dict) else {}
        described = describe_form(schema_for(spec), values if chosen else {}, own_errors)
        for item in described:
            item["name"] = f"{PAGE_PREFIX}{category.id}-{item['name']}"
        groups.append({"category": category, "fields": described, "chosen": chosen})
    if groups:
        g.page_scripts = True  # dist/request_fields.js shows the chosen category's group
    return groups


def _values_of(row) -> dict:
    friendly = rules.to_form(row.rule)
    values = {"title": row.title, "description": row.description,
              "category_id": row.category_id, "requester_id": row.requester_id,
              "priority": row.priority or "", "location": row.location,
              "starts_on": row.starts_on.isoformat(),
              "ends_on": row.ends_on.isoformat() if row.ends_on else "",
              "catch_up": row.catch_up, "rrule": row.rule,
              "mode": "friendly" if friendly else "rrule", "fields": row.fields or {}}
    values.update(friendly or {})
    return values


def _blank_values() -> dict:
    return {"mode": "friendly", "frequency": "monthly", "interval": 1, "time": "09:00",
            "weekdays": [], "monthly_by": "weekday", "ordinal": 1, "weekday": "MO",
            "month_day": 1, "month": 1, "starts_on": _today().isoformat(), "catch_up": "all",
            "fields": {}}


def _typed_values() -> dict:
    values = form_values(request.form)
    weekdays = values.get("weekdays") or []
    values["weekdays"] = [weekdays] if isinstance(weekdays, str) else weekdays
    chosen = forms._id(values.get("category_id"))
    prefix = f"{PAGE_PREFIX}{chosen}-"
    values["fields"] = {key[len(prefix):]: value for key, value in values.items()
                        if chosen and key.startswith(prefix)}
    return values


def _editor(row, values: dict, errors=None, status=200, preview=None):
    errors = errors or {}
    categories = schedules.categories_for(current_user)
    chosen = forms._id(values.get("category_id"))
    return _no_store(render_template(
        "recurring/form.html", row=row, values=values, errors=errors, preview=preview,
        categories=categories, requesters=schedules.requesters_for(current_user.tenant_id),
        field_groups=_field_groups(categories, chosen, values.get("fields") or {}, errors),
        zone=row.time_zone if row is not None else clock.zone(
            db.session.get(Tenant, current_user.tenant_id)).key), status)


def _preview(row):
    """The form sent with "Preview": its next five occurrences, nothing saved."""
    values = _typed_values()
    try:
        data = forms.from_page(form_values(request.form), _today())
        columns, summary = schedules.checked(current_user, data, row)
        zone = rules.zone_of(row.time_zone if row is not None else clock.zone(
            db.session.get(Tenant, current_user.tenant_id)).key)
        recurrence = rules.Recurrence(columns["rule"], zone, data.starts_on, data.ends_on)
        upcoming = recurrence.upcoming(utcnow(), 5)
    except Refused as exc:
        db.session.rollback()
        return _editor(row, values, exc.errors, 422)
    db.session.rollback()
    return _editor(row, values, preview={"upcoming": upcoming,
                                         "words": wording.describe(columns["rule"]),
                                         "per_month": summary.per_month})


def _save(row):
    if request.form.get("action") == "preview":
        return _preview(row)
    try:
        data = forms.from_page(form_values(request.form), _today())
        if row is None:
            row = schedules.create(current_user, data)
        else:
            schedules.update(current_user, row, data)
    except Refused as exc:
        db.session.rollback()
        if row is not None:
            db.session.refresh(row)
        return _editor(row, _typed_values(), exc.errors, 422)
    db.session.commit()
    flash(_("The recurring request was saved."), "success")
    return redirect(url_for("recurring.detail", schedule_id=row.id), code=303)


@bp.route("/new", methods=["GET", "POST"])
def new():
    if request.method == "GET":
        return _editor(None, _blank_values())
    return _save(None)


@bp.route("/<int:schedule_id>/edit", methods=["GET", "POST"])
def edit(schedule_id: int):
    row = _schedule_or_404(schedule_id)
    if request.method == "GET":
        return _editor(row, _values_of(row))
    return _save(row)


# --- pause, resume, delete ------------------------------------------------------------------

@bp.post("/<int:schedule_id>/pause")
def pause(schedule_id: int):
    row = _schedule_or_404(schedule_id)
    changed = schedules.pause(current_user, row)
    db.session.commit()
    flash(_("Paused: nothing is filed until it is resumed.") if changed
          else _("It was already paused."), "success")
    return redirect(url_for("recurring.detail", schedule_id=row.id), code=303)


@bp.post("/<int:schedule_id>/resume")
def resume(schedule_id: int):
    row = _schedule_or_404(schedule_id)
    try:
        changed = schedules.resume(current_user, row)
    except Refused as exc:  # it no longer fits the plan: it stays paused
        db.session.rollback()
        for messages in exc.errors.values():
            for message in messages:
                flash(message, "error")
        return redirect(url_for("recurring.detail", schedule_id=schedule_id), code=303)
    db.session.commit()
    flash(_("Resumed: it files from its next occurrence on (nothing missed during the pause "
            "is filed).") if changed else _("It was not paused."), "success")
    return redirect(url_for("recurring.detail", schedule_id=row.id), code=303)


@bp.post("/<int:schedule_id>/delete")
def delete(schedule_id: int):
    row = _schedule_or_404(schedule_id)
    title = row.title
    schedules.delete(current_user, row)
    db.session.commit()
    flash(_("The recurring request %(title)s was deleted; the requests it filed stay.",
            title=title), "success")
    return redirect(url_for("recurring.index"), code=303)
