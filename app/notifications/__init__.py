"""Notifications: who hears of what, by which channel, in whose words.

- ``catalog``: the events, the groups people choose channels for, the channels;
- ``notices``: writing notices in the transaction of the change that causes them;
- ``compose`` and ``sandbox``: the wording, a tenant's or the product's (``defaults``),
  rendered in the one sandbox for tenant-written text;
- ``delivery`` and ``channels``: sending e-mail (SMTP), SMS (Twilio) and WhatsApp (Cloud
  API) from the one outbox (``app.outbox``) that also sends webhooks;
- ``service``, ``views``, ``admin``, ``api``, ``cli``: the bell, preferences, the tenant
  admin's templates and log, the API and the command line.
"""


def init_app(app) -> None:
    from app.notifications import admin, cli, delivery, views  # noqa: F401 (delivery registers)

    app.register_blueprint(views.bp)
    app.register_blueprint(admin.bp)
    app.cli.add_command(cli.group)


def init_api(api) -> None:
    from app.notifications import api as notifications_api

    api.register_blueprint(notifications_api.blp)
