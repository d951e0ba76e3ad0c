"""Printable one-stop-shop documents and attachment previews, from the dossier's real data, for those allowed."""

from __future__ import annotations

import re

from flask import Flask

from portal.extensions import db
from portal.models import Attachment
from tests.helpers import do, submit, upload, user, vn
from tests.test_inbox_pages import (
    CITIZEN,
    DESK,
    EN,
    LEADER,
    OUTSIDER,
    SPECIALIST,
    application,
    other_agency_officer,
    page,
    signed_in,
)
from tests.web import login

OTHER_CITIZEN = "hang@example.vn"


def another_citizen() -> None:
    from portal.models import User

    citizen = User(email=OTHER_CITIZEN, full_name="Trần Thu Hằng", kind="citizen")
    citizen.set_password("MotCua@2026")
    db.session.add(citizen)
    db.session.commit()


def late_dossier():
    """Received Monday 09:00, the specialist late (due Tuesday), approved and returned on Thursday."""
    dossier = submit("household_business", application(), vn(2026, 3, 2, 8, 0))
    do(dossier, "reception_check", DESK, {"decision": "accept", "comment": "Đủ thành phần"}, vn(2026, 3, 2, 9, 0))
    do(dossier, "specialist_review", SPECIALIST, {"decision": "approve"}, vn(2026, 3, 5, 9, 0))
    do(dossier, "leader_approval", LEADER, {"decision": "approve"}, vn(2026, 3, 5, 10, 0))
    return dossier


def test_the_receipt_carries_the_dossiers_facts(demo: Flask) -> None:
    dossier = submit("household_business", application(), vn(2026, 3, 2, 8, 0))
    desk = signed_in(demo, DESK)
    assert desk.get(f"/documents/dossiers/{dossier.id}/receipt").status_code == 404  # not received yet
    do(dossier, "reception_check", DESK, {"decision": "accept"}, vn(2026, 3, 2, 9, 0))
    response = desk.get(f"/documents/dossiers/{dossier.id}/receipt", headers=EN)
    assert response.status_code == 200
    html = page(response)
    assert dossier.code in html
    assert "Võ Thị Mai" in html
    assert "001190012345" in html
    assert "giay-de-nghi.pdf" in html  # documents received
    assert "02/03/2026 09:00" in html  # received at (Vietnam time)
    assert "05/03/2026 09:00" in html  # appointment: 3 working days
    assert "Nguyễn Thị Lan" in html  # the officer who received it
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in html
    assert "js/print.js" in html

    citizen = signed_in(demo, CITIZEN)  # the applicant gets their own receipt
    assert citizen.get(f"/documents/dossiers/{dossier.id}/receipt").status_code == 200


def test_the_supplement_request_lists_every_missing_document(demo: Flask) -> None:
    dossier = submit("household_business", application(), vn(2026, 3, 2, 8, 0))
    reason = "Hợp đồng thuê nhà\n- Bản sao CCCD của chủ hộ\n"
    do(dossier, "reception_check", DESK, {"decision": "supplement", "reason": reason}, vn(2026, 3, 2, 9, 0))
    citizen = signed_in(demo, CITIZEN)
    html = page(citizen.get(f"/documents/dossiers/{dossier.id}/supplement-request"))
    items = re.findall(r"<li>([^<]+)</li>", html.split('class="items"')[1].split("</ol>")[0])
    assert items == ["Hợp đồng thuê nhà", "Bản sao CCCD của chủ hộ"]
    assert citizen.get(f"/documents/dossiers/{dossier.id}/refusal").status_code == 404  # not refused


def test_the_refusal_slip_gives_the_reason(demo: Flask) -> None:
    dossier = submit("household_business", application(), vn(2026, 3, 2, 8, 0))
    do(
        dossier,
        "reception_check",
        DESK,
        {"decision": "refuse", "reason": "Ngành nghề cấm kinh doanh"},
        vn(2026, 3, 2, 9, 0),
    )
    citizen = signed_in(demo, CITIZEN)
    response = citizen.get(f"/documents/dossiers/{dossier.id}/refusal")
    assert response.status_code == 200
    assert "Ngành nghề cấm kinh doanh" in page(response)


