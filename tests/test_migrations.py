"""The migration history is linear and matches the models; on PostgreSQL every tenant table
is isolated by row-level security."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import Migrate
from sqlalchemy import text

from app.extensions import db


def test_history_has_one_head(app):
    config = app.extensions["migrate"].migrate.get_config()
    heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1, heads


def _not_fts5(name, type_, _parent_names):
    """SQLite's FTS5 table of the search (app.search.models) and its shadow tables are made
    by the migration and have no model."""
    return not (type_ == "table" and name.startswith("search_fts"))


def test_models_match_the_migrated_schema(app):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": False,
                                                         "include_name": _not_fts5})
        diff = compare_metadata(context, db.metadata)
    assert diff == [], diff
    assert isinstance(app.extensions["migrate"].migrate, Migrate)


# The tenant policy as PostgreSQL prints it back (pg_policies): migrations/rls.py writes it.
TENANT_POLICY = ("((tenant_id = (NULLIF(current_setting('mesa.tenant'::text, true), "
                 "''::text))::integer) OR (current_setting('mesa.platform'::text, true) = "
                 "'on'::text))")
# Tables isolated by a policy of their own (0009_tenant_isolation): the tenants themselves,
# and ticket helpers through their ticket.
OWN_POLICY = {"tenants", "ticket_helpers"}


def test_every_tenant_table_has_row_level_security_enabled_forced_and_the_policy(app):
    """Every table with a tenant_id, whichever migration made it (0009 for the first ones,
    migrations/rls.py for every later one), admits only its tenant's rows."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row-level security is PostgreSQL's (SQLite: the ORM filter)")
    with db.engine.connect() as conn:
        tables = {name: (enabled, forced) for name, enabled, forced in conn.execute(text(
            "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class "
            "WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace"))}
        tenant_tables = set(conn.scalars(text(
            "SELECT a.attrelid::regclass::text FROM pg_attribute a JOIN pg_class c "
            "ON c.oid = a.attrelid WHERE a.attname = 'tenant_id' AND NOT a.attisdropped "
            "AND c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace")))
        policies = {}
        for table, name, permissive, roles, cmd, qual, check in conn.execute(text(
                "SELECT tablename, policyname, permissive, roles::text[], cmd, qual, "
                "with_check FROM pg_policies WHERE schemaname = 'public'")):
            policies.setdefault(table, {})[name] = (permissive, roles, cmd, qual, check)
    # the tables of the first and of the latest migrations are all there
    assert {"service_requests", "budgets", "teams", "suggestion_models"} <= tenant_tables
    for table in sorted(tenant_tables | OWN_POLICY):
        assert tables[table] == (True, True), table  # enabled and forced (owner included)
        assert set(policies.get(table, {})) == {"tenant_isolation"}, (table, policies.get(table))
    for table in sorted(tenant_tables):
        assert policies[table]["tenant_isolation"] == (
            "PERMISSIVE", ["public"], "ALL", TENANT_POLICY, TENANT_POLICY), table
    # no table without a tenant has a policy it would not need
    assert set(policies) == tenant_tables | OWN_POLICY
