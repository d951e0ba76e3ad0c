"""The operations centre's tables as downloads (portal/stats/export.py writes them as CSV or XLSX).

Each function builds the tables of one page from the objects the page renders, so a download holds exactly the
page's numbers; table names are the `export=` values the page's links use.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from flask_babel import gettext as _

from portal.core.presentation import CHANNEL_LABELS, status_label
from portal.stats.export import Column, Table

from .today import CHANNELS, DossierRow, TodayFigures
from .waiting import Load, WaitingView

# A dossier list is downloaded whole up to this many rows (the page itself shows 50 at a time).
MAX_EXPORT_ROWS = 20_000


def today_tables(figures: TodayFigures, labels: Mapping[str, object]) -> dict[str, Table]:
    overview = Table("today", _("Today"), (Column("figure", _("Figure")), Column("dossiers", _("Dossiers"), "int")))
    for key, label in labels.items():
        overview.add(str(label), figures.counts[key])
    channels = Table(
        "today-channels",
        _("Received today by channel"),
        (Column("channel", _("Channel")), Column("dossiers", _("Dossiers"), "int")),
    )
    for channel in CHANNELS:
        channels.add(str(CHANNEL_LABELS[channel]), figures.received_by_channel[channel])
    return {table.name: table for table in (overview, channels)}


def dossier_table(
    name: str, title: str, rows: Sequence[DossierRow], agency_names: Mapping[int, str], total: int
) -> Table:
    table = Table(
        name,
        title,
        (
            Column("code", _("Dossier code")),
            Column("procedure", _("Procedure")),
            Column("agency", _("Agency")),
            Column("status", _("Status")),
            Column("channel", _("Channel")),
            Column("submitted", _("Submitted"), "datetime"),
            Column("appointment", _("Appointment"), "datetime"),
        ),
    )
    for row in rows:
        table.add(
            row.code,
            row.procedure,
            agency_names.get(row.agency_id, ""),
            status_label(row.status),
            str(CHANNEL_LABELS.get(row.channel, row.channel)),
            row.submitted_at,
            row.appointment_at,
        )
    if total > len(rows):
        table.note = _("Only the first %(n)d of %(total)d dossiers.", n=len(rows), total=total)
    return table


def waiting_tables(view: WaitingView | None, groups: Sequence[Load], officers: Sequence[Load]) -> dict[str, Table]:
    tables: list[Table] = []
    if view is not None:
        steps = Table(
            "bottlenecks",
            _("Steps ranked as bottlenecks"),
            (
                Column("rank", _("Rank"), "int"),
                Column("step", _("Step")),
                Column("waiting", _("Waiting now"), "int"),
                Column("overdue", _("Of which overdue"), "int"),
                Column("finished", _("Finished in the period"), "int"),
                Column("median_hours", _("Median time (working hours)"), "hours"),
                Column("p90_hours", _("90th percentile (working hours)"), "hours"),
                Column("late_share", _("Finished late"), "share"),
            ),
        )
        for rank, s in enumerate(view.ranked, start=1):
            steps.add(rank, s.name, s.waiting, s.waiting_overdue, s.finished, s.median_hours, s.p90_hours, s.late_share)
        flows = Table(
            "flows",
            _("Sequence flows taken"),
            (
                Column("source", _("From step or event")),
                Column("target", _("To step or event")),
                Column("label", _("Label")),
                Column("taken", _("Times taken"), "int"),
            ),
        )
        for f in view.flows:
            flows.add(f.source, f.target, f.name, f.taken)
        tables += [steps, flows]
    group_table = Table(
        "groups",
        _("Tasks per group"),
        (
            Column("group", _("Group")),
            Column("agency", _("Agency")),
            Column("open", _("Open"), "int"),
            Column("unassigned", _("Not claimed"), "int"),
            Column("overdue", _("Overdue"), "int"),
            Column("finished", _("Finished"), "int"),
        ),
    )
    for g in groups:
        group_table.add(g.label, g.agency, g.open, g.unassigned, g.overdue, g.finished)
    officer_table = Table(
        "officers",
        _("Tasks per officer"),
        (
            Column("officer", _("Officer")),
            Column("open", _("Open"), "int"),
            Column("overdue", _("Overdue"), "int"),
            Column("finished", _("Finished"), "int"),
        ),
    )
    for p in officers:
        officer_table.add(p.label, p.open, p.overdue, p.finished)
    tables += [group_table, officer_table]
    return {table.name: table for table in tables}
