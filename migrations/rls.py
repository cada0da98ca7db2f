"""Row-level security of a tenant table, as ``0009_tenant_isolation`` set it up for every table
with a ``tenant_id``: a migration creating such a table calls ``isolate_by_tenant`` for it.

PostgreSQL only (SQLite has no policies: the ORM filter of app/tenancy/isolation.py scopes its
queries). The table gets ``ENABLE`` + ``FORCE ROW LEVEL SECURITY`` and the policy
``tenant_isolation``, admitting a row only when its ``tenant_id`` is the transaction's
``mesa.tenant`` or the transaction is in platform scope (``mesa.platform = 'on'``).

The statements are the ones the revisions wrote out before they shared this helper, to the
character: a revision already applied somewhere must keep the same effect when run anew
(tests/test_migrations.py checks the policy of every tenant table). Change a policy with a
new revision, never here.
"""

from alembic import op

POLICY = 'tenant_isolation'
TENANT = "NULLIF(current_setting('mesa.tenant', true), '')::integer"
PLATFORM = "current_setting('mesa.platform', true) = 'on'"


def isolate_by_tenant(*tables: str) -> None:
    """Enable and force row-level security on each of ``tables`` with the tenant policy."""
    if op.get_bind().dialect.name != 'postgresql':
        return
    for table in tables:
        op.execute(f'ALTER TABLE {table} ENABLE ROW LEVEL SECURITY')
        op.execute(f'ALTER TABLE {table} FORCE ROW LEVEL SECURITY')
        op.execute(f'CREATE POLICY {POLICY} ON {table} '
                   f'USING (tenant_id = {TENANT} OR {PLATFORM}) '
                   f'WITH CHECK (tenant_id = {TENANT} OR {PLATFORM})')
