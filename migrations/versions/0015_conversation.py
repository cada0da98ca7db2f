"""conversation: internal comments (history_events.internal)

Revision ID: 0015_conversation
Revises: 0014_attachments
Create Date: 2026-12-04 23:30:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0015_conversation'
down_revision = '0014_attachments'
branch_labels = None
depends_on = None


def upgrade():
    # Adding a column rewrites no committed row: history stays append-only (0009's trigger
    # refuses UPDATEs, not ALTERs), and every earlier comment reads as public.
    with op.batch_alter_table('history_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('internal', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade():
    with op.batch_alter_table('history_events', schema=None) as batch_op:
        batch_op.drop_column('internal')
