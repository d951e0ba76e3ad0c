"""Citizen field reports ("phản ánh hiện trường", like Hue-S): a problem seen in town, reported from a phone with
photos and a place, answered by the agency responsible and shown publicly (portal/reports/)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.time import utcnow
from portal.extensions import Model

from .types import UTCDateTime


class ReportCategory:
    """What a report is about (labels in portal/reports/labels.py)."""

    ENVIRONMENT = "moi_truong"
    TRAFFIC = "giao_thong"
    URBAN_ORDER = "trat_tu_do_thi"
    LIGHTING = "chieu_sang"
    PUBLIC_SERVICES = "dich_vu_cong"
    OTHER = "khac"
    ALL = (ENVIRONMENT, TRAFFIC, URBAN_ORDER, LIGHTING, PUBLIC_SERVICES, OTHER)


class ReportStatus:
    """Where a report stands (labels in portal/reports/labels.py). HIDDEN: taken off the public pages."""

    RECEIVED = "received"
    IN_PROGRESS = "in_progress"
    ANSWERED = "answered"
    CLOSED = "closed"
    REOPENED = "reopened"
    HIDDEN = "hidden"
    ALL = (RECEIVED, IN_PROGRESS, ANSWERED, CLOSED, REOPENED, HIDDEN)


class PhotoKind:
    BEFORE = "before"  # the citizen's photos of the problem
    AFTER = "after"  # the agency's photos of the result
    ALL = (BEFORE, AFTER)


# Positions are also kept in whole micro-degrees (1e-6°, about 11 cm), indexed together, so that a map can ask
# for a bounding box with plain integer comparisons on any database. ix_field_reports_map carries what the map's
# box query filters and orders by (status, created_at, id), so finding a box's newest reports reads the index
# only. The feed: newest first overall (ix_field_reports_created) and by area; by category and status its capped
# count reads ix_field_reports_category_status alone (bench/reports.py, docs/BENCHMARKS.md "Field reports: public
# feed and map").
MICRODEGREES = 1_000_000


class FieldReport(Model):
    __tablename__ = "field_reports"
    __table_args__ = (
        Index("ix_field_reports_map", "lat_micro", "lon_micro", "status", "created_at", "id"),
        Index("ix_field_reports_created", "created_at", "id"),
        Index("ix_field_reports_category_status", "category", "status", "created_at", "id"),
        Index("ix_field_reports_area_created", "area_agency_id", "created_at", "id"),
        Index("ix_field_reports_status_created", "status", "created_at"),
        Index("ix_field_reports_reporter_created", "reporter_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    category: Mapped[str] = mapped_column(String(30))
    description: Mapped[str] = mapped_column(Text)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    lat_micro: Mapped[int | None] = mapped_column(Integer)
    lon_micro: Mapped[int | None] = mapped_column(Integer)
    position_source: Mapped[str | None] = mapped_column(String(10))  # "device" (the form) or "photo" (EXIF GPS)
    address: Mapped[str | None] = mapped_column(String(500))
    area_agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))  # the ward/commune
    show_name: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20), default=ReportStatus.RECEIVED)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rating: Mapped[int | None] = mapped_column(Integer)  # 1–5, given when the reporter confirms
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    reopen_reason: Mapped[str | None] = mapped_column(Text)
    reopened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hidden_reason: Mapped[str | None] = mapped_column(String(500))

    reporter = relationship("User", foreign_keys=[reporter_id])
    answered_by = relationship("User", foreign_keys=[answered_by_id])
    area = relationship("Agency")
    photos: Mapped[list[FieldReportPhoto]] = relationship(
        back_populates="report", order_by="FieldReportPhoto.id", cascade="all, delete-orphan"
    )

    @property
    def is_hidden(self) -> bool:
        return self.status == ReportStatus.HIDDEN

    def __repr__(self) -> str:
        return f"<FieldReport {self.code} {self.status}>"


class FieldReportPhoto(Model):
    """One photo of a report, re-encoded without metadata; the bytes are the object `storage_key` in the portal's
    storage interface (portal/core/storage.py)."""

    __tablename__ = "field_report_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("field_reports.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10), default=PhotoKind.BEFORE)
    storage_key: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(50))
    size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    hidden_from_public: Mapped[bool] = mapped_column(Boolean, default=False)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    report: Mapped[FieldReport] = relationship(back_populates="photos")
