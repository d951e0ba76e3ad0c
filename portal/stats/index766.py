"""The Decision 766/QĐ-TTg service index, as far as the portal's own data supports it.

Decision 766 ranks agencies and provinces on a service index; this is the public reconstruction kept in
shared/DOMAIN.md, computed per agency (and for the whole province) over any `Period`. Each component is returned
as data — key, name, weight (its maximum points), formula, the inputs it came from and the score — so pages show
how every score was reached. Components the data cannot support are listed with the reason (`UNSUPPORTED`); none
is guessed.

Supported components (a share is a / b; no share, hence no score, when b is 0):

| key | weight | score | inputs |
|---|---|---|---|
| `timeliness` | 20 | 20 × on-time share | finished early or on time / finished (early + on time + late) in the period |
| `online_offered` | 4 | 4 × share | published procedures offered online (partly or fully) / published procedures |
| `online_used` | 4 | 4 × share | of those online procedures, the ones that received ≥ 1 dossier online in the period |
| `online_received` | 4 | 4 × share | dossiers received online / dossiers received in the period |
| `satisfaction` | 6 | 6 × min(1, share / 90 %) | ratings satisfied or very satisfied / ratings given in the period |
| `digitisation` | 10 | 10 × share | received dossiers whose documents are digitised / dossiers received in the period |

- Online service is 12 points (DOMAIN.md), split evenly over its three shares.
- Satisfaction gets its 6 points at 90 % satisfied or more (DOMAIN.md), proportionally below.
- Digitisation: DOMAIN.md's reconstruction names the component but gives no weight; 10 points is this portal's
  choice (`WEIGHTS`), to be corrected in one place when the decision's own weight is confirmed. "Digitised" is
  defined in `aggregates.digitised_of`.
- The catalogue counts (`online_offered`, and the denominator of `online_used`) are the catalogue as it is now:
  published procedures of the agency and their service level. The portal keeps no history of the catalogue.

Total = the sum of the supported components' scores out of the sum of their weights (not out of 100: the
unsupported components are left out, not scored 0). A component without data in the period (nothing to divide
by) is left out of both the total and the maximum, and shown as "–".

Everything is read from the daily aggregates through `figures` (two grouped queries) and one catalogue query;
the dossiers' history is never scanned.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.extensions import db
from portal.models import Agency, Procedure
from portal.stats import figures as fig
from portal.stats.export import Column, Table
from portal.stats.figures import Figures, Period

ONLINE_LEVELS = ("partial_online", "full_online")
SATISFACTION_TARGET = 0.9
WEIGHTS = {
    "timeliness": 20.0,
    "online_offered": 4.0,
    "online_used": 4.0,
    "online_received": 4.0,
    "satisfaction": 6.0,
    "digitisation": 10.0,
}
NAMES = {
    "timeliness": _l("Timeliness of processing"),
    "online_offered": _l("Online service: procedures offered online"),
    "online_used": _l("Online service: online procedures in use"),
    "online_received": _l("Online service: dossiers received online"),
    "satisfaction": _l("Citizens' satisfaction"),
    "digitisation": _l("Digitisation of dossiers"),
}
FORMULAS = {
    "timeliness": _l("20 × (finished early or on time) ÷ (finished early, on time or late)"),
    "online_offered": _l("4 × (published procedures offered partly or fully online) ÷ (published procedures)"),
    "online_used": _l("4 × (online procedures that received at least one dossier online) ÷ (online procedures)"),
    "online_received": _l("4 × (dossiers received online) ÷ (dossiers received)"),
    "satisfaction": _l("6 × min(1, satisfied share ÷ 0.9): full points from 90 percent satisfied"),
    "digitisation": _l("10 × (received dossiers whose documents are digitised) ÷ (dossiers received)"),
}


@dataclass(frozen=True)
class Input:
    label: str  # lazy: rendered in the reader's language
    value: int


@dataclass(frozen=True)
class Component:
    key: str
    name: str
    weight: float
    formula: str
    numerator: Input
    denominator: Input
    score: float | None  # None: no data in the period

    @property
    def inputs(self) -> tuple[Input, Input]:
        return (self.numerator, self.denominator)

    @property
    def share(self) -> float | None:
        return None if not self.denominator.value else self.numerator.value / self.denominator.value


@dataclass(frozen=True)
class Unsupported:
    key: str
    name: str
    why: str


UNSUPPORTED = (
    Unsupported(
        "progress_transparency",
        _l("Transparency of progress"),
        _l(
            "Every dossier's progress is public on this portal's tracking page from its submission, so a share "
            "would be 100 percent by construction, not a measurement; what the decision scores (progress published on "
            "the national public service portal) is not recorded here."
        ),
    ),
    Unsupported(
        "online_payment",
        _l("Online payment"),
        _l(
            "The portal takes no payments: the return step records only that the desk collected the fee, "
            "not how it was paid."
        ),
    ),
    Unsupported(
        "online_results",
        _l("Electronic results and results returned online"),
        _l(
            "The return step records how the result was delivered and may attach an electronic copy, but these "
            "stay in each dossier's step data and are not counted in the statistics yet."
        ),
    ),
    Unsupported(
        "reuse",
        _l("Re-use of digitised documents"),
        _l(
            "The portal does not record whether a document was taken from an earlier dossier or a national "
            "database instead of being submitted again."
        ),
    ),
)


@dataclass(frozen=True)
class Catalogue:
    """An agency's published procedures now, and those offered partly or fully online."""

    published: frozenset[int] = frozenset()
    online: frozenset[int] = frozenset()

    def __add__(self, other: Catalogue) -> Catalogue:
        return Catalogue(self.published | other.published, self.online | other.online)


