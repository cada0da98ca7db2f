"""Thin blueprints: load, check access through the policy, call a service, commit once."""


def register_blueprints(app) -> None:
    from app.views import (
        account,
        admin,
        auth,
        inbox,
        incidents,
        modeler,
        pages,
        processes,
        requests,
        tasks,
        ticket_changes,
        tickets,
    )

    for module in (auth, pages, requests, inbox, tasks, tickets, ticket_changes, admin,
                   account, processes, incidents, modeler):
        app.register_blueprint(module.bp)
