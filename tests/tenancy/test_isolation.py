"""Tenant isolation by construction: a query that forgets its tenant still sees only the
tenant of the work at hand (row-level security on PostgreSQL, the session's filter on SQLite),
and history and audit rows are never rewritten."""

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DBAPIError

from app.extensions import db
from app.models import (
    Category,
    HistoryEvent,
    HumanTask,
    Membership,
    ServiceRequest,
    Tenant,
    Unit,
    User,
)
from app.models.append_only import AppendOnly
from app.tenancy import isolation
from tests.factories import file


def postgresql() -> bool:
    return db.engine.dialect.name == "postgresql"


@pytest.fixture
def two(demo):
    """acme and globex, each with a request filed; their ids."""
    file("ana@acme.test")
    db.session.commit()
    acme, globex = (db.session.scalar(select(Tenant.id).where(Tenant.slug == slug))
                    for slug in ("acme", "globex"))
    counts = {t: db.session.scalar(select(func.count(User.id)).where(User.tenant_id == t))
              for t in (acme, globex)}
    assert counts[acme] and counts[globex]
    db.session.commit()
    return acme, globex


def _all(model):
    """A deliberately unscoped query: every row of the model the database lets us see."""
    return list(db.session.scalars(select(model)))


@pytest.mark.parametrize("model", [User, Unit, Membership, Category, ServiceRequest,
                                   HumanTask, HistoryEvent])
def test_an_unscoped_query_as_one_tenant_sees_only_its_rows(two, model):
    acme, globex = two
    everyone = {row.tenant_id for row in _all(model)}
    db.session.commit()
    for tenant_id in (acme, globex):
        with isolation.tenant(tenant_id):
            rows = _all(model)
            assert {row.tenant_id for row in rows} <= {tenant_id}
            db.session.commit()
    if model in (User, Unit, Membership, Category):
        assert everyone == {acme, globex}  # platform scope sees both: the test can fail


def test_the_tenants_table_shows_only_the_own_company(two):
    acme, globex = two
    with isolation.tenant(globex):
        assert [t.id for t in _all(Tenant)] == [globex]
        assert db.session.get(Tenant, acme) is None
        db.session.commit()


def test_another_tenants_row_by_id_and_through_a_relationship_is_not_found(two):
    acme, globex = two
    ana = db.session.scalar(select(User).where(User.email == "ana@acme.test"))
    ana_id, ana_unit = ana.id, ana.memberships[0].unit_id
    db.session.commit()
    db.session.expunge_all()
    with isolation.tenant(globex):
        assert db.session.get(User, ana_id) is None
        assert db.session.get(Unit, ana_unit) is None
        found = db.session.scalars(select(Membership).where(Membership.user_id == ana_id)).all()
        assert found == []
        db.session.commit()
    with isolation.tenant(acme):
        assert db.session.get(User, ana_id).memberships  # lazy load in scope: found
        db.session.commit()


def test_updates_and_deletes_without_a_tenant_clause_touch_only_the_own_rows(two):
    acme, globex = two
    with isolation.tenant(acme):
        db.session.execute(update(Category).values(description="changed by acme")
                           .execution_options(synchronize_session=False))
        db.session.commit()
    globex_descriptions = set(db.session.scalars(
        select(Category.description).where(Category.tenant_id == globex)))
    assert "changed by acme" not in globex_descriptions
    assert set(db.session.scalars(
        select(Category.description).where(Category.tenant_id == acme))) == {"changed by acme"}
    db.session.commit()
    with isolation.tenant(acme):
        db.session.execute(delete(Membership).where(Membership.role == "requester")
                           .execution_options(synchronize_session=False))
        db.session.rollback()  # (only that it reaches no other tenant's rows: undone)


def test_nobody_before_login_sees_no_tenant_rows(two):
    with isolation.tenant(isolation.NOBODY):
        assert _all(User) == [] and _all(Tenant) == [] and _all(ServiceRequest) == []
        db.session.commit()


def test_a_web_request_starts_with_nobody_and_a_login_enters_its_tenant(app, two):
    acme, _globex = two
    with app.test_request_context("/inbox"):
        app.preprocess_request()
        assert isolation.current() == isolation.NOBODY
        assert _all(User) == []
        isolation.enter(acme)  # what the session loader does once the cookie is checked
        assert {u.tenant_id for u in _all(User)} == {acme}
        db.session.rollback()
    assert isolation.current() == isolation.PLATFORM  # restored after the request


def test_a_page_of_one_tenant_cannot_show_the_other(browser, two):
    acme, globex = two
    other = db.session.scalar(select(ServiceRequest.id).where(ServiceRequest.tenant_id == acme))
    db.session.commit()
    page = browser("jefe@globex.test").get(f"/requests/{other}")
    assert page.status_code == 404


