"""search: one document per request (app.search), on PostgreSQL full-text vectors (spanish
and english configurations over unaccented words) with GIN indexes, on SQLite an FTS5 table
over Snowball stems; requests filed before get their documents here

Revision ID: 0017_search
Revises: 0016_request_fields
Create Date: 2026-12-04 23:30:00

"""
import json

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from migrations.rls import isolate_by_tenant


revision = '0017_search'
down_revision = '0016_request_fields'
branch_labels = None
depends_on = None


# unaccent() is STABLE (its dictionary could change): an index or a stored vector needs an
# IMMUTABLE wrapper naming its dictionary, the usual way
FUNCTIONS = """
CREATE OR REPLACE FUNCTION mesa_unaccent(text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT public.unaccent('public.unaccent'::regdictionary, $1) $$;
CREATE OR REPLACE FUNCTION mesa_search_vector(text) RETURNS tsvector
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT to_tsvector('spanish'::regconfig, public.mesa_unaccent($1))
                 || to_tsvector('english'::regconfig, public.mesa_unaccent($1)) $$;
"""

# FTS5 over the stems the app writes in search_documents (external content: the table holds
# them once), kept in step by triggers, whoever writes or deletes a document
SQLITE_FTS = [
    "CREATE VIRTUAL TABLE search_fts USING fts5(head_terms, body_terms, internal_terms, "
    "content='search_documents', content_rowid='request_id', "
    "tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER search_documents_ai AFTER INSERT ON search_documents BEGIN "
    "INSERT INTO search_fts(rowid, head_terms, body_terms, internal_terms) "
    "VALUES (new.request_id, new.head_terms, new.body_terms, new.internal_terms); END",
    "CREATE TRIGGER search_documents_ad AFTER DELETE ON search_documents BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, head_terms, body_terms, internal_terms) "
    "VALUES ('delete', old.request_id, old.head_terms, old.body_terms, old.internal_terms); END",
    "CREATE TRIGGER search_documents_au AFTER UPDATE ON search_documents BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, head_terms, body_terms, internal_terms) "
    "VALUES ('delete', old.request_id, old.head_terms, old.body_terms, old.internal_terms); "
    "INSERT INTO search_fts(rowid, head_terms, body_terms, internal_terms) "
    "VALUES (new.request_id, new.head_terms, new.body_terms, new.internal_terms); END",
]


