"""conversation: internal comments (history_events.internal), canned responses per tenant and
service unit, and the followers of a request

Revision ID: 0015_conversation
Revises: 0014_attachments
Create Date: 2026-12-04 23:30:00

"""
import sqlalchemy as sa
from alembic import op
from migrations.rls import isolate_by_tenant

revision = '0015_conversation'
down_revision = '0014_attachments'
branch_labels = None
depends_on = None

TABLES = ('canned_responses', 'request_followers')


def upgrade():
    # Adding a column rewrites no committed row: history stays append-only (0009's trigger
    # refuses UPDATEs, not ALTERs), and every earlier comment reads as public.
    with op.batch_alter_table('history_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('internal', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))

    op.create_table('canned_responses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('service_unit_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['service_unit_id'], ['units.id'], name=op.f('fk_canned_responses_service_unit_id_units'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_canned_responses_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_canned_responses'))
    )
    with op.batch_alter_table('canned_responses', schema=None) as batch_op:
        batch_op.create_index('ix_canned_responses_unit', ['tenant_id', 'service_unit_id', 'title'], unique=False)
        batch_op.create_index(batch_op.f('ix_canned_responses_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('request_followers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['service_requests.id'], name=op.f('fk_request_followers_request_id_service_requests'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_request_followers_tenant_id_tenants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_request_followers_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_request_followers')),
    sa.UniqueConstraint('request_id', 'user_id', name='uq_request_followers')
    )
    with op.batch_alter_table('request_followers', schema=None) as batch_op:
        batch_op.create_index('ix_request_followers_user', ['tenant_id', 'user_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_request_followers_tenant_id'), ['tenant_id'], unique=False)

    isolate_by_tenant(*TABLES)


def downgrade():
    with op.batch_alter_table('request_followers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_request_followers_tenant_id'))
        batch_op.drop_index('ix_request_followers_user')
    op.drop_table('request_followers')

    with op.batch_alter_table('canned_responses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_canned_responses_tenant_id'))
        batch_op.drop_index('ix_canned_responses_unit')
    op.drop_table('canned_responses')

    with op.batch_alter_table('history_events', schema=None) as batch_op:
        batch_op.drop_column('internal')
