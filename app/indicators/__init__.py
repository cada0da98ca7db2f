"""Service indicators: what management reads of the service, from history and current rows.

- ``filters``: the period and the filters of a view, checked against what the caller may see;
- ``stages``: each request's stage milestones and business-time lead times, folded from its
  history in the step's transaction (and rebuilt from history by ``flask indicators rebuild``);
- ``figures``: pure (no database): every figure from the rows a view selects;
- ``data``: the rows of a view, read in a few bounded queries, turned into figures;
- ``views`` (the /indicators page), ``api`` (/api/v1/indicators), ``exports`` (CSV and XLSX
  without row caps, streamed), ``heatmap`` (the process diagram coloured by where time goes),
  ``report`` and ``cli`` (``flask indicators ...``).
"""


def init_app(app) -> None:
    from app.indicators import cli, exports_views, heatmap_views, views

    views.init_app(app)
    exports_views.init_app(app)
    heatmap_views.init_app(app)
    app.cli.add_command(cli.group)


def init_api(api) -> None:
    from app.indicators import api as indicators_api
    from app.indicators import exports_api, heatmap_api

    indicators_api.init_api(api)
    exports_api.init_api(api)
    heatmap_api.init_api(api)
