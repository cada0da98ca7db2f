"""element passes: every pass of a request's workflow at an element of its process version,
written by the engine step that opens or closes it (the process heatmap counts them); user
tasks of requests filed before are taken from their human_tasks rows

Revision ID: 0013_element_passes
Revises: 0012_indicators
Create Date: 2026-12-10 10:00:00

"""
from alembic import op
import sqlalchemy as sa
from migrations.rls import isolate_by_tenant


revision = '0013_element_passes'
down_revision = '0012_indicators'
branch_labels = None
depends_on = None


# What the engine steps before this revision left behind: the user tasks. Their passes get
# no "came from" (the flows taken then are not known); the version is the one the request is
# on now. Other elements (gateways, service tasks, timers, events) start counting from here.
BACKFILL = """
    INSERT INTO element_passes (tenant_id, request_id, definition_id, task_uuid, element_id,
                                came_from, state, entered_at, left_at)
    SELECT h.tenant_id, h.request_id, i.definition_id, h.task_uuid, h.spec_id, NULL,
           CASE h.status WHEN 'open' THEN 'waiting' WHEN 'completed' THEN 'completed'
                ELSE 'cancelled' END,
           h.created_at, CASE WHEN h.status = 'open' THEN NULL ELSE h.completed_at END
    FROM human_tasks h JOIN process_instances i ON i.id = h.instance_id
    WHERE h.status = 'open' OR h.completed_at IS NOT NULL
"""


def upgrade():
    op.create_table('element_passes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('definition_id', sa.Integer(), nullable=False),
    sa.Column('task_uuid', sa.String(length=36), nullable=False),
    sa.Column('element_id', sa.String(length=255), nullable=False),
    sa.Column('came_from', sa.String(length=255), nullable=True),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('entered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('left_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['definition_id'], ['process_definitions.id'], name=op.f('fk_element_passes_definition_id_process_definitions')),
    sa.ForeignKeyConstraint(['request_id'], ['service_requests.id'], name=op.f('fk_element_passes_request_id_service_requests'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_element_passes_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_element_passes')),
    sa.UniqueConstraint('request_id', 'task_uuid', name='uq_element_passes_task')
    )
    with op.batch_alter_table('element_passes', schema=None) as batch_op:
        batch_op.create_index('ix_element_passes_entered', ['definition_id', 'entered_at'], unique=False)
        batch_op.create_index('ix_element_passes_left', ['definition_id', 'left_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_element_passes_tenant_id'), ['tenant_id'], unique=False)

    isolate_by_tenant('element_passes')
    postgresql = op.get_bind().dialect.name == 'postgresql'
    if postgresql:
        # Every company's rows (row-level security applies to the tables' owner too)
        op.execute("SELECT set_config('mesa.platform', 'on', true)")
    op.execute(BACKFILL)
    if postgresql:
        op.execute("SELECT set_config('mesa.platform', '', true)")


def downgrade():
    with op.batch_alter_table('element_passes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_element_passes_tenant_id'))
        batch_op.drop_index('ix_element_passes_left')
        batch_op.drop_index('ix_element_passes_entered')

    op.drop_table('element_passes')
