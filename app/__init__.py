"""Mesa de Servicios: create_app(config) -> config, extensions, blueprints, CLI."""

from pathlib import Path

from flask import Flask, g, request, session
from flask_login import current_user
from sqlalchemy import event

from app.config import load_settings
from app.extensions import babel, csrf, db, login_manager, migrate

LANGUAGES = ("es", "en")


def _sqlite_setup(engine) -> None:
    """SQLite: WAL, a busy timeout, and BEGIN IMMEDIATE so read-then-write steps serialize."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _select_locale():
    if current_user and current_user.is_authenticated and current_user.locale:
        return current_user.locale
    chosen = session.get("locale")
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES) or "es"


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=False)
    app.config.update(load_settings())
    if config:
        app.config.update(config)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql://"):
        app.config["SQLALCHEMY_DATABASE_URI"] = app.config["SQLALCHEMY_DATABASE_URI"].replace(
            "postgresql://", "postgresql+psycopg://", 1)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).resolve().parent.parent / "migrations"),
                     render_as_batch=True, compare_type=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=_select_locale)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None

    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            _sqlite_setup(db.engine)

    from app import models  # noqa: F401  (registers every table)
    from app.views import register_blueprints

    register_blueprints(app)

    from app import labels
    from app.cli import register_cli

    labels.register(app)

    register_cli(app)

    from app.services.timer_thread import maybe_start_embedded_runner

    @app.before_request
    def _background():
        g.locale = _select_locale()
        maybe_start_embedded_runner(app)

    return app
