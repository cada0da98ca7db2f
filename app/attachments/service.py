"""Attaching files to a request, listing, finding and deleting them. Only flushes: the view
commits (and ``lifecycle`` removes the files of a transaction that does not).

An upload is read once chunk by chunk (size, sha256, the bytes that tell its type) and checked
before anything is stored: its name, its size, the company's storage left, its type told from
its content among those the company accepts, never HTML or SVG, no zip bomb, no image of too
many pixels. Every file of an upload passes, or none is stored. Then each file is copied to
the storage in chunks, and only then is its row added.
"""

import hashlib
import tempfile
from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError
from sqlalchemy import select

from app import policy
from app.attachments import images, lifecycle, names, settings, sniffing, storage
from app.attachments.models import Attachment
from app.extensions import db
from app.models import HistoryEvent, ServiceRequest, Tenant, User
from app.services import history
from app.tenancy import quotas

MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    max_file: int
    max_files: int
    zip: sniffing.ZipLimits
    image_pixels: int
    thumbnail_pixels: int

    @classmethod
    def from_config(cls, config) -> "Limits":
        return cls(
            max_file=int(config["ATTACHMENTS_MAX_FILE_MB"] * MB),
            max_files=config["ATTACHMENTS_MAX_FILES"],
            zip=sniffing.ZipLimits(
                max_uncompressed=int(config["ATTACHMENTS_ZIP_MAX_UNCOMPRESSED_MB"] * MB),
                max_ratio=config["ATTACHMENTS_ZIP_MAX_RATIO"]),
            image_pixels=config["ATTACHMENTS_IMAGE_MAX_PIXELS"],
            thumbnail_pixels=config["ATTACHMENTS_THUMBNAIL_PIXELS"])


def limits() -> Limits:
    return Limits.from_config(current_app.config)


class Refused(ValidationError):
    """An upload not taken: ``reason`` (a code for tests and the API) and ``message`` (for the
    person, in their language). Nothing was stored. A ValidationError (``{"_schema":
    [message]}``), so a form's view that already answers bad input answers this too."""

    def __init__(self, reason: str, message):
        self.reason = reason
        self.message = str(message)
        super().__init__({"_schema": [self.message]})


class NotAllowed(Exception):
    """The person may not do that to this attachment (the view answers 403 or 404)."""


@dataclass
class Staged:
    stream: object
    filename: str
    content_type: str
    size: int
    sha256: str
    image: images.Size | None = None


def chosen(uploads) -> list:
    """The uploads a person actually chose (a form's empty file field sends a part without a
    name and without content)."""
    return [u for u in uploads or () if u is not None and (u.filename or u.content_length)]


def _seekable(upload):
    stream = upload.stream
    if hasattr(stream, "seekable") and stream.seekable():
        stream.seek(0)
        return stream
    copy = tempfile.SpooledTemporaryFile(max_size=MB)
    while chunk := stream.read(storage.CHUNK):
        copy.write(chunk)
    copy.seek(0)
    return copy


def _name(upload) -> str:
    try:
        return names.checked(upload.filename)
    except names.BadName as exc:
        if exc.reason == "long":
            raise Refused("name", _l("A file's name is longer than 255 characters: shorten "
                                     "it and send it again.")) from None
        if exc.reason == "empty":
            raise Refused("name", _l("A file was sent without a name.")) from None
        raise Refused("name", _l("A file's name holds a path separator (/ or \\) or a "
                                 "control character: rename it and send it again.")) from None


def _read(stream, name: str, lim: Limits) -> tuple[sniffing.Sniffer, str]:
    sniffer, digest = sniffing.Sniffer(), hashlib.sha256()
    while chunk := stream.read(storage.CHUNK):
        sniffer.feed(chunk)
        digest.update(chunk)
        if sniffer.size > lim.max_file:
            raise Refused("too_big", _l("%(name)s is larger than %(mb)s MB, the largest file "
                                        "accepted.", name=name, mb=f"{lim.max_file / MB:g}"))
    stream.seek(0)
    if sniffer.size == 0:
        raise Refused("empty", _l("%(name)s is empty.", name=name))
    return sniffer, digest.hexdigest()


