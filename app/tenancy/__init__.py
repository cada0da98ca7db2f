"""Tenants as the platform sees them: plans and quotas, suspension, the operators' command
line (``flask tenants``), provisioning a new company, and isolation by construction (every
query of a tenant's data sees only that tenant's rows).

- ``plans``: the plans and their limits (one place); ``quotas``: usage and ``require``;
- ``access``: a suspended company's pages and API, a plan without API access;
- ``operators`` and ``cli``: create, suspend, resume, set-plan, delete (``flask tenants``);
- ``views`` (``/admin/plan``) and ``api`` (``/api/v1/admin/plan``); ``errors``: the answers;
- ``isolation``: every query scoped to the work's tenant.
"""


def init_app(app) -> None:
    from app.tenancy import cli, errors, views

    errors.register(app)
    app.register_blueprint(views.bp)
    app.cli.add_command(cli.group)


def init_api(api) -> None:
    from app.tenancy import api as tenancy_api

    api.register_blueprint(tenancy_api.blp)
