"""Attachments: files on a request (on filing, later, with a comment or a task's completion).

- ``models``: the row (type told from content, size, sha256, storage keys);
- ``sniffing`` (pure): the type from the bytes, zip bombs; ``names``: file names and the
  Content-Disposition; ``images``: Pillow, bounded (pixel limit before decoding, thumbnails);
- ``storage``: local disk per company or an S3-compatible bucket; ``lifecycle``: files follow
  their rows' transaction (removed after a rollback, deleted after a committed deletion);
- ``service``: attach (checks, quota, store, rows, history), list, find, delete;
  ``settings``: the types a company accepts;
- ``views`` (download, thumbnail, upload, delete, /admin/attachments), ``api``
  (/api/v1/requests/{id}/attachments...), ``cli`` (``flask attachments sweep``), and the request
  page's panel (``attachments/_panel.html``) with its data from the ``attachment_panel`` global.
"""

from flask import current_app, request
from flask_login import current_user

from app.attachments import lifecycle  # noqa: F401 (its session hooks)

# The views whose forms may carry files: their bodies may be as large as the files allowed
UPLOAD_ENDPOINTS = frozenset({"requests.new", "requests.comment", "tasks.complete",
                              "attachments.upload", "api_attachments.upload"})


def upload_body_limit(config) -> int:
    """The largest body of an upload: every file at its largest, plus a megabyte of form."""
    per_file = int(config["ATTACHMENTS_MAX_FILE_MB"] * 1024 * 1024)
    return per_file * config["ATTACHMENTS_MAX_FILES"] + 1024 * 1024


def _upload_body_limit(endpoint, _values) -> None:
    """Before any hook reads the form (url value preprocessors run before them): the body of
    a form that may carry files (multipart; its other fields stay bounded by
    MAX_FORM_MEMORY_SIZE) may pass MAX_CONTENT_LENGTH, up to ``upload_body_limit``."""
    if (endpoint in UPLOAD_ENDPOINTS and request.method == "POST"
            and request.mimetype == "multipart/form-data"):
        ordinary = current_app.config.get("MAX_CONTENT_LENGTH") or 0
        request.max_content_length = max(ordinary, upload_body_limit(current_app.config))


def _panel(req) -> dict:
    from app import policy
    from app.attachments import service

    rows = service.visible(current_user, req)
    return {
        "images": [row for row in rows if row.thumbnail_key],
        "files": rows,
        "can_upload": policy.can_attach(current_user, req),
        "can_delete": lambda row: policy.can_delete_attachment(current_user, row, req),
    }


def _not_kept() -> list[str]:
    """The names of the files this request sent when a form with them comes back to be fixed
    (a refused filing or step, a canned response inserted): a browser cannot refill a file
    input and nothing was stored, so the page says to choose them again."""
    from app.attachments import service

    if request.method != "POST" or request.mimetype != "multipart/form-data":
        return []
    return [upload.filename or "?" for upload in service.chosen(request.files.getlist("files"))]


def _accept() -> str:
    """The ``accept`` attribute of a file input: the types the person's company accepts."""
    from app.attachments import settings
    from app.extensions import db
    from app.models import Tenant

    if not current_user.is_authenticated:
        return ""
    return ",".join(settings.allowed_types(db.session.get(Tenant, current_user.tenant_id)))


def init_app(app) -> None:
    from app.attachments import cli, settings, views

    app.register_blueprint(views.bp)
    app.url_value_preprocessor(_upload_body_limit)
    app.add_template_global(_panel, "attachment_panel")
    app.add_template_global(_accept, "attachment_accept")
    app.add_template_global(_not_kept, "attachments_not_kept")
    app.add_template_global(settings.type_label, "attachment_type_label")
    app.add_template_global(lambda: app.config["ATTACHMENTS_MAX_FILE_MB"],
                            "attachment_max_mb")
    app.add_template_global(lambda: app.config["ATTACHMENTS_MAX_FILES"],
                            "attachment_max_files")
    app.cli.add_command(cli.group)


def init_api(api) -> None:
    from app.attachments import api as attachments_api

    attachments_api.init_api(api)
