"""The printable periodic report for leaders (`/ioc/report?period=2026-03`), and its tables as downloads."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.core.time import utcnow
from portal.core.web import int_arg
from portal.stats.export import export_response
from portal.stats.figures import BadPeriod, Period

from . import report as service
from .access import LeaderScope, leader_scope_or_403, visible_agencies
from .views import bp

MAX_ARG = 30  # longer period texts are not periods


class PeriodError(ValueError):
    """A period the report cannot be made for; the text says why, in the reader's language."""


def default_period(now: datetime) -> Period:
    """The last month that is over: the report is made when a month has closed."""
    first = service.local_today(now).replace(day=1)
    before = first - timedelta(days=1)
    return Period.month(before.year, before.month)


def requested_period(now: datetime) -> Period:
    text = request.args.get("period", "").strip()
    since, until = request.args.get("since", "").strip(), request.args.get("until", "").strip()
    if not (text or since or until):
        return default_period(now)
    if max(len(text), len(since), len(until)) > MAX_ARG:
        raise PeriodError(_bad_period())
    try:
        period = Period.parse(text, since, until)
    except BadPeriod as error:
        raise PeriodError(_bad_period()) from error
    if period.start > service.local_today(now):
        raise PeriodError(_("The period %(period)s has not begun yet.", period=service.period_title(period)))
    return period


def _bad_period() -> str:
    return _(
        "This is not a period the report can be made for. Give a month as YYYY-MM (for example 2026-03), "
        "a quarter as YYYY-Q1 to YYYY-Q4, a year, or two dates."
    )


def _scope() -> tuple[LeaderScope, LeaderScope, int | None]:
    """The leader's scope, that scope narrowed to the agency chosen in ?agency= (others are ignored), its id."""
    scope = leader_scope_or_403(current_user)
    chosen = int_arg("agency", 0, 1)
    agency_id = chosen if chosen and scope.allows(chosen) else None
    return scope, scope.narrowed(agency_id), agency_id


@bp.get("/report")
@login_required
def report():
    scope, narrowed, agency_id = _scope()
    now = utcnow()
    context = {"agencies": visible_agencies(scope), "agency_id": agency_id}
    try:
        period = requested_period(now)
    except PeriodError as error:
        wanted = request.args.get("period", "")[:MAX_ARG]
        return render_template("ioc/report.html", report=None, error=str(error), wanted=wanted, **context), 400
    data = service.build_report(narrowed, period, now)
    tables = service.report_tables(data)
    if (download := export_response(tables, suffix=period.key)) is not None:
        return download
    return render_template(
        "ioc/report.html",
        report=data,
        tables=tables,
        error=None,
        wanted=period.key if period.kind != "custom" else "",
        title=service.period_title(period),
        span=service.period_span(period),
        scope_name=service.scope_name(data),
        **context,
    )
