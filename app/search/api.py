"""``GET /api/v1/search?q=``: the page's search over the API, scoped by the same rule."""

from flask import request
from marshmallow import Schema, fields, validate

from app.api.common import Blueprint, caller
from app.api.errors import problem, problem_doc
from app.search import query as search_query
from app.search import text
from app.search.views import page_number

blp = Blueprint("api_search", __name__, url_prefix="/api/v1",
                description="Search requests and tickets by number, title, description, "
                            "comments and template values")

DETAILS = {
    "empty": "Send q: a word, a title or a request or ticket number.",
    "too_long": f"q is too long: at most {text.MAX_QUERY_CHARS} characters.",
}


class SearchArgs(Schema):
    q = fields.String(required=True, metadata={
        "description": f"Words (at most {text.MAX_TERMS} are used; every one must match, "
                       "accents and word endings aside) or a request or ticket number "
                       f"(SOL-2026-000042). At most {text.MAX_QUERY_CHARS} characters; "
                       "no operators: every character is text."})
    page = fields.Integer(validate=validate.Range(min=1, max=search_query.MAX_PAGE),
                          load_default=1)


class SearchHit(Schema):
    id = fields.Integer()
    number = fields.String()
    ticket_number = fields.String(allow_none=True)
    title = fields.String()
    status = fields.String()
    title_html = fields.String(metadata={"description": "The title, HTML-escaped, matching "
                                                        "words in <mark>"})
    snippet_html = fields.String(metadata={"description": "A passage around the first match "
                                                          "(description, template values, "
                                                          "comments you may read), escaped, "
                                                          "matching words in <mark>"})
    rank = fields.Float()


class SearchPage(Schema):
    items = fields.List(fields.Nested(SearchHit))
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer(metadata={"description": "How many matched"})
    total_capped = fields.Boolean(metadata={"description": "Asked past the last page: more "
                                                           "matched than total says"})


@blp.route("/search")
@blp.arguments(SearchArgs, location="query", as_kwargs=True)
@blp.response(200, SearchPage)
@blp.alt_response(422, **problem_doc, description="q empty (or only common words) or too "
                                                  "long")
def search(q, page=1):
    """Requests and tickets the caller may open that match q, best first"""
    try:
        results = search_query.search(caller(), q, page_number(request.args.get("page", page)))
    except text.QueryError as exc:
        return problem(422, DETAILS[exc.kind], {"q": [DETAILS[exc.kind]]})
    return {"items": [_hit(h) for h in results.hits], "page": results.page,
            "per_page": results.per_page, "total": results.total,
            "total_capped": results.capped}


def _hit(hit) -> dict:
    req = hit.request
    return {"id": req.id, "number": req.number, "ticket_number": hit.ticket_number,
            "title": req.title, "status": req.status, "title_html": str(hit.title),
            "snippet_html": str(hit.snippet), "rank": round(hit.rank, 6)}


def init_api(api) -> None:
    api.register_blueprint(blp)
