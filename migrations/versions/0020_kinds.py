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
    # Columns of tables that already have their row-level security: nothing more to grant.
    # Every version and request there is so far is a request for service.
    op.add_column('process_definitions', sa.Column('kind', sa.String(length=20), nullable=False,
                                                   server_default='request'))
    op.add_column('service_requests', sa.Column('kind', sa.String(length=20), nullable=False,
                                                server_default='request'))
    op.create_index('ix_service_requests_kind', 'service_requests',
                    ['tenant_id', 'kind', 'created_at'], unique=False)


def downgrade():
    # Dropped in place (SQLite 3.35+ too), as 0016 does: no batch rebuild of service_requests
    op.drop_index('ix_service_requests_kind', table_name='service_requests')
    op.drop_column('service_requests', 'kind')
    op.drop_column('process_definitions', 'kind')
