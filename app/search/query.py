"""Finding requests by a search box, within what the person may open.

Every search is one ranked query of the documents joined to their requests under the lists'
own scoping (``policy.request_visibility``, the rule behind ``inbox.requests_query``); a
document's internal comments match only where ``policy.internal_visibility`` lets the person
read them. A query that is a request or ticket number is looked up exactly first. The words
reach the database only as bound values: PostgreSQL turns each into a tsquery with
``plainto_tsquery`` (spanish or english stems), SQLite into quoted FTS5 strings.
"""

from dataclasses import dataclass

from markupsafe import Markup
from sqlalchemy import (
    Integer,
    and_,
    case,
    column,
    func,
    literal,
    literal_column,
    or_,
    select,
    table,
    text,
    union_all,
)
from sqlalchemy.orm import joinedload
from sqlalchemy.sql.elements import False_

from app import policy
from app.extensions import db
from app.models import ServiceRequest, Ticket, User
from app.search import text as words
from app.search.documents import SEP
from app.search.models import SearchDocument

PER_PAGE = 20
MAX_PAGE = 50      # deeper than 1,000 results: refine the words
COUNT_CAP = 1000   # past the last page, the count goes no further than this


@dataclass
class Hit:
    request: ServiceRequest
    ticket_number: str | None
    title: Markup
    snippet: Markup
    rank: float


