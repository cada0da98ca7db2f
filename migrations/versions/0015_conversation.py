"""conversation: (being written this wave; filled in by the work that owns it)

Revision ID: 0015_conversation
Revises: 0014_attachments
Create Date: 2026-12-04 23:30:00

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '0015_conversation'
down_revision = '0014_attachments'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
