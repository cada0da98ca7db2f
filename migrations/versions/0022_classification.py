"""classification rules, workers' skills and the round-robin turn of auto-assignment

Revision ID: 0022_classification
Revises: 0021_recurring
Create Date: 2026-12-05 03:00:00

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '0022_classification'
down_revision = '0021_recurring'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
