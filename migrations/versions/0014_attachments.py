"""attachments: (being written this wave; filled in by the work that owns it)

Revision ID: 0014_attachments
Revises: 0013_element_passes
Create Date: 2026-12-04 23:30:00

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '0014_attachments'
down_revision = '0013_element_passes'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
