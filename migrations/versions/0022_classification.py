"""classification rules, workers' skills and the round-robin turn of auto-assignment

Revision ID: 0022_classification
Revises: 0021_recurring
Create Date: 2026-12-05 03:00:00

"""
import sqlalchemy as sa
from alembic import op

from migrations.rls import isolate_by_tenant

revision = '0022_classification'
down_revision = '0021_recurring'
branch_labels = None
depends_on = None

TABLES = ('classification_rules', 'worker_skills', 'assignment_turns')


def _tenant_column():
    return sa.Column('tenant_id', sa.Integer(), nullable=False)


def _tenant_fk(table):
    return sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'],
                                   name=op.f(f'fk_{table}_tenant_id_tenants'),
                                   ondelete='CASCADE')


def upgrade():
    op.create_table('classification_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('words', sa.JSON(), nullable=False),
    sa.Column('words_mode', sa.String(length=3), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('include_subunits', sa.Boolean(), nullable=False),
    sa.Column('field_conditions', sa.JSON(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=True),
    sa.Column('priority', sa.String(length=10), nullable=True),
    sa.Column('service_unit_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    _tenant_column(),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_classification_rules_category_id_categories'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['service_unit_id'], ['units.id'], name=op.f('fk_classification_rules_service_unit_id_units'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_classification_rules_unit_id_units'), ondelete='CASCADE'),
    _tenant_fk('classification_rules'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_classification_rules'))
    )
    with op.batch_alter_table('classification_rules', schema=None) as batch_op:
        batch_op.create_index('ix_classification_rules_order', ['tenant_id', 'position', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_classification_rules_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('worker_skills',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    _tenant_column(),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_worker_skills_category_id_categories'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_worker_skills_user_id_users'), ondelete='CASCADE'),
    _tenant_fk('worker_skills'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_worker_skills')),
    sa.UniqueConstraint('tenant_id', 'user_id', 'category_id', name='uq_worker_skills_key')
    )
    with op.batch_alter_table('worker_skills', schema=None) as batch_op:
        batch_op.create_index('ix_worker_skills_category', ['tenant_id', 'category_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_worker_skills_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('assignment_turns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('service_unit_id', sa.Integer(), nullable=False),
    sa.Column('last_worker_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    _tenant_column(),
    sa.ForeignKeyConstraint(['last_worker_id'], ['users.id'], name=op.f('fk_assignment_turns_last_worker_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['service_unit_id'], ['units.id'], name=op.f('fk_assignment_turns_service_unit_id_units'), ondelete='CASCADE'),
    _tenant_fk('assignment_turns'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assignment_turns')),
    sa.UniqueConstraint('tenant_id', 'service_unit_id', name='uq_assignment_turns_unit')
    )
    with op.batch_alter_table('assignment_turns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assignment_turns_tenant_id'), ['tenant_id'], unique=False)

    isolate_by_tenant(*TABLES)


def downgrade():
    for table in reversed(TABLES):
        op.drop_table(table)
