"""Request lists (my requests, the unit head's, the director's) page through every row under
every order, each row once, in the order the column says, with the count right and nothing of
another unit or company on any page."""

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import PRIORITIES, ServiceRequest, Unit
from app.models.request import REQUEST_STATUSES
from app.services import inbox
from tests import factories
from tests.lists.rows import copies
from tests.lists.walk import in_english, walk

ANA, HEAD, DIRECTOR = "ana@acme.test", "jefe.finanzas@acme.test", "director@acme.test"
ORDERS = [key for base in inbox.REQUEST_ORDERS for key in (base, f"-{base}")]


@pytest.fixture
def many(demo):
    """230 requests of Ana (Finanzas), 15 of María (Producción, same service unit), 10 in
    globex."""
    in_english(ANA, HEAD, DIRECTOR)
    ana = copies(factories.file(ANA), 230, prefix="ANA")
    maria = copies(factories.file("maria@acme.test"), 15, prefix="MAR")
    globex = copies(factories.file("pedro@globex.test"), 10, prefix="GLX")
    return {"ana": set(ana), "maria": set(maria), "globex": set(globex)}


def _rows(**where) -> list[ServiceRequest]:
    acme = factories.user(ANA).tenant_id
    return list(db.session.scalars(select(ServiceRequest).filter_by(tenant_id=acme, **where)))


def _unit_id(name: str) -> int:
    return db.session.scalar(select(Unit.id).filter_by(name=name))


PRIORITY_RANK = {p: rank for rank, p in enumerate(reversed(PRIORITIES))}
VALUE = {
    "sla": lambda r: r.sla_due_at,
    "number": lambda r: r.number,
    "priority": lambda r: PRIORITY_RANK[r.priority],
    "status": lambda r: REQUEST_STATUSES.index(r.status),
}


def expected_order(rows, sort: str) -> list[int]:
    """The order a list promises, computed here: the column's value (rows without one last,
    either way), then the newest (reversed along with the column)."""
    reverse = sort.startswith("-")
    key = sort.removeprefix("-")
    rows = sorted(rows, key=lambda r: (r.created_at, r.id), reverse=not reverse)
    if key == "newest":
        return [r.id for r in rows]
    value = VALUE[key]
    have = sorted((r for r in rows if value(r) is not None), key=value, reverse=reverse)
    return [r.id for r in have] + [r.id for r in rows if value(r) is None]


LISTS = [
    (ANA, "/requests", {"requester_id": lambda: factories.user(ANA).id}),
    (HEAD, "/unit/requests", {"unit_id": lambda: _unit_id("Finanzas")}),
    (DIRECTOR, "/director/requests", {"service_unit_id": lambda: _unit_id("Servicios Generales")}),
]


@pytest.mark.parametrize("email,url,where", LISTS, ids=["mine", "unit_head", "director"])
def test_every_order_pages_through_every_row_once(many, browser, email, url, where):
    rows = _rows(**{column: value() for column, value in where.items()})
    total = len(rows)
    assert total > 230
    client = browser(email)
    for sort in ORDERS:
        ids, counts = walk(client, f"{url}?per_page=100&sort={sort}", "requests")
        assert ids == expected_order(rows, sort), sort
        assert counts[0] == f"1–100 of {total}" and counts[-1] == f"201–{total} of {total}"
        assert len(counts) == 3
    if url != "/director/requests":
        assert not set(ids) & (many["maria"] | many["globex"])
    else:
        assert many["maria"] <= set(ids) and not set(ids) & many["globex"]


def test_filters_stay_in_the_address_on_every_page(many, browser):
    """The status filter and the search words reach the last page: every row of every page
    matches them."""
    client = browser(DIRECTOR)
    status = "pending_evaluation"
    ids, counts = walk(client, f"/director/requests?status={status}&q=ANA&per_page=25"
                               "&sort=-priority", "requests")
    wanted = [r for r in _rows(status=status) if r.number.startswith("ANA")]
    assert ids == expected_order(wanted, "-priority")
    assert len(counts) == -(-len(wanted) // 25) and len(wanted) > 25


def test_a_page_costs_the_same_statements_however_long_the_list(demo, browser):
    """Counting, the page's ids, its rows with their relations and the time left: the same
    round trips for 36 rows as for 236 (9 in all on SQLite, the session's own included)."""
    from tests.lists.statements import counted

    client = browser(DIRECTOR)
    template = factories.file(ANA)
    copies(template, 30, prefix="ANA")
    few = counted(client, "/director/requests?sort=sla")
    copies(template, 200, prefix="ANB")
    assert counted(client, "/director/requests?sort=sla") == few
    assert counted(client, "/director/requests?sort=-sla&page=3&per_page=50") == few
