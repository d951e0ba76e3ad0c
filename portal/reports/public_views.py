"""The public pages of field reports (no sign-in): the feed and one report with its before/after photos and the
answer. Hidden reports and hidden photos are missing here (404); the reporter's name only when they chose to show
it; never a phone number or an e-mail address."""

from __future__ import annotations

from flask import abort, current_app, jsonify, render_template, request
from flask_babel import gettext as _

from portal.core.web import page_arg
from portal.models import PhotoKind
from portal.reports import map as report_map
from portal.reports import queries
from portal.reports.blueprint import bp
from portal.reports.forms import FeedFilterForm, area_choices
from portal.reports.views import photo_response


@bp.get("/public/reports")
def public_feed():
    form = FeedFilterForm(request.args)
    form.area.choices = area_choices(queries.areas(), _("All wards and communes"))
    form.validate()
    area = form.area.data if form.field_ok("area") else ""
    wanted = queries.FeedFilter(
        category=(form.category.data or None) if form.field_ok("category") else None,
        status=(form.status.data or None) if form.field_ok("status") else None,
        area_id=int(area) if area and area.isdigit() else None,
    )
    found = queries.public_feed(wanted, page_arg())
    return render_template(
        "reports/public_feed.html",
        form=form,
        found=found,
        public_name=queries.public_name,
        map_tiles=current_app.config.get("REPORTS_MAP_TILES") or "",
        map_attribution=current_app.config.get("REPORTS_MAP_ATTRIBUTION") or "",
    )


@bp.get("/public/reports/map.json")
def public_map_points():
    """The public reports inside the map's box (?bbox=west,south,east,north&category=&status=), as points."""
    try:
        box = report_map.parse_bbox(request.args.get("bbox"))
        category = report_map.checked_filter(
            request.args.get("category"), report_map.CATEGORIES, _("Unknown category: choose one from the list.")
        )
        status = report_map.checked_filter(
            request.args.get("status"), report_map.PUBLIC_STATUSES, _("Unknown status: choose one from the list.")
        )
    except report_map.BadMapQuery as bad:
        return jsonify(error="bad_request", message=bad.message), 400
    limit = int(current_app.config.get("REPORTS_MAP_LIMIT", 500))
    found = report_map.points_in(box, limit, category=category, status=status)
    return jsonify(points=found.points, truncated=found.truncated, limit=limit)


@bp.get("/public/reports/<code>")
def public_report(code: str):
    report = queries.public_report(code)
    if report is None:
        abort(404)
    return render_template(
        "reports/public_report.html",
        report=report,
        before=queries.shown_photos(report, PhotoKind.BEFORE),
        after=queries.shown_photos(report, PhotoKind.AFTER),
        name=queries.public_name(report),
    )


@bp.get("/public/reports/<code>/photos/<int:photo_id>")
def public_photo(code: str, photo_id: int):
    return photo_response(queries.public_photo(code, photo_id))
