"""The catalogue's pages: public, no sign-in needed (a signed-in citizen also sees their draft)."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_login import current_user

from portal.catalogue import services
from portal.catalogue.services import localized
from portal.models import SERVICE_LEVELS

bp = Blueprint("catalogue", __name__)


@bp.app_template_filter("localized")
def localized_filter(obj: object) -> str:
    return localized(obj)


def _int_arg(name: str, default: int | None = None) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() and len(value) < 10 else default


@bp.get("/procedures")
def index():
    query = request.args.get("q", "")[:200]
    field = request.args.get("field", "")[:255] or None
    asked_level = request.args.get("level", "")
    level = asked_level if asked_level in SERVICE_LEVELS else None
    agency_id = _int_arg("agency")
    result = services.search(query, field, agency_id, level, _int_arg("page", 1) or 1)
    return render_template(
        "catalogue/index.html",
        result=result,
        options=services.filter_options(),
        query=query,
        field=field,
        level=level,
        agency_id=agency_id,
    )


@bp.get("/procedures/<key>")
def procedure(key: str):
    found = services.published_procedure(key)
    if found is None:
        abort(404)
    version = services.current_version_of(found)
    return render_template(
        "catalogue/procedure.html",
        procedure=found,
        version=version,
        steps=services.steps_of(found, version),
        deadline=services.deadline_text(found),
        can_apply=services.accepts_applications(found, version),
        draft=services.draft_of(current_user.id, found) if current_user.is_authenticated else None,
    )
