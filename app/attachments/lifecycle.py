"""Files follow their rows' transaction, so no row points at a missing file and no file is
left without its row:

- a file stored during a transaction (``stored``) is removed when that transaction ends
  without a commit (a rollback, an error, a closed session): the row that would have named it
  is gone too;
- a row deleted (``session.delete``) has its files removed only after the deletion is
  committed; a rollback keeps both.

A removal that fails (the store unreachable) is logged and left to ``flask attachments
sweep``, which removes files no row names.
"""

import logging

from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

_STORED = "mesa_attachments_stored"
_DOOMED = "mesa_attachments_doomed"


def stored(session: Session, storage, key: str) -> None:
    """``key`` was written for a row of this transaction: removed unless it commits."""
    session.info.setdefault(_STORED, []).append((storage, key))


def _remove(pairs) -> None:
    for storage, key in pairs:
        try:
            storage.delete(key)
        except Exception:  # noqa: BLE001 - the sweeper removes it later
            log.exception("attachments: could not remove %s; `flask attachments sweep` will", key)


@event.listens_for(Session, "after_flush")
def _note_deleted(session: Session, _context) -> None:
    from app.attachments.models import Attachment
    from app.attachments.storage import current

    doomed = [row for row in session.deleted if isinstance(row, Attachment)]
    if doomed:
        storage = current()
        keys = session.info.setdefault(_DOOMED, [])
        for row in doomed:
            keys.extend((storage, key) for key in (row.storage_key, row.thumbnail_key) if key)


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    session.info.pop(_STORED, None)  # their rows are committed: they stay
    _remove(session.info.pop(_DOOMED, ()))


@event.listens_for(Session, "after_transaction_end")
def _ended(session: Session, transaction) -> None:
    if transaction.parent is not None or transaction.nested:
        return
    session.info.pop(_DOOMED, None)  # not committed: the rows stay, so do their files
    _remove(session.info.pop(_STORED, ()))  # not committed: nothing names them
