"""one outbox for webhooks and messages; notifications, preferences, templates; phones

Webhook deliveries move into the outbox (channel "webhook"); the reminders the old outbox kept
(never sent: it had no sender) become in-app notifications of the heads they were for.

Revision ID: 0007_one_outbox
Revises: 0006_user_sessions
Create Date: 2026-12-04 05:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0007_one_outbox'  # at most 32 characters: alembic_version's column
down_revision = '0006_user_sessions'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phone', sa.String(length=16), nullable=True))

    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('event', sa.String(length=60), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=True),
    sa.Column('task_id', sa.Integer(), nullable=True),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('key', sa.String(length=160), nullable=False),
    sa.Column('inapp', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['service_requests.id'], name=op.f('fk_notifications_request_id_service_requests'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['task_id'], ['human_tasks.id'], name=op.f('fk_notifications_task_id_human_tasks'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_notifications_tenant_id_tenants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notifications_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
    sa.UniqueConstraint('key', name=op.f('uq_notifications_key'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index('ix_notifications_user', ['user_id', 'inapp', 'read_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notifications_request_id'), ['request_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notifications_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('notification_preferences',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('event_group', sa.String(length=30), nullable=False),
    sa.Column('channels', sa.JSON(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_notification_preferences_tenant_id_tenants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notification_preferences_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_preferences')),
    sa.UniqueConstraint('user_id', 'event_group', name='uq_notification_preferences')
    )
    with op.batch_alter_table('notification_preferences', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notification_preferences_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('notification_templates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event', sa.String(length=60), nullable=False),
    sa.Column('locale', sa.String(length=5), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('html', sa.Text(), nullable=False),
    sa.Column('sms', sa.String(length=500), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_notification_templates_tenant_id_tenants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_notification_templates_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_templates')),
    sa.UniqueConstraint('tenant_id', 'event', 'locale', name='uq_notification_templates')
    )
    with op.batch_alter_table('notification_templates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notification_templates_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('event', sa.String(length=60), nullable=False),
    sa.Column('endpoint_id', sa.Integer(), nullable=True),
    sa.Column('notification_id', sa.Integer(), nullable=True),
    sa.Column('address', sa.String(length=320), nullable=True),
    sa.Column('idempotency_key', sa.String(length=120), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('response_status', sa.Integer(), nullable=True),
    sa.Column('reference', sa.String(length=120), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['endpoint_id'], ['webhook_endpoints.id'], name=op.f('fk_outbox_endpoint_id_webhook_endpoints'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['notification_id'], ['notifications.id'], name=op.f('fk_outbox_notification_id_notifications'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_outbox_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_outbox_idempotency_key'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_endpoint_id'), ['endpoint_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_notification_id'), ['notification_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_tenant_id'), ['tenant_id'], unique=False)

    op.execute(
        "INSERT INTO outbox (id, tenant_id, channel, event, endpoint_id, idempotency_key, payload,"
        " status, attempts, next_attempt_at, last_attempt_at, response_status, last_error,"
        " created_at, delivered_at)"
        " SELECT id, tenant_id, 'webhook', event, endpoint_id, idempotency_key, payload, status,"
        " attempts, next_attempt_at, last_attempt_at, response_status, last_error, created_at,"
        " delivered_at FROM webhook_deliveries")
    # Each old reminder, with the values a notice is written from (its payload named them
    # differently) and a link to its request.
    bind = op.get_bind()
    old_outbox = sa.table('outbox_messages', sa.column('tenant_id'), sa.column('recipient_id'),
                          sa.column('request_id'), sa.column('payload', sa.JSON),
                          sa.column('idempotency_key'), sa.column('created_at'))
    notifications = sa.table('notifications', sa.column('tenant_id'), sa.column('user_id'),
                             sa.column('event'), sa.column('request_id'),
                             sa.column('params', sa.JSON), sa.column('key'),
                             sa.column('inapp'), sa.column('created_at'))
    rows = []
    for row in bind.execute(sa.select(old_outbox).where(old_outbox.c.recipient_id.is_not(None))):
        payload = row.payload or {}
        params = {"request_number": payload.get("number"), "request_title": payload.get("title"),
                  "path": f"/requests/{row.request_id}" if row.request_id else None,
                  "reminded_step": payload.get("step")}  # kept for a downgrade
        rows.append({"tenant_id": row.tenant_id, "user_id": row.recipient_id,
                     "event": "task.reminder", "request_id": row.request_id,
                     "params": {k: v for k, v in params.items() if v},
                     "key": row.idempotency_key, "inapp": True, "created_at": row.created_at})
    if rows:
        op.bulk_insert(notifications, rows)
    if op.get_bind().dialect.name == "postgresql":  # ids were copied: move the sequence on
        op.execute("SELECT setval(pg_get_serial_sequence('outbox', 'id'),"
                   " COALESCE((SELECT max(id) FROM outbox), 0) + 1, false)")

    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_deliveries_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_webhook_deliveries_endpoint_id'))
        batch_op.drop_index('ix_webhook_deliveries_due')
    op.drop_table('webhook_deliveries')
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_messages_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_outbox_messages_sent_at'))
    op.drop_table('outbox_messages')


def downgrade():
    op.create_table('outbox_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=True),
    sa.Column('request_id', sa.Integer(), nullable=True),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=120), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['recipient_id'], ['users.id'], name=op.f('fk_outbox_messages_recipient_id_users')),
    sa.ForeignKeyConstraint(['request_id'], ['service_requests.id'], name=op.f('fk_outbox_messages_request_id_service_requests')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_outbox_messages_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_messages')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_outbox_messages_idempotency_key'))
    )
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_messages_sent_at'), ['sent_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_messages_tenant_id'), ['tenant_id'], unique=False)
    op.create_table('webhook_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('endpoint_id', sa.Integer(), nullable=False),
    sa.Column('event', sa.String(length=40), nullable=False),
    sa.Column('idempotency_key', sa.String(length=64), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('response_status', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['endpoint_id'], ['webhook_endpoints.id'], name=op.f('fk_webhook_deliveries_endpoint_id_webhook_endpoints'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_webhook_deliveries_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_deliveries')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_webhook_deliveries_idempotency_key'))
    )
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_webhook_deliveries_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_webhook_deliveries_endpoint_id'), ['endpoint_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_webhook_deliveries_tenant_id'), ['tenant_id'], unique=False)

    op.execute(
        "INSERT INTO webhook_deliveries (id, tenant_id, endpoint_id, event, idempotency_key,"
        " payload, status, attempts, next_attempt_at, last_attempt_at, response_status,"
        " last_error, created_at, delivered_at)"
        " SELECT id, tenant_id, endpoint_id, event, idempotency_key, payload,"
        " CASE WHEN status = 'unsent' THEN 'failed' ELSE status END, attempts, next_attempt_at,"
        " last_attempt_at, response_status, last_error, created_at, delivered_at"
        " FROM outbox WHERE channel = 'webhook'")
    bind = op.get_bind()
    notices = sa.table('notifications', sa.column('tenant_id'), sa.column('user_id'),
                       sa.column('event'), sa.column('request_id'),
                       sa.column('params', sa.JSON), sa.column('key'), sa.column('created_at'))
    old_outbox = sa.table('outbox_messages', sa.column('tenant_id'), sa.column('kind'),
                          sa.column('recipient_id'), sa.column('request_id'),
                          sa.column('payload', sa.JSON), sa.column('idempotency_key'),
                          sa.column('attempts'), sa.column('created_at'))
    rows = [{"tenant_id": n.tenant_id, "kind": "reminder", "recipient_id": n.user_id,
             "request_id": n.request_id,
             "payload": {"step": (n.params or {}).get("reminded_step"),
                         "number": (n.params or {}).get("request_number"),
                         "title": (n.params or {}).get("request_title")},
             "idempotency_key": n.key[:120], "attempts": 0, "created_at": n.created_at}
            for n in bind.execute(sa.select(notices).where(notices.c.event == 'task.reminder'))]
    if rows:
        op.bulk_insert(old_outbox, rows)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("SELECT setval(pg_get_serial_sequence('webhook_deliveries', 'id'),"
                   " COALESCE((SELECT max(id) FROM webhook_deliveries), 0) + 1, false)")

    for table, indexes in (
        ('outbox', ['ix_outbox_tenant_id', 'ix_outbox_notification_id', 'ix_outbox_endpoint_id',
                    'ix_outbox_due']),
        ('notification_templates', ['ix_notification_templates_tenant_id']),
        ('notification_preferences', ['ix_notification_preferences_tenant_id']),
        ('notifications', ['ix_notifications_tenant_id', 'ix_notifications_request_id',
                           'ix_notifications_user']),
    ):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for index in indexes:
                batch_op.drop_index(index)
        op.drop_table(table)
    # Not batch mode: on SQLite that copies the users table, which its foreign keys forbid
    # once requests point at it; SQLite 3.35+ and PostgreSQL drop a plain column in place.
    op.execute("ALTER TABLE users DROP COLUMN phone")
