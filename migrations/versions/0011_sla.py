"""sla: business calendars, SLA targets per category and priority, each request's clocks,
and the most pressing clock cached on the request for sorting and filtering lists

Revision ID: 0011_sla
Revises: 0010_viability
Create Date: 2026-12-04 16:40:00

"""
from alembic import op
import sqlalchemy as sa
from migrations.rls import isolate_by_tenant


revision = '0011_sla'
down_revision = '0010_viability'
branch_labels = None
depends_on = None

TABLES = ('business_calendars', 'sla_targets', 'sla_clocks')


def upgrade():
    op.create_table('business_calendars',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('time_zone', sa.String(length=64), nullable=False),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('week', sa.JSON(), nullable=False),
    sa.Column('holidays', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_business_calendars_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_business_calendars')),
    sa.UniqueConstraint('tenant_id', 'name', name='uq_business_calendars_name')
    )
    with op.batch_alter_table('business_calendars', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_business_calendars_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('sla_targets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=True),
    sa.Column('priority', sa.String(length=10), nullable=True),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('warn_percent', sa.Integer(), nullable=False),
    sa.Column('pause_statuses', sa.JSON(), nullable=False),
    sa.Column('calendar_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('minutes > 0', name=op.f('ck_sla_targets_length_positive')),
    sa.CheckConstraint('warn_percent BETWEEN 1 AND 100', name=op.f('ck_sla_targets_warn_percent_range')),
    sa.ForeignKeyConstraint(['calendar_id'], ['business_calendars.id'], name=op.f('fk_sla_targets_calendar_id_business_calendars')),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_sla_targets_category_id_categories')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_sla_targets_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_targets'))
    )
    with op.batch_alter_table('sla_targets', schema=None) as batch_op:
        batch_op.create_index('ix_sla_targets_scope', ['tenant_id', 'kind', 'category_id', 'priority'], unique=False)
        batch_op.create_index(batch_op.f('ix_sla_targets_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('sla_clocks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=True),
    sa.Column('calendar_id', sa.Integer(), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('warn_percent', sa.Integer(), nullable=False),
    sa.Column('pause_statuses', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('stopped_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('warn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('paused_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('elapsed_seconds', sa.Integer(), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('warning_sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('breach_sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['calendar_id'], ['business_calendars.id'], name=op.f('fk_sla_clocks_calendar_id_business_calendars')),
    sa.ForeignKeyConstraint(['request_id'], ['service_requests.id'], name=op.f('fk_sla_clocks_request_id_service_requests'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['target_id'], ['sla_targets.id'], name=op.f('fk_sla_clocks_target_id_sla_targets'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_sla_clocks_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_clocks')),
    sa.UniqueConstraint('request_id', 'kind', name='uq_sla_clocks_request_kind')
    )
    with op.batch_alter_table('sla_clocks', schema=None) as batch_op:
        batch_op.create_index('ix_sla_clocks_due', ['due_at'], unique=False,
                              postgresql_where=sa.text('stopped_at IS NULL AND breach_sent_at IS NULL'),
                              sqlite_where=sa.text('stopped_at IS NULL AND breach_sent_at IS NULL'))
        batch_op.create_index('ix_sla_clocks_uncomputed', ['request_id'], unique=False,
                              postgresql_where=sa.text('computed_at IS NULL'),
                              sqlite_where=sa.text('computed_at IS NULL'))
        batch_op.create_index(batch_op.f('ix_sla_clocks_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_sla_clocks_tenant_state', ['tenant_id', 'state'], unique=False)
        batch_op.create_index('ix_sla_clocks_warn', ['warn_at'], unique=False,
                              postgresql_where=sa.text('stopped_at IS NULL AND warning_sent_at IS NULL'),
                              sqlite_where=sa.text('stopped_at IS NULL AND warning_sent_at IS NULL'))

    # Plain ALTER TABLE ADD COLUMN: no batch copy of a table others reference.
    op.add_column('service_requests', sa.Column('sla_state', sa.String(length=12), nullable=True))
    op.add_column('service_requests', sa.Column('sla_due_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('service_requests', sa.Column('sla_warn_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('service_requests', sa.Column('sla_rematch', sa.String(length=40), nullable=True))
    op.create_index('ix_service_requests_sla_rematch', 'service_requests', ['id'], unique=False,
                    postgresql_where=sa.text('sla_rematch IS NOT NULL'),
                    sqlite_where=sa.text('sla_rematch IS NOT NULL'))
    op.create_index('ix_service_requests_sla_due', 'service_requests', ['tenant_id', 'sla_due_at'], unique=False)

    isolate_by_tenant(*TABLES)


def downgrade():
    op.drop_index('ix_service_requests_sla_due', table_name='service_requests')
    op.drop_index('ix_service_requests_sla_rematch', table_name='service_requests')
    op.drop_column('service_requests', 'sla_rematch')
    op.drop_column('service_requests', 'sla_warn_at')
    op.drop_column('service_requests', 'sla_due_at')
    op.drop_column('service_requests', 'sla_state')

    with op.batch_alter_table('sla_clocks', schema=None) as batch_op:
        batch_op.drop_index('ix_sla_clocks_warn')
        batch_op.drop_index('ix_sla_clocks_tenant_state')
        batch_op.drop_index(batch_op.f('ix_sla_clocks_tenant_id'))
        batch_op.drop_index('ix_sla_clocks_due')
        batch_op.drop_index('ix_sla_clocks_uncomputed')

    op.drop_table('sla_clocks')
    with op.batch_alter_table('sla_targets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sla_targets_tenant_id'))
        batch_op.drop_index('ix_sla_targets_scope')

    op.drop_table('sla_targets')
    with op.batch_alter_table('business_calendars', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_business_calendars_tenant_id'))

    op.drop_table('business_calendars')
