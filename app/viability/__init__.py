"""Informed viability decisions: what a director needs to know before approving a request.

- ``models``: budgets; ``budgets``: their rules and the figures summed from requests and
  tickets; ``ledger``: the same figures replayed from the requests' history alone;
- ``costs``: hourly rates and a finished ticket's actual cost; ``money``: amounts on pages;
- ``availability``: who is free when (pure, no database); ``staff``: its inputs read from the
  database; ``similar``: what past requests of the category cost; ``assessment``: all of it for
  one request, as the evaluation page and ``GET /api/v1/requests/{id}/viability`` show it;
- ``budget_edits``: who manages which budgets, the form, audited create/change/delete;
  ``rates``: hourly rates as the tenant admin sets them; ``labels``: periods and scopes on pages;
- ``panel``: the evaluation page's viability panel (``GET /tasks/<id>/viability`` refreshes
  it as the director types); ``request_api``: ``GET /api/v1/requests/{id}/viability``;
- ``views`` (pages under /budgets) and ``api`` (/api/v1/admin/budgets, hourly rates).
"""


def init_app(app) -> None:
    from app.viability import cli, money, views

    money.register(app)
    views.init_app(app)
    app.cli.add_command(cli.group)


def init_api(api) -> None:
    from app.viability import api as viability_api
    from app.viability import request_api

    viability_api.init_api(api)
    request_api.init_api(api)