@dataclass(frozen=True)
class AgencyIndex:
    """The index of one agency; `agency_id` None is the whole province (all agencies together)."""

    agency_id: int | None
    code: str | None
    name: str
    name_en: str | None
    components: tuple[Component, ...]

    @property
    def scored(self) -> tuple[Component, ...]:
        return tuple(c for c in self.components if c.score is not None)

    @property
    def total(self) -> float:
        return sum(c.score or 0.0 for c in self.scored)

    @property
    def maximum(self) -> float:
        return sum(c.weight for c in self.scored)

    @property
    def share(self) -> float | None:
        return None if not self.maximum else self.total / self.maximum


def _component(key: str, numerator: tuple[str, int], denominator: tuple[str, int]) -> Component:
    weight = WEIGHTS[key]
    a, b = numerator[1], denominator[1]
    score = None
    if b:
        share = a / b
        score = weight * (min(1.0, share / SATISFACTION_TARGET) if key == "satisfaction" else share)
    return Component(
        key=key,
        name=NAMES[key],
        weight=weight,
        formula=FORMULAS[key],
        numerator=Input(numerator[0], a),
        denominator=Input(denominator[0], b),
        score=score,
    )


def components(f: Figures, catalogue: Catalogue, used: Iterable[int]) -> tuple[Component, ...]:
    """Every supported component from one selection's figures, its catalogue and the procedures that received
    a dossier online in the period."""
    online_used = catalogue.online & set(used)
    return (
        _component(
            "timeliness",
            (_l("Dossiers finished early or on time"), f.on_time),
            (_l("Finished (early, on time or late)"), f.on_time + f.finished_late),
        ),
        _component(
            "online_offered",
            (_l("Published procedures offered online"), len(catalogue.online)),
            (_l("Published procedures"), len(catalogue.published)),
        ),
        _component(
            "online_used",
            (_l("Online procedures that received a dossier online"), len(online_used)),
            (_l("Published procedures offered online"), len(catalogue.online)),
        ),
        _component(
            "online_received", (_l("Dossiers received online"), f.received_online), (_l("Received"), f.received)
        ),
        _component(
            "satisfaction",
            (_l("Ratings satisfied or very satisfied"), f.rating_satisfied + f.rating_very_satisfied),
            (_l("Ratings given"), f.ratings),
        ),
        _component("digitisation", (_l("Received and digitised"), f.received_digitised), (_l("Received"), f.received)),
    )


