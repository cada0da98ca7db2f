"""What /healthz checks: the database answers a query; the Celery broker, when one is set,
answers a ping. Each check takes at most about a second and returns None when fine, else the
name of the error (never its message, which may carry an address or a password)."""

import threading
from urllib.parse import urlsplit

from sqlalchemy import text

from app.extensions import db

TIMEOUT_SECONDS = 1.0
_redis_clients: dict = {}
_clients_lock = threading.Lock()


def check_database() -> str | None:
    """New connections give up after DB_CONNECT_TIMEOUT; on PostgreSQL the query itself after
    about a second (a server that accepts but does not answer)."""
    try:
        with db.engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text(f"SET LOCAL statement_timeout = {int(TIMEOUT_SECONDS * 1000)}"))
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        return type(exc).__name__
    return None


def redis_client(url: str):
    """One client (with its own small connection pool) per broker URL, kept for the process."""
    with _clients_lock:
        client = _redis_clients.get(url)
        if client is None:
            import redis

            client = redis.Redis.from_url(url, socket_connect_timeout=TIMEOUT_SECONDS,
                                          socket_timeout=TIMEOUT_SECONDS)
            _redis_clients[url] = client
        return client


def check_broker(url: str) -> str | None:
    try:
        if urlsplit(url).scheme in ("redis", "rediss", "unix"):
            redis_client(url).ping()
        else:  # another Celery transport: open and close a connection
            from kombu import Connection

            with Connection(url, connect_timeout=TIMEOUT_SECONDS) as conn:
                conn.ensure_connection(max_retries=1, timeout=TIMEOUT_SECONDS)
    except Exception as exc:
        return type(exc).__name__
    return None
