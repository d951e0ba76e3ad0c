"""The tables of the period pages, built once for both the page and its downloads: each cell holds its value, its
kind (how it is written) and the link to the dossiers behind it, so the page and the CSV/XLSX show the same
numbers. `PageTable.export()` gives the portal's export `Table` (portal/stats/export.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote_plus

from flask import g, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from portal.catalogue.services import localized
from portal.core.presentation import number
from portal.stats.export import Column, Table
from portal.stats.figures import Figures, Period, Row

from . import period_dossiers as lists
from .period import NO_FIELD, Reasons, Selection


def period_args(period: Period) -> dict[str, str]:
    """The URL arguments that name a period (what `Period.parse` reads back)."""
    if period.kind == "custom":
        return {"since": period.start.isoformat(), "until": period.end.isoformat()}
    return {"period": period.key}


def selection_args(sel: Selection, agency_id: int | None) -> dict[str, Any]:
    return {**period_args(sel.period), "agency": agency_id, "procedure": sel.procedure_id, "field": sel.field_arg}


@dataclass(frozen=True)
class Cell:
    """`kind` says how the page writes it: int (a count of the dossiers its link lists), rounds (a count of
    supplement rounds), share, hours, score, text; the export writes the column's kind."""

    value: Any
    kind: str = "int"
    href: str | None = None

    def shown(self) -> Markup:
        """The value as the page writes it (the downloads write the raw value), formatted here rather than by a
        template macro per cell: a breakdown page has thousands of cells."""
        return cell_text(self.value, self.kind)

    def td(self) -> str:
        """The cell's `<td>`, its value linked to the dossiers behind it (escaped here: see `Line.html`)."""
        text = str(self.shown())
        if self.href:
            text = f'<a href="{escape(self.href)}">{text}</a>'
        css = "" if self.kind == "text" else ' class="num"'
        return f'<td{css} data-kind="{escape(self.kind)}">{text}</td>'


@dataclass(frozen=True)
class _Words:
    no_data: Markup
    hours: str  # "%(n)s h", translated


def _words() -> _Words:
    """The words of the cells, translated once per request (thousands of cells would each ask Flask-Babel)."""
    words = g.get("ioc_cell_words")
    if words is None:
        words = g.ioc_cell_words = _Words(Markup('<span aria-label="{}">–</span>').format(_("no data")), _("%(n)s h"))
    return words


def cell_text(value: Any, kind: str) -> Markup:
    if value is None:
        return _words().no_data
    if kind == "share":
        return Markup("{}&nbsp;%").format(number(value * 100))
    if kind == "hours":
        return Markup.escape(_words().hours % {"n": number(value)})
    if kind in ("int", "rounds", "score"):
        return Markup.escape(number(value))
    return Markup.escape(value)


@dataclass
class Line:
    head: str
    cells: list[Cell]
    code: str | None = None

    def html(self) -> Markup:
        """The line's value cells, written in Python: Jinja's per-cell work was half of a breakdown page's time."""
        return Markup("".join(cell.td() for cell in self.cells))  # noqa: S704  (every part escaped in Cell.td)


@dataclass
class PageTable:
    name: str  # the export's key
    caption: str
    head: str  # the row header column's title
    columns: list[tuple[str, str]]  # (label, kind) of the value columns
    lines: list[Line] = field(default_factory=list)
    with_code: bool = False
    chart: str | None = None  # data-chart-columns: the count columns a chart draws (None: no chart)

    def export(self) -> Table:
        columns = [Column("name", self.head)]
        if self.with_code:
            columns.append(Column("code", _("Code")))
        columns += [Column(f"c{i}", label, kind) for i, (label, kind) in enumerate(self.columns)]
        table = Table(self.name, self.caption, columns)
        for line in self.lines:
            table.add(line.head, *([line.code] if self.with_code else []), *(c.value for c in line.cells))
        return table


class Links:
    """Drill-down links with the page's filters; `figure` None gives no link (a figure no list stands behind).

    A breakdown page holds thousands of links: the path is built once and the filters' part of the query is
    encoded once per set of overridden keys, rather than a `url_for` per cell (~0.1 ms each)."""

    PERIOD_KEYS = frozenset({"period", "since", "until"})

    def __init__(self, sel: Selection, agency_id: int | None, *, enabled: bool = True) -> None:
        self.enabled = enabled  # a download has no links: none are built
        self.base = selection_args(sel, agency_id)
        self.path = url_for("ioc.period_dossiers")
        self._encoded: dict[frozenset[str], str] = {}

    def href(self, figure: str | None, **overrides: Any) -> str | None:
        if figure is None or not self.enabled:
            return None
        dropped = frozenset({*overrides, "figure"})
        if self.PERIOD_KEYS & dropped:  # a row of its own period (a month of the trend)
            dropped |= self.PERIOD_KEYS
        base = self._encoded.get(dropped)
        if base is None:
            base = self._encoded[dropped] = _query({k: v for k, v in self.base.items() if k not in dropped})
        own = _query({**overrides, "figure": figure})
        return f"{self.path}?{base}&{own}" if base else f"{self.path}?{own}"