@dataclass
class Results:
    query: words.Query
    hits: list[Hit]
    page: int
    per_page: int
    total: int          # how many matched (at most COUNT_CAP when asked past the last page)
    capped: bool        # more matched than ``total`` says

    @property
    def pages(self) -> int:
        return max(1, min(MAX_PAGE, -(-self.total // self.per_page)))


def search(user: User, raw: str | None, page: int = 1, per_page: int = PER_PAGE) -> Results:
    """The page ``page`` of what ``raw`` finds for ``user``. Raises ``words.QueryError``
    for an empty or too long query."""
    query = words.parse(raw)
    page = max(1, min(page, MAX_PAGE))
    visible = policy.request_visibility(user)
    internal = policy.internal_visibility(user)
    if query.number or query.sequence:
        found = (_by_number(user, query.number, visible) if query.number
                 else _by_sequence(user, query.sequence, visible))
        if found or not query.words:
            return _results(user, query, [(i, 1.0, False) for i in found], page, per_page,
                            len(found))
    ranked, matching = (_postgres if db.engine.dialect.name == "postgresql" else _sqlite)(
        user, query, visible, internal)
    # the ranking reads every match anyway: their count comes with the page's rows
    rows = db.session.execute(ranked.add_columns(func.count().over().label("total"))
                              .limit(per_page).offset((page - 1) * per_page)).all()
    total = rows[0].total if rows else 0
    if not rows and page > 1:  # past the last page: how many there are, up to a bound
        total = db.session.scalar(select(func.count()).select_from(
            matching.limit(COUNT_CAP + 1).subquery()))
    return _results(user, query, [(r.request_id, float(r.rank), bool(r.internal_ok))
                                  for r in rows], page, per_page, total)


def _by_number(user: User, number: str, visible) -> list[int]:
    ticket_of = select(Ticket.request_id).where(Ticket.tenant_id == user.tenant_id,
                                                Ticket.number == number)
    return list(db.session.scalars(
        select(ServiceRequest.id)
        .where(visible, or_(ServiceRequest.number == number,
                            ServiceRequest.id.in_(ticket_of)))
        .order_by(ServiceRequest.id.desc()).limit(2)))


SEQUENCE_HITS = 20  # requests a bare number may find (one per year and prefix, in practice)


def _by_sequence(user: User, sequence: int, visible) -> list[int]:
    """The requests whose number, or whose ticket's, ends with ``sequence`` (zero-padded as
    numbers are written), newest first."""
    ending = f"%-{sequence:06d}"
    ticket_of = select(Ticket.request_id).where(Ticket.tenant_id == user.tenant_id,
                                                Ticket.number.like(ending))
    return list(db.session.scalars(
        select(ServiceRequest.id)
        .where(visible, or_(ServiceRequest.number.like(ending),
                            ServiceRequest.id.in_(ticket_of)))
        .order_by(ServiceRequest.id.desc()).limit(SEQUENCE_HITS)))


def _internal_ok(internal):
    return literal(False) if isinstance(internal, False_) else case((internal, True),
                                                                     else_=False)


def _tsquery(query: words.Query):
    """Every word as its spanish or its english stem, all of them required."""
    combined = None
    for word in query.words:
        one = func.plainto_tsquery(literal_column("'spanish'::regconfig"), word).op("||")(
            func.plainto_tsquery(literal_column("'english'::regconfig"), word))
        combined = one if combined is None else combined.op("&&")(one)
    return combined


def _postgres(user: User, query: words.Query, visible, internal):
    doc = SearchDocument
    tsq = _tsquery(query)
    public = doc.public_tsv.op("@@")(tsq)
    rank = func.ts_rank(doc.public_tsv, tsq)
    match = public
    if not isinstance(internal, False_):
        inside = and_(doc.internal_tsv.op("@@")(tsq), internal)
        match = or_(public, inside)
        rank = rank + case((internal, func.ts_rank(doc.internal_tsv, tsq)), else_=0.0)
    base = (select(doc.request_id)
            .join(ServiceRequest, ServiceRequest.id == doc.request_id)
            .where(doc.tenant_id == user.tenant_id, visible, match))
    ranked = (base.add_columns(rank.label("rank"), _internal_ok(internal).label("internal_ok"))
              .order_by(rank.desc(), doc.request_id.desc()))
    return ranked, base


def _fts(name: str, expression: str, kind: int):
    fts = table("search_fts", column("rowid", Integer))
    return (select(fts.c.rowid.label("request_id"),
                   literal_column("bm25(search_fts, 4.0, 1.0, 1.0)").label("score"),
                   literal(kind).label("kind"))
            .select_from(fts)
            .where(text(f"search_fts MATCH :{name}").bindparams(**{name: expression})))


def _sqlite(user: User, query: words.Query, visible, internal):
    parts = [_fts("public_match", query.fts5(("head_terms", "body_terms")), 0)]
    if not isinstance(internal, False_):
        parts.append(_fts("internal_match", query.fts5(("internal_terms",)), 1))
    # materialized: flattened into the join, FTS5 refuses its bm25() there
    hits = (parts[0] if len(parts) == 1 else union_all(*parts)).cte("hits").prefix_with(
        "MATERIALIZED")
    allowed = hits.c.kind == 0
    if not isinstance(internal, False_):
        allowed = or_(allowed, internal)
    base = (select(ServiceRequest.id.label("request_id"))
            .join(hits, hits.c.request_id == ServiceRequest.id)
            .where(ServiceRequest.tenant_id == user.tenant_id, visible, allowed)
            .group_by(ServiceRequest.id))
    score = func.min(hits.c.score)
    ranked = (base.add_columns((-score).label("rank"),
                               _internal_ok(internal).label("internal_ok"))
              .order_by(score, ServiceRequest.id.desc()))
    return ranked, base


def _results(user: User, query: words.Query, rows: list[tuple], page: int, per_page: int,
             total: int) -> Results:
    ids = [request_id for request_id, _, _ in rows]
    requests = {r.id: r for r in db.session.scalars(
        select(ServiceRequest).where(ServiceRequest.tenant_id == user.tenant_id,
                                     ServiceRequest.id.in_(ids))
        .options(joinedload(ServiceRequest.ticket)))} if ids else {}
    texts = {r.request_id: r for r in db.session.execute(
        select(SearchDocument.request_id, SearchDocument.public_text,
               SearchDocument.internal_text)
        .where(SearchDocument.tenant_id == user.tenant_id,
               SearchDocument.request_id.in_(ids)))} if ids else {}
    hits = []
    for request_id, rank, internal_ok in rows:
        req = requests.get(request_id)
        if req is None:
            continue
        doc = texts.get(request_id)
        parts = doc.public_text.split(SEP) if doc else [req.description or ""]
        if doc and internal_ok and doc.internal_text:
            parts += doc.internal_text.split(SEP)
        hits.append(Hit(request=req, ticket_number=req.ticket.number if req.ticket else None,
                        title=words.highlight(req.title, query),
                        snippet=words.snippet(parts, query), rank=rank))
    capped = not rows and total > COUNT_CAP
    return Results(query=query, hits=hits, page=page, per_page=per_page,
                   total=min(total, COUNT_CAP) if capped else total, capped=capped)