def _type(stream, sniffer, name: str, lim: Limits, allowed) -> str:
    kind = sniffer.content_type()
    if kind in sniffing.NEVER:
        raise Refused("markup", _l("%(name)s is a web page or a drawing (%(kind)s), whatever "
                                   "its name says: such files are not accepted.",
                                   name=name, kind=settings.type_label(kind)))
    if kind == sniffing.ZIP and set(sniffing.OFFICE_ZIPS) & set(allowed):
        try:
            kind = sniffing.office_type(stream, sniffer.size, lim.zip)
        except sniffing.ZipRefused as exc:
            if exc.reason == "bomb":
                raise Refused("zip_bomb", _l(
                    "%(name)s would unpack to far more than its size (more than %(mb)s MB or "
                    "%(ratio)s times): it is not accepted.", name=name,
                    mb=f"{lim.zip.max_uncompressed / MB:g}",
                    ratio=f"{lim.zip.max_ratio:g}")) from None
            raise Refused("broken", _l("%(name)s is a damaged or protected archive.",
                                       name=name)) from None
    if kind not in allowed:
        raise Refused("type", _l("%(name)s is a file of type %(kind)s; the types accepted are: "
                                 "%(allowed)s.", name=name, kind=settings.type_label(kind),
                                 allowed=", ".join(settings.type_label(t) for t in allowed)))
    return kind


def _check_image(stream, kind: str, name: str, lim: Limits) -> images.Size:
    try:
        return images.check(stream, kind, lim.image_pixels)
    except images.ImageRefused as exc:
        if exc.reason == "bomb":
            raise Refused("image_bomb", _l(
                "%(name)s is an image of more than %(mp)s million pixels: it is not accepted.",
                name=name, mp=f"{lim.image_pixels / 1_000_000:g}")) from None
        raise Refused("broken", _l("%(name)s is damaged or is not the image it seems to be.",
                                   name=name)) from None


def stage(upload, lim: Limits, allowed) -> Staged:
    """Read and check one upload; raises Refused. Nothing is stored."""
    name = _name(upload)
    stream = _seekable(upload)
    sniffer, sha256 = _read(stream, name, lim)
    kind = _type(stream, sniffer, name, lim, allowed)
    image = _check_image(stream, kind, name, lim) if kind in sniffing.IMAGES else None
    return Staged(stream, name, kind, sniffer.size, sha256, image)


def _store(store, req: ServiceRequest, user: User, staged: Staged, lim: Limits) -> Attachment:
    key = storage.new_key(req.tenant_id, req.id)
    lifecycle.stored(db.session, store, key)  # removed again unless the transaction commits
    store.put(key, staged.stream)
    thumb_key = None
    if staged.image is not None:
        staged.stream.seek(0)
        small = images.thumbnail(staged.stream, staged.content_type, staged.image,
                                 lim.image_pixels, lim.thumbnail_pixels)
        if small is not None:
            with small:
                thumb_key = storage.thumbnail_key(key)
                lifecycle.stored(db.session, store, thumb_key)
                store.put(thumb_key, small)
    return Attachment(tenant_id=req.tenant_id, request_id=req.id, uploader_id=user.id,
                      filename=staged.filename, content_type=staged.content_type,
                      size=staged.size, sha256=staged.sha256, storage_key=key,
                      thumbnail_key=thumb_key)