def _query(args: dict[str, Any]) -> str:
    return "&".join(f"{key}={_quoted(value)}" for key, value in args.items() if value is not None)


def _quoted(value: Any) -> str:
    text = str(value)
    if text.isascii() and text.replace("_", "").replace("-", "").isalnum():
        return text  # ids, figure names, period keys: nothing to quote
    return quote_plus(text)


# -- the summary tables ---------------------------------------------------------------------------------------

Getter = Callable[[Figures], Any]

RECEIVED: list[tuple[Any, str, Getter]] = [
    (_l("Online"), "received_online", lambda f: f.received_online),
    (_l("of which fully online"), "received_full_online", lambda f: f.received_full_online),
    (_l("of which partly online"), "received_partial_online", lambda f: f.received_partial_online),
    (_l("In person"), "received_in_person", lambda f: f.received_in_person),
    (_l("By post"), "received_post", lambda f: f.received_post),
    (_l("With their documents digitised"), "received_digitised", lambda f: f.received_digitised),
    (_l("All received"), "received", lambda f: f.received),
]
OUTCOMES: list[tuple[Any, str, Getter]] = [
    (_l("Finished early"), "finished_early", lambda f: f.finished_early),
    (_l("Finished on time"), "finished_on_time", lambda f: f.finished_on_time),
    (_l("Finished late"), "finished_late", lambda f: f.finished_late),
    (_l("Not accepted"), "not_accepted", lambda f: f.not_accepted),
    (_l("Processing stopped"), "stopped", lambda f: f.stopped),
    (_l("Withdrawn by the applicant"), "withdrawn", lambda f: f.withdrawn),
]
RATINGS: list[tuple[Any, str, Getter]] = [
    (_l("Very satisfied"), "rating_very_satisfied", lambda f: f.rating_very_satisfied),
    (_l("Satisfied"), "rating_satisfied", lambda f: f.rating_satisfied),
    (_l("Unsatisfied"), "rating_unsatisfied", lambda f: f.rating_unsatisfied),
]


def _share(part: int, whole: int) -> float | None:
    return None if not whole else part / whole


def _counted(name: str, caption: Any, head: Any, items: list[tuple[Any, str, Getter]], f: Figures,
             whole: int, share_label: Any, links: Links) -> PageTable:  # fmt: skip
    table = PageTable(name, str(caption), str(head), [(_("Dossiers"), "int"), (str(share_label), "share")], chart="0")
    for label, figure, get in items:
        value = int(get(f))
        table.lines.append(
            Line(str(label), [Cell(value, "int", links.href(figure)), Cell(_share(value, whole), "share")])
        )
    return table


def summary_tables(f: Figures, overdue: int, links: Links) -> list[PageTable]:
    received = _counted(
        "received", _l("Dossiers received, by channel"), _l("Channel"), RECEIVED, f, f.received,
        _l("Share of received"), links,
    )  # fmt: skip
    outcomes = _counted(
        "outcomes", _l("Dossiers that ended, by outcome"), _l("Outcome"), OUTCOMES, f, f.ended,
        _l("Share of ended"), links,
    )  # fmt: skip
    outcomes.lines.append(
        Line(_("Overdue, still open now"), [Cell(overdue, "int", links.href(lists.OVERDUE)), Cell(None, "share")])
    )
    ratings = _counted(
        "ratings", _l("Citizens' ratings"), _l("Rating"), RATINGS, f, f.ratings, _l("Share of ratings"), links
    )
    ratings.lines.append(
        Line(_("All ratings"), [Cell(f.ratings, "int", links.href("rated")), Cell(f.satisfaction_share, "share")])
    )
    time = PageTable("processing", _("Processing time and supplement requests"), _("Measure"), [(_("Value"), "score")])
    for label, value, kind, figure in (
        (_("Average processing time (working hours)"), f.average_hours, "hours", "processing"),
        (_("90th percentile of processing time (working hours)"), f.p90_hours, "hours", "processing"),
        (_("Dossiers finished with a processing time"), f.processing_count, "int", "processing"),
        (_("Dossiers that ended"), f.ended, "int", "ended"),
        (_("of which after at least one supplement request"), f.supplemented, "int", "supplemented"),
        (_("Supplement requests (rounds)"), f.supplement_rounds, "rounds", "supplemented"),
        (_("Supplement rounds per dossier that ended"), f.supplement_rounds_per_dossier, "score", "ended"),
    ):
        time.lines.append(Line(label, [Cell(value, kind, links.href(figure))]))
    return [received, outcomes, time, ratings]


