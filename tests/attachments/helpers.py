"""Uploads through the pages and the API, and what a test checks after them."""

import io

from sqlalchemy import select

from app.attachments.models import Attachment
from app.extensions import db
from app.models import Category, HistoryEvent, User


def upload_form(*files, **fields) -> dict:
    """A multipart form: ``files`` as (bytes, name) pairs in the field "files"."""
    return {**fields, "files": [(io.BytesIO(data), name) for data, name in files]}


def page_upload(browser, req_id: int, *files):
    return browser.post(f"/requests/{req_id}/attachments", upload_form(*files),
                        content_type="multipart/form-data")


def api_upload(client, req_id: int, *files, token=None):
    headers = {"Authorization": f"Bearer {token or client.token}"}
    with client.app.app_context():
        return client.client.post(f"/api/v1/requests/{req_id}/attachments",
                                  data=upload_form(*files),
                                  content_type="multipart/form-data", headers=headers)


def rows(req_id: int | None = None) -> list[Attachment]:
    db.session.rollback()
    stmt = select(Attachment).order_by(Attachment.id)
    if req_id is not None:
        stmt = stmt.where(Attachment.request_id == req_id)
    return list(db.session.scalars(stmt))


def history_actions(req_id: int) -> list[str]:
    db.session.rollback()
    return list(db.session.scalars(select(HistoryEvent.action).where(
        HistoryEvent.request_id == req_id).order_by(HistoryEvent.id)))


def first_category(email: str) -> Category:
    person = db.session.scalar(select(User).where(User.email == email))
    return db.session.scalar(select(Category).where(Category.tenant_id == person.tenant_id)
                             .order_by(Category.name))


def in_english(email: str) -> None:
    """The person reads the pages in English (messages checked by their English text)."""
    person = db.session.scalar(select(User).where(User.email == email))
    person.locale = "en"
    db.session.commit()


def fetch(browser, url: str):
    """GET a binary answer with the browser's session (its ``get`` reads pages as text)."""
    with browser.app.app_context():
        return browser.client.get(url)
