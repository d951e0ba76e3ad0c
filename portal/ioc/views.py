"""The operations centre's pages for leaders: today's figures (and their JSON for the page's refresh), the
dossiers behind each figure, and where dossiers wait on a procedure's diagram with the workload beside it."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, current_app, g, jsonify, render_template, request
from flask_babel import get_locale
from flask_login import current_user, login_required

from portal.core.time import utcnow
from portal.core.web import int_arg, page_arg
from portal.dossiers.access import officer_agency_ids
from portal.stats.export import export_response

from . import exports
from . import today as today_service
from . import waiting as waiting_service
from .access import LeaderScope, leader_scope, leader_scope_or_403, visible_agencies

bp = Blueprint("ioc", __name__, url_prefix="/ioc")


@bp.app_context_processor
def leader_link() -> dict:
    """`is_leader()` for the header: asked only when an officer's page is rendered, once per request."""

    def is_leader() -> bool:
        if "ioc_is_leader" not in g:
            g.ioc_is_leader = leader_scope(current_user) is not None
        return bool(g.ioc_is_leader)

    return {"is_leader": is_leader}


def _english() -> bool:
    return str(get_locale() or "") == "en"


def _scope() -> tuple[LeaderScope, LeaderScope, int | None]:
    """The leader's whole scope, the scope narrowed to the agency chosen in ?agency=, and that agency's id."""
    scope = leader_scope_or_403(current_user)
    chosen = int_arg("agency", 0, 1)
    agency_id = chosen if chosen and scope.allows(chosen) else None
    return scope, scope.narrowed(agency_id), agency_id


def _stamp() -> str:
    """Today's local date, for the names of downloaded files."""
    return f"{utcnow().astimezone(ZoneInfo(current_app.config['TIMEZONE'])):%Y-%m-%d}"


def _refresh_seconds() -> int:
    return int(current_app.config.get("IOC_REFRESH_SECONDS", 30))


@bp.get("/")
@login_required
def today():
    scope, narrowed, agency_id = _scope()
    figures = today_service.today_figures(narrowed, utcnow())
    labels = {key: label for key, (label, _) in today_service.FIGURES.items()}
    if (download := export_response(exports.today_tables(figures, labels), _stamp())) is not None:
        return download
    return render_template(
        "ioc/today.html",
        figures=figures,
        labels=labels,
        channels=today_service.CHANNELS,
        agencies=visible_agencies(scope),
        agency_id=agency_id,
        refresh=_refresh_seconds(),
        lang_en=_english(),
    )


@bp.get("/today.json")
@login_required
def today_json():
    _, narrowed, _ = _scope()
    response = jsonify(today_service.today_figures(narrowed, utcnow()).as_json())
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/dossiers")
@login_required
def dossiers():
    """The dossiers behind one of today's figures, with the same filters (agency, channel)."""
    scope, narrowed, agency_id = _scope()
    figure = request.args.get("figure", "")
    if figure not in today_service.FIGURES:
        abort(404)
    channel = int_arg("channel", 0, 1, 3) or None
    if figure != "received":
        channel = None
    if request.args.get("export"):
        whole = today_service.figure_dossiers(
            narrowed, figure, utcnow(), channel, english=_english(), size=exports.MAX_EXPORT_ROWS
        )
        names = {a.id: a.name for a in visible_agencies(scope)}
        table = exports.dossier_table(figure, str(today_service.FIGURES[figure][0]), whole.rows, names, whole.total)
        return export_response({figure: table}, _stamp())
    page = today_service.figure_dossiers(narrowed, figure, utcnow(), channel, page_arg(), english=_english())
    return render_template(
        "ioc/dossiers.html",
        page=page,
        figure=figure,
        label=today_service.FIGURES[figure][0],
        channel=channel,
        agency_id=agency_id,
        agencies={a.id: a for a in visible_agencies(scope)},
        openable=officer_agency_ids(current_user),
    )


@bp.get("/waiting")
@login_required
def waiting():
    scope, narrowed, agency_id = _scope()
    now = utcnow()
    period = waiting_service.period_from(request.args.get("since"), request.args.get("until"), now)
    choices = waiting_service.versions_in_scope(narrowed, _english())
    wanted = int_arg("version", 0, 1)
    version = waiting_service.version_in_scope(narrowed, wanted or (choices[0].id if choices else None))
    view = waiting_service.waiting_view(narrowed, version, period, now) if version is not None else None
    groups, officers = waiting_service.workload(narrowed, period, now, _english())
    tables = exports.waiting_tables(view, groups, officers)
    if (download := export_response(tables, f"{period.since.isoformat()}-{period.until.isoformat()}")) is not None:
        return download
    return render_template(
        "ioc/waiting.html",
        view=view,
        choices=choices,
        version_id=version.id if version is not None else None,
        period=period,
        groups=groups,
        officers=officers,
        agencies=visible_agencies(scope),
        agency_id=agency_id,
        lang_en=_english(),
    )


@bp.get("/versions/<int:version_id>/diagram")
@login_required
def diagram(version_id: int):
    """The BPMN of a version of the leader's agencies, for the waiting view's diagram."""
    scope = leader_scope_or_403(current_user)
    version = waiting_service.version_in_scope(scope, version_id)
    if version is None:
        abort(404)
    response = Response(version.bpmn_xml, mimetype="application/xml")
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response
