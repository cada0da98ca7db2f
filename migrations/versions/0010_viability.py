"""viability: budgets, hourly rates of workers and service units, estimated hours and the
approval's budget date on requests, the rate and actual cost of a finished ticket

Revision ID: 0010_viability
Revises: 0009_tenant_isolation
Create Date: 2026-12-04 13:50:00

"""
from alembic import op
import sqlalchemy as sa
from migrations.rls import isolate_by_tenant


revision = '0010_viability'
down_revision = '0009_tenant_isolation'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('budgets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('service_unit_id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=True),
    sa.Column('requesting_unit_id', sa.Integer(), nullable=True),
    sa.Column('period', sa.String(length=10), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('amount >= 0', name=op.f('ck_budgets_amount_not_negative')),
    sa.CheckConstraint('ends_on >= starts_on', name=op.f('ck_budgets_period_ordered')),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_budgets_category_id_categories')),
    sa.ForeignKeyConstraint(['requesting_unit_id'], ['units.id'], name=op.f('fk_budgets_requesting_unit_id_units')),
    sa.ForeignKeyConstraint(['service_unit_id'], ['units.id'], name=op.f('fk_budgets_service_unit_id_units')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_budgets_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_budgets'))
    )
    with op.batch_alter_table('budgets', schema=None) as batch_op:
        batch_op.create_index('ix_budgets_scope', ['tenant_id', 'service_unit_id', 'starts_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_budgets_tenant_id'), ['tenant_id'], unique=False)

    # Plain ALTER TABLE ADD COLUMN: no batch copy of tables others reference.
    op.add_column('units', sa.Column('hourly_rate', sa.Numeric(precision=12, scale=2), nullable=True))
    op.add_column('users', sa.Column('hourly_rate', sa.Numeric(precision=12, scale=2), nullable=True))
    op.add_column('service_requests', sa.Column('estimated_hours', sa.Numeric(precision=8, scale=2), nullable=True))
    op.add_column('service_requests', sa.Column('committed_on', sa.Date(), nullable=True))
    op.create_index('ix_service_requests_committed', 'service_requests', ['tenant_id', 'service_unit_id', 'committed_on'], unique=False)
    op.add_column('tickets', sa.Column('hourly_rate', sa.Numeric(precision=12, scale=2), nullable=True))
    op.add_column('tickets', sa.Column('actual_cost', sa.Numeric(precision=14, scale=2), nullable=True))
    # Requests approved before budgets existed fall in the (UTC) date of their last approving
    # evaluation, as app.viability.ledger reads such history; tickets finished before rates
    # existed cost their materials.
    sqlite = op.get_bind().dialect.name == 'sqlite'
    day = "date(h.created_at)" if sqlite else "CAST(h.created_at AT TIME ZONE 'UTC' AS DATE)"
    op.execute(f"UPDATE service_requests SET committed_on = (SELECT {day} FROM history_events h "
               f"WHERE h.request_id = service_requests.id AND h.action = 'evaluate' "
               f"ORDER BY h.id DESC LIMIT 1) WHERE estimated_cost IS NOT NULL "
               f"AND status NOT IN ('returned', 'pending_evaluation')")
    op.execute("UPDATE tickets SET actual_cost = materials_cost WHERE materials_cost IS NOT NULL "
               "AND hours_spent IS NOT NULL")
    op.execute("UPDATE service_requests SET committed_on = (SELECT "
               + ("date(t.actual_end)" if sqlite else "CAST(t.actual_end AT TIME ZONE 'UTC' AS DATE)")
               + " FROM tickets t WHERE t.request_id = service_requests.id) "
               "WHERE committed_on IS NULL AND EXISTS (SELECT 1 FROM tickets t WHERE "
               "t.request_id = service_requests.id AND t.actual_cost IS NOT NULL)")

    isolate_by_tenant('budgets')


def downgrade():
    op.drop_column('tickets', 'actual_cost')
    op.drop_column('tickets', 'hourly_rate')
    op.drop_index('ix_service_requests_committed', table_name='service_requests')
    op.drop_column('service_requests', 'committed_on')
    op.drop_column('service_requests', 'estimated_hours')
    op.drop_column('users', 'hourly_rate')
    op.drop_column('units', 'hourly_rate')
    with op.batch_alter_table('budgets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_budgets_tenant_id'))
        batch_op.drop_index('ix_budgets_scope')
    op.drop_table('budgets')
