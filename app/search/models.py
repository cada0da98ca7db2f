"""The search index: one document per request, kept current by ``app.search.hooks``.

What a document holds: ``public_text`` is what the snippet shows (description, the category
template's values, public comments); ``internal_text`` the internal comments, searched and shown
only to those who may read them. The request's number, ticket number and title are read from
their own rows when a hit is shown.

Each database searches its own columns:
- PostgreSQL: ``public_tsv`` (number, ticket number and title weighted A, description and
  template values B, public comments C) and ``internal_tsv``, with GIN indexes on (tenant,
  vector) (``btree_gin``); the ``*_terms`` columns stay empty.
- SQLite: ``head_terms`` (numbers, title), ``body_terms`` (the rest of the public text) and
  ``internal_terms`` hold Snowball stems (``app.search.text.terms``); the FTS5 table
  ``search_fts`` indexes them (external content, kept in step by triggers, migration
  0017_search); the ``*_tsv`` columns stay empty.
"""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Text
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import TenantScoped, UTCDateTime, utcnow

VECTOR = TSVECTOR().with_variant(Text(), "sqlite")


class SearchDocument(TenantScoped, db.Model):
    __tablename__ = "search_documents"

    request_id: Mapped[int] = mapped_column(
        ForeignKey("service_requests.id", ondelete="CASCADE"), primary_key=True,
        autoincrement=False)
    public_text: Mapped[str] = mapped_column(Text, default="")
    internal_text: Mapped[str] = mapped_column(Text, default="")
    head_terms: Mapped[str | None] = mapped_column(Text)
    body_terms: Mapped[str | None] = mapped_column(Text)
    internal_terms: Mapped[str | None] = mapped_column(Text)
    public_tsv = mapped_column(VECTOR, nullable=True)
    internal_tsv = mapped_column(VECTOR, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        # GIN on PostgreSQL (tenant first, through btree_gin); on SQLite a plain index of
        # columns that stay empty there (the FTS5 table does the work), so both schemas
        # match these models
        Index("ix_search_documents_public", "tenant_id", "public_tsv", postgresql_using="gin"),
        Index("ix_search_documents_internal", "tenant_id", "internal_tsv",
              postgresql_using="gin"),
    )
