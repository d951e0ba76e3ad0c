"""What happens to a field report: created by a citizen (with its photos, in one transaction), answered, confirmed
and rated, reopened, hidden. Services flush; the request (or a later BPMN step) commits.

The later slice's BPMN process calls `start_handling`, `record_answer`, `hide_report` and `hide_photo`; the
citizen's pages call `create_report`, `confirm_solved` and `reopen`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from portal.core import audit
from portal.core.errors import InvalidInput, NotAllowed
from portal.core.storage import put_in_transaction
from portal.core.time import utcnow
from portal.extensions import db
from portal.models import MICRODEGREES, FieldReport, FieldReportPhoto, PhotoKind, ReportCategory, ReportStatus, User
from portal.reports.photos import DEFAULT_MAX_PIXELS, CleanPhoto, PhotoRefused, clean_photo, valid_position

MIN_PHOTOS = 1
MAX_PHOTOS = 5
MAX_DESCRIPTION = 2000
MAX_REASON = 1000
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud or typed from a phone
OPEN_STATUSES = (ReportStatus.RECEIVED, ReportStatus.IN_PROGRESS, ReportStatus.REOPENED)


@dataclass(frozen=True)
class UploadedPhoto:
    name: str
    data: bytes


@dataclass
class ReportDetails:
    category: str
    description: str
    address: str = ""
    position: tuple[float, float] | None = None  # from the device (the form's hidden fields)
    area_agency_id: int | None = None
    show_name: bool = False
    photos: list[UploadedPhoto] = field(default_factory=list)


def parse_position(latitude: str | None, longitude: str | None) -> tuple[float, float] | None:
    """The device's position from the form's hidden fields: None when both are empty, refused when odd."""
    if not (latitude or "").strip() and not (longitude or "").strip():
        return None
    try:
        position = (float(latitude or ""), float(longitude or ""))
    except ValueError:
        position = (999.0, 999.0)
    if not valid_position(*position):
        message = _("The position from your device is not valid. Type the address instead.")
        raise InvalidInput(message, {"address": [message]})
    return position


def create_report(reporter: User, details: ReportDetails, *, now: datetime | None = None) -> FieldReport:
    """Check everything, store the cleaned photos and the report; nothing is kept when any part is refused."""
    _check_details(details)
    cleaned = _cleaned_photos(details.photos)
    position = details.position or next((p.position for p in cleaned if p.position), None)
    if position is None and not details.address.strip():
        message = _("Give the address of the place, or use your location.")
        raise InvalidInput(message, {"address": [message]})
    created = now or utcnow()
    report = FieldReport(
        code=new_code(created),
        reporter_id=reporter.id,
        category=details.category,
        description=details.description.strip(),
        address=details.address.strip() or None,
        area_agency_id=details.area_agency_id,
        show_name=details.show_name,
        status=ReportStatus.RECEIVED,
        created_at=created,
        updated_at=created,
    )
    _place(report, position, "device" if details.position else "photo")
    db.session.add(report)
    db.session.flush()
    for photo in cleaned:
        add_photo(report, photo, reporter, PhotoKind.BEFORE)
    audit.record("field_report.create", reporter, report, code=report.code, photos=len(cleaned))
    return report


def _check_details(details: ReportDetails) -> None:
    errors: dict[str, list[str]] = {}
    if details.category not in ReportCategory.ALL:
        errors["category"] = [_("Choose one of the options in the list.")]
    text = details.description.strip()
    if not text:
        errors["description"] = [_("Please describe the problem.")]
    elif len(text) > MAX_DESCRIPTION:
        errors["description"] = [_("Use at most %(max)d characters.", max=MAX_DESCRIPTION)]
    count = len(details.photos)
    if not MIN_PHOTOS <= count <= MAX_PHOTOS:
        errors["photos"] = [_("Add between %(min)d and %(max)d photos.", min=MIN_PHOTOS, max=MAX_PHOTOS)]
    if errors:
        raise InvalidInput(_("The report could not be sent."), errors)


def _cleaned_photos(photos: list[UploadedPhoto]) -> list[CleanPhoto]:
    from flask import current_app

    max_pixels = int(current_app.config.get("REPORT_PHOTO_MAX_PIXELS", DEFAULT_MAX_PIXELS))
    cleaned, problems = [], []
    for number, photo in enumerate(photos, start=1):
        try:
            cleaned.append(clean_photo(photo.data, max_pixels))
        except PhotoRefused as refused:
            problems.append(
                _("Photo %(n)d (%(name)s): %(reason)s", n=number, name=photo.name[:100], reason=refused.message)
            )
    if problems:
        raise InvalidInput(_("The report could not be sent."), {"photos": problems})
    return cleaned


def _place(report: FieldReport, position: tuple[float, float] | None, source: str) -> None:
    if position is None:
        return
    report.latitude, report.longitude = position
    report.lat_micro = round(position[0] * MICRODEGREES)
    report.lon_micro = round(position[1] * MICRODEGREES)
    report.position_source = source


def new_code(now: datetime) -> str:
    """A short public code such as PA-2026-7K3M9Q: random (no count of reports leaks), checked unused."""
    for _attempt in range(10):
        suffix = "".join(secrets.choice(CODE_ALPHABET) for _i in range(6))
        code = f"PA-{now.year}-{suffix}"
        if db.session.scalar(select(FieldReport.id).where(FieldReport.code == code)) is None:
            return code
    raise RuntimeError("no unused field report code after 10 tries")


def add_photo(report: FieldReport, photo: CleanPhoto, who: User | None, kind: str) -> FieldReportPhoto:
    key = secrets.token_hex(16)
    put_in_transaction(key, photo.data, photo.content_type)
    row = FieldReportPhoto(
        report_id=report.id,
        kind=kind,
        storage_key=key,
        content_type=photo.content_type,
        size=len(photo.data),
        width=photo.width,
        height=photo.height,
        uploaded_by_id=who.id if who is not None else None,
    )
    db.session.add(row)
    db.session.flush()
    return row


# -- the reporter's answers ----------------------------------------------------------------------------------


def can_confirm(report: FieldReport, user: User) -> bool:
    return report.reporter_id == user.id and report.status == ReportStatus.ANSWERED


def reopen_until(report: FieldReport, days: float) -> datetime | None:
    """Until when the reporter may reopen the answered report (None: not answered)."""
    return report.answered_at + timedelta(days=days) if report.answered_at is not None else None


def can_reopen(report: FieldReport, user: User, days: float, now: datetime | None = None) -> bool:
    until = reopen_until(report, days)
    return can_confirm(report, user) and until is not None and (now or utcnow()) <= until


def confirm_solved(report: FieldReport, user: User, rating: int, *, now: datetime | None = None) -> None:
    """The reporter says the problem is solved and rates the answer (1–5), once."""
    if not can_confirm(report, user):
        raise NotAllowed(_("This report cannot be confirmed now."))
    if rating not in range(1, 6):
        raise InvalidInput(_("Choose from 1 to 5 stars."), {"rating": [_("Choose from 1 to 5 stars.")]})
    report.status = ReportStatus.CLOSED
    report.rating = rating
    report.closed_at = report.updated_at = now or utcnow()
    db.session.flush()
    audit.record("field_report.confirm", user, report, code=report.code, rating=rating)


def reopen(report: FieldReport, user: User, reason: str, days: float, *, now: datetime | None = None) -> None:
    """The reporter says the problem is not solved, within `days` of the answer, and why."""
    moment = now or utcnow()
    if not can_reopen(report, user, days, moment):
        raise NotAllowed(_("This report can no longer be reopened."))
    text = reason.strip()
    if not text:
        raise InvalidInput(_("Please give a reason."), {"reason": [_("Please give a reason.")]})
    if len(text) > MAX_REASON:
        message = _("Use at most %(max)d characters.", max=MAX_REASON)
        raise InvalidInput(message, {"reason": [message]})
    report.status = ReportStatus.REOPENED
    report.reopen_count += 1
    report.reopen_reason = text
    report.reopened_at = report.updated_at = moment
    db.session.flush()
    audit.record("field_report.reopen", user, report, code=report.code, reason=text[:200])


# -- the agencies' side (called by the later BPMN slice) ---------------------------------------------------------


def start_handling(report: FieldReport, *, now: datetime | None = None) -> None:
    if report.status in (ReportStatus.RECEIVED, ReportStatus.REOPENED):
        report.status = ReportStatus.IN_PROGRESS
        report.updated_at = now or utcnow()
        db.session.flush()


def record_answer(report: FieldReport, officer: User, answer: str, *, now: datetime | None = None) -> None:
    """The agency's answer, shown to the reporter and publicly."""
    if report.status not in OPEN_STATUSES:
        raise NotAllowed(_("This report is not waiting for an answer."))
    if not answer.strip():
        raise InvalidInput(_("Please write the answer."), {"answer": [_("Please write the answer.")]})
    report.status = ReportStatus.ANSWERED
    report.answer = answer.strip()
    report.answered_at = report.updated_at = now or utcnow()
    report.answered_by_id = officer.id
    db.session.flush()
    audit.record("field_report.answer", officer, report, code=report.code)


def hide_report(report: FieldReport, officer: User, reason: str) -> None:
    """Take a report off the public pages (abuse, personal data in the text); its reporter still sees it."""
    report.status = ReportStatus.HIDDEN
    report.hidden_reason = reason.strip()[:500] or None
    report.updated_at = utcnow()
    db.session.flush()
    audit.record("field_report.hide", officer, report, code=report.code, reason=report.hidden_reason)


def hide_photo(photo: FieldReportPhoto, officer: User) -> None:
    """Keep one photo off the public pages (a face, a number plate); the reporter still sees it."""
    photo.hidden_from_public = True
    db.session.flush()
    audit.record("field_report.photo_hidden", officer, photo, report=photo.report_id)
