"""gunicorn.conf.py and the connection pool: sized from the environment, pinged, safe to fork."""

import runpy
from pathlib import Path
from types import SimpleNamespace

from app.config import _engine_options
from app.extensions import db

CONF = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"


def test_pool_fits_the_threads_and_pings(monkeypatch):
    monkeypatch.setenv("GUNICORN_THREADS", "6")
    monkeypatch.delenv("DB_POOL_SIZE", raising=False)
    options = _engine_options("postgresql+psycopg://u@h/db")
    assert options["pool_pre_ping"] is True
    assert options["pool_size"] == 7  # the threads and the background thread
    monkeypatch.setenv("DB_POOL_SIZE", "3")
    assert _engine_options("postgresql+psycopg://u@h/db")["pool_size"] == 3
    assert _engine_options("sqlite:///x.db") == {"pool_pre_ping": True}


def test_postgresql_connections_give_up_in_seconds(monkeypatch):
    monkeypatch.delenv("DB_CONNECT_TIMEOUT", raising=False)
    assert _engine_options("postgresql+psycopg://u@h/db")["connect_args"] == {
        "connect_timeout": 5}
    monkeypatch.setenv("DB_CONNECT_TIMEOUT", "2")
    assert _engine_options("postgresql+psycopg://u@h/db")["connect_args"] == {
        "connect_timeout": 2}


def test_gunicorn_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("GUNICORN_WORKERS", "5")
    monkeypatch.setenv("GUNICORN_THREADS", "3")
    monkeypatch.setenv("GUNICORN_BIND", "127.0.0.1:9999")
    monkeypatch.delenv("GUNICORN_ACCESS_LOG", raising=False)
    conf = runpy.run_path(str(CONF))
    assert (conf["workers"], conf["threads"], conf["bind"]) == (5, 3, "127.0.0.1:9999")
    assert conf["worker_class"] == "gthread" and conf["preload_app"] is True
    assert conf["accesslog"] is None  # off unless asked for


def test_post_fork_drops_the_masters_connections(app):
    conf = runpy.run_path(str(CONF))
    with app.app_context():
        engine = db.engine
        with engine.connect():
            pass
        before = engine.pool.checkedin()
    server = SimpleNamespace(app=SimpleNamespace(wsgi=lambda: app))
    conf["post_fork"](server, None)
    with app.app_context():
        assert db.engine.pool.checkedin() == 0 <= before
