"""Ranking of agencies and procedures for a period: on-time share, dossiers overdue now, satisfaction, with the
change against the previous period of the same length (read from the aggregates; overdue is counted now)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from flask_babel import lazy_gettext as _l

from portal.stats.figures import Figures, Row

from . import period as service
from .period import Overdue, Selection, Sums

# criterion → (label, higher is better)
CRITERIA: dict[str, tuple[Any, bool]] = {
    "on_time": (_l("On-time share"), True),
    "overdue": (_l("Overdue, still open now"), False),
    "satisfaction": (_l("Satisfaction"), True),
    "late": (_l("Finished late"), False),
}
DEFAULT_CRITERION = "on_time"


@dataclass(frozen=True)
class Change:
    """A figure now and in the previous period; `delta` in percentage points for shares."""

    now: float | None
    before: float | None
    higher_is_better: bool | None  # None: neither way is better (the number received)
    share: bool

    @cached_property  # the page asks each of these several times per cell, for thousands of cells
    def delta(self) -> float | None:
        if self.now is None or self.before is None:
            return None
        difference = self.now - self.before
        return round(difference * 100, 1) if self.share else difference

    @cached_property
    def direction(self) -> str | None:
        """up | down | same, or None when there is nothing to compare."""
        if self.delta is None:
            return None
        return "up" if self.delta > 0 else "down" if self.delta < 0 else "same"

    @cached_property
    def better(self) -> bool | None:
        if self.direction in (None, "same") or self.higher_is_better is None:
            return None
        return (self.direction == "up") == self.higher_is_better


@dataclass(frozen=True)
class Ranked:
    rank: int
    row: Row  # now
    before: Figures
    overdue: int

    @property
    def on_time(self) -> Change:
        return Change(self.row.figures.on_time_share, self.before.on_time_share, True, True)

    @property
    def satisfaction(self) -> Change:
        return Change(self.row.figures.satisfaction_share, self.before.satisfaction_share, True, True)

    @property
    def late(self) -> Change:
        return Change(self.row.figures.finished_late, self.before.finished_late, False, False)

    @property
    def received(self) -> Change:
        return Change(self.row.figures.received, self.before.received, None, False)


def _sort_value(criterion: str, figures: Figures, overdue: int) -> tuple[int, float]:
    """(0 when there is a value else 1, the value turned so that smaller is better): no value ranks last."""
    if criterion == "overdue":
        return 0, overdue
    if criterion == "late":
        return 0, figures.finished_late
    share = figures.on_time_share if criterion == "on_time" else figures.satisfaction_share
    return (1, 0.0) if share is None else (0, -share)


def ranking(sel: Selection, now: datetime, criterion: str) -> dict[str, list[Ranked]]:
    """Agencies and procedures ranked (three queries: the period, the previous one, overdue now)."""
    found, before = service.sums(sel), service.sums(sel, sel.period.previous())
    overdue = service.overdue(sel, now)
    return {kind: ranked(kind, criterion, found, before, overdue) for kind in ("agency", "procedure")}


def ranked(kind: str, criterion: str, found: Sums, before: Sums, overdue_now: Overdue) -> list[Ranked]:
    """Every agency (kind "agency") or procedure ("procedure") of the selection with a figure in the period, in
    the previous one, or a dossier overdue now; best first by `criterion`, equal values sharing a rank."""
    overdue = overdue_now.by(kind)
    values = found.by(kind)
    earlier = before.by(kind)
    for key in [*earlier, *overdue]:  # present before or overdue now, silent in the period: ranks with zeros
        values.setdefault(key, Figures())
    rows = service.named_rows(kind, values)
    ordered = sorted(
        rows,
        key=lambda r: (_sort_value(criterion, r.figures, overdue.get(r.key, 0)), r.name, str(r.key)),
    )
    out: list[Ranked] = []
    last: tuple[int, float] | None = None
    for position, row in enumerate(ordered, start=1):
        value = _sort_value(criterion, row.figures, overdue.get(row.key, 0))
        rank = out[-1].rank if out and value == last else position
        last = value
        out.append(Ranked(rank, row, earlier.get(row.key, Figures()), overdue.get(row.key, 0)))
    return out
