"""indicators: each request's milestones and stage lead times in business minutes (folded
from its history by every step, app.indicators.stages), and the indexes indicators read by

Requests filed before this revision have empty milestones until `flask indicators rebuild`
replays their histories (the same fold every step runs).

Revision ID: 0012_indicators
Revises: 0011_sla
Create Date: 2026-12-04 20:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0012_indicators'
down_revision = '0011_sla'
branch_labels = None
depends_on = None

INSTANTS = ('authorized_at', 'approved_at', 'assigned_at', 'started_at', 'finished_at',
            'confirmed_at')
MINUTES = ('authorization_minutes', 'evaluation_minutes', 'assignment_minutes',
           'start_minutes', 'work_minutes', 'confirmation_minutes', 'resolution_minutes')


def upgrade():
    for name in INSTANTS:
        op.add_column('service_requests', sa.Column(name, sa.DateTime(timezone=True),
                                                    nullable=True))
    op.add_column('service_requests', sa.Column('rejected_by', sa.String(length=20),
                                                nullable=True))
    for name in ('returns', 'reopens'):
        op.add_column('service_requests', sa.Column(name, sa.Integer(), nullable=False,
                                                    server_default='0'))
    for name in MINUTES:
        op.add_column('service_requests', sa.Column(name, sa.Integer(), nullable=True))
    op.create_index('ix_service_requests_created', 'service_requests',
                    ['tenant_id', 'created_at'], unique=False)
    op.create_index('ix_history_events_to_status', 'history_events',
                    ['tenant_id', 'to_status', 'created_at'], unique=False)
    op.create_index('ix_tickets_created', 'tickets', ['tenant_id', 'created_at'], unique=False)


def downgrade():
    op.drop_index('ix_tickets_created', table_name='tickets')
    op.drop_index('ix_history_events_to_status', table_name='history_events')
    op.drop_index('ix_service_requests_created', table_name='service_requests')
    with op.batch_alter_table('service_requests', schema=None) as batch_op:
        for name in (*MINUTES, 'reopens', 'returns', 'rejected_by', *INSTANTS):
            batch_op.drop_column(name)
