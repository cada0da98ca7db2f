"""search: (being written this wave; filled in by the work that owns it)

Revision ID: 0017_search
Revises: 0016_request_fields
Create Date: 2026-12-04 23:30:00

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '0017_search'
down_revision = '0016_request_fields'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
