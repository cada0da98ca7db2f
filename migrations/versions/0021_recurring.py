"""recurring requests: schedules and the occurrences they filed

Revision ID: 0021_recurring
Revises: 0020_kinds
Create Date: 2026-12-05 03:00:00

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '0021_recurring'
down_revision = '0020_kinds'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
