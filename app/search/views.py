"""The search page (/search?q=): what the person may open that matches, ranked, a page at a
time. Thin: ``query.search`` decides what is found; an empty or too long query is answered
with the form and a message (422), never a 500."""

from flask import Blueprint, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from app.search import query as search_query
from app.search import text

bp = Blueprint("search", __name__, template_folder="templates")

MESSAGES = {
    "empty": _l("Type a word, a title or a number to search for."),
    "too_long": _l("The search is too long: at most %(num)s characters.",
                   num=text.MAX_QUERY_CHARS),
}


def page_number(raw) -> int:
    """A page number from the query string: anything else is the first page."""
    value = str(raw or "1")
    return int(value) if value.isascii() and value.isdigit() and len(value) < 6 else 1


@bp.route("/search")
@login_required
def index():
    raw = request.args.get("q", "")
    if not raw.strip():
        return _page(raw, None, None, 200)
    try:
        results = search_query.search(current_user, raw, page_number(request.args.get("page")))
    except text.QueryError as exc:
        return _page(raw, None, MESSAGES[exc.kind], 422)
    return _page(raw, results, None, 200)


def _page(raw, results, error, status):
    return render_template("search/results.html", q=raw[:text.MAX_QUERY_CHARS * 2],
                           results=results, error=error), status, {"Cache-Control": "no-store"}


def init_app(app) -> None:
    app.register_blueprint(bp)
