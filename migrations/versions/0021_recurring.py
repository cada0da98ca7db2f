"""recurring requests: schedules (a request template and an RFC 5545 rule in a time zone),
the occurrences they filed (unique per schedule and instant: filed once whatever the number
of runners), and the mark of the requests they filed

Revision ID: 0021_recurring
Revises: 0020_kinds
Create Date: 2026-12-05 03:00:00

"""
from alembic import op
import sqlalchemy as sa
from migrations.rls import isolate_by_tenant


revision = '0021_recurring'
down_revision = '0020_kinds'
branch_labels = None
depends_on = None

MARK_FK = 'fk_service_requests_recurring_schedule_id_recurring_schedules'


def upgrade():
    op.create_table('recurring_schedules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('priority', sa.String(length=10), nullable=True),
    sa.Column('location', sa.String(length=200), nullable=False),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('requester_id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('rule', sa.String(length=300), nullable=False),
    sa.Column('time_zone', sa.String(length=60), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('catch_up', sa.String(length=10), nullable=False),
    sa.Column('per_month', sa.Integer(), nullable=False),
    sa.Column('paused', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('next_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('next_local', sa.DateTime(), nullable=True),
    sa.Column('last_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('failures', sa.Integer(), server_default='0', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_recurring_schedules_category_id_categories')),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_recurring_schedules_owner_id_users')),
    sa.ForeignKeyConstraint(['requester_id'], ['users.id'], name=op.f('fk_recurring_schedules_requester_id_users')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_recurring_schedules_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recurring_schedules'))
    )
    with op.batch_alter_table('recurring_schedules', schema=None) as batch_op:
        batch_op.create_index('ix_recurring_schedules_due', ['next_at'], unique=False)
        batch_op.create_index('ix_recurring_schedules_tenant', ['tenant_id', 'deleted_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_recurring_schedules_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('recurring_occurrences',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('schedule_id', sa.Integer(), nullable=False),
    sa.Column('occurrence_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('skipped', sa.Integer(), server_default='0', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['service_requests.id'], name=op.f('fk_recurring_occurrences_request_id_service_requests'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['schedule_id'], ['recurring_schedules.id'], name=op.f('fk_recurring_occurrences_schedule_id_recurring_schedules'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_recurring_occurrences_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recurring_occurrences')),
    sa.UniqueConstraint('schedule_id', 'occurrence_at', name='uq_recurring_occurrences_once')
    )
    with op.batch_alter_table('recurring_occurrences', schema=None) as batch_op:
        batch_op.create_index('ix_recurring_occurrences_schedule', ['tenant_id', 'schedule_id', 'occurrence_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_recurring_occurrences_tenant_id'), ['tenant_id'], unique=False)

    # The mark of a recurring request: added in place (a batch rebuild of service_requests
    # would DROP a table that history, tickets and clocks reference). SQLite takes a column
    # with its REFERENCES clause in ALTER TABLE ADD COLUMN when its default is NULL.
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE service_requests ADD COLUMN recurring_schedule_id INTEGER '
                   f'CONSTRAINT {MARK_FK} REFERENCES recurring_schedules (id)')
    else:
        op.add_column('service_requests', sa.Column('recurring_schedule_id', sa.Integer(),
                                                    nullable=True))
        op.create_foreign_key(MARK_FK, 'service_requests', 'recurring_schedules',
                              ['recurring_schedule_id'], ['id'])

    isolate_by_tenant('recurring_schedules', 'recurring_occurrences')


def downgrade():
    if op.get_bind().dialect.name != 'sqlite':
        op.drop_constraint(MARK_FK, 'service_requests', type_='foreignkey')
    # Dropped in place (SQLite 3.35+ too; its foreign key goes with it), as 0016 does
    op.drop_column('service_requests', 'recurring_schedule_id')
    with op.batch_alter_table('recurring_occurrences', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recurring_occurrences_tenant_id'))
        batch_op.drop_index('ix_recurring_occurrences_schedule')
    op.drop_table('recurring_occurrences')
    with op.batch_alter_table('recurring_schedules', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recurring_schedules_tenant_id'))
        batch_op.drop_index('ix_recurring_schedules_tenant')
        batch_op.drop_index('ix_recurring_schedules_due')
    op.drop_table('recurring_schedules')
