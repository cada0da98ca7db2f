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
    from app.admin import category_views, import_views, settings_views  # noqa: I001

    for bp in (category_views.bp, settings_views.bp, settings_views.logo_bp, import_views.bp):
        app.register_blueprint(bp)  # categories, settings and the logo, CSV import
    app.context_processor(lambda: {"can_administer_tenant": policy.can_administer_tenant})
    from app.admin import audit_labels

    app.add_template_global(audit_labels.action_label, "audit_action")
    app.add_template_global(audit_labels.target_label, "audit_target")
    app.add_template_global(audit_labels.field_label, "audit_field")


def init_api(api) -> None:
    from app.admin import api as admin_api

    api.register_blueprint(admin_api.blp)  # people, units, audit
    from app.admin import category_api, import_api, settings_api  # noqa: I001

    for blp in (category_api.blp, settings_api.blp, import_api.blp):
        api.register_blueprint(blp)  # categories, settings, CSV import
