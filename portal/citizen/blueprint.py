"""The citizen area's blueprint; its routes live in views.py (applying) and dossier_views.py (one's dossiers)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Blueprint

if TYPE_CHECKING:
    from portal.models import Task

bp = Blueprint("citizen", __name__)


@bp.app_template_filter("rating_label")
def rating_label(level: int | None) -> str:
    from portal.citizen.forms import RATING_LEVELS

    return next((str(choice.label) for choice in RATING_LEVELS if choice.value == str(level)), "")


@bp.app_template_filter("step_name")
def step_name(task: Task) -> str:
    """A step's name in the page's language: the BPMN's `name_en` on an English page, when it has one."""
    from flask_babel import get_locale

    if str(get_locale() or "vi") != "en":
        return task.name
    from portal.procedures.services import compiled

    spec = compiled(task.dossier.version).model.steps.get(task.bpmn_id)
    return spec.name_en if spec is not None and spec.name_en else task.name
