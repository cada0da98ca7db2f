"""request fields: the extra fields a category asks for when a request is filed (a JSON list of
field specs, as diagram forms define them) and each request's answers (name -> value)

Revision ID: 0016_request_fields
Revises: 0015_conversation
Create Date: 2026-12-04 23:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0016_request_fields'
down_revision = '0015_conversation'
branch_labels = None
depends_on = None


def upgrade():
    # Columns of tables that already have their row-level security: nothing more to grant
    op.add_column('categories', sa.Column('request_fields', sa.JSON(), nullable=False,
                                          server_default='[]'))
    op.add_column('service_requests', sa.Column('fields', sa.JSON(), nullable=False,
                                                server_default='{}'))


def downgrade():
    # Dropped in place (SQLite 3.35+ too): a batch rebuild of service_requests would DROP a
    # table that history, tickets and clocks still reference
    op.drop_column('service_requests', 'fields')
    op.drop_column('categories', 'request_fields')
