"""Tenant administration: a company runs itself (people, units, categories, settings, CSV
import, and the audit of every administrative change).

- ``models``: the audit entries; ``audit``: recording them;
- ``people``, ``units``, ``categories``, ``settings``, ``importing``: the rules of each;
- ``views`` (pages under /admin) and ``api`` (/api/v1/admin/...), scoped by ``app.policy``.
"""


def init_app(app) -> None:
    from app import policy
    from app.admin import views

    app.register_blueprint(views.bp)  # people, units, audit
    app.context_processor(lambda: {"can_administer_tenant": policy.can_administer_tenant})


def init_api(api) -> None:
    from app.admin import api as admin_api

    api.register_blueprint(admin_api.blp)  # people, units, audit
