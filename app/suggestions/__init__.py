"""Learned suggestion: once a company has enough settled requests, a model trained on its own
past requests proposes a category and a priority, with its confidence, while a request is
written; the company's classification rules win over it.

- ``features`` and ``learning``: pure (no database): the words, TF-IDF and a linear model per
  target (scikit-learn to fit, NumPy to predict), our own serialization (no pickle);
- ``models``: one row per company (the model, its figures, the training's lease);
- ``training``: the company's own history, when to train, the runners' pass
  (app.services.background, app.tasks) and ``cli`` (``flask suggestions train``);
- ``service``: the suggestion (rules first); ``settings``: the company's choices;
- ``status``, ``views`` (/admin/suggestions, the filing page's /suggestions/preview) and
  ``api`` (/api/v1/suggestions, /api/v1/admin/suggestions).
"""


def init_app(app) -> None:
    from app.suggestions import cli, views

    views.init_app(app)
    app.cli.add_command(cli.group)


def init_api(api) -> None:
    from app.suggestions import api as suggestions_api

    suggestions_api.init_api(api)
