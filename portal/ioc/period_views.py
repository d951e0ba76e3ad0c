"""The leaders' period pages on the `ioc` blueprint: the figures of a period (with breakdowns, reasons and the
month-by-month trend), the dossiers behind each figure, and the ranking of agencies and procedures. Every table
downloads as CSV or XLSX through `?export=<name>&format=csv|xlsx` on the page's own URL."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import abort, current_app, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.catalogue.services import localized
from portal.core.time import local_today, utcnow
from portal.core.web import int_arg, page_arg
from portal.dossiers.access import officer_agency_ids
from portal.stats.export import Column, Table, export_response
from portal.stats.figures import BadPeriod, Period

from . import period as service
from . import period_dossiers as lists
from . import period_tables as tables
from . import ranking as ranking_service
from .access import LeaderScope, leader_scope_or_403, visible_agencies
from .views import bp

PERIOD_KINDS = ("month", "quarter", "year", "custom")
MAX_ARG = 30


def requested_period(today: date) -> Period:
    """The period in the query: the chooser's `kind` with its own field, or `period` / `since`+`until` as the
    pages' links write it; this month when nothing is asked. Raises BadPeriod on anything else."""
    args = request.args
    if any(
        len(args.get(name, "")) > MAX_ARG for name in ("kind", "period", "month", "quarter", "year", "since", "until")
    ):
        raise BadPeriod("long")
    kind = args.get("kind", "")
    if kind in ("month", "quarter", "year"):
        return Period.parse(args.get(kind, ""))
    if kind == "custom" or args.get("since") or args.get("until"):
        return Period.parse(None, args.get("since", "") or "-", args.get("until", "") or "-")
    if kind:
        raise BadPeriod("kind")
    if args.get("period"):
        return Period.parse(args.get("period"))
    return Period.containing(today)


def _field() -> str | None:
    value = request.args.get("field", "")
    return value if value and len(value) <= 255 else None


@dataclass
class Context:
    scope: LeaderScope
    agency_id: int | None  # the agency chosen in the filter (one of the leader's), or None
    period: Period | None  # None: the period asked for cannot be read
    sel: service.Selection | None
    today: date

    def template_args(self) -> dict[str, Any]:
        scope = self.scope
        period = self.period or Period.containing(self.today)
        return {
            "period": period,
            "bad_period": self.period is None,
            "agencies": visible_agencies(scope),
            "agency_id": self.agency_id,
            "fields": service.field_choices(scope),
            "procedures": service.procedure_choices(scope),
            "field": self.sel.field if self.sel else None,
            "procedure_id": self.sel.procedure_id if self.sel else None,
            "quarters": _quarters(self.today, period),
            "years": sorted({*range(self.today.year - 10, self.today.year + 1), period.start.year}, reverse=True),
            "kinds": PERIOD_KINDS,
        }


def _quarters(today: date, period: Period) -> list[str]:
    keys = [f"{year}-Q{q}" for year in range(today.year - 4, today.year + 1) for q in range(1, 5)]
    keys = [k for k in keys if Period.parse(k).start <= today]
    if period.kind == "quarter" and period.key not in keys:
        keys.append(period.key)
    return sorted(keys, reverse=True)


def period_context() -> Context:
    scope = leader_scope_or_403(current_user)
    chosen = int_arg("agency", 0, 1)
    agency_id = chosen if chosen and scope.allows(chosen) else None
    narrowed = scope.narrowed(agency_id)
    today = local_today()
    try:
        period = requested_period(today)
    except BadPeriod:
        return Context(scope, agency_id, None, None, today)
    procedure_id = int_arg("procedure", 0, 1) or None
    return Context(scope, agency_id, period, service.selection(narrowed, period, procedure_id, _field()), today)


def _bad_period(template: str, ctx: Context, **more: Any) -> tuple[str, int]:
    return render_template(template, **ctx.template_args(), **more), 400


