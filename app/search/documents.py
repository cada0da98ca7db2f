"""Writing the search documents: built whole (a new request, an edited one, ``rebuild``) or
added to (a comment, a ticket's number), on either database. Only executes statements in the
caller's transaction; never commits."""

from dataclasses import dataclass, field

from sqlalchemy import Text, func, literal, literal_column, select, update
from sqlalchemy import text as sql_text
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.postgresql import TSVECTOR

from app.extensions import db
from app.models import HistoryEvent, ServiceRequest, Ticket
from app.models.base import utcnow
from app.search import text
from app.search.models import SearchDocument

BATCH = 500
SEP = "\n"


@dataclass
class Parts:
    """A request's searchable text by part (what ranks higher comes first)."""

    tenant_id: int
    head: list[str] = field(default_factory=list)      # request number, ticket number, title
    body: list[str] = field(default_factory=list)      # description, template values
    comments: list[str] = field(default_factory=list)  # public comments
    internal: list[str] = field(default_factory=list)  # internal comments


def _line(value) -> str:
    return " ".join(str(value).split())


def field_values(values) -> list[str]:
    """The text of a request's template values (``service_requests.fields``: name -> value):
    strings and numbers, lists of them; yes/no and empty values say nothing to search by."""
    out = []
    for value in (values or {}).values() if isinstance(values, dict) else ():
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, bool) or item is None or isinstance(item, (dict, list)):
                continue
            if str(item).strip():
                out.append(_line(item))
    return out


def _fields_of(req) -> list[str]:
    return field_values(getattr(req, "fields", None))


def is_internal(event) -> bool:
    """Whether a comment is internal (``HistoryEvent.internal``; none is, where the column
    is not there)."""
    return bool(getattr(event, "internal", False))


def parts_of_new(req: ServiceRequest, tickets=(), comments=()) -> Parts:
    """A request written in this transaction, from its objects (no query)."""
    parts = Parts(req.tenant_id, head=[req.number, *(t.number for t in tickets), req.title],
                  body=[req.description or "", *_fields_of(req)])
    for event in comments:
        (parts.internal if is_internal(event) else parts.comments).append(event.comment)
    return parts


def parts_from_rows(request_ids: list[int]) -> dict[int, Parts]:
    """The documents of these requests, read from the database (3 queries)."""
    found: dict[int, Parts] = {}
    has_fields = hasattr(ServiceRequest, "fields")
    columns = [ServiceRequest.id, ServiceRequest.tenant_id, ServiceRequest.number,
               ServiceRequest.title, ServiceRequest.description]
    if has_fields:
        columns.append(ServiceRequest.fields)
    for row in db.session.execute(select(*columns).where(ServiceRequest.id.in_(request_ids))):
        found[row.id] = Parts(row.tenant_id, head=[row.number, row.title],
                              body=[row.description or "",
                                    *(field_values(row.fields) if has_fields else [])])
    if not found:
        return found
    tenants = sorted({parts.tenant_id for parts in found.values()})  # the indexes lead with it
    for request_id, number in db.session.execute(
            select(Ticket.request_id, Ticket.number)
            .where(Ticket.tenant_id.in_(tenants), Ticket.request_id.in_(request_ids))):
        if request_id in found:
            found[request_id].head.insert(1, number)
    internal = getattr(HistoryEvent, "internal", literal(False))
    for request_id, comment, hidden in db.session.execute(
            select(HistoryEvent.request_id, HistoryEvent.comment, internal)
            .where(HistoryEvent.tenant_id.in_(tenants), HistoryEvent.request_id.in_(request_ids),
                   HistoryEvent.comment.is_not(None))
            .order_by(HistoryEvent.id)):
        if request_id in found:
            (found[request_id].internal if hidden else found[request_id].comments).append(comment)
    return found


def _joined(lines) -> str:
    return SEP.join(_line(x) for x in lines if x and str(x).strip())


def _postgres() -> bool:
    return db.engine.dialect.name == "postgresql"


WEIGHTS = {name: literal_column(f"'{name}'::\"char\"") for name in "ABC"}


def _vector(value: str, weight: str | None = None):
    """PostgreSQL's vector of ``value`` (migration 0017: spanish and english stems of the
    unaccented words), with a weight (A, B, C) if given."""
    vector = func.mesa_search_vector(text.plain(value), type_=TSVECTOR)
    return func.setweight(vector, WEIGHTS[weight], type_=TSVECTOR) if weight else vector


