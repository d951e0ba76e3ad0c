"""The citizen area's blueprint; its routes live in views.py (applying) and dossier_views.py (one's dossiers)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("citizen", __name__)


@bp.app_template_filter("filesize")
def filesize(size: int | None) -> str:
    """Bytes for people: 850 KB, 2.4 MB."""
    from flask_babel import format_decimal

    size = size or 0
    if size < 1024 * 1024:
        return f"{format_decimal(max(1, round(size / 1024)))} KB"
    return f"{format_decimal(round(size / (1024 * 1024), 1))} MB"


@bp.app_template_filter("rating_label")
def rating_label(level: int | None) -> str:
    from portal.citizen.forms import RATING_LEVELS

    return next((str(choice.label) for choice in RATING_LEVELS if choice.value == str(level)), "")
