"""Public statistics and open data: no sign-in, no personal data (aggregates only), read from stats_daily."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from typing import Any

from flask import Blueprint, Response, abort, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from portal.core.time import local_today
from portal.extensions import db
from portal.models import Agency, Procedure
from portal.stats import figures as fig
from portal.stats import index766
from portal.stats.export import export_response
from portal.stats.figures import BadPeriod, Figures, Period

bp = Blueprint("stats", __name__)

# The open data's columns, in order; documented in docs/OPEN_DATA.md. Never rename: add new ones at the end.
OPEN_DATA_COLUMNS = (
    "month",
    "agency_code",
    "agency_name",
    "procedure_code",
    "procedure_name",
    "field",
    "received",
    "received_online",
    "received_in_person",
    "received_post",
    "received_full_online",
    "received_partial_online",
    "finished",
    "finished_early",
    "finished_on_time",
    "finished_late",
    "on_time_rate",
    "not_accepted",
    "stopped",
    "withdrawn",
    "supplement_rounds",
    "ratings_unsatisfied",
    "ratings_satisfied",
    "ratings_very_satisfied",
    "satisfaction_rate",
    "average_processing_hours",
    "p90_processing_hours",
    "received_digitised",
    "digitised_rate",
)


def _period() -> Period:
    text = request.args.get("period", "")
    since, until = request.args.get("since", ""), request.args.get("until", "")
    if not (text or since or until):
        return Period.containing(local_today())
    if len(text) > 30 or len(since) > 30 or len(until) > 30:
        abort(400)
    try:
        return Period.parse(text, since, until)
    except BadPeriod:
        abort(400)


def _agency() -> Agency | None:
    value = request.args.get("agency", "")
    if not value:
        return None
    if not value.isdigit() or len(value) > 9:
        abort(400)
    agency = db.session.get(Agency, int(value))
    if agency is None:
        abort(404)
    return agency


def _procedure() -> Procedure | None:
    value = request.args.get("procedure", "")
    if not value:
        return None
    if not value.isdigit() or len(value) > 9:
        abort(400)
    procedure = db.session.get(Procedure, int(value))
    if procedure is None or not procedure.published:
        abort(404)
    return procedure


def _field() -> str | None:
    value = request.args.get("field")
    if value is None or value == "":
        return None
    if len(value) > 255:
        abort(400)
    return value


@bp.get("/statistics")
def statistics():
    period, agency, procedure, field = _period(), _agency(), _procedure(), _field()
    agency_id = agency.id if agency else None
    procedure_id = procedure.id if procedure else None
    if procedure is not None:
        field = None  # a procedure has its field
    summary = fig.totals(period, agency_id=agency_id, procedure_id=procedure_id, field=field)
    # The Decision 766 index is per agency, over all fields and procedures (see portal/stats/index766.py).
    index = [] if procedure else index766.index_for(period, [agency_id] if agency_id else None, province=not agency)
    title = _("Decision 766 index")
    download = export_response({"index766": index766.as_table(index, "index766", title)}, period.key)
    if download is not None:
        return download
    return render_template(
        "stats/statistics.html",
        period=period,
        previous=period.previous(),
        agency=agency,
        procedure=procedure,
        field=field,
        summary=summary,
        agencies=[] if agency else fig.by_agency(period, field=field, procedure_id=procedure_id),
        fields=[] if field or procedure else fig.by_field(period, agency_id=agency_id),
        procedures=[] if procedure else fig.by_procedure(period, agency_id=agency_id, field=field),
        months=(
            fig.by_month(period, agency_id=agency_id, procedure_id=procedure_id, field=field)
            if period.kind != "month"
            else []
        ),
        open_months=[m for m in period.months() if m.start <= local_today()][-12:],
        index=index,
        unsupported=index766.UNSUPPORTED,
    )


# -- open data -------------------------------------------------------------------------------------------


def _rate(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _hours(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def open_data_record(month: str, agency: Agency | None, procedure: Procedure | None, f: Figures) -> dict[str, Any]:
    return {
        "month": month,
        "agency_code": agency.code if agency else None,
        "agency_name": agency.name if agency else None,
        "procedure_code": procedure.code if procedure else None,
        "procedure_name": procedure.name if procedure else None,
        "field": (procedure.field if procedure else None) or None,
        "received": f.received,
        "received_online": f.received_online,
        "received_in_person": f.received_in_person,
        "received_post": f.received_post,
        "received_full_online": f.received_full_online,
        "received_partial_online": f.received_partial_online,
        "finished": f.finished,
        "finished_early": f.finished_early,
        "finished_on_time": f.finished_on_time,
        "finished_late": f.finished_late,
        "on_time_rate": _rate(f.on_time_share),
        "not_accepted": f.not_accepted,
        "stopped": f.stopped,
        "withdrawn": f.withdrawn,
        "supplement_rounds": f.supplement_rounds,
        "ratings_unsatisfied": f.rating_unsatisfied,
        "ratings_satisfied": f.rating_satisfied,
        "ratings_very_satisfied": f.rating_very_satisfied,
        "satisfaction_rate": _rate(f.satisfaction_share),
        "average_processing_hours": _hours(f.average_hours),
        "p90_processing_hours": _hours(f.p90_hours),
        "received_digitised": f.received_digitised,
        "digitised_rate": _rate(f.digitised_share),
    }


def open_data(period: Period) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """One record per agency and procedure with any figure in the month, and the province's totals."""
    rows = fig.by_procedure(period)
    wanted = [int(r.key) for r in rows]
    procedures = {p.id: p for p in db.session.scalars(db.select(Procedure).where(Procedure.id.in_(wanted)))}
    agencies = {a.id: a for a in db.session.scalars(db.select(Agency))}
    records = []
    for row in rows:
        procedure = procedures[int(row.key)]
        records.append(open_data_record(period.key, agencies.get(procedure.agency_id), procedure, row.figures))
    records.sort(key=lambda r: (r["agency_code"] or "", r["procedure_code"] or "", r["procedure_name"] or ""))
    return records, open_data_record(period.key, None, None, fig.totals(period))


def _month(month: str) -> Period:
    try:
        period = Period.parse(month)
    except BadPeriod:
        abort(404)
    if period.kind != "month":
        abort(404)
    return period


def _cached(body: str, mimetype: str, period: Period) -> BaseResponse:
    response = Response(body, mimetype=mimetype)
    # A month still open changes with every step (figures at most a minute old); a closed month rarely does.
    response.cache_control.public = True
    response.cache_control.max_age = 60 if period.end >= local_today() else 3600
    response.set_etag(hashlib.sha256(body.encode()).hexdigest()[:32])
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response.make_conditional(request)


@bp.get("/open-data/statistics/<month>.json")
def open_data_json(month: str):
    period = _month(month)
    records, total = open_data(period)
    body = {
        "month": period.key,
        "documentation": url_for("stats.statistics", _external=False) + "#open-data",
        "fields": list(OPEN_DATA_COLUMNS),
        "province": total,
        "rows": records,
    }
    return _cached(json.dumps(body, ensure_ascii=False, sort_keys=False), "application/json", period)


@bp.get("/open-data/statistics/<month>.csv")
def open_data_csv(month: str):
    period = _month(month)
    records, _total = open_data(period)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=OPEN_DATA_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for record in records:
        writer.writerow({k: "" if v is None else v for k, v in record.items()})
    response = _cached("\ufeff" + out.getvalue(), "text/csv", period)  # the BOM lets spreadsheets read UTF-8
    response.headers["Content-Disposition"] = f'attachment; filename="motcua-statistics-{period.key}.csv"'
    return response
