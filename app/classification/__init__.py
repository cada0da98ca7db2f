"""Automatic classification and assignment.

- ``text``: words without accents or case (pure); ``rules``: matching a request against the
  tenant's ordered rules (``match``, the public helper); ``editing``: the admin's edits;
- ``assignment``: eligible workers, their load, the round-robin turn, planned dates and the
  assignment form's suggestion (``suggest_worker``); ``skills``: which categories each worker
  handles;
- ``operations``: ``classify`` and ``auto_assign``, the service operations a diagram calls
  (registered in ``app.handlers.registry``);
- ``views`` (pages under /classification) and ``api`` (/api/v1/admin/classification-rules,
  /api/v1/admin/worker-skills).
"""


def init_app(app) -> None:
    from app.classification import views

    views.init_app(app)


def init_api(api) -> None:
    from app.classification import api as classification_api

    classification_api.init_api(api)
