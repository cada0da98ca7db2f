"""One pager for every web list: which page and how many rows (read leniently), the rows
counted up to a cap, one window of rows, and orders chosen from a list's own whitelist.

Offset paging with a bounded count. A list is for working through, not for reading a
company's whole history (that is what search and the exports are for), so it counts exactly up
to ``COUNT_CAP`` rows (``SELECT count(*) FROM (... LIMIT cap + 1)``: bounded work whatever the
table holds) and says "more than 10,000" beyond; pages reach as deep as the cap, and every
order can be reversed, so both ends of a bigger list are one click away. An offset of at most
``COUNT_CAP`` rows on an indexed order stays in milliseconds; keyset paging would also serve
deep pages, but not "page 7 of 25" or a jump back to a page, and every whitelisted order would
need a key of its own (several are on nullable columns).

No request context here: the views read the address (``app.views.listing``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select

from app.extensions import db

PER_PAGE_CHOICES = (25, 50, 100, 200)
DEFAULT_PER_PAGE = 50
COUNT_CAP = 10_000  # rows counted exactly; past it a list says "more than 10,000"


@dataclass(frozen=True)
class PageRequest:
    """The page asked for (1-based) and its size, already within bounds."""
    number: int = 1
    per_page: int = DEFAULT_PER_PAGE


def page_request(page: str | None, per_page: str | None,
                 choices: Sequence[int] = PER_PAGE_CHOICES,
                 default: int = DEFAULT_PER_PAGE) -> PageRequest:
    """A ``PageRequest`` from the address's text. Anything that is not a plain positive number
    (``-1``, ``abc``, ``²``, twenty digits) means the first page; a size not offered means the
    default. A page past the end is brought back to the last one by ``fetch_page``."""
    size = _small_number(per_page)
    return PageRequest(number=_small_number(page) or 1,
                       per_page=size if size in choices else default)


def _small_number(text: str | None) -> int | None:
    if not text or not (text.isascii() and text.isdigit()) or len(text) > 9:
        return None
    number = int(text)
    return number if number > 0 else None


@dataclass
class Page:
    """One page of a list and where it stands: "1-50 of 1,234"."""
    items: list
    number: int
    per_page: int
    total: int            # rows counted, at most COUNT_CAP
    capped: bool = False  # more rows than COUNT_CAP
    choices: Sequence[int] = PER_PAGE_CHOICES
    extra: dict = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def first(self) -> int:
        return (self.number - 1) * self.per_page + 1 if self.items else 0

    @property
    def last(self) -> int:
        return self.first + len(self.items) - 1 if self.items else 0

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def count_upto(stmt, cap: int | None = None) -> tuple[int, bool]:
    """How many rows ``stmt`` selects, counting no further than ``cap`` (``COUNT_CAP``; and
    whether there are more). Its ORDER BY is dropped; it should select ids only, so an index
    can answer."""
    cap = COUNT_CAP if cap is None else cap
    found = db.session.scalar(
        select(func.count()).select_from(stmt.order_by(None).limit(cap + 1).subquery()))
    return min(found, cap), found > cap


def fetch_page(stmt, wanted: PageRequest, *, model, load=(), cap: int | None = None) -> Page:
    """A page of ``stmt`` (a SELECT of ``model`` with its filters and ORDER BY): the rows
    counted (``count_upto``, on the ids), then the page's ids, then those rows with the
    loader options ``load`` (``inbox.fetch_window``): three statements, whatever the list
    holds. A page past the end (or past the cap) shows the last one."""
    from app.services.inbox import fetch_window

    total, capped = count_upto(stmt.with_only_columns(model.id), cap)
    pages = max(1, math.ceil(total / wanted.per_page))
    number = min(wanted.number, pages)
    window = stmt.limit(wanted.per_page).offset((number - 1) * wanted.per_page)
    items = fetch_window(window, model, load) if total else []
    return Page(items=items, number=number, per_page=wanted.per_page, total=total,
                capped=capped)


@dataclass(frozen=True)
class Term:
    """One ORDER BY term of a whitelisted order, in its natural direction. ``nulls_last``
    only for a column that may be null: on a NOT NULL column it would keep PostgreSQL from
    reading an index backwards."""
    column: object
    descending: bool = False
    nulls_last: bool = False


def order_terms(sorts: Mapping[str, Sequence[Term]], sort: str,
                tiebreak: Sequence[Term]) -> tuple:
    """The ORDER BY of ``sort``: a key of ``sorts`` (``"-key"``: that order reversed), then
    ``tiebreak`` (ending in a unique column; reversed along) so that pages never repeat or
    skip a row. Rows with no value stay last either way."""
    reverse = sort.startswith("-")
    terms = (*sorts[sort.removeprefix("-")], *tiebreak)
    out = []
    for term in terms:
        descending = term.descending != reverse
        clause = term.column.desc() if descending else term.column.asc()
        out.append(clause.nulls_last() if term.nulls_last else clause)
    return tuple(out)


def known_sort(sorts: Mapping[str, object], sort: str | None) -> bool:
    """Whether ``sort`` is one of the list's orders, or one reversed."""
    return bool(sort) and sort.removeprefix("-") in sorts
