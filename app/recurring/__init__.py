"""Recurring requests: a request template filed on an RFC 5545 rule in the company's time
zone, by the background runner, each occurrence exactly once.

- ``rules`` (pure): parse, check and follow a rule (python-dateutil), the friendly form;
  ``wording``: a rule in words;
- ``models``: schedules and their occurrences (unique per schedule and instant);
- ``schedules``: create, change, pause, resume, delete, previews, who sees which;
- ``runner``: files the due occurrences (embedded runner, Celery beat, ``flask recurring
  run``), exactly once, with catch-up after a downtime or skipping to the latest;
- ``views`` (the page /recurring), ``api`` (/api/v1/admin/recurring), ``cli``.
"""


def init_app(app) -> None:
    from app import policy
    from app.recurring import cli, views, wording

    app.register_blueprint(views.bp)
    app.add_template_global(policy.can_schedule_requests, "can_schedule_requests")
    app.add_template_global(wording.describe, "recurrence_words")
    app.cli.add_command(cli.group)


def init_api(api) -> None:
    from app.recurring import api as recurring_api

    recurring_api.init_api(api)
