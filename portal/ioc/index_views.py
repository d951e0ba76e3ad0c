"""The Decision 766 index for leaders (/ioc/index): per agency of the leader's scope, each supported component's
score beside its weight, formula and inputs, and the components the data cannot support
(portal/stats/index766.py computes them)."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from flask import abort, current_app, render_template, request
from flask_babel import gettext as _
from flask_login import login_required

from portal.core.time import utcnow
from portal.stats import index766
from portal.stats.export import export_response
from portal.stats.figures import BadPeriod, Period

from .access import visible_agencies
from .views import _english, _scope, bp


def _today() -> date:
    return utcnow().astimezone(ZoneInfo(current_app.config["TIMEZONE"])).date()


def period_arg() -> Period:
    """`?period=2026-11|2026-Q4|2026`, or `?since=…&until=…` (ISO dates); this month when none is given."""
    text = request.args.get("period", "").strip()
    since, until = request.args.get("since", "").strip(), request.args.get("until", "").strip()
    if not (text or since or until):
        return Period.containing(_today())
    try:
        if len(text) > 30 or len(since) > 30 or len(until) > 30:
            raise BadPeriod("length")
        return Period.parse(text, since, until)
    except BadPeriod:
        message = _(
            "A period is a month (2026-11), a quarter (2026-Q4), a year (2026), or two dates, the first not "
            "after the second."
        )
        abort(400, description=message)


@bp.get("/index")
@login_required
def index766_page():
    scope, narrowed, agency_id = _scope()
    period = period_arg()
    indexes = index766.index_for(period, narrowed.agency_ids, province=narrowed.province)
    title = _("Decision 766 index")
    tables = {"index766": index766.as_table(indexes, "index766", title)}
    if (download := export_response(tables, period.key)) is not None:
        return download
    return render_template(
        "ioc/index766.html",
        period=period,
        indexes=indexes,
        unsupported=index766.UNSUPPORTED,
        agencies=visible_agencies(scope),
        agency_id=agency_id,
        lang_en=_english(),
    )
