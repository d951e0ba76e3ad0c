"""Reading field reports: the public feed and page (never a hidden report or photo, never personal data), and the
reporter's own reports (anyone else's look missing)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from portal.extensions import db
from portal.models import Agency, FieldReport, FieldReportPhoto, ReportStatus, User

PER_PAGE = 20
# Counting stops here: "more than 10,000 reports" and 500 pages, so a feed of a million reports costs what one of
# ten thousand does (an exact count(*) reads every matching index entry on each page view).
COUNT_CAP = 10_000


@dataclass(frozen=True)
class Page:
    reports: list[FieldReport]
    page: int
    pages: int
    total: int
    more: bool = False  # there are more than `total` (COUNT_CAP) matches


@dataclass(frozen=True)
class FeedFilter:
    category: str | None = None
    status: str | None = None
    area_id: int | None = None


def _public() -> Select:
    return select(FieldReport).where(FieldReport.status != ReportStatus.HIDDEN)


def _paged(stmt: Select, asked: int) -> Page:
    capped = stmt.order_by(None).with_only_columns(FieldReport.id).limit(COUNT_CAP + 1)
    total = db.session.scalar(select(func.count()).select_from(capped.subquery())) or 0
    more = total > COUNT_CAP
    total = min(total, COUNT_CAP)
    pages = max(1, -(-total // PER_PAGE))
    page = min(max(asked, 1), pages)
    ordered = stmt.order_by(FieldReport.created_at.desc(), FieldReport.id.desc())
    rows = db.session.scalars(
        ordered.options(
            selectinload(FieldReport.photos), selectinload(FieldReport.area), selectinload(FieldReport.reporter)
        )
        .limit(PER_PAGE)
        .offset((page - 1) * PER_PAGE)
    )
    return Page(list(rows), page, pages, total, more)


def public_feed(wanted: FeedFilter, page: int) -> Page:
    stmt = _public()
    if wanted.category:
        stmt = stmt.where(FieldReport.category == wanted.category)
    if wanted.status:
        stmt = stmt.where(FieldReport.status == wanted.status)
    if wanted.area_id is not None:
        stmt = stmt.where(FieldReport.area_agency_id == wanted.area_id)
    return _paged(stmt, page)


def public_report(code: str) -> FieldReport | None:
    return db.session.scalar(_public().where(FieldReport.code == code[:20]))


def public_photo(code: str, photo_id: int) -> FieldReportPhoto | None:
    """A photo the public may see: of a shown report, not hidden itself."""
    report = public_report(code)
    if report is None:
        return None
    return next((p for p in report.photos if p.id == photo_id and not p.hidden_from_public), None)


def shown_photos(report: FieldReport, kind: str) -> list[FieldReportPhoto]:
    return [p for p in report.photos if p.kind == kind and not p.hidden_from_public]


def own_reports(user: User, page: int) -> Page:
    return _paged(select(FieldReport).where(FieldReport.reporter_id == user.id), page)


def own_report(user: User, code: str) -> FieldReport | None:
    return db.session.scalar(
        select(FieldReport).where(FieldReport.code == code[:20], FieldReport.reporter_id == user.id)
    )


def own_photo(user: User, code: str, photo_id: int) -> FieldReportPhoto | None:
    report = own_report(user, code)
    if report is None:
        return None
    return next((p for p in report.photos if p.id == photo_id), None)


def areas() -> list[Agency]:
    """The wards and communes (the portal's agencies) a report can name as its area."""
    local = select(Agency).where(Agency.active.is_(True), Agency.level != "province")  # a province is no place
    return list(db.session.scalars(local.order_by(Agency.name)))


def public_name(report: FieldReport) -> str | None:
    """The reporter's name, only when they chose to show it; never any other personal data."""
    return report.reporter.full_name if report.show_name and report.reporter is not None else None
