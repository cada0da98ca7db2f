"""Walk a list page by page through its own "Next" links, as a person would."""

import html as html_lib
import re

from app.extensions import db
from app.models import User

NEXT = re.compile(r'<a href="([^"]+)" rel="next">')
COUNT = re.compile(r'class="muted pager-count">\s*([^<]*?)\s*</span>')
FIRST_CELL = {
    "requests": re.compile(r'<tr>\s*<td><a href="/requests/(\d+)">'),
    "tickets": re.compile(r'<td><a href="/tickets/(\d+)">'),
    "tasks": re.compile(r'<td><a href="/tasks/(\d+)">'),
}


def in_english(*emails: str) -> None:
    for email in emails:
        db.session.query(User).filter_by(email=email).one().locale = "en"
    db.session.commit()


def body(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


def tbody(html: str) -> str:
    start = html.find("<tbody>")
    return html[start:html.find("</tbody>", start)] if start >= 0 else ""


def walk(client, url: str, kind: str, most_pages: int = 50) -> tuple[list[int], list[str]]:
    """The ids of every row of the list at ``url``, page after page in its order, and the
    count line of each page ("1–25 of 230")."""
    ids, counts = [], []
    for _ in range(most_pages):
        html = body(client, url)
        ids += [int(i) for i in FIRST_CELL[kind].findall(tbody(html))]
        found = COUNT.search(html)
        counts.append(found.group(1) if found else "")
        following = NEXT.search(html)
        if following is None:
            return ids, counts
        url = html_lib.unescape(following.group(1))
    raise AssertionError(f"more than {most_pages} pages at {url}")
