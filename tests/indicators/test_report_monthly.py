"""``flask indicators monthly``: the month's summary notice for each tenant admin and service
director, through the one outbox: once per person and month whatever the number of runs, in
the person's language, with the figures of what they may see."""

from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from sqlalchemy import select

from app.extensions import db
from app.indicators import data, monthly
from app.indicators import filters as flt
from app.indicators.report import calendar_span
from app.models import Notification, OutboxMessage, Tenant
from app.notifications import compose, sandbox, service
from app.notifications.defaults import DEFAULTS
from app.tenancy import clock
from tests import factories as fx
from tests.indicators.test_report import _second_service_unit


def _month() -> str:
    tenant = db.session.query(Tenant).filter_by(slug="acme").one()
    return f"{clock.today(tenant):%Y-%m}"


def _run(app, *args):
    return app.test_cli_runner().invoke(args=["indicators", "monthly", *args])


def _summaries() -> dict[str, Notification]:
    db.session.rollback()
    rows = db.session.scalars(select(Notification).where(
        Notification.event == monthly.EVENT).order_by(Notification.id)).all()
    found = {}
    for row in rows:
        assert row.user.email not in found, "told twice"
        found[row.user.email] = row
    return found


def test_each_admin_and_director_is_told_once_a_month_however_often_it_runs(app, demo):
    fx.request_at("Task_Confirm")
    month = _month()
    first = _run(app, "--period", month)
    assert first.exit_code == 0, first.output
    assert f"acme {month}: 2 queued, 0 already told" in first.output
    assert f"globex {month}: 1 queued, 0 already told" in first.output  # its director
    again = _run(app, "--period", month)
    assert again.exit_code == 0, again.output
    assert f"acme {month}: 0 queued, 2 already told" in again.output

    told = _summaries()
    assert set(told) == {"admin@acme.test", "director@acme.test", "director@globex.test"}
    admin = told["admin@acme.test"]
    assert admin.request_id is None and admin.inapp
    assert admin.key == f"indicators.monthly:t{admin.tenant_id}:{month}:u{admin.user_id}"
    mails = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.event == monthly.EVENT, OutboxMessage.channel == "email")).all()
    assert sorted(m.address for m in mails) == sorted(told)  # one e-mail each, queued
    # Another month is another summary
    assert _run(app, "--period", "2026-01", "--tenant", "acme").exit_code == 0
    assert db.session.scalar(select(db.func.count(Notification.id)).where(
        Notification.event == monthly.EVENT)) == 5


def test_the_summary_has_the_figures_of_what_each_person_may_see(app, demo):
    other = _second_service_unit()
    fx.file(category="Redes")
    fx.request_at("Task_Confirm")
    month = _month()
    assert _run(app, "--period", month, "--tenant", "acme").exit_code == 0
    told = _summaries()
    assert set(told) == {"admin@acme.test", "director@acme.test", other}
    first, last = calendar_span(month)
    for email, notice in told.items():
        person = fx.user(email)
        f = flt.parse(person, {"from": first.isoformat(), "to": last.isoformat()})
        figures = data.indicators(person, f)
        params = notice.params
        assert params["filed"] == str(figures["volumes"]["totals"]["filed"]), email
        assert params["completed"] == str(figures["volumes"]["totals"]["completed"]), email
        assert params["backlog"] == str(figures["backlog"]["total"]), email
        assert params["path"] == f"/indicators?from={first}&to={last}"
        assert service.safe_path(notice) == params["path"]  # the bell leads there
    filed = {email: int(n.params["filed"]) for email, n in told.items()}
    assert filed[other] == 1  # the director of Sistemas: its one request
    assert filed["admin@acme.test"] == filed["director@acme.test"] + 1
    assert told[other].params["summary_scope"] == "Sistemas"
    assert told["admin@acme.test"].params["summary_scope"] == "Acme Industrial S.A."


def test_the_summary_is_written_in_the_persons_language(app, demo):
    other = _second_service_unit()  # Samuel reads English; the company writes Spanish
    fx.file(category="Redes")
    month = _month()
    assert _run(app, "--period", month, "--tenant", "acme").exit_code == 0
    told = _summaries()
    tenant = db.session.query(Tenant).filter_by(slug="acme").one()
    first, _last = calendar_span(month)

    samuel = compose.compose(told[other], fx.user(other), tenant)
    assert samuel.subject.startswith("Indicators of ")
    assert "Requests filed: 1\n" in samuel.text
    assert f"/indicators?from={first}&to=" in samuel.text
    assert "Sistemas" in samuel.subject

    admin = compose.compose(told["admin@acme.test"], fx.user("admin@acme.test"), tenant)
    assert admin.subject.startswith("Indicadores de ")
    assert "de 2026" in told["admin@acme.test"].params["summary_period"]  # "diciembre de 2026"
    assert "Solicitudes registradas: " in admin.text
    assert "Calificación media: " in admin.text
    assert "/indicators?from=" in admin.html


