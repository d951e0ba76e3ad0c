"""Landing page and health check."""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text

from portal.extensions import db

bp = Blueprint("main", __name__)


@bp.get("/healthz")
def healthz():
    """Liveness and database reachability, for the load balancer."""
    db.session.execute(text("SELECT 1"))
    return jsonify(status="ok")


@bp.get("/")
def index():
    from flask import render_template

    from portal.catalogue.services import filter_options
    from portal.models import Procedure

    # The front door of the catalogue: a search box, the fields, and the first procedures.
    published = db.select(Procedure).where(Procedure.published).order_by(Procedure.name)
    procedures = db.session.scalars(published.limit(12)).all()
    return render_template("main/index.html", procedures=procedures, options=filter_options())
