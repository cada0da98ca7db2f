"""Budget pages under /budgets (tenant admins: every service unit's; directors: their units')
and the hourly rates (tenant admins). Thin: load by the person's company and id, check with
``app.policy``, call ``budget_edits`` / ``rates``, commit once."""

from decimal import Decimal

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import ValidationError
from sqlalchemy.orm import selectinload

from app import policy
from app.admin import units
from app.api.common import paginate
from app.extensions import db, login_manager
from app.handlers.base import Amount
from app.models import ServiceRequest, Tenant, User
from app.viability import budget_edits, budgets, labels, rates
from app.viability.models import PERIODS, Budget

bp = Blueprint("budgets", __name__, url_prefix="/budgets", template_folder="templates")
PER_PAGE = 25
MAX_ID = 2**31 - 1
EXAMPLE_AMOUNT = Decimal("1500000.50")
FORM_FIELDS = ("service_unit_id", "category_id", "requesting_unit_id", "period", "starts_on",
               "amount", "note")


@bp.before_request
def _managers_only():
    """Log in first; anyone who manages no budget finds nothing here (404)."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not policy.can_manage_budgets(current_user):
        abort(404)
    return None


def _no_store(page, status=200):
    return page, status, {"Cache-Control": "no-store"}


def _int_arg(name: str, low: int = 1, high: int = MAX_ID) -> int | None:
    value = request.args.get(name, type=int)
    return value if value is not None and low <= value <= high else None


def _page_arg() -> int:
    return _int_arg("page", 1, 100_000) or 1


def _budget_or_404(budget_id: int) -> Budget:
    budget = budget_edits.find(current_user, budget_id, to_change=request.method == "POST")
    if budget is None:
        abort(404)
    return budget


# --- the list --------------------------------------------------------------------------------

@bp.get("")
def index():
    choices = budget_edits.service_units(current_user)
    kept = {"unit": _int_arg("unit"), "period": request.args.get("period")
            if request.args.get("period") in PERIODS else None,
            "year": _int_arg("year", 1900, 9999)}
    stmt = budget_edits.search(current_user, service_unit_id=kept["unit"],
                               period=kept["period"], year=kept["year"])
    found = paginate(stmt, {"page": _page_arg(), "per_page": PER_PAGE}, model=Budget,
                     load=budget_edits.LIST_LOAD)
    return _no_store(render_template(
        "viability/budgets.html", found=found, figures=budgets.figures(found["items"]),
        kept=kept, unit_choices=choices, periods=labels.PERIOD_KINDS,
        can_set_rates=policy.can_set_rates(current_user)))


# --- one budget ------------------------------------------------------------------------------

@bp.get("/<int:budget_id>")
def detail(budget_id: int):
    budget = _budget_or_404(budget_id)
    found = paginate(budgets.covered_requests(budget),
                     {"page": _page_arg(), "per_page": PER_PAGE}, model=ServiceRequest,
                     load=(selectinload(ServiceRequest.ticket),))
    return _no_store(render_template(
        "viability/budget.html", budget=budget, figures=budgets.figures_of(budget),
        found=found))


def _typed(values: dict) -> dict:
    """A budget's stored values as the form shows them (the amount in the page's language)."""
    shown = {k: ("" if v is None else v) for k, v in values.items()}
    if values.get("amount") is not None:
        shown["amount"] = format_decimal(values["amount"], format="#,##0.00")
    if values.get("starts_on") is not None:
        shown["starts_on"] = values["starts_on"].strftime("%Y-%m")
    return shown


def _editor(budget: Budget | None, values: dict, errors=None, status=200):
    flat, _archived = units.tree(current_user.tenant_id)
    choices = budget_edits.service_units(current_user)
    if budget is not None and budget.service_unit not in choices:
        choices.append(budget.service_unit)  # archived since: still shown as it is
    return _no_store(render_template(
        "viability/budget_form.html", budget=budget, values=values, errors=errors or {},
        unit_choices=choices, categories=budget_edits.categories(current_user),
        requesting_units=flat, periods=labels.PERIOD_KINDS,
        amount_example=format_decimal(EXAMPLE_AMOUNT, format="#,##0.00")), status)


def _refused(budget: Budget | None, exc: budgets.BudgetError):
    db.session.rollback()
    if budget is not None:
        db.session.refresh(budget)
    typed = {key: request.form.get(key, "") for key in FORM_FIELDS}
    return _editor(budget, typed, exc.errors, 422)


@bp.route("/new", methods=["GET", "POST"])
def new():
    if request.method == "GET":
        choices = budget_edits.service_units(current_user)
        return _editor(None, {"period": "month",
                              "service_unit_id": choices[0].id if len(choices) == 1 else ""})
    try:
        budget = budget_edits.create(current_user, budget_edits.read_form(request.form))
    except budgets.BudgetError as exc:
        return _refused(None, exc)
    db.session.commit()
    flash(_("The budget was created."), "success")
    return redirect(url_for("budgets.detail", budget_id=budget.id))


@bp.route("/<int:budget_id>/edit", methods=["GET", "POST"])
def edit(budget_id: int):
    budget = _budget_or_404(budget_id)
    if request.method == "GET":
        return _editor(budget, _typed(budget_edits.values_of(budget)))
    try:
        changed = budget_edits.update(current_user, budget,
                                      budget_edits.read_form(request.form))
    except budgets.BudgetError as exc:
        return _refused(budget, exc)
    db.session.commit()
    flash(_("The budget was saved.") if changed else _("Nothing changed."), "success")
    return redirect(url_for("budgets.detail", budget_id=budget.id))


@bp.route("/<int:budget_id>/delete", methods=["GET", "POST"])
def delete(budget_id: int):
    budget = _budget_or_404(budget_id)
    if request.method == "GET":
        return _no_store(render_template("viability/budget_delete.html", budget=budget,
                                         figures=budgets.figures_of(budget)))
    budget_edits.delete(current_user, budget)
    db.session.commit()
    flash(_("The budget was deleted; its requests were not changed."), "success")
    return redirect(url_for("budgets.index"))


# --- hourly rates ----------------------------------------------------------------------------

def _rates_page(values=None, errors=None, status=200):
    tenant = db.session.get(Tenant, current_user.tenant_id)
    found = paginate(rates.workers(tenant.id), {"page": _page_arg(), "per_page": PER_PAGE},
                     model=User, load=rates.WORKER_LOAD)
    service_units = rates.service_units(tenant.id)
    shown = {f"service_units.{u.id}" for u in service_units} \
        | {f"workers.{w.id}" for w in found["items"]}
    errors = errors or {}
    stray = [m for key, messages in errors.items() if key not in shown for m in messages]
    return _no_store(render_template(
        "viability/rates.html", service_units=service_units, found=found, stray=stray,
        values=values or {}, errors=errors, worker_units=rates.worker_units,
        shown=lambda rate: "" if rate is None else format_decimal(rate, format="#,##0.00")),
        status)


def _typed_rates(form) -> tuple[dict, dict, dict]:
    """The rates typed (field name -> Decimal or None), split by kind; unreadable ones as
    errors."""
    parsed: dict[str, dict[int, object]] = {"service_units": {}, "workers": {}}
    errors: dict[str, list[str]] = {}
    field = Amount(allow_none=True)
    for name, text in form.items():
        kind, _dot, raw_id = name.partition(".")
        if kind not in parsed or not raw_id.isascii() or not raw_id.isdigit() \
                or len(raw_id) > 10:
            continue
        try:
            parsed[kind][int(raw_id)] = field.deserialize(text.strip() or None)
        except ValidationError as exc:
            messages = exc.messages if isinstance(exc.messages, list) else [exc.messages]
            errors[name] = [str(m) for m in messages]
    return parsed["service_units"], parsed["workers"], errors


@bp.route("/rates", methods=["GET", "POST"])
def hourly_rates():
    if not policy.can_set_rates(current_user):
        abort(403)
    if request.method == "GET":
        return _rates_page()
    unit_rates, worker_rates, errors = _typed_rates(request.form)
    typed = dict(request.form)
    if errors:
        return _rates_page(typed, errors, 422)
    try:
        changed = rates.apply(current_user, current_user.tenant_id, unit_rates, worker_rates)
    except ValidationError as exc:
        db.session.rollback()
        return _rates_page(typed, exc.messages, 422)
    db.session.commit()
    flash(_("The hourly rates were saved.") if changed else _("Nothing changed."), "success")
    return redirect(url_for("budgets.hourly_rates", page=request.args.get("page", type=int)))


def init_app(app) -> None:
    app.register_blueprint(bp)
    labels.register(app)
    app.context_processor(lambda: {"can_manage_budgets": policy.can_manage_budgets})
    # A request's timeline leaves out the budget figures its reader may not see
    app.add_template_global(lambda req: policy.hidden_history_fields(current_user, req),
                            "hidden_history_fields")
