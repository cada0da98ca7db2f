"""learned classification models per tenant and their measured accuracy

Revision ID: 0023_learned
Revises: 0022_classification
Create Date: 2026-12-05 03:00:00

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '0023_learned'
down_revision = '0022_classification'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