def _english() -> bool:
    return str(get_locale() or "") == "en"


@bp.get("/figures")
@login_required
def period_figures():
    ctx = period_context()
    if ctx.sel is None:
        return _bad_period("ioc/figures.html", ctx)
    sel, now = ctx.sel, utcnow()
    wanted = request.args.get("export")  # a download: only its table is built, without links
    links = tables.Links(sel, ctx.agency_id, enabled=not wanted)
    found, overdue = service.sums(sel), service.overdue(sel, now)
    summary = found.total()
    page_tables = tables.summary_tables(summary, overdue.total, links)
    built: dict[str, tables.PageTable] = {t.name: t for t in page_tables}
    for name, build in _more_tables(ctx, sel, found, overdue, links).items():
        if wanted in (None, name):
            built[name] = build()
    if (download := export_response({n: t.export() for n, t in built.items()}, sel.period.key)) is not None:
        return download
    reasons, trend = built["reasons"], built.get("months")
    breakdowns = [built[n] for n in ("agencies", "fields", "procedures") if n in built]
    return render_template(
        "ioc/figures.html",
        **ctx.template_args(),
        summary=summary,
        overdue=overdue.total,
        links=links,
        page_tables=page_tables,
        reasons=reasons,
        breakdowns=breakdowns,
        trend=trend,
    )


def _more_tables(
    ctx: Context, sel: service.Selection, found: service.Sums, overdue: service.Overdue, links: tables.Links
) -> dict[str, Callable[[], tables.PageTable]]:
    """The period page's tables beyond the summary, each built when asked for (a download needs one)."""

    def breakdown(kind: str, name: str, caption: str, head: str) -> Callable[[], tables.PageTable]:
        rows = lambda: service.breakdown(kind, found, overdue)  # noqa: E731
        return lambda: tables.breakdown_table(name, caption, head, kind, rows(), overdue.by(kind), links)

    out: dict[str, Callable[[], tables.PageTable]] = {
        "reasons": lambda: tables.reasons_table(service.reasons(sel), links)
    }
    if ctx.scope.province or len(ctx.scope.agency_ids or ()) > 1:  # a leader of one agency: the whole is that one
        out["agencies"] = breakdown("agency", "agencies", _("By agency"), _("Agency"))
    out["fields"] = breakdown("field", "fields", _("By field"), _("Field"))
    out["procedures"] = breakdown("procedure", "procedures", _("By procedure"), _("Procedure"))
    if len(sel.period.months()) > 1:
        out["months"] = lambda: tables.trend_table(service.by_month(sel), sel, links)
    return out


def _dossier_table(rows: list[lists.ListedDossier], figure: str, agencies: dict[int, Any]) -> Table:
    columns = [
        Column("code", _("Dossier code")),
        Column("procedure", _("Procedure")),
        Column("agency", _("Agency")),
        Column("status", _("Status")),
        Column("received", _("Received")),
        Column("ended", _("Ended")),
        Column("timeliness", _("Timeliness")),
        Column("hours", _("Processing time (working hours)"), "hours"),
        Column("rounds", _("Supplement rounds"), "int"),
        Column("rating", _("Rating")),
        Column("reason", _("Reason")),
    ]
    env = current_app.jinja_env.filters
    table = Table("dossiers", str(lists.label_of(figure)), columns)
    for r in rows:
        agency = agencies.get(r.agency_id)
        table.add(
            r.code,
            r.procedure,
            agency.name if agency is not None else "",
            env["status_label"](r.status),
            env["when"](r.received_at),
            env["when"](r.ended_at),
            env["timeliness_label"](r.timeliness),
            r.processing_hours,
            r.supplement_rounds,
            env["rating_label"](r.rating_level) if r.rating_level else "",
            r.reason or "",
        )
    return table


