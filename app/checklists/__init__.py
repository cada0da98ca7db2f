"""Checklists: a step's step-by-step instructions, the security incident's alerts by severity,
and a request's printable report (issue 17).

- ``models``: Checklist (a company's items per process and checklist key), TaskChecklistItem
  (the items a task started with, and who ticked each, when);
- ``service``: read / write checklists (validated, audited), ``ensure_defaults`` for a template
  adopted from the catalog; ``defaults``: what the security-incident template ships;
- ``tasks``: copying the items when a task opens, ticks, and the one completion check
  (``services.workflow.complete`` calls ``require_ticked``);
- ``alerts``: the mapping severity -> recipients and the service operation
  ``alert_by_severity`` (notices through app.notifications, and so the one outbox);
- ``report``: the whole record of a request for one viewer;
- ``views`` (pages), ``api``.
"""


def init_app(app) -> None:
    from app.checklists import views

    views.init_app(app)


def init_api(api) -> None:
    from app.checklists import api as checklists_api

    api.register_blueprint(checklists_api.blp)
