"""Attachment pages: download, thumbnail, upload and delete from the request page, and the
tenant admin's accepted types. Thin: load by (company, id), check with ``app.policy``, call
``service``, commit once. Whoever may not see an attachment finds nothing (404)."""

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from marshmallow import ValidationError

from app import policy
from app.attachments import names, service, settings, sniffing
from app.extensions import db
from app.models import Tenant
from app.views.common import request_or_404

bp = Blueprint("attachments", __name__, template_folder="templates")

# Nothing a served file holds may run or load anything, even if a browser tried to render it
DOWNLOAD_CSP = "default-src 'none'; sandbox; frame-ancestors 'none'"
UPLOAD_FIELD = "files"


def served(row, thumbnail: bool = False) -> Response:
    """A file as a download (or a thumbnail, a JPEG we made, inline), streamed in chunks."""
    if thumbnail:
        mimetype, disposition = "image/jpeg", names.content_disposition(
            f"{row.filename}.jpg", inline=True)
    else:
        mimetype = row.content_type
        disposition = names.content_disposition(row.filename)
    response = Response(service.chunks(row, thumbnail), mimetype=mimetype,
                        direct_passthrough=True)
    if not thumbnail:
        response.content_length = row.size
    response.headers["Content-Disposition"] = disposition
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = DOWNLOAD_CSP
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


def _visible_or_404(request_id: int, attachment_id: int):
    req = request_or_404(request_id)
    row = service.find(current_user, req, attachment_id)
    if row is None:
        abort(404)
    return req, row


@bp.route("/requests/<int:request_id>/attachments/<int:attachment_id>")
@login_required
def download(request_id: int, attachment_id: int):
    _req, row = _visible_or_404(request_id, attachment_id)
    return served(row)


@bp.route("/requests/<int:request_id>/attachments/<int:attachment_id>/thumbnail")
@login_required
def thumbnail(request_id: int, attachment_id: int):
    _req, row = _visible_or_404(request_id, attachment_id)
    if row.thumbnail_key is None:
        abort(404)
    return served(row, thumbnail=True)


def refused_flash(exc: service.Refused) -> None:
    flash(exc.message, "error")


@bp.post("/requests/<int:request_id>/attachments")
@login_required
def upload(request_id: int):
    req = request_or_404(request_id)
    back = url_for("requests.detail", request_id=req.id) + "#attachments"
    try:
        rows = service.attach_uploads(current_user, req, request.files.getlist(UPLOAD_FIELD))
    except service.Refused as exc:
        db.session.rollback()
        refused_flash(exc)
        return redirect(back, code=303)
    if not rows:
        flash(_("Choose a file first."), "error")
        return redirect(back, code=303)
    db.session.commit()
    flash(_("%(count)s file(s) attached.", count=len(rows)), "success")
    return redirect(back, code=303)


@bp.post("/requests/<int:request_id>/attachments/<int:attachment_id>/delete")
@login_required
def delete(request_id: int, attachment_id: int):
    req, row = _visible_or_404(request_id, attachment_id)
    name = row.filename
    try:
        service.delete(current_user, req, row)
    except service.NotAllowed:
        db.session.rollback()
        abort(403)
    db.session.commit()
    flash(_("%(name)s deleted.", name=name), "success")
    return redirect(url_for("requests.detail", request_id=req.id) + "#attachments", code=303)


@bp.route("/admin/attachments", methods=["GET", "POST"])
@login_required
def admin():
    """The file types the company accepts (tenant admins)."""
    if not policy.can_administer_tenant(current_user):
        abort(404)
    tenant = db.session.get(Tenant, current_user.tenant_id)
    errors, status = {}, 200
    chosen = list(settings.allowed_types(tenant))
    if request.method == "POST":
        chosen = request.form.getlist("types")
        try:
            changed = settings.apply(current_user, tenant, settings.clean(chosen))
            db.session.commit()
            flash(_("Accepted file types saved.") if changed else _("Nothing changed."),
                  "success")
            return redirect(url_for("attachments.admin"), code=303)
        except ValidationError as exc:
            db.session.rollback()
            errors, status = exc.messages, 422
    return render_template(
        "attachments/admin.html", known=sniffing.KNOWN, chosen=chosen, errors=errors,
        labels=settings.LABELS, defaults=sniffing.DEFAULT_ALLOWED,
        max_file_mb=current_app.config["ATTACHMENTS_MAX_FILE_MB"]), status
