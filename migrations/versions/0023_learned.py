"""learned classification models per tenant and their measured accuracy

Revision ID: 0023_learned
Revises: 0022_classification
Create Date: 2026-12-05 03:00:00

"""
from alembic import op
import sqlalchemy as sa
from migrations.rls import isolate_by_tenant


revision = '0023_learned'
down_revision = '0022_classification'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('suggestion_models',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('trained_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('history_count', sa.Integer(), nullable=False),
    sa.Column('training_rows', sa.Integer(), nullable=False),
    sa.Column('features', sa.Integer(), nullable=False),
    sa.Column('duration_ms', sa.Integer(), nullable=False),
    sa.Column('scores', sa.JSON(), nullable=False),
    sa.Column('model', sa.JSON(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('error', sa.String(length=300), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_suggestion_models_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_suggestion_models')),
    sa.UniqueConstraint('tenant_id', name='uq_suggestion_models_tenant')
    )
    with op.batch_alter_table('suggestion_models', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_suggestion_models_tenant_id'), ['tenant_id'], unique=False)

    isolate_by_tenant('suggestion_models')


def downgrade():
    with op.batch_alter_table('suggestion_models', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_suggestion_models_tenant_id'))

    op.drop_table('suggestion_models')