def attach_uploads(user: User, req: ServiceRequest, uploads, *,
                   event: HistoryEvent | None = None) -> list[Attachment]:
    """Attach the files ``uploads`` (werkzeug FileStorage) ``user`` sent to ``req``: with
    ``event`` (a comment, a task's completion, written in this transaction) they belong to it
    and are internal when it is; without, to a new "attached" history entry, while the
    request is open. Raises Refused (nothing stored) or QuotaExceeded; [] when no file was
    chosen."""
    files = chosen(uploads)
    if not files:
        return []
    if not policy.can_view_request(user, req):
        raise NotAllowed()
    if event is None and not policy.can_attach(user, req):
        raise Refused("closed", _l("This request is finished: files can no longer be "
                                   "added to it."))
    lim = limits()
    if len(files) > lim.max_files:
        raise Refused("too_many", _l("At most %(n)s files at a time.", n=lim.max_files))
    allowed = settings.allowed_types(db.session.get(Tenant, req.tenant_id))
    staged = [stage(upload, lim, allowed) for upload in files]
    quotas.require_storage(req.tenant_id, sum(item.size for item in staged))
    store = storage.current()
    try:
        rows = [_store(store, req, user, item, lim) for item in staged]
    except Exception as exc:  # the disk or the bucket failed: what was stored goes at rollback
        current_app.logger.exception("attachments: storing a file of %s failed", req.number)
        raise Refused("unavailable", _l("The files could not be stored just now; nothing was "
                                        "saved. Try again later.")) from exc
    entry = event or history.record(req, "attached", user, ticket=req.ticket)
    entry.changes = {**(entry.changes or {}), "attachments": [row.filename for row in rows]}
    internal = bool(getattr(entry, "internal", False))
    for row in rows:
        row.history_event = entry
        row.internal = internal
    db.session.add_all(rows)
    db.session.flush()
    return rows


def attach_to_completion(user: User, req: ServiceRequest, action: str,
                         uploads) -> list[Attachment]:
    """Files sent with a task's completion (``action``: its handler), on its history entry."""
    if not chosen(uploads):
        return []
    return attach_uploads(user, req, uploads, event=completion_event(req, user, action))


def completion_event(req: ServiceRequest, user: User, action: str) -> HistoryEvent | None:
    """The history entry of ``user``'s task completion just made (``action``: the handler)."""
    return db.session.scalar(
        select(HistoryEvent).where(HistoryEvent.tenant_id == req.tenant_id,
                                   HistoryEvent.request_id == req.id,
                                   HistoryEvent.actor_id == user.id,
                                   HistoryEvent.action == action)
        .order_by(HistoryEvent.id.desc()).limit(1))


# --- reading ----------------------------------------------------------------------------------

def visible_query(user: User, req: ServiceRequest):
    """The request's attachments ``user`` may see (internal ones only for those who read
    internal comments), oldest first."""
    stmt = (select(Attachment)
            .where(Attachment.tenant_id == req.tenant_id, Attachment.request_id == req.id)
            .order_by(Attachment.id))
    if not policy.can_see_internal(user, req):
        stmt = stmt.where(Attachment.internal.is_(False))
    return stmt


def visible(user: User, req: ServiceRequest) -> list[Attachment]:
    if not policy.can_view_request(user, req):
        return []
    return list(db.session.scalars(visible_query(user, req)))


def find(user: User, req: ServiceRequest, attachment_id: int) -> Attachment | None:
    """One attachment of ``req`` that ``user`` may see, else None (404 for the view)."""
    row = db.session.scalar(select(Attachment).where(
        Attachment.tenant_id == req.tenant_id, Attachment.request_id == req.id,
        Attachment.id == attachment_id))
    return row if row is not None and policy.can_see_attachment(user, row, req) else None


def chunks(row: Attachment, thumbnail: bool = False):
    key = row.thumbnail_key if thumbnail else row.storage_key
    return storage.current().chunks(key)


# --- deleting ---------------------------------------------------------------------------------

def delete(user: User, req: ServiceRequest, row: Attachment) -> None:
    """The uploader removes their file while the request is open (else NotAllowed); the
    history says so; the file goes once the deletion is committed."""
    if not policy.can_delete_attachment(user, row, req):
        raise NotAllowed()
    entry = history.record(req, "attachment_deleted", user, ticket=req.ticket,
                           changes={"attachment": row.filename})
    if row.internal and hasattr(entry, "internal"):
        entry.internal = True  # says what an internal comment had: read as it is
    db.session.delete(row)
    db.session.flush()
