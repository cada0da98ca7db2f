"""What every list page reads from its address and hands its template: the page and its size,
the SLA filter, the order (a key of the list's whitelist, or one reversed), and ``page_url``,
the address of the same list with one thing changed (the filters stay as they are).

Values a list does not know never make an error page: a bad page or size means the first page
or the default size, an unknown order or filter is dropped with a message saying so.
"""

from urllib.parse import urlencode

from flask import flash, request
from flask_babel import format_number
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.kinds import KINDS
from app.services import inbox, paging
from app.sla import display

# The orders' names in the order field (the SLA ones are the service levels' own)
SORT_LABELS = {
    **display.SORT_LABELS,
    "number": _l("By number"),
    "status": _l("By status"),
    "waiting": _l("Longest waiting first"),
}
# Address parameters a link may carry at most (longer ones are not one of our lists' own)
MAX_ARG = 200


def page_args() -> paging.PageRequest:
    return paging.page_request(request.args.get("page"), request.args.get("per_page"))


def list_options(orders, default: str) -> dict:
    """The SLA filter (``sla``), the kind of work (``kind``) and the order (``sort``) a list
    page was asked for. A value the page does not know is ignored, with a message saying so
    (never an error page)."""
    sla, sort = request.args.get("sla") or None, request.args.get("sort") or None
    kind = request.args.get("kind") or None
    if kind is not None and kind not in KINDS:
        flash(_("The kind of work asked for was not understood and is not applied."), "info")
        kind = None
    if sla is not None and sla not in inbox.SLA_FILTERS:
        flash(_("The service-level filter was not understood and is not applied."), "info")
        sla = None
    if sort is not None and not paging.known_sort(orders, sort):
        flash(_("The order asked for was not understood; the default order is shown."), "info")
        sort = None
    return {"sla": sla, "sort": sort or default, "kind": kind}


def sort_choices(orders, current: str) -> list[tuple[str, str]]:
    """(code, label) of each order of the list for its order field; a reversed order chosen
    by a column heading is offered too, so the field keeps it."""
    choices = [(code, SORT_LABELS.get(code, code)) for code in orders]
    if current.startswith("-"):
        base = SORT_LABELS.get(current[1:], current[1:])
        choices.append((current, _("%(order)s (reversed)", order=base)))
    return choices


def list_context(options: dict, orders, page: paging.Page, requests) -> dict:
    """What a list template needs: the page, each request's time left, and the SLA filter
    and order to show and pick."""
    return {"page": page, "sla": inbox.time_left(requests), "list_options": {
        "sla_filter": options["sla"], "sort": options["sort"], "sla_filters": display.FILTERS,
        "kind": options.get("kind"), "kinds": KINDS,
        "sorts": sort_choices(orders, options["sort"])}}


def page_url(**changes) -> str:
    """This list's address with ``changes`` (a value of None removes the parameter), every
    other parameter kept (filters, order, size). Built from the path and the query string
    only, so no parameter name can reach ``url_for``'s own (``_external``...)."""
    pairs = [(name, value) for name, value in request.args.items(multi=True)
             if name not in changes and value and len(value) <= MAX_ARG]
    pairs += [(name, str(value)) for name, value in changes.items() if value is not None]
    query = urlencode(pairs)
    return request.script_root + request.path + (f"?{query}" if query else "")


def sort_url(key: str, current: str) -> str:
    """A column heading's link: the list by ``key``, or reversed when it is already so, from
    the first page."""
    return page_url(sort=f"-{key}" if current == key else key, page=None)


def pager_numbers(page: paging.Page, around: int = 2) -> list[int | None]:
    """The page numbers a pager links: the first, the last and ``around`` either side of the
    current one, None where some are left out."""
    wanted = {1, page.pages, *range(page.number - around, page.number + around + 1)}
    shown: list[int | None] = []
    for n in sorted(n for n in wanted if 1 <= n <= page.pages):
        if shown and n - shown[-1] == 2:  # a gap of one page: that page, not an ellipsis
            shown.append(n - 1)
        elif shown and n - shown[-1] > 2:
            shown.append(None)
        shown.append(n)
    return shown


def as_page(found) -> paging.Page:
    """The pager's view of a page another list already has: the API envelope
    (``app.api.common.paginate``: a dict) or Flask-SQLAlchemy's ``Pagination``."""
    if isinstance(found, dict):
        items, number, per_page, total = (found["items"], found["page"], found["per_page"],
                                          found["total"])
    else:
        items, number, per_page, total = found.items, found.page, found.per_page, found.total
    return paging.Page(items=list(items), number=number, per_page=per_page, total=total or 0,
                       choices=(per_page,))


def register(state) -> None:
    """Blueprint hook: the pager's helpers for every template (``_pager.html``)."""
    state.app.add_template_global(page_url, "page_url")
    state.app.add_template_global(sort_url, "sort_url")
    state.app.add_template_global(pager_numbers, "pager_numbers")
    state.app.add_template_global(as_page, "as_page")
    state.app.add_template_filter(format_number, "number")
