"""What a list makes of an address it did not write: bad pages, sizes and orders are ignored
(never an error page); a page past the end shows the last; past the count cap a list says
"more than"; the pager's links keep every filter and nothing of url_for's own."""

import html as html_lib

import pytest

from app.services import inbox, paging
from tests import factories
from tests.lists.rows import copies
from tests.lists.walk import COUNT, NEXT, body, in_english, walk

LISTS = [
    ("ana@acme.test", "/requests"),
    ("jefe.finanzas@acme.test", "/unit/requests"),
    ("director@acme.test", "/director/requests"),
    ("director@acme.test", "/director/tickets"),
    ("tecnico1@acme.test", "/my/tickets"),
    ("jefe.finanzas@acme.test", "/inbox"),
]
BAD = ["page=-1", "page=abc", "page=0", f"page={10**20}", "page=%C2%B2", "page=1.5",
       "page=", "page=99999", "per_page=7", "per_page=-5", "per_page=abc",
       f"per_page={10**20}", "sort=unknown", "sort=-unknown", "sort=--sla", "sort=-",
       "sort=%00", "sla=bogus", "page=2&page=x", "_external=1&endpoint=x&_anchor=y"]


@pytest.mark.parametrize("email,url", LISTS)
def test_a_bad_page_size_or_order_is_ignored_never_an_error(demo, browser, email, url):
    client = browser(email)
    for query in BAD:
        response = client.get(f"{url}?{query}")
        # a NUL in the address is refused by the input layer (400) before any list reads it
        assert response.status_code == (400 if "%00" in query else 200), (url, query)
        links = NEXT.findall(response.get_data(as_text=True))
        assert all(link.startswith(url) for link in links)


@pytest.fixture
def many(demo):
    in_english("ana@acme.test")
    return copies(factories.file("ana@acme.test"), 120, prefix="ANA",
                  statuses=("pending_authorization", "pending_evaluation"))


def test_a_page_past_the_end_shows_the_last(many, browser):
    html = body(browser("ana@acme.test"), "/requests?per_page=50&page=99999")
    total = len(inbox.list_requests(factories.user("ana@acme.test"), limit=1000,
                                    mine_only=True))
    assert COUNT.search(html).group(1) == f"101–{total} of {total}"


def test_past_the_cap_the_count_says_more_than(many, browser, monkeypatch):
    monkeypatch.setattr(paging, "COUNT_CAP", 100)
    client = browser("ana@acme.test")
    html = body(client, "/requests?per_page=25")
    assert COUNT.search(html).group(1) == "1–25 of more than 100"
    html = body(client, "/requests?per_page=25&page=50")
    assert COUNT.search(html).group(1) == "76–100 of more than 100"
    assert "narrow the filters or reverse the order" in html
    # the other end of the list is one reversed order away
    first, _ = walk(client, "/requests?per_page=100&sort=newest", "requests")
    last, _ = walk(client, "/requests?per_page=100&sort=-newest", "requests")
    assert len(first) == len(last) == 100 and set(first) | set(last) >= set(many)


def test_the_pager_keeps_the_filters_and_the_size(many, browser):
    client = browser("ana@acme.test")
    html = body(client, "/requests?status=pending_authorization&q=ANA&per_page=25&sort=-sla"
                        "&sla=")
    following = html_lib.unescape(NEXT.search(html).group(1))
    assert following == ("/requests?status=pending_authorization&q=ANA&per_page=25"
                         "&sort=-sla&page=2")
    # a heading restarts at the first page with its order, the filters kept
    assert 'href="/requests?status=pending_authorization&amp;q=ANA&amp;per_page=25' \
           '&amp;sort=sla"' in html
    assert 'name="per_page" value="25"' in html  # the filter form keeps the size


def test_page_request_reads_only_plain_positive_numbers():
    read = paging.page_request
    assert read("3", "100") == paging.PageRequest(3, 100)
    for page in (None, "", "0", "-1", "abc", "²", "1e3", "1.5", "9" * 10, " 2"):
        assert read(page, None).number == 1, page
    for size in ("7", "0", "-25", "abc", "9" * 30):
        assert read("1", size).per_page == paging.DEFAULT_PER_PAGE, size


def test_the_pager_links_the_pages_around_this_one():
    from app.views.listing import pager_numbers

    def numbers(number, total, per_page=10):
        return pager_numbers(paging.Page(items=[1], number=number, per_page=per_page,
                                         total=total))

    assert numbers(1, 5) == [1]
    assert numbers(1, 45) == [1, 2, 3, 4, 5]
    assert numbers(10, 400) == [1, None, 8, 9, 10, 11, 12, None, 40]
    assert numbers(40, 400) == [1, None, 38, 39, 40]