# One statement for every document, its vectors computed by the database from bound words
# (executemany: no SQL built per row)
UPSERT_POSTGRES = sql_text("""
    INSERT INTO search_documents (request_id, tenant_id, public_text, internal_text, public_tsv,
                                  internal_tsv, updated_at)
    VALUES (:request_id, :tenant_id, :public_text, :internal_text,
            setweight(mesa_search_vector(:head), 'A') || setweight(mesa_search_vector(:body), 'B')
            || setweight(mesa_search_vector(:comments), 'C'),
            mesa_search_vector(:internal), :updated_at)
    ON CONFLICT (request_id) DO UPDATE SET
        tenant_id = excluded.tenant_id, public_text = excluded.public_text,
        internal_text = excluded.internal_text, public_tsv = excluded.public_tsv,
        internal_tsv = excluded.internal_tsv, updated_at = excluded.updated_at""")


def _row(request_id: int, parts: Parts, now) -> dict:
    row = {"request_id": request_id, "tenant_id": parts.tenant_id,
           "public_text": _joined([*parts.body, *parts.comments]),
           "internal_text": _joined(parts.internal), "updated_at": now}
    if _postgres():
        row.update(head=text.plain(_joined(parts.head)), body=text.plain(_joined(parts.body)),
                   comments=text.plain(_joined(parts.comments)),
                   internal=text.plain(_joined(parts.internal)))
    else:
        row["head_terms"] = text.terms(_joined(parts.head))
        row["body_terms"] = text.terms(_joined([*parts.body, *parts.comments]))
        row["internal_terms"] = text.terms(_joined(parts.internal))
    return row


def write(documents: dict[int, Parts]) -> None:
    """Insert or replace these documents (request id -> parts)."""
    now = utcnow()
    items = sorted(documents.items())
    for start in range(0, len(items), BATCH):
        rows = [_row(request_id, parts, now) for request_id, parts in items[start:start + BATCH]]
        if _postgres():
            db.session.execute(UPSERT_POSTGRES, rows)
            continue
        stmt = sqlite.insert(SearchDocument)
        db.session.execute(stmt.on_conflict_do_update(
            index_elements=["request_id"],
            set_={name: stmt.excluded[name] for name in rows[0] if name != "request_id"}), rows)


def append(request_id: int, *, head=(), comments=(), internal=()) -> bool:
    """Add a ticket's number (``head``) or comments to a request's document in one UPDATE;
    False when the request has no document yet (the caller writes it whole)."""
    doc = SearchDocument
    values = {"updated_at": utcnow()}
    if comments:
        values["public_text"] = doc.public_text + SEP + _joined(comments)
    if internal:
        before = func.nullif(doc.internal_text, "", type_=Text) + SEP
        values["internal_text"] = func.coalesce(before, "") + _joined(internal)
    if _postgres():
        if head or comments:
            values["public_tsv"] = func.coalesce(doc.public_tsv, func.to_tsvector("")).op("||")(
                _vector(_joined(head), "A")).op("||")(_vector(_joined(comments), "C"))
        if internal:
            values["internal_tsv"] = func.coalesce(
                doc.internal_tsv, func.to_tsvector("")).op("||")(_vector(_joined(internal)))
    else:
        if head:
            values["head_terms"] = doc.head_terms + " " + text.terms(_joined(head))
        if comments:
            values["body_terms"] = doc.body_terms + " " + text.terms(_joined(comments))
        if internal:
            values["internal_terms"] = doc.internal_terms + " " + text.terms(_joined(internal))
    result = db.session.execute(
        update(doc).where(doc.request_id == request_id).values(values)
        .execution_options(synchronize_session=False))
    return result.rowcount > 0


def rebuild(request_ids: list[int]) -> int:
    """Write these requests' documents whole, from their rows. Returns how many."""
    done = 0
    for start in range(0, len(request_ids), BATCH):
        found = parts_from_rows(request_ids[start:start + BATCH])
        write(found)
        done += len(found)
    return done


def rebuild_tenant(tenant_id: int) -> int:
    """Write every document of a company whole (``flask seed-scale`` after its bulk rows)."""
    ids = list(db.session.scalars(select(ServiceRequest.id)
                                  .where(ServiceRequest.tenant_id == tenant_id)
                                  .order_by(ServiceRequest.id)))
    return rebuild(ids)