@bp.get("/figures/dossiers")
@login_required
def period_dossiers():
    """The dossiers behind one figure of the period pages, with the same filters."""
    ctx = period_context()
    figure = request.args.get("figure", "")
    if figure not in lists.KEYS:
        abort(404)
    if ctx.sel is None:
        return _bad_period("ioc/period_dossiers.html", ctx, figure=figure, label=lists.label_of(figure), page=None)
    reason = request.args.get("reason", "")[:2000] or None
    no_reason = request.args.get("no_reason") == "1"
    now, english = utcnow(), _english()
    agencies = {a.id: a for a in visible_agencies(ctx.scope)}
    if request.args.get("export"):
        rows = lists.all_dossiers(ctx.sel, figure, now, reason=reason, no_reason=no_reason, english=english)
        download = export_response({"dossiers": _dossier_table(rows, figure, agencies)}, ctx.sel.period.key)
        if download is not None:
            return download
    found = lists.dossiers(ctx.sel, figure, now, page_arg(), reason=reason, no_reason=no_reason, english=english)
    return render_template(
        "ioc/period_dossiers.html",
        **ctx.template_args(),
        figure=figure,
        label=lists.label_of(figure),
        reason=reason,
        no_reason=no_reason,
        page=found,
        export_limit=lists.EXPORT_LIMIT,
        agency_names=agencies,
        openable=officer_agency_ids(current_user),
        back=tables.selection_args(ctx.sel, ctx.agency_id),
    )


def _ranking_table(name: str, caption: str, head: str, ranked: list[ranking_service.Ranked]) -> Table:
    columns = [
        Column("rank", _("Rank"), "int"),
        Column("name", head),
        Column("code", _("Code")),
        Column("received", _("Received"), "int"),
        Column("on_time", _("On-time share"), "share"),
        Column("on_time_before", _("On-time share, previous period"), "share"),
        Column("late", _("Finished late"), "int"),
        Column("late_before", _("Finished late, previous period"), "int"),
        Column("overdue", _("Overdue, still open now"), "int"),
        Column("satisfaction", _("Satisfied share"), "share"),
        Column("satisfaction_before", _("Satisfied share, previous period"), "share"),
    ]
    table = Table(name, caption, columns)
    for r in ranked:
        f = r.row.figures
        table.add(
            r.rank, localized(r.row), r.row.code, f.received, f.on_time_share, r.before.on_time_share,
            f.finished_late, r.before.finished_late, r.overdue, f.satisfaction_share, r.before.satisfaction_share,
        )  # fmt: skip
    return table


@bp.get("/ranking")
@login_required
def ranking():
    ctx = period_context()
    criterion = request.args.get("sort", ranking_service.DEFAULT_CRITERION)
    if criterion not in ranking_service.CRITERIA:
        criterion = ranking_service.DEFAULT_CRITERION
    extra = {"criterion": criterion, "criteria": ranking_service.CRITERIA}
    if ctx.sel is None:
        return _bad_period("ioc/ranking.html", ctx, **extra, agency_ranks=[], procedure_ranks=[])
    sel, now = ctx.sel.narrowed(procedure_id=None), utcnow()
    ranks = ranking_service.ranking(sel, now, criterion)
    agency_ranks, procedure_ranks = ranks["agency"], ranks["procedure"]
    downloads = {
        "agency_ranking": _ranking_table("agency_ranking", _("Agencies"), _("Agency"), agency_ranks),
        "procedure_ranking": _ranking_table("procedure_ranking", _("Procedures"), _("Procedure"), procedure_ranks),
    }
    if (download := export_response(downloads, f"{sel.period.key}-{criterion}")) is not None:
        return download
    return render_template(
        "ioc/ranking.html",
        **ctx.template_args(),
        **extra,
        previous=sel.period.previous(),
        previous_args=tables.period_args(sel.period.previous()),
        links=tables.Links(sel, ctx.agency_id),
        agency_ranks=agency_ranks,
        procedure_ranks=procedure_ranks,
    )
