"""Thin blueprints: load, check access through the policy, call a service, commit once."""


def register_blueprints(app) -> None:
    from app.views import auth, inbox, pages, requests, tasks, tickets

    for module in (auth, pages, requests, inbox, tasks, tickets):
        app.register_blueprint(module.bp)