def upgrade():
    bind = op.get_bind()
    pg = bind.dialect.name == 'postgresql'
    if pg:
        op.execute('CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public')
        op.execute('CREATE EXTENSION IF NOT EXISTS btree_gin SCHEMA public')
        op.execute(FUNCTIONS)
    vector = postgresql.TSVECTOR() if pg else sa.Text()
    op.create_table('search_documents',
    sa.Column('request_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('public_text', sa.Text(), nullable=False),
    sa.Column('internal_text', sa.Text(), nullable=False),
    sa.Column('head_terms', sa.Text(), nullable=True),
    sa.Column('body_terms', sa.Text(), nullable=True),
    sa.Column('internal_terms', sa.Text(), nullable=True),
    sa.Column('public_tsv', vector, nullable=True),
    sa.Column('internal_tsv', vector, nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['service_requests.id'], name=op.f('fk_search_documents_request_id_service_requests'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_search_documents_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('request_id', name=op.f('pk_search_documents'))
    )
    with op.batch_alter_table('search_documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_search_documents_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_search_documents_public', ['tenant_id', 'public_tsv'], unique=False, postgresql_using='gin')
        batch_op.create_index('ix_search_documents_internal', ['tenant_id', 'internal_tsv'], unique=False, postgresql_using='gin')
    isolate_by_tenant('search_documents')
    if pg:
        op.execute("SELECT set_config('mesa.platform', 'on', true)")
    else:
        for statement in SQLITE_FTS:
            op.execute(statement)
    _backfill(bind, pg)
    if pg:
        op.execute("SELECT set_config('mesa.platform', '', true)")


def _columns(bind, table):
    return {c['name'] for c in sa.inspect(bind).get_columns(table)}


def _values(raw):
    """Template values as text (app.search.documents.field_values, kept here as it was)."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return []
    out = []
    for value in (raw or {}).values() if isinstance(raw, dict) else ():
        for item in value if isinstance(value, list) else [value]:
            if not isinstance(item, (bool, dict, list)) and item is not None and str(item).strip():
                out.append(' '.join(str(item).split()))
    return out


def _backfill(bind, pg):
    """Documents of the requests already there, built as the app builds them."""
    from app.search import text as words  # pure: folding and stemming, no app needed

    fields = 'fields' in _columns(bind, 'service_requests')
    internal = 'internal' in _columns(bind, 'history_events')
    last = 0
    while True:
        rows = bind.execute(sa.text(
            'SELECT id, tenant_id, number, title, description'
            + (', fields' if fields else ', NULL AS fields')
            + ' FROM service_requests WHERE id > :last ORDER BY id LIMIT 1000'),
            {'last': last}).all()
        if not rows:
            return
        last = rows[-1].id
        ids = [r.id for r in rows]
        tickets = dict(bind.execute(sa.text(
            'SELECT request_id, number FROM tickets WHERE request_id >= :a AND request_id <= :b'),
            {'a': ids[0], 'b': ids[-1]}).all())
        comments = {}
        for request_id, comment, hidden in bind.execute(sa.text(
                'SELECT request_id, comment, ' + ('internal' if internal else 'false')
                + ' FROM history_events WHERE comment IS NOT NULL'
                ' AND request_id >= :a AND request_id <= :b ORDER BY id'),
                {'a': ids[0], 'b': ids[-1]}):
            comments.setdefault(request_id, ([], []))[1 if hidden else 0].append(comment)
        for r in rows:
            public, hidden = comments.get(r.id, ([], []))
            head = [r.number, tickets.get(r.id) or '', r.title]
            body = [r.description or '', *_values(r.fields)]
            _insert(bind, pg, r, words, head, body, public, hidden)


def _join(lines):
    return '\n'.join(' '.join(str(x).split()) for x in lines if x and str(x).strip())


def _insert(bind, pg, r, words, head, body, public, hidden):
    params = {'r': r.id, 't': r.tenant_id, 'pt': _join([*body, *public]), 'it': _join(hidden)}
    if pg:
        params.update(h=words.plain(_join(head)), b=words.plain(_join(body)),
                      c=words.plain(_join(public)), i=words.plain(_join(hidden)))
        bind.execute(sa.text(
            "INSERT INTO search_documents (request_id, tenant_id, public_text, internal_text, "
            "public_tsv, internal_tsv, updated_at) VALUES (:r, :t, :pt, :it, "
            "setweight(mesa_search_vector(:h), 'A') || setweight(mesa_search_vector(:b), 'B')"
            " || setweight(mesa_search_vector(:c), 'C'), mesa_search_vector(:i), now())"), params)
    else:
        params.update(h=words.terms(_join(head)), b=words.terms(_join([*body, *public])),
                      i=words.terms(_join(hidden)))
        bind.execute(sa.text(
            "INSERT INTO search_documents (request_id, tenant_id, public_text, internal_text, "
            "head_terms, body_terms, internal_terms, updated_at) "
            "VALUES (:r, :t, :pt, :it, :h, :b, :i, CURRENT_TIMESTAMP)"), params)


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name != 'postgresql':
        for name in ('search_documents_au', 'search_documents_ad', 'search_documents_ai'):
            op.execute(f'DROP TRIGGER IF EXISTS {name}')
        op.execute('DROP TABLE IF EXISTS search_fts')
    with op.batch_alter_table('search_documents', schema=None) as batch_op:
        batch_op.drop_index('ix_search_documents_internal')
        batch_op.drop_index('ix_search_documents_public')
        batch_op.drop_index(batch_op.f('ix_search_documents_tenant_id'))
    op.drop_table('search_documents')
    if bind.dialect.name == 'postgresql':
        op.execute('DROP FUNCTION IF EXISTS mesa_search_vector(text)')
        op.execute('DROP FUNCTION IF EXISTS mesa_unaccent(text)')