def reasons_table(found: dict[str, Reasons], links: Links) -> PageTable:
    table = PageTable(
        "reasons",
        _("Reasons given for refusals, stops and withdrawals"),
        _("Outcome"),
        [(_("Reason"), "text"), (_("Dossiers"), "int")],
    )
    for outcome, reasons in found.items():
        label = str(lists.label_of(outcome))
        for reason in reasons.shown:
            if reason.text is None:
                text, href = _("No reason recorded"), links.href(outcome, no_reason=1)
            else:
                text, href = reason.text, links.href(outcome, reason=reason.text)
            table.lines.append(Line(label, [Cell(text, "text"), Cell(reason.count, "int", href)]))
        if reasons.other_dossiers:
            text = _("%(n)d other reasons", n=reasons.other_reasons)
            table.lines.append(Line(label, [Cell(text, "text"), Cell(reasons.other_dossiers, "int")]))
    return table


# -- the breakdowns -------------------------------------------------------------------------------------------

# (label, kind, value of (figures, overdue now), the figure whose list stands behind it)
BREAKDOWN: list[tuple[Any, str, Callable[[Figures, int], Any], str | None]] = [
    (_l("Received"), "int", lambda f, o: f.received, "received"),
    (_l("Online"), "int", lambda f, o: f.received_online, "received_online"),
    (_l("Finished"), "int", lambda f, o: f.finished, "finished"),
    (_l("Early"), "int", lambda f, o: f.finished_early, "finished_early"),
    (_l("On time"), "int", lambda f, o: f.finished_on_time, "finished_on_time"),
    (_l("Late"), "int", lambda f, o: f.finished_late, "finished_late"),
    (_l("On-time share"), "share", lambda f, o: f.on_time_share, "judged"),
    (_l("Overdue now"), "int", lambda f, o: o, lists.OVERDUE),
    (_l("Not accepted"), "int", lambda f, o: f.not_accepted, "not_accepted"),
    (_l("Stopped"), "int", lambda f, o: f.stopped, "stopped"),
    (_l("Withdrawn"), "int", lambda f, o: f.withdrawn, "withdrawn"),
    (_l("Average hours"), "hours", lambda f, o: f.average_hours, "processing"),
    (_l("90th percentile hours"), "hours", lambda f, o: f.p90_hours, "processing"),
    (_l("Supplement rounds per dossier"), "score", lambda f, o: f.supplement_rounds_per_dossier, "supplemented"),
    (_l("Satisfied share"), "share", lambda f, o: f.satisfaction_share, "rated"),
    (_l("Digitised share"), "share", lambda f, o: f.digitised_share, "received_digitised"),
]


def _row_args(kind: str, row: Row) -> dict[str, Any]:
    if kind == "agency":
        return {"agency": row.key}
    if kind == "procedure":
        return {"procedure": row.key}
    return {"field": row.key or NO_FIELD}


def breakdown_table(
    name: str, caption: str, head: str, kind: str, rows: list[Row], overdue: dict[Any, int], links: Links
) -> PageTable:
    table = PageTable(name, caption, head, [(str(label), k) for label, k, _g, _f in BREAKDOWN])
    table.with_code = kind in ("agency", "procedure")
    for row in rows:
        args = _row_args(kind, row)
        n = overdue.get(row.key, 0)
        cells = [Cell(get(row.figures, n), k, links.href(figure, **args)) for _label, k, get, figure in BREAKDOWN]
        head_text = localized(row) if kind in ("agency", "procedure") else row.name or _("No field given")
        table.lines.append(Line(head_text, cells, row.code))
    return table


def trend_table(rows: list[Row], sel: Selection, links: Links) -> PageTable:
    """Month by month; the first and last months cut to the period (their links too)."""
    columns = [
        (_("Received"), "int", "received", lambda f: f.received),
        (_("Finished early or on time"), "int", "finished_in_time", lambda f: f.on_time),
        (_("Finished late"), "int", "finished_late", lambda f: f.finished_late),
        (_("Not accepted"), "int", "not_accepted", lambda f: f.not_accepted),
        (_("Withdrawn"), "int", "withdrawn", lambda f: f.withdrawn),
        (_("On-time share"), "share", "judged", lambda f: f.on_time_share),
        (_("Satisfied share"), "share", "rated", lambda f: f.satisfaction_share),
    ]
    table = PageTable(
        "months", _("Month by month"), _("Month"), [(label, kind) for label, kind, _f, _g in columns], chart="0,1,2"
    )
    for row in rows:
        month = Period.parse(str(row.key))
        part = Period(max(month.start, sel.period.start), min(month.end, sel.period.end), "custom")
        args = period_args(month if part.start == month.start and part.end == month.end else part)
        cells = [Cell(get(row.figures), kind, links.href(figure, **args)) for _label, kind, figure, get in columns]
        table.lines.append(Line(str(row.key), cells))
    return table
