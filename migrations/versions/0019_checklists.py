"""step-by-step instructions per process step (checklists) and their ticks

Revision ID: 0019_checklists
Revises: 0018_teams
Create Date: 2026-12-05 03:00:00

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '0019_checklists'
down_revision = '0018_teams'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
