"""Importing units and people from a CSV file (/admin/import): the file is checked first (a
dry run that shows every row's problems and changes nothing); the confirmation carries the
checked bytes back, signed, and applies exactly them, all or nothing."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.admin import access, importing
from app.extensions import db
from app.models import ROLES

bp = Blueprint("admin_import", __name__, url_prefix="/admin/import",
               template_folder="templates")
SHOWN_PROBLEMS = 500
# The confirmation's hidden field holds the checked file, compressed and signed: allow a
# form field that large on this blueprint only (Flask's default is 500 KB).
FORM_MEMORY = 2 * importing.MAX_BYTES


@bp.url_value_preprocessor
def _larger_fields(_endpoint, _values):
    # Runs before any before_request hook reads the form (the input checks do).
    request.max_form_memory_size = FORM_MEMORY


bp.before_request(access.tenant_admins_only)


def _page(report=None, token=None, kind=None, status=200):
    page = render_template(
        "admin/import.html", report=report, token=token, kind=kind or request.args.get("kind"),
        kinds=importing.KINDS, columns=importing.COLUMNS, roles=ROLES,
        max_rows=importing.MAX_ROWS, max_kb=importing.MAX_BYTES // 1000,
        shown=SHOWN_PROBLEMS)
    return page, status, {"Cache-Control": "no-store"}


@bp.route("")
def index():
    return _page()


@bp.post("/check")
def check():
    kind = request.form.get("kind")
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        report = importing.Report(kind=kind or "")
        report.add(0, "", _("Choose a CSV file."))
        return _page(report, kind=kind, status=422)
    data = upload.stream.read(importing.MAX_BYTES + 1)
    report = importing.check(current_user.tenant_id, kind, data)
    db.session.rollback()  # a dry run: nothing it touched is kept
    token = importing.sign(current_user, kind, data) if report.ok else None
    return _page(report, token, kind, 200 if report.ok else 422)


@bp.post("/apply")
def apply():
    kind = request.form.get("kind")
    data = importing.unsign(current_user, kind, request.form.get("token", ""))
    if data is None or importing.digest_of(data) != request.form.get("digest"):
        flash(_("This confirmation is not valid any more (it is older than an hour or was "
                "changed). Check the file again."), "error")
        return redirect(url_for("admin_import.index", kind=kind if kind in importing.KINDS
                                else None))
    report = importing.apply(current_user, kind, data)
    if not report.ok:
        db.session.rollback()
        return _page(report, kind=kind, status=422)
    db.session.commit()
    if kind == "units":
        flash(_("%(n)s units were created.", n=report.created), "success")
    else:
        flash(_("%(n)s people were created and invited by e-mail.", n=report.created),
              "success")
    return redirect(url_for("admin_import.index", kind=kind))


@bp.get("/check")
@bp.get("/apply")
def back_to_index():
    """A form's address opened again (a reload): back to the page."""
    return redirect(url_for("admin_import.index"))