def catalogues() -> dict[int, Catalogue]:
    """Published procedures per agency, now."""
    found: dict[int, tuple[set[int], set[int]]] = defaultdict(lambda: (set(), set()))
    rows = db.session.execute(
        select(Procedure.id, Procedure.agency_id, Procedure.service_level).where(Procedure.published)
    )
    for procedure_id, agency_id, level in rows:
        found[agency_id][0].add(procedure_id)
        if level in ONLINE_LEVELS:
            found[agency_id][1].add(procedure_id)
    return {agency_id: Catalogue(frozenset(a), frozenset(b)) for agency_id, (a, b) in found.items()}


def index_for(period: Period, agency_ids: Sequence[int] | None = None, *, province: bool = False) -> list[AgencyIndex]:
    """The index of each agency (`agency_ids`; None: every active agency with published procedures or dossiers in
    the period), sorted by name, preceded by the whole province's when `province` is true."""
    per_agency = {int(row.key): row.figures for row in fig.by_agency(period)}
    used_by_agency: dict[int, set[int]] = defaultdict(set)
    for row in fig.by_procedure(period):
        if row.figures.received_online and row.agency_id is not None:
            used_by_agency[row.agency_id].add(int(row.key))
    books = catalogues()
    query = select(Agency).where(Agency.active)
    if agency_ids is not None:
        query = query.where(Agency.id.in_(agency_ids))
    agencies = [a for a in db.session.scalars(query) if agency_ids is not None or a.id in per_agency or a.id in books]
    out = [
        AgencyIndex(
            a.id,
            a.code,
            a.name,
            a.name_en,
            components(per_agency.get(a.id, Figures()), books.get(a.id, Catalogue()), used_by_agency.get(a.id, ())),
        )
        for a in sorted(agencies, key=lambda a: (a.name, a.id))
    ]
    if province:
        whole, book = Figures(), Catalogue()
        for value in per_agency.values():
            whole = whole + value
        for catalogue in books.values():
            book = book + catalogue
        used = {i for ids in used_by_agency.values() for i in ids}
        out.insert(0, AgencyIndex(None, None, str(_l("The whole province")), None, components(whole, book, used)))
    return out


def as_table(indexes: Sequence[AgencyIndex], name: str, title: str) -> Table:
    """One row per agency and component, and a total row per agency: what the pages show, for download."""
    table = Table(
        name=name,
        title=title,
        columns=[
            Column("agency_code", str(_l("Agency code"))),
            Column("agency", str(_l("Agency"))),
            Column("component", str(_l("Component"))),
            Column("score", str(_l("Score")), "score"),
            Column("weight", str(_l("Weight (points)")), "score"),
            Column("numerator_label", str(_l("Counted"))),
            Column("numerator", str(_l("Count")), "int"),
            Column("denominator_label", str(_l("Out of"))),
            Column("denominator", str(_l("Out of (count)")), "int"),
            Column("share", str(_l("Share")), "share"),
            Column("formula", str(_l("Formula"))),
        ],
    )
    english = str(get_locale() or "") == "en"
    for index in indexes:
        agency = (index.name_en if english else None) or index.name
        for c in index.components:
            table.add(
                index.code,
                agency,
                str(c.name),
                c.score,
                c.weight,
                str(c.numerator.label),
                c.numerator.value,
                str(c.denominator.label),
                c.denominator.value,
                c.share,
                str(c.formula),
            )
        total_label = str(_l("Total of the supported components"))
        table.add(index.code, agency, total_label, index.total, index.maximum, "", None, "", None, index.share, "")
    return table
