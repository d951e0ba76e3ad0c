"""The API's reference page, /api/v1/docs: Swagger UI (frontend/build-api-docs.sh copies it into
portal/static/vendor/swagger-ui) reading /api/v1/openapi.json. Nothing is loaded from elsewhere and the start-up
code is a static file (portal/static/js/api-docs.js), so the portal's strict CSP applies unchanged (checked in
Chromium: Swagger UI sets its styles through the CSSOM, which style-src 'self' allows)."""

from __future__ import annotations

from flask import Blueprint, render_template

from portal.extensions import limiter

bp = Blueprint("api_docs", __name__)


@bp.get("/api/v1/docs")
@limiter.exempt
def reference():
    return render_template("api/docs.html")
