"""step-by-step instructions per process step (checklists) and their ticks

Revision ID: 0019_checklists
Revises: 0018_teams
Create Date: 2026-12-05 03:00:00

"""
import sqlalchemy as sa
from alembic import op
from migrations.rls import isolate_by_tenant

revision = '0019_checklists'
down_revision = '0018_teams'
branch_labels = None
depends_on = None

TABLES = ('checklists', 'task_checklist_items')


def upgrade():
    op.create_table('checklists',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('process_key', sa.String(length=80), nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('items', sa.JSON(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_checklists_tenant_id_tenants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_checklists_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_checklists')),
    sa.UniqueConstraint('tenant_id', 'process_key', 'key', name='uq_checklists_key')
    )
    with op.batch_alter_table('checklists', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_checklists_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('task_checklist_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('checklist_key', sa.String(length=40), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('text', sa.String(length=500), nullable=False),
    sa.Column('ticked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ticked_by_id', sa.Integer(), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['service_requests.id'], name=op.f('fk_task_checklist_items_request_id_service_requests'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['task_id'], ['human_tasks.id'], name=op.f('fk_task_checklist_items_task_id_human_tasks'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_task_checklist_items_tenant_id_tenants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['ticked_by_id'], ['users.id'], name=op.f('fk_task_checklist_items_ticked_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task_checklist_items')),
    sa.UniqueConstraint('task_id', 'position', name='uq_task_checklist_items_position')
    )
    with op.batch_alter_table('task_checklist_items', schema=None) as batch_op:
        batch_op.create_index('ix_task_checklist_items_request', ['tenant_id', 'request_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_task_checklist_items_tenant_id'), ['tenant_id'], unique=False)

    isolate_by_tenant(*TABLES)


def downgrade():
    with op.batch_alter_table('task_checklist_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_task_checklist_items_tenant_id'))
        batch_op.drop_index('ix_task_checklist_items_request')
    op.drop_table('task_checklist_items')

    with op.batch_alter_table('checklists', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_checklists_tenant_id'))
    op.drop_table('checklists')
