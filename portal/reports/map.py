"""The public map of field reports: the reports shown publicly inside a box of the map, as points. A point says
only what the public page says without opening it (code, category, status, place, link), never who reported.

Reports are found by their position in whole micro-degrees (lat_micro, lon_micro: a range on both, served by the
index ix_field_reports_map), newest first, at most REPORTS_MAP_LIMIT of them; `truncated` says more were there.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from urllib.parse import quote

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import select

from portal.core.errors import InvalidInput
from portal.extensions import db
from portal.models import FieldReport, ReportCategory, ReportStatus
from portal.models.field_report import MICRODEGREES
from portal.reports.labels import category_label, report_status_label

# A longitude or latitude as a browser writes it: an optional minus, up to 3 digits, an optional fraction.
# No exponent, no "nan"/"inf", no hex: nothing float() would take that a map would not send.
_NUMBER = re.compile(r"-?[0-9]{1,3}(\.[0-9]{1,20})?")
MAX_BBOX_CHARS = 120


class BadMapQuery(InvalidInput):
    """The box or a filter of a map query cannot be used; `message` says why, in the page's language."""


@dataclass(frozen=True)
class Box:
    """A box in micro-degrees, edges included."""

    west: int
    south: int
    east: int
    north: int


def parse_bbox(text: str | None) -> Box:
    """`west,south,east,north` in degrees (Leaflet's toBBoxString). Refused: missing, too long, not 4 plain
    numbers, out of range, west east of east or south north of north (a box across the antimeridian too)."""
    expected = _("Give the map's box as bbox=west,south,east,north in degrees, e.g. bbox=107.5,16.4,107.7,16.5.")
    if not text:
        raise BadMapQuery(_("The box of the map (bbox) is missing.") + " " + expected)
    if len(text) > MAX_BBOX_CHARS:
        raise BadMapQuery(_("The box of the map (bbox) is too long.") + " " + expected)
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 4 or not all(_NUMBER.fullmatch(p) for p in parts):
        raise BadMapQuery(_("The box of the map (bbox) must be four numbers.") + " " + expected)
    west, south, east, north = (float(p) for p in parts)
    if not all(math.isfinite(v) for v in (west, south, east, north)):  # the pattern already excludes them
        raise BadMapQuery(_("The box of the map (bbox) must be four numbers.") + " " + expected)
    if not (-180 <= west <= 180 and -180 <= east <= 180 and -90 <= south <= 90 and -90 <= north <= 90):
        raise BadMapQuery(_("Longitudes must be between -180 and 180, latitudes between -90 and 90.") + " " + expected)
    if west > east or south > north:
        raise BadMapQuery(
            _("The west edge must not be east of the east edge, nor south north of north.") + " " + expected
        )
    return Box(
        west=math.floor(west * MICRODEGREES),
        south=math.floor(south * MICRODEGREES),
        east=math.ceil(east * MICRODEGREES),
        north=math.ceil(north * MICRODEGREES),
    )


def checked_filter(value: str | None, allowed: tuple[str, ...], refusal: str) -> str | None:
    """An optional category or status filter: empty is none; an unknown code is refused (hidden is unknown here)."""
    if not value:
        return None
    if value not in allowed:
        raise BadMapQuery(refusal)
    return value


PUBLIC_STATUSES = tuple(s for s in ReportStatus.ALL if s != ReportStatus.HIDDEN)
CATEGORIES = ReportCategory.ALL


@dataclass(frozen=True)
class Points:
    points: list[dict[str, object]]
    truncated: bool


def points_in(box: Box, limit: int, category: str | None = None, status: str | None = None) -> Points:
    """The public reports inside `box`, newest first, at most `limit` (one more is read to know it was cut).

    The newest ids are chosen first, from an index alone where the database can (ix_field_reports_map has the
    position, status, time and id: a small box reads only index entries), then only those rows are read. A box
    holding a large share of all reports is answered by walking ix_field_reports_created from the newest instead;
    the planner picks by the box's estimated share."""
    newest = (
        select(FieldReport.id)
        .where(
            FieldReport.lat_micro.between(box.south, box.north),
            FieldReport.lon_micro.between(box.west, box.east),
            FieldReport.status != ReportStatus.HIDDEN,
        )
        .order_by(FieldReport.created_at.desc(), FieldReport.id.desc())
        .limit(limit + 1)
    )
    if category:
        newest = newest.where(FieldReport.category == category)
    if status:
        newest = newest.where(FieldReport.status == status)
    stmt = (
        select(FieldReport.code, FieldReport.category, FieldReport.status, FieldReport.lat_micro, FieldReport.lon_micro)
        .where(FieldReport.id.in_(newest.scalar_subquery()))
        .order_by(FieldReport.created_at.desc(), FieldReport.id.desc())
    )
    rows = db.session.execute(stmt).all()
    # Up to 500 points: each label translated once, the link built once and filled in (codes are URL-safe:
    # letters, digits and dashes, services.new_code; quoted all the same).
    categories = {code: category_label(code) for code in {row.category for row in rows}}
    statuses = {code: report_status_label(code) for code in {row.status for row in rows}}
    prefix = url_for("reports.public_report", code="x")[:-1]  # "/public/reports/"
    return Points(
        points=[
            {
                "code": row.code,
                "category": categories[row.category],
                "status": statuses[row.status],
                "lat": row.lat_micro / MICRODEGREES,
                "lon": row.lon_micro / MICRODEGREES,
                "url": prefix + quote(row.code, safe=""),
            }
            for row in rows[:limit]
        ],
        truncated=len(rows) > limit,
    )
