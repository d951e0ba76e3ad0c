"""The administration blueprint, shared by the view modules (one per area)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.context_processor
def admin_helpers() -> dict:
    def user_name(user_id: int | None) -> str:
        """Who did it, for version and audit tables."""
        from portal.extensions import db
        from portal.models import User

        user = db.session.get(User, user_id) if user_id else None
        return user.full_name if user else "—"

    return {"user_name": user_name}
