"""Informed viability decisions: what a director needs to know before approving a request.

- ``models``: budgets; ``budgets``: their rules and the figures summed from requests and
  tickets; ``ledger``: the same figures replayed from the requests' history alone;
- ``costs``: hourly rates and a finished ticket's actual cost; ``money``: amounts on pages;
- ``availability``: who is free when (pure, no database); ``staff``: its inputs read from the
  database; ``similar``: what past requests of the category cost; ``assessment``: all of it for
  one request, as the evaluation page and ``GET /api/v1/requests/{id}/viability`` show it;
- ``views`` (pages under /budgets) and ``api`` (/api/v1/admin/budgets, hourly rates).
"""


def init_app(app) -> None:
    from app.viability import money

    money.register(app)
    try:
        from app.viability import views
    except ImportError:  # pages not built yet
        return
    views.init_app(app)


def init_api(api) -> None:
    try:
        from app.viability import api as viability_api
    except ImportError:
        return
    viability_api.init_api(api)
