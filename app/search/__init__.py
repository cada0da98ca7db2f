"""Search: one box that finds requests and tickets by number, title, description, comments
and template values, in what the person may open, ranked and highlighted.

- ``text``: pure (no database): words, stems, the query's terms, the highlighted snippet;
- ``models``: one document per request (PostgreSQL vectors, SQLite FTS5 stems);
- ``documents``: writing them, whole or added to; ``hooks``: in the transaction of every
  change (filing, edits, tickets, comments), whoever makes it;
- ``query``: the ranked, scoped search; ``views`` (/search), ``api`` (/api/v1/search),
  ``cli`` (``flask search rebuild``).
"""


def init_app(app) -> None:
    from app.search import cli, hooks, views  # noqa: F401 (hooks: the session listeners)

    views.init_app(app)
    app.cli.add_command(cli.group)


def init_api(api) -> None:
    from app.search import api as search_api

    search_api.init_api(api)
