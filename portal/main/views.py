"""Landing page and health check."""

from __future__ import annotations

from typing import cast

from flask import Blueprint, Flask, current_app, jsonify, send_from_directory

from portal.extensions import csrf, db, limiter
from portal.main import health, input_guard

bp = Blueprint("main", __name__)
bp.record_once(lambda state: input_guard.register(cast(Flask, state.app)))  # NUL, control characters: 400


@bp.get("/healthz")
@csrf.exempt
@limiter.exempt
def healthz():
    """For load balancers and monitoring: is the database reachable, is the broker? 200 when both are, else
    503. Also how long ago the background jobs last showed a sign of life (reported, not a reason for a 503).
    Cheap (two small queries, one broker connection), no session, no secrets (status and timings only)."""
    checks = {"database": health.check_database(), "broker": health.check_broker()}
    healthy = all(check["status"] == "ok" for check in checks.values())
    checks["jobs"] = health.check_jobs(database_ok=checks["database"]["status"] == "ok")  # reported only
    response = jsonify(status="ok" if healthy else "error", checks=checks)
    response.status_code = 200 if healthy else 503
    response.headers["Cache-Control"] = "no-store"
    if not healthy:
        response.headers["Retry-After"] = str(current_app.config["UNAVAILABLE_RETRY_AFTER"])
    return response


@bp.get("/favicon.ico")
@limiter.exempt
def favicon():
    """Browsers ask for /favicon.ico on their own; pages also link the SVG icon (base.html)."""
    return send_from_directory(
        str(current_app.static_folder), "favicon.ico", mimetype="image/vnd.microsoft.icon", max_age=7 * 24 * 3600
    )


@bp.get("/")
def index():
    from flask import render_template

    from portal.catalogue.services import filter_options
    from portal.models import Procedure

    # The front door of the catalogue: a search box, the fields, and the first procedures.
    published = db.select(Procedure).where(Procedure.published).order_by(Procedure.name)
    procedures = db.session.scalars(published.limit(12)).all()
    return render_template("main/index.html", procedures=procedures, options=filter_options())