def test_the_process_control_slip_has_one_row_per_handover(demo: Flask) -> None:
    dossier = late_dossier()
    desk = signed_in(demo, DESK)
    html = page(desk.get(f"/documents/dossiers/{dossier.id}/process-control", headers=EN))
    rows = html.split("<tbody>")[1].split("</tbody>")[0].split("<tr>")[1:]
    assert len(rows) == 4  # applicant → desk → specialist → leader → desk
    assert "Applicant" in rows[0]
    assert "Tiếp nhận và trả kết quả" in rows[0]
    assert "Nguyễn Thị Lan" in rows[1]
    assert "Chuyên viên đăng ký kinh doanh" in rows[1]
    assert "Early" in rows[1] or "On time" in rows[1]
    assert "Late" in rows[2]  # the specialist took until Thursday
    assert "Lê Thị Hoa" in rows[2]
    assert "Lãnh đạo UBND phường" in rows[2]
    assert "Đủ thành phần" in rows[1]
    assert "05/03/2026 09:00" in rows[2]


def test_documents_refuse_everyone_else(demo: Flask) -> None:
    dossier = late_dossier()
    other_agency_officer()
    another_citizen()
    outsider = signed_in(demo, OUTSIDER)
    stranger = demo.test_client()
    login(stranger, OTHER_CITIZEN)
    applicant = signed_in(demo, CITIZEN)
    for name in ("receipt", "process-control", "supplement-request", "refusal"):
        assert outsider.get(f"/documents/dossiers/{dossier.id}/{name}").status_code == 404
        assert stranger.get(f"/documents/dossiers/{dossier.id}/{name}").status_code == 404
    assert applicant.get(f"/documents/dossiers/{dossier.id}/process-control").status_code == 404  # internal
    assert demo.test_client().get(f"/documents/dossiers/{dossier.id}/receipt").status_code == 302  # sign in first
    attachment = dossier.attachments[0]
    for client in (outsider, stranger):
        assert client.get(f"/documents/dossiers/{dossier.id}/attachments/{attachment.id}").status_code == 404


def test_attachments_preview_inline_with_framing_only_for_us(demo: Flask) -> None:
    dossier = submit("household_business", application(), vn(2026, 3, 2, 8, 0))
    other = submit("household_business", application("Quán khác"), vn(2026, 3, 2, 8, 0))
    attachment = dossier.attachments[0]
    desk = signed_in(demo, DESK)
    inline = desk.get(f"/documents/dossiers/{dossier.id}/attachments/{attachment.id}?inline=1")
    assert inline.status_code == 200
    assert inline.mimetype == "application/pdf"
    assert inline.headers["Content-Disposition"].startswith("inline")
    assert "frame-ancestors 'self'" in inline.headers["Content-Security-Policy"]
    assert inline.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert inline.data.startswith(b"%PDF")
    inline.close()
    download = desk.get(f"/documents/dossiers/{dossier.id}/attachments/{attachment.id}")
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert "frame-ancestors 'none'" in download.headers["Content-Security-Policy"]
    assert download.headers["X-Frame-Options"] == "DENY"
    download.close()
    # an attachment named through another dossier's id is unknown
    assert desk.get(f"/documents/dossiers/{other.id}/attachments/{attachment.id}").status_code == 404


def test_images_show_inline_on_the_task_page(demo: Flask) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
    data = application()
    data["documents"] = upload(CITIZEN, "anh-chup.png", png)
    dossier = submit("household_business", data, vn(2026, 3, 2, 8, 0))
    attachment = db.session.get(Attachment, int(data["documents"]))
    desk = signed_in(demo, DESK)
    html = page(desk.get(f"/inbox/dossiers/{dossier.id}"))
    assert re.search(rf'<img src="/documents/dossiers/{dossier.id}/attachments/{attachment.id}\?inline=1"', html)
    response = desk.get(f"/documents/dossiers/{dossier.id}/attachments/{attachment.id}?inline=1")
    assert response.mimetype == "image/png"
    response.close()
    assert user(DESK).id  # the desk officer of the same agency
