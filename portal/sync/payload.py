"""What one push says: the dossier as it stands when its status changed, in the national portal's field names.

Field names follow the national portal's integration documents (shared/DOMAIN.md). Dates are local time
(TIMEZONE) written `yyyyMMddHHmmss`, as the national portal exchanges them; a date not reached yet is null.
Fields the portal cannot fill are sent as null and listed in docs/SYNC.md (MaLinhVuc is the procedure's field
name, not a catalogue code; flags for VNeID, online payment and digitised documents are not kept yet).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.core.time import as_utc
from portal.extensions import db
from portal.models import Channel, Dossier, DossierEvent, Status, Task, TaskState

DATE_FORMAT = "%Y%m%d%H%M%S"
CITIZEN, ORGANISATION = 1, 2  # LoaiDoiTuong


def stamp(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return as_utc(moment).astimezone(ZoneInfo(current_app.config["TIMEZONE"])).strftime(DATE_FORMAT)


def build(dossier: Dossier, status: int, changed_at: datetime, seq: int, key: str) -> dict[str, Any]:
    """The body of one push: the dossier now, with the status this row reports (TrangThaiHoSo)."""
    procedure = dossier.version.procedure
    applicant = dossier.applicant
    return {
        "MaHoSo": dossier.code,
        "MaTTHC": procedure.code,
        "TenTTHC": procedure.name,
        "MaLinhVuc": procedure.field,
        "KenhThucHien": dossier.channel if dossier.channel in (Channel.IN_PERSON, Channel.ONLINE, Channel.POST) else 2,
        "NguonHoSo": dossier.origin,
        "ChuHoSo": applicant.full_name,
        "SoGiayToChuHoSo": applicant.citizen_id,
        "LoaiDoiTuong": CITIZEN,
        "TrichYeuHoSo": f"{procedure.name} - {applicant.full_name}",
        "NgayNopHoSo": stamp(dossier.submitted_at),
        "NgayTiepNhan": stamp(dossier.received_at),
        "NgayHenTra": stamp(dossier.appointment_at),
        "NgayKetThucXuLy": stamp(dossier.finished_at),
        "NgayTra": stamp(dossier.returned_at),
        "NgayTuChoi": stamp(dossier.closed_at) if status == Status.NOT_ACCEPTED else None,
        "TrangThaiHoSo": status,
        "ThoiDiemCapNhat": stamp(changed_at),
        "DonViXuLy": dossier.agency.code,
        "NoiNopHoSo": dossier.agency.name,
        "PhiLePhi": [{"SoTien": dossier.fee}] if dossier.fee else [],
        "DanhSachGiayTo": [{"TenGiayTo": a.filename, "MaHash": a.sha256} for a in dossier.attachments],
        "DanhSachBoSung": supplements(dossier.id),
        "QuaTrinhXuLy": steps(dossier.id),
        "SoThuTu": seq,
        "KhoaDongBo": key,
    }


def steps(dossier_id: int) -> list[dict[str, Any]]:
    """QuaTrinhXuLy: one entry per finished officer step (a handover), oldest first."""
    stmt = (
        select(Task)
        .where(Task.dossier_id == dossier_id, Task.state == TaskState.COMPLETED, Task.group_id.is_not(None))
        .options(selectinload(Task.completed_by), selectinload(Task.group))
        .order_by(Task.completed_at, Task.id)
    )
    return [
        {
            "NguoiXuLy": task.completed_by.full_name if task.completed_by else None,
            "PhongBanXuLy": task.group.name if task.group else None,
            "ThoiDiemXuLy": stamp(task.completed_at),
            "NoiDungXuLy": task.name + (f": {task.outcome}" if task.outcome else ""),
            "NgayBatDau": stamp(task.created_at),
            "NgayKetThucTheoQuyDinh": stamp(task.due_at),
        }
        for task in db.session.scalars(stmt)
    ]


def supplements(dossier_id: int) -> list[dict[str, Any]]:
    """DanhSachBoSung: each request for supplementary documents (status 5), with its reason."""
    stmt = (
        select(DossierEvent.at, DossierEvent.note)
        .where(
            DossierEvent.dossier_id == dossier_id,
            DossierEvent.kind == "status",
            DossierEvent.to_status == Status.SUPPLEMENT,
        )
        .order_by(DossierEvent.id)
    )
    return [{"NgayYeuCau": stamp(at), "NoiDung": note} for at, note in db.session.execute(stmt)]
