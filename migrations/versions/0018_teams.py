"""teams of people (second line, change board, security responders), their members, and the team a human task waits on; change-board votes

Revision ID: 0018_teams
Revises: 0017_search
Create Date: 2026-12-05 03:00:00

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '0018_teams'
down_revision = '0017_search'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
