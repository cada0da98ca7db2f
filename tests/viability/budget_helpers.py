"""What the budget and rate tests share: the demo's people, a second service unit of acme
(another director's), budgets and requests with costs set directly on the rows, API clients
and snapshots that tell whether anything changed."""

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from app.admin.models import AuditEntry
from app.api import tokens_service
from app.extensions import db
from app.models import Budget, Category, Membership, ServiceRequest, Tenant, Ticket, Unit, User
from app.viability import budgets
from tests import factories
from tests.api.conftest import ApiClient

ADMIN = "admin@acme.test"
DIRECTOR = "director@acme.test"
HEAD = "jefe.finanzas@acme.test"
REQUESTER = "ana@acme.test"
WORKER = "tecnico1@acme.test"
GLOBEX_DIRECTOR = "director@globex.test"
SERVICES = "Servicios Generales"  # acme's service unit, directed by DIRECTOR
IT = "Tecnología"  # a second service unit of acme (``other_unit``), directed by nobody here


def unit(name: str, slug: str = "acme") -> Unit:
    db.session.rollback()
    return db.session.scalar(select(Unit).join(Tenant, Tenant.id == Unit.tenant_id).where(
        Tenant.slug == slug, Unit.name == name))


def category(name: str, slug: str = "acme") -> Category:
    db.session.rollback()
    return db.session.scalar(select(Category).join(Tenant, Tenant.id == Category.tenant_id)
                             .where(Tenant.slug == slug, Category.name == name))


def tenant(slug: str = "acme") -> Tenant:
    db.session.rollback()
    return db.session.scalar(select(Tenant).where(Tenant.slug == slug))


def make_other_unit() -> Unit:
    """acme's second service unit (a test's ``other_unit`` fixture), with a category and a
    worker of its own."""
    acme = tenant()
    it = Unit(tenant_id=acme.id, name=IT, is_service_unit=True)
    db.session.add(it)
    db.session.flush()
    db.session.add(Category(tenant_id=acme.id, name="Redes", service_unit_id=it.id,
                            description="Cableado y wifi"))
    db.session.add(Membership(tenant_id=acme.id, user=factories.user(WORKER), role="worker",
                              unit_id=it.id))
    db.session.commit()
    return it


def add_budget(service_unit: str = SERVICES, *, period: str = "month",
               starts_on: date = date(2026, 12, 1), amount: str = "1000000",
               category_name: str | None = None, requesting_unit: str | None = None,
               slug: str = "acme") -> Budget:
    """A budget saved through ``budgets.save`` (checked as the pages and the API are)."""
    su = unit(service_unit, slug)
    data = budgets.BudgetInput(
        service_unit_id=su.id, period=period, starts_on=starts_on, amount=Decimal(amount),
        category_id=category(category_name, slug).id if category_name else None,
        requesting_unit_id=unit(requesting_unit, slug).id if requesting_unit else None)
    budget = budgets.save(su.tenant_id, data)
    db.session.commit()
    return budget


def costed_request(*, on: date, estimate: str | None = None, actual: str | None = None,
                   status: str = "in_service", category_name: str = "Electricidad",
                   requester: str = REQUESTER) -> ServiceRequest:
    """A request filed through the services, then given its budget date, estimated cost,
    status and (``actual``) a finished ticket with that actual cost, on the rows directly."""
    req = factories.file(requester, category=category_name, title=f"Costo {estimate}/{actual}")
    req.committed_on = on
    req.status = status
    req.estimated_cost = Decimal(estimate) if estimate is not None else None
    if actual is not None:
        db.session.add(Ticket(
            tenant_id=req.tenant_id, number=f"TKT-T-{req.id}", request_id=req.id,
            service_unit_id=req.service_unit_id, worker_id=factories.user(WORKER).id,
            status="finished", planned_start=on, planned_end=on, actual_cost=Decimal(actual)))
    db.session.commit()
    return req


def api_as(app, email: str) -> ApiClient:
    db.session.rollback()  # a fresh transaction: SQLite refuses a write from an older snapshot
    raw, _ = tokens_service.issue(factories.user(email), "test", 1)
    db.session.commit()
    return ApiClient(app, raw)


def budget_rows() -> list[tuple]:
    """Every budget as plain values: equal before and after means nothing changed."""
    db.session.rollback()
    return sorted(((b.tenant_id, b.service_unit_id, b.category_id, b.requesting_unit_id,
                    b.period, b.starts_on, b.ends_on, b.amount, b.note)
                   for b in db.session.scalars(select(Budget))), key=repr)


def rate_rows() -> list[tuple]:
    db.session.rollback()
    return sorted([("unit", u.id, u.hourly_rate) for u in db.session.scalars(select(Unit))]
                  + [("user", u.id, u.hourly_rate) for u in db.session.scalars(select(User))],
                  key=repr)


def entries(action_prefix: str = "") -> list[AuditEntry]:
    db.session.rollback()
    return list(db.session.scalars(select(AuditEntry).where(
        AuditEntry.action.startswith(action_prefix)).order_by(AuditEntry.id)))


def budget_form(**over) -> dict:
    """The new-budget page's fields, for acme's service unit, December 2026."""
    values = {"service_unit_id": str(unit(SERVICES).id), "category_id": "",
              "requesting_unit_id": "", "period": "month", "starts_on": "2026-12",
              "amount": "1.500.000,50", "note": "Mantenimiento de fin de año"}
    values.update({k: v for k, v in over.items()})
    return values


def budget_with_left(left: str, *, category_id: int | None = None,
                     period: str = "month") -> Budget:
    """This month's (quarter's...) budget of acme's service unit (of one category), holding
    ``left`` beyond what the demo's own requests (approved today) already use; the setting
    of over-budget approvals untouched."""
    from app.tenancy import clock

    su = unit(SERVICES)
    acme = tenant()
    data = budgets.BudgetInput(service_unit_id=su.id, period=period, amount=Decimal(0),
                               starts_on=budgets.period_start(period, clock.today(acme)),
                               category_id=category_id)
    budget = budgets.save(acme.id, data)
    data.amount = budgets.figures_of(budget).used + Decimal(left)
    budgets.save(acme.id, data, budget)
    db.session.commit()
    return budget
