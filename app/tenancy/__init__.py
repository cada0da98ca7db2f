"""Tenants as the platform sees them: plans and quotas, suspension, the operators' command
line (``flask tenants``), provisioning a new company, and isolation by construction (every
query of a tenant's data sees only that tenant's rows)."""


def init_app(app) -> None:
    from app.tenancy import errors, views

    errors.register(app)
    app.register_blueprint(views.bp)


def init_api(api) -> None:
    pass
