"""The REST API under /api/v1: same handlers, policy and transactions as the pages."""

from pathlib import Path

from flask import Blueprint as FlaskBlueprint
from flask import send_from_directory
from flask_smorest import Api as SmorestApi

from app.api.errors import ProblemSchema

PREFIX = "/api/v1"


class Api(SmorestApi):
    """flask-smorest, with errors answered by the app's own handlers (problem details under
    /api/, pages elsewhere) instead of one JSON handler for the whole application."""

    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self):
        pass


api = Api()


def _docs_assets() -> FlaskBlueprint:
    """Swagger UI's files served by the app itself, so the docs page works offline."""
    from swagger_ui_bundle import swagger_ui_path

    bp = FlaskBlueprint("api_docs_assets", __name__)

    @bp.route(f"{PREFIX}/docs/assets/<path:filename>")
    def asset(filename):
        return send_from_directory(Path(swagger_ui_path), filename, max_age=86400)

    return bp


def init_api(app) -> None:
    app.config.update(
        API_TITLE="Mesa de Servicios API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX=PREFIX,
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL=f"{PREFIX}/docs/assets/",
        API_SPEC_OPTIONS={
            "info": {"description": (
                "Service requests, tasks and tickets of Mesa de Servicios. Authenticate with "
                "`POST /api/v1/tokens` (e-mail and password) or a personal token from your "
                "account page, then send `Authorization: Bearer <token>`. Errors are "
                "problem details (`application/problem+json`).")},
            "components": {"securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer"}}},
            "security": [{"bearerAuth": []}],
            "servers": [{"url": "/"}],
        },
    )
    api.init_app(app)
    from app.api import catalog, requests, tasks, tickets, tokens

    for module in (tokens, catalog, requests, tasks, tickets):
        api.register_blueprint(module.blp)
    app.register_blueprint(_docs_assets())
