"""The citizen area's blueprint; its routes live in views.py (applying) and dossier_views.py (one's dossiers)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("citizen", __name__)


@bp.app_template_filter("rating_label")
def rating_label(level: int | None) -> str:
    from portal.citizen.forms import RATING_LEVELS

    return next((str(choice.label) for choice in RATING_LEVELS if choice.value == str(level)), "")
