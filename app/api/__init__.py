"""The REST API under /api/v1: same handlers, policy and transactions as the pages."""

import http
from pathlib import Path

from flask import Blueprint as FlaskBlueprint
from flask import send_from_directory
from flask_smorest import Api as SmorestApi
from flask_smorest.utils import prepare_response

from app.api.errors import PROBLEM_JSON, ProblemSchema

PREFIX = "/api/v1"


class Api(SmorestApi):
    """flask-smorest, with errors answered by the app's own handlers (problem details under
    /api/, pages elsewhere) instead of one JSON handler for the whole application."""

    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self):
        pass

    def _register_responses(self):
        """Every error response is documented as application/problem+json, as sent."""
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_JSON if status >= 400
                             else self.DEFAULT_RESPONSE_CONTENT_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Error (problem details)", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_JSON)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


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
    from app.schemas import DecimalString

    api.register_field(DecimalString, "string", "decimal")
    from app.api import catalog, incidents, processes, requests, tasks, tickets, tokens

    for module in (tokens, catalog, requests, tasks, tickets, processes, incidents):
        api.register_blueprint(module.blp)
    app.register_blueprint(_docs_assets())
