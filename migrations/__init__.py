"""Alembic's migrations (``flask db``); a package so that the revisions can share
``migrations.rls``."""
