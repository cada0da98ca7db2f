"""Schedules and occurrences are tenant rows like any other: a query that forgets its tenant
still sees only the tenant of the work at hand (row-level security on PostgreSQL, the
session's filter on SQLite)."""

from datetime import UTC, datetime

from sqlalchemy import select

from app.extensions import db
from app.recurring import runner
from app.recurring.models import RecurringOccurrence, RecurringSchedule
from app.tenancy import isolation
from tests.recurring.helpers import make


def test_an_unscoped_query_as_one_tenant_sees_only_its_schedules(demo):
    acme = make().tenant_id
    globex = make(by="director@globex.test", requester="pedro@globex.test", slug="globex").tenant_id
    runner.run_due(datetime(2026, 12, 7, 14, 1, tzinfo=UTC))
    for model in (RecurringSchedule, RecurringOccurrence):
        db.session.rollback()
        for tenant_id in (acme, globex):
            with isolation.tenant(tenant_id):
                assert {row.tenant_id for row in db.session.scalars(select(model))} == {
                    tenant_id}
                db.session.commit()
