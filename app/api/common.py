"""What every API blueprint shares: the caller, scoped loading, pagination."""

import math

from flask import abort, g, request
from flask_smorest import Blueprint as SmorestBlueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import func, select

from app.extensions import csrf, db

BEARER = [{"bearerAuth": []}]


class Blueprint(SmorestBlueprint):
    """An API blueprint: bearer-token auth on every view, no CSRF (no cookies are accepted)."""

    def __init__(self, *args, public: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.public = public
        csrf.exempt(self)
        if not public:
            self.before_request(require_token)

    def route(self, rule, *, parameters=None, **options):
        """Every view of a token-protected blueprint documents its 401 answer."""
        register = super().route(rule, parameters=parameters, **options)
        if self.public:
            return register

        def decorator(view):
            from app.api.errors import problem_doc

            documented = self.alt_response(401, **problem_doc,
                                           description="Missing, expired or revoked token")
            responses = getattr(view, "_apidoc", {}).get("response", {}).get("responses", {})
            if 403 not in responses:  # a view's own 403 keeps its description
                view = self.alt_response(403, **problem_doc, description=(
                    "The company is suspended (type .../tenant-suspended) or past its plan "
                    "(type .../plan-limit): see the README"))(view)
            return register(documented(view))

        return decorator


def require_token():
    from app.api.tokens_service import authenticate

    header = request.headers.get("Authorization", "")
    scheme, _, raw = header.partition(" ")
    from app.tenancy import isolation

    with isolation.platform():  # whose token is it: not known yet
        user = authenticate(raw.strip()) if scheme.lower() == "bearer" else None
    if user is None:
        from app.api.errors import problem

        return problem(401, "Send a valid token: 'Authorization: Bearer <token>'.",
                       headers={"WWW-Authenticate": 'Bearer realm="api"'})
    isolation.enter(user.tenant_id)
    g.api_user = user
    g.who = (user.tenant_id, user.id)  # for the request log
    from app.tenancy.access import api_refusal

    return api_refusal(user)  # a suspended company, a plan without API access: 403


def caller():
    return g.api_user


MAX_ID = 2**31 - 1  # integer columns; larger ids cannot exist


def scoped_or_404(model, object_id: int, *options):
    """Fetch by (caller's tenant, id), with loader ``options``; another tenant's id is simply
    not found."""
    if not 0 < object_id <= MAX_ID:
        abort(404)
    obj = db.session.scalar(
        select(model).where(model.tenant_id == caller().tenant_id, model.id == object_id)
        .options(*options))
    if obj is None:
        abort(404)
    return obj


def Id(**kwargs) -> fields.Integer:  # noqa: N802 (a field factory, used like a field class)
    """An id argument: a positive integer within the database's integer range."""
    return fields.Integer(validate=validate.Range(min=1, max=MAX_ID), **kwargs)


class PageArgs(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


def page_schema(item_schema, name: str):
    """A paginated envelope around ``item_schema``, named for the OpenAPI document."""
    return type(name, (Schema,), {
        "items": fields.List(fields.Nested(item_schema)),
        "page": fields.Integer(),
        "per_page": fields.Integer(),
        "total": fields.Integer(),
        "pages": fields.Integer(),
    })


def paginate(stmt, args, *, model=None, load=()) -> dict:
    """One page of ``stmt``'s rows with the total, counted in the same query (a window
    count); only a page past the end needs a count of its own. With ``model`` and ``load``
    (loader options), the page's ids come first and then those rows with their relations
    (``inbox.fetch_window``)."""
    from app.services.inbox import fetch_window

    page, per_page = args["page"], args["per_page"]
    window = stmt.limit(per_page).offset((page - 1) * per_page)
    total_column = func.count().over().label("total")
    if model is None:
        rows = db.session.execute(window.add_columns(total_column)).all()
        items = [row[0] for row in rows]
    else:
        rows = db.session.execute(window.with_only_columns(model.id, total_column)).all()
        items = fetch_window([row[0] for row in rows], model, load)
    if rows:
        total = rows[0].total
    else:
        total = db.session.scalar(
            select(func.count()).select_from(stmt.order_by(None).subquery()))
    return {"items": items, "page": page, "per_page": per_page, "total": total,
            "pages": math.ceil(total / per_page) if total else 0}
