"""The migration history is linear and matches the models."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import Migrate

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
