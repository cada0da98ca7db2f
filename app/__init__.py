"""Mesa de Servicios: create_app(config) -> config, extensions, ops (health, metrics, logs),
blueprints, CLI."""

from pathlib import Path

from flask import Flask, g, has_request_context, request, session
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

from app import db_unavailable, sqlite
from app.config import load_settings
from app.extensions import babel, csrf, db, login_manager, migrate

LANGUAGES = ("es", "en")
# Pages carry no scripts; inline style attributes only draw the workload bars.
CSP = ("default-src 'self'; script-src 'none'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
# Pages with a bundled script of the app (app/static/dist/, e.g. the BPMN modeler) opt in with
# ``g.page_scripts = True`` in their view: scripts from the app's origin only, still no inline
# script and no eval. Data for the script goes in <script type="application/json">, which is not
# run. The inline style attributes diagram-js draws with are already allowed by style-src.
SCRIPTS_CSP = CSP.replace("script-src 'none'", "script-src 'self'")
# The API's Swagger UI page runs its own (locally served) scripts and one inline starter.
DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline'; "
            "style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'")


def _select_locale():
    if not has_request_context():
        return None  # outside a request (CLI, timers): the default locale
    api_user = g.get("api_user")
    if api_user is not None:  # the API: the token's owner, never a cookie
        return api_user.locale or api_user.tenant.locale
    if current_user and current_user.is_authenticated and current_user.locale:
        return current_user.locale
    chosen = session.get("locale")
    if chosen in LANGUAGES:
        return chosen
    if current_user and current_user.is_authenticated:
        return current_user.tenant.locale  # the company's language
    return None  # Spanish first: DEFAULT_LOCALE, whatever the browser asks


def _select_timezone():
    """Times on pages and in API texts are the company's (its time zone setting)."""
    if not has_request_context():
        return None
    person = g.get("api_user")
    if person is None and current_user and current_user.is_authenticated:
        person = current_user
    return person.tenant.timezone if person is not None else None


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=False)
    app.config.update(load_settings())
    if config:
        app.config.update(config)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql://"):
        app.config["SQLALCHEMY_DATABASE_URI"] = app.config["SQLALCHEMY_DATABASE_URI"].replace(
            "postgresql://", "postgresql+psycopg://", 1)

    if app.config["PROXY_FIX_X_FOR"]:
        hops = app.config["PROXY_FIX_X_FOR"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    from app.engine import runner, timers

    timers.configure(app.config["TIMER_MAX_YEARS"], app.config["TIMER_MIN_CYCLE_SECONDS"])
    runner.budget.cpu_seconds = app.config["STEP_CPU_SECONDS"]
    db.init_app(app)
    from app.tenancy import isolation

    isolation.init_app(app)  # before any hook: a web request starts seeing no tenant's rows
    from app import inputs, ops  # first hooks: the request timer wraps every other hook

    ops.init_app(app)
    inputs.init_app(app)  # then bad input is refused before any other hook or view sees it
    migrate.init_app(app, db, directory=str(Path(__file__).resolve().parent.parent / "migrations"),
                     render_as_batch=True, compare_type=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=_select_locale, timezone_selector=_select_timezone)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Log in to continue.")
    login_manager.login_message_category = "info"

    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            sqlite.configure(db.engine)
        db_unavailable.install(db.engine)  # a read-only or lost database: reconnect after

    from app import models  # noqa: F401  (registers every table)
    from app.views import register_blueprints

    register_blueprints(app)

    from app import (
        accounts,
        admin,
        attachments,
        checklists,
        classification,
        conversation,
        indicators,
        notifications,
        process_catalog,
        recurring,
        request_fields,
        search,
        sla,
        suggestions,
        survey,
        teams,
        tenancy,
        viability,
    )
    from app.api import api, init_api

    capabilities = (notifications, accounts, admin, tenancy, viability, sla, indicators,
                    request_fields, search, conversation, attachments, recurring,
                    checklists, survey, suggestions,
                    process_catalog, classification, teams)
    for capability in capabilities:
        capability.init_app(app)
    init_api(app)
    for capability in capabilities:
        capability.init_api(api)

    from app import labels
    from app.cli import register_cli

    labels.register(app)

    register_cli(app)

    from app.services.background import maybe_start_embedded_runner

    @app.after_request
    def _security_headers(response):
        if request.path.startswith("/api/v1/docs"):
            csp = DOCS_CSP
        else:
            csp = SCRIPTS_CSP if g.get("page_scripts") else CSP
        response.headers.setdefault("Content-Security-Policy", csp)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    @app.before_request
    def _background():
        # The page's language for templates (<html lang>, the language switch); flask-babel
        # picks the same one, falling back to the default when nothing was chosen.
        g.locale = _select_locale() or app.config["BABEL_DEFAULT_LOCALE"]
        maybe_start_embedded_runner(app)

    return app
