"""The catalog of ready processes: templates shipped with the product (incident, change
request, security incident, the default service request) that a process owner adopts as a
process of the company, then edits and deploys like any other.

- ``templates``: what the catalog lists (file, kind, names and descriptions per language,
  the teams and checklists each needs); ``labels``: the templates' step names in English;
- ``adoption``: ``adopt(...)`` (draft or first version, teams, checklists, audited);
- ``matrix`` (pure) and ``settings``: the incident priority matrix (impact x urgency ->
  priority) and the first line's time per priority, kept in the tenant's settings;
- ``operations``: ``prioritize`` and ``escalate``, service operations a diagram calls;
- ``views`` (catalog cards on the Procesos page, preview, adopt, the matrix page) and
  ``api`` (``/api/v1/processes/catalog``, ``/api/v1/processes/priority-matrix``).
"""


def adopt(tenant_id, template_key, user, process_key=None, deploy=False):
    """See ``adoption.adopt`` (imported here lazily: the services it uses import the
    handlers' registry, which imports this package's operations)."""
    from app.process_catalog.adoption import adopt as _adopt

    return _adopt(tenant_id, template_key, user, process_key=process_key, deploy=deploy)


def init_app(app) -> None:
    from app.process_catalog import views

    views.init_app(app)


def init_api(api) -> None:
    from app.process_catalog import api as catalog_api

    api.register_blueprint(catalog_api.blp)
