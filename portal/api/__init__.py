"""REST API v1 under /api/v1: service accounts with scoped bearer tokens, problem+json errors, ETags, cursor
pagination, and an OpenAPI 3.1 document generated from the code by flask-smorest (apispec) at
/api/v1/openapi.json, with its reference page at /api/v1/docs (Swagger UI, served by the portal). docs/API.md."""

from __future__ import annotations

from typing import Any

from apispec import BasePlugin
from flask import Flask
from flask_smorest import Api

API_SETTINGS: dict[str, Any] = {
    "API_TITLE": "MotCua API",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.1.0",
    "OPENAPI_URL_PREFIX": "/api/v1",
    "OPENAPI_JSON_PATH": "openapi.json",
    # The reference page is the portal's own (portal/api/docs.py): flask-smorest's pages load their viewer from a
    # CDN with an inline script, which the portal's CSP (and closed government networks) refuse.
    "OPENAPI_SWAGGER_UI_PATH": None,
    "OPENAPI_REDOC_PATH": None,
    "OPENAPI_RAPIDOC_PATH": None,
    "ETAG_DISABLED": True,  # ETags are the API's own (weak, from the body, on every GET: auth.add_etag)
    "API_RATE_LIMIT": "600 per minute;20000 per hour",
}

SPEC = {
    "info": {
        "description": "The machine interface of the MotCua one-stop-shop portal. Errors are RFC 9457 "
        "application/problem+json in the language of Accept-Language (vi by default, en). See docs/API.md.",
    },
    "servers": [{"url": "/"}],
    "components": {
        "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "description": "mc_… token"}}
    },
    "security": [{"bearerAuth": []}],
}


class ConditionalGets(BasePlugin):
    """Every GET answers 304 to a matching If-None-Match (auth.add_etag): the header, in every GET's
    parameters. A plugin, because flask-smorest's `doc(parameters=…)` would replace the query parameters."""

    def operation_helper(self, path: str | None = None, operations: dict | None = None, **kwargs: Any) -> None:
        for method, operation in (operations or {}).items():
            if method == "get":
                operation.setdefault("parameters", []).append(IF_NONE_MATCH)


IF_NONE_MATCH = {
    "in": "header",
    "name": "If-None-Match",
    "schema": {"type": "string"},
    "description": "the ETag of an earlier answer: 304 when nothing changed",
}


class PortalApi(Api):
    """flask-smorest's Api without its app-wide error handler: errors under /api/v1 are answered by the portal's
    handler (portal/main/errors.py → portal/api/problems.py), so the rest of the portal keeps its pages."""

    def _register_error_handlers(self) -> None:
        return None

    def _register_responses(self) -> None:
        """The default error response of every operation: a problem (RFC 9457), not flask-smorest's own shape."""
        from flask_smorest.utils import prepare_response

        from portal.api.problems import PROBLEM_JSON
        from portal.api.schemas import ProblemSchema

        response = {"description": "a problem (RFC 9457)", "schema": ProblemSchema}
        prepare_response(response, self.spec, PROBLEM_JSON)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


def init_app(app: Flask) -> None:
    for key, value in API_SETTINGS.items():
        app.config.setdefault(key, value)
    api = PortalApi(
        app, spec_kwargs={**SPEC, "extra_plugins": [ConditionalGets()]}
    )  # one per application (tests build many); in app.extensions

    from portal.api import cleanup  # noqa: F401  (registers the Celery job that forgets old Idempotency-Keys)
    from portal.api.docs import bp as docs_bp
    from portal.api.views import blp
    from portal.extensions import csrf

    csrf.exempt(blp)  # token-authenticated, no cookies: CSRF does not apply
    api.register_blueprint(blp)
    app.register_blueprint(docs_bp)
