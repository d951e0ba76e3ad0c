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

    from portal.models import Procedure

    procedures = db.session.scalars(db.select(Procedure).where(Procedure.published).order_by(Procedure.name)).all()
    return render_template("main/index.html", procedures=procedures)
