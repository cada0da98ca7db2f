"""tenant isolation by construction (PostgreSQL): an app role owning no table, row-level
security on every tenant table, request history and the admin audit append-only

On PostgreSQL only (SQLite has no roles or policies: the ORM filter of
app/tenancy/isolation.py scopes its queries, and the ORM refuses to change history).

- Role ``mesa_app`` (NOLOGIN; the app switches to it per transaction with SET LOCAL ROLE, so
  the URL's user must be a member: the owner running this migration makes itself one).
  It may read and write rows, never change the schema, and owns nothing.
- Every table with a ``tenant_id`` (and ``ticket_helpers`` through its ticket) gets
  ``ENABLE`` + ``FORCE ROW LEVEL SECURITY`` and a policy admitting a row only when its
  ``tenant_id`` is the transaction's ``mesa.tenant`` or the transaction is in platform scope
  (``mesa.platform = 'on'``). Unset, nothing is admitted.
- ``history_events`` and ``audit_entries``: the app's role may not DELETE or TRUNCATE them,
  and a trigger refuses it any UPDATE of a committed row (an operator deleting a whole tenant
  runs as the owner).

Revision ID: 0009_tenant_isolation
Revises: 0008_tenant_admin
Create Date: 2026-12-04 10:40:00

"""
import os

from alembic import op
import sqlalchemy as sa

from migrations.rls import PLATFORM, TENANT, isolate_by_tenant


revision = '0009_tenant_isolation'
down_revision = '0008_tenant_admin'
branch_labels = None
depends_on = None

# The role of the app's transactions: DATABASE_APP_ROLE, as the app reads it (app/config.py).
ROLE = os.environ.get('DATABASE_APP_ROLE') or 'mesa_app'
APPEND_ONLY = ('history_events', 'audit_entries')


def _tenant_tables(bind) -> list[str]:
    return [name for name in sa.inspect(bind).get_table_names()
            if 'tenant_id' in {c['name'] for c in sa.inspect(bind).get_columns(name)}]


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != 'postgresql':
        return
    op.execute(f"""
        DO $$ BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{ROLE}') THEN
                CREATE ROLE {ROLE} NOLOGIN;
            END IF;
        END $$""")
    op.execute(f"""
        DO $$ BEGIN
            IF NOT pg_has_role(current_user, '{ROLE}', 'MEMBER') THEN
                GRANT {ROLE} TO CURRENT_USER;
            END IF;
        END $$""")
    op.execute(f'GRANT USAGE ON SCHEMA public TO {ROLE}')
    op.execute(f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {ROLE}')
    op.execute(f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {ROLE}')
    # Tables and sequences later migrations create (as this same owner) are granted too.
    op.execute(f'ALTER DEFAULT PRIVILEGES IN SCHEMA public '
               f'GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {ROLE}')
    op.execute(f'ALTER DEFAULT PRIVILEGES IN SCHEMA public '
               f'GRANT USAGE, SELECT ON SEQUENCES TO {ROLE}')
    op.execute(f'REVOKE ALL ON alembic_version FROM {ROLE}')

    isolate_by_tenant(*_tenant_tables(bind))
    for table, check in (('tenants', f'id = {TENANT} OR {PLATFORM}'),
                         ('ticket_helpers', 'EXISTS (SELECT 1 FROM tickets '
                                            'WHERE tickets.id = ticket_helpers.ticket_id)')):
        op.execute(f'ALTER TABLE {table} ENABLE ROW LEVEL SECURITY')
        op.execute(f'ALTER TABLE {table} FORCE ROW LEVEL SECURITY')
        op.execute(f'CREATE POLICY tenant_isolation ON {table} USING ({check}) '
                   f'WITH CHECK ({check})')

    # A row may be completed by the transaction that wrote it, before it commits (a step
    # records its entry first, so what the diagram does next follows it, and fills in the
    # status it ended in); once committed it is never changed or deleted by the app. "Written
    # by this transaction" is "its inserting transaction is still in progress": another
    # transaction's rows in progress are invisible, so only this one's can be.
    op.execute(f"""
        CREATE FUNCTION mesa_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF current_user = '{ROLE}' AND (TG_OP = 'DELETE' OR pg_xact_status((
                    ((pg_current_xact_id()::text::bigint >> 32) << 32)
                    | OLD.xmin::text::bigint)::text::xid8) IS DISTINCT FROM 'in progress') THEN
                RAISE EXCEPTION '% is append-only: rows are never changed or deleted',
                    TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
            END IF;
            IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
            RETURN NEW;
        END $$""")
    for table in APPEND_ONLY:
        op.execute(f'CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON {table} '
                   f'FOR EACH ROW EXECUTE FUNCTION mesa_append_only()')
        op.execute(f'REVOKE DELETE, TRUNCATE ON {table} FROM {ROLE}')


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name != 'postgresql':
        return
    for table in APPEND_ONLY:
        op.execute(f'DROP TRIGGER IF EXISTS append_only ON {table}')
    op.execute('DROP FUNCTION IF EXISTS mesa_append_only()')
    for table in [*_tenant_tables(bind), 'tenants', 'ticket_helpers']:
        op.execute(f'DROP POLICY IF EXISTS tenant_isolation ON {table}')
        op.execute(f'ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY')
        op.execute(f'ALTER TABLE {table} DISABLE ROW LEVEL SECURITY')
    op.execute(f'ALTER DEFAULT PRIVILEGES IN SCHEMA public '
               f'REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM {ROLE}')
    op.execute(f'ALTER DEFAULT PRIVILEGES IN SCHEMA public '
               f'REVOKE USAGE, SELECT ON SEQUENCES FROM {ROLE}')
    op.execute(f'REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {ROLE}')
    op.execute(f'REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {ROLE}')
    op.execute(f'REVOKE ALL ON SCHEMA public FROM {ROLE}')
