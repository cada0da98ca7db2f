"""kinds of work: the kind of each process version and of each request

Revision ID: 0020_kinds
Revises: 0019_checklists
Create Date: 2026-12-05 03:00:00

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '0020_kinds'
down_revision = '0019_checklists'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
