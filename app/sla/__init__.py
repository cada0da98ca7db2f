"""Service levels: business calendars, SLA targets and each request's clocks.

- ``calendar`` and ``clock``: pure (no database): working time in a zone, and a target's clock
  computed from a request's history;
- ``models``: calendars, targets, and the clock rows (terms the request runs under + a cache);
- ``service``: clocks opened at filing, refreshed with every step, recomputed on demand;
- ``signals``: warnings and breaches, sent once each by the background runner;
- ``calendars`` / ``targets``: the tenant admin's edits; ``views`` (pages under /sla) and
  ``api`` (/api/v1/admin/sla/...); ``cli``: ``flask sla recompute``.
"""


def init_app(app) -> None:
    from app.sla import cli, views

    views.init_app(app)
    app.cli.add_command(cli.group)


def init_api(api) -> None:
    from app.sla import api as sla_api

    sla_api.init_api(api)