def test_a_month_without_figures_says_so_and_zeros_show(app, demo):
    assert _run(app, "--period", "2025-03", "--tenant", "acme").exit_code == 0
    params = _summaries()["admin@acme.test"].params
    assert params["filed"] == "0" and params["completed"] == "0"
    assert params["on_time"] == "—" and params["mean_rating"] == "—"
    assert params["sla_decision"] == "—"


def test_the_default_month_is_each_companys_last(app, demo):
    result = _run(app, "--tenant", "acme")
    assert result.exit_code == 0, result.output
    tenant = db.session.query(Tenant).filter_by(slug="acme").one()
    first, last = flt.preset_period("last_month", clock.today(tenant))
    assert f"acme {first:%Y-%m}: 2 queued" in result.output
    notice = _summaries()["admin@acme.test"]
    assert notice.params["path"] == f"/indicators?from={first}&to={last}"


def test_bad_month_or_company_is_a_clear_error(app, demo):
    for month in ("2026-13", "2026", "2026-Q1", "1999-01", "noviembre"):
        result = _run(app, "--period", month)
        assert result.exit_code == 2, (month, result.output)
        assert "Give a month as YYYY-MM" in result.output
    result = _run(app, "--tenant", "nope")
    assert result.exit_code == 1 and "No company 'nope'" in result.output
    assert _summaries() == {}


def test_deactivated_people_and_suspended_companies_get_nothing(app, demo):
    director = fx.user("director@acme.test")
    director.active = False
    globex = db.session.query(Tenant).filter_by(slug="globex").one()
    globex.status = "suspended"
    db.session.commit()
    result = _run(app, "--period", _month())
    assert result.exit_code == 0, result.output
    assert set(_summaries()) == {"admin@acme.test"}
    assert "globex" not in result.output


def test_the_product_wording_keeps_to_the_sandbox():
    for locale, texts in DEFAULTS.items():
        subject, text, sms = texts[monthly.EVENT]
        for source in (subject, text, sms):
            sandbox.check(source)
        values = {name: f"<{name}>" for name in sandbox.VARIABLES}
        assert "<filed>" in sandbox.render(text, values), locale


# --- with Celery: the beat's hourly run -----------------------------------------------------------

@pytest.fixture
def eager_celery(app, monkeypatch):
    """The Celery app built from the test app, running tasks inline (no broker needed)."""
    from app.tasks import make_celery

    monkeypatch.setitem(app.config, "CELERY_BROKER_URL", "memory://")
    celery = make_celery(app)
    celery.conf.task_always_eager = True
    yield celery
    app.extensions.pop("celery", None)


def test_the_beat_sends_on_a_companys_first_days_of_a_month_once(app, demo, eager_celery):
    from app import tasks

    entry = eager_celery.conf.beat_schedule["mesa.indicators_monthly"]
    assert entry["task"] == "mesa.indicators_monthly" and entry["schedule"] == 3600
    tenant = db.session.query(Tenant).filter_by(slug="acme").one()
    today = clock.today(tenant)
    first_of_next = (today.replace(day=28) + timedelta(days=4)).replace(day=1)
    # The 10th of the month: nobody is told
    with time_machine.travel(datetime(today.year, today.month, 10, 17, tzinfo=UTC), tick=False):
        assert tasks.indicators_monthly.delay().get() == 0
    # 03:00 UTC on the 1st is still the last day of the month in Bogotá: not yet
    with time_machine.travel(datetime.combine(first_of_next, time(3), UTC), tick=False):
        assert tasks.indicators_monthly.delay().get() == 0
    # Later that day: acme's admin and director, globex's director, of this month; once
    with time_machine.travel(datetime.combine(first_of_next, time(12), UTC), tick=False):
        assert tasks.indicators_monthly.delay().get() == 3
        assert tasks.indicators_monthly.delay().get() == 0
    with time_machine.travel(datetime.combine(first_of_next + timedelta(days=2), time(20), UTC),
                             tick=False):
        assert tasks.indicators_monthly.delay().get() == 0
    told = _summaries()
    assert set(told) == {"admin@acme.test", "director@acme.test", "director@globex.test"}
    assert all(n.key.split(":")[2] == f"{today:%Y-%m}" for n in told.values())
    assert int(told["admin@acme.test"].params["filed"]) >= 6  # the demo's, filed this month