def test_a_tenants_work_cannot_write_another_tenants_row(two):
    acme, globex = two
    with isolation.tenant(globex):
        db.session.add(Unit(tenant_id=acme, name="Intrusa"))
        with pytest.raises((isolation.OtherTenantsRow, DBAPIError)):
            db.session.flush()
        db.session.rollback()
    assert db.session.scalar(select(func.count(Unit.id)).where(Unit.name == "Intrusa")) == 0


def test_raw_sql_is_scoped_too_on_postgresql(two):
    if not postgresql():
        pytest.skip("SQLite has no row-level security: text SQL is not filtered there")
    acme, globex = two
    with isolation.tenant(acme):
        tenants = set(db.session.scalars(text("SELECT DISTINCT tenant_id FROM users")))
        assert tenants == {acme}
        assert db.session.scalar(text("SELECT count(*) FROM tenants")) == 1
        db.session.commit()
    with isolation.platform():
        tenants = set(db.session.scalars(text("SELECT DISTINCT tenant_id FROM users")))
        assert tenants == {acme, globex}
        db.session.commit()


def test_the_app_runs_as_a_role_that_owns_no_table_on_postgresql(two):
    if not postgresql():
        pytest.skip("PostgreSQL only")
    role = db.session.scalar(text("SELECT current_user"))
    assert role == "mesa_app"
    owned = db.session.scalar(text(
        "SELECT count(*) FROM pg_tables WHERE tableowner = current_user"))
    assert owned == 0
    with pytest.raises(DBAPIError):
        db.session.execute(text("ALTER TABLE users DISABLE ROW LEVEL SECURITY"))
    db.session.rollback()


# -- history that cannot be rewritten -----------------------------------------------------------

def _an_entry() -> int:
    return db.session.scalar(select(HistoryEvent.id).order_by(HistoryEvent.id).limit(1))


def test_a_committed_history_entry_cannot_be_changed_or_deleted_through_the_orm(two):
    entry_id = _an_entry()
    db.session.commit()
    entry = db.session.get(HistoryEvent, entry_id)
    entry.comment = "rewritten"
    with pytest.raises((AppendOnly, DBAPIError)):
        db.session.flush()
    db.session.rollback()
    entry = db.session.get(HistoryEvent, entry_id)
    db.session.delete(entry)
    with pytest.raises((AppendOnly, DBAPIError)):
        db.session.flush()
    db.session.rollback()
    for statement in (update(HistoryEvent).values(comment="x"), delete(HistoryEvent)):
        with pytest.raises((AppendOnly, DBAPIError)):
            db.session.execute(statement.where(HistoryEvent.id == entry_id))
        db.session.rollback()
    assert db.session.get(HistoryEvent, entry_id).comment != "rewritten"


def test_raw_sql_cannot_rewrite_history_or_audit_on_postgresql(two):
    if not postgresql():
        pytest.skip("PostgreSQL only: the database itself refuses it")
    from app.admin import audit

    acme, _globex = two
    audit.record(acme, None, "unit.renamed", "unit", 1, before={"name": "a"}, after={"name": "b"})
    entry_id = _an_entry()
    db.session.commit()
    for sql in ("UPDATE history_events SET comment = 'x' WHERE id = :id",
                "DELETE FROM history_events WHERE id = :id",
                "TRUNCATE history_events",
                "DELETE FROM audit_entries",
                "UPDATE audit_entries SET action = 'x'"):
        with pytest.raises(DBAPIError, match="append-only|permission denied"):
            db.session.execute(text(sql), {"id": entry_id})
        db.session.rollback()
    assert db.session.scalar(text("SELECT count(*) FROM audit_entries")) == 1


def test_an_entry_is_completed_by_the_transaction_that_wrote_it(two):
    """A step records its entry first and fills in where it ended before committing."""
    req = db.session.scalar(select(ServiceRequest).limit(1))
    from app.services import history

    entry = history.record(req, "commented", None, comment="first")
    db.session.flush()
    entry.to_status = "in_service"
    db.session.flush()
    db.session.commit()
    assert db.session.get(HistoryEvent, entry.id).to_status == "in_service"


def test_a_row_loaded_in_a_tenants_scope_still_loads_its_relations_in_platform_scope(two):
    """The filter travels with the rows it loaded (their lazy loads); in platform scope it
    admits every row, as platform scope does."""
    acme, _globex = two
    db.session.expunge_all()
    with isolation.tenant(acme):
        ana = db.session.scalar(select(User).where(User.email == "ana@acme.test"))
        db.session.commit()  # expires her: her memberships load again later
    with isolation.platform():
        assert ana.memberships and ana.tenant.id == acme
        db.session.commit()
    with isolation.tenant(isolation.NOBODY):
        db.session.expire(ana)
        assert db.session.scalar(select(User).where(User.email == "ana@acme.test")) is None
        db.session.rollback()
