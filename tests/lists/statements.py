"""How many SQL statements a page takes."""

from sqlalchemy import event

from app.extensions import db


def counted(client, url: str) -> int:
    seen = []

    def note(conn, cursor, statement, *args):
        seen.append(statement)

    with client.app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        response = client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert response.status_code == 200, url
    return len(seen)
