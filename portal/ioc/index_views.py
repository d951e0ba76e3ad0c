"""The Decision 766 index for leaders (/ioc/index): per agency of the leader's scope, each supported component's
score beside its weight, formula and inputs, and the components the data cannot support
(portal/stats/index766.py computes them)."""

from __future__ import annotations

from flask import render_template
from flask_babel import gettext as _
from flask_login import login_required

from portal.stats import index766
from portal.stats.export import export_response

from .period_views import period_context
from .views import _english, bp


@bp.get("/index")
@login_required
def index766_page():
    """The same period chooser and agency filter as the other period pages (the index has no field filter)."""
    ctx = period_context()
    extra = {"unsupported": index766.UNSUPPORTED, "lang_en": _english()}
    if ctx.period is None:
        return render_template("ioc/index766.html", **ctx.template_args(), **extra, indexes=[]), 400
    narrowed = ctx.scope.narrowed(ctx.agency_id)
    indexes = index766.index_for(ctx.period, narrowed.agency_ids, province=narrowed.province)
    tables = {"index766": index766.as_table(indexes, "index766", _("Decision 766 index"))}
    if (download := export_response(tables, ctx.period.key)) is not None:
        return download
    return render_template("ioc/index766.html", **ctx.template_args(), **extra, indexes=indexes)
