"""Citizen field reports (first slice), through real HTTP requests: a citizen reports a problem with photos from a
phone; the stored photos carry no metadata; refused photos keep nothing; the reporter's pages are theirs only; the
public pages show no personal data and no hidden photo; confirming, rating and reopening follow their rules."""

from __future__ import annotations

import io
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import ExifTags, Image
from sqlalchemy import func, select

from portal.core.storage import storage
from portal.core.time import utcnow
from portal.extensions import db
from portal.models import AuditLog, FieldReport, FieldReportPhoto, ReportStatus
from portal.reports import services
from tests.helpers import user
from tests.test_citizen_support import CITIZEN, DESK, EN, other_citizen
from tests.web import csrf, login

NEW = "/reports/new"
HUE = (16.46, 107.59)  # 16°27'36" N, 107°35'24" E


def page(response: Any) -> str:
    return response.get_data(as_text=True)


def jpeg_with_exif(size: tuple[int, int] = (2400, 1800), orientation: int = 1) -> bytes:
    """A real JPEG as a phone writes it: camera make, GPS position, orientation, a comment."""
    image = Image.new("RGB", size, (180, 40, 40))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMakerX"
    exif[ExifTags.Base.Model] = "Model 12"
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.IFD.GPSInfo] = {1: "N", 2: (16.0, 27.0, 36.0), 3: "E", 4: (107.0, 35.0, 24.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes(), comment=b"taken by Nguyen Van A")
    return out.getvalue()


def png(size: tuple[int, int] = (800, 600), mode: str = "RGBA") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size).save(out, "PNG")
    return out.getvalue()


def signed_in(app: Flask, who: str = CITIZEN) -> FlaskClient:
    client = app.test_client()
    login(client, who)
    return client


def send(client: FlaskClient, photos: list[tuple[bytes, str]], headers: dict | None = None, **fields: Any):
    token = csrf(client, NEW)
    data: dict[str, Any] = {
        "csrf_token": token,
        "category": "moi_truong",
        "description": "Rác thải đổ trộm trên vỉa hè.",
        "address": "",
        "latitude": "",
        "longitude": "",
        "area": "",
    }
    data.update(fields)
    data["photos"] = [(io.BytesIO(content), name) for content, name in photos]
    return client.post(NEW, data=data, content_type="multipart/form-data", headers=headers or {})


def reports() -> list[FieldReport]:
    return list(db.session.scalars(select(FieldReport).order_by(FieldReport.id)))


def fetched(client: FlaskClient, path: str) -> tuple[int, bytes]:
    """Status and bytes of a file download (the response is closed: send_file keeps the file open until then)."""
    response = client.get(path)
    try:
        return response.status_code, response.data
    finally:
        response.close()


def stored_files(app: Flask) -> list[Path]:
    folder = Path(app.config["UPLOAD_DIR"])
    return [folder / name for name in os.listdir(folder)] if folder.exists() else []


def created(app: Flask, client: FlaskClient | None = None, **fields: Any) -> FieldReport:
    client = client or signed_in(app)
    response = send(client, [(jpeg_with_exif(), "anh.jpg")], **fields)
    assert response.status_code == 302, page(response)[:3000]
    return reports()[-1]


def answered(report: FieldReport, days_ago: float = 0) -> FieldReport:
    services.record_answer(report, user(DESK), "Đã thu gom rác.", now=utcnow() - timedelta(days=days_ago))
    db.session.commit()
    return report


# -- creating a report -----------------------------------------------------------------------------------------


def test_a_report_with_a_phone_photo_keeps_its_place_and_stores_the_photo_without_metadata(demo: Flask) -> None:
    client = signed_in(demo)
    form = client.get(NEW)
    assert 'capture="environment"' in page(form)
    assert 'accept="image/*"' in page(form)
    assert "geolocation=(self)" in form.headers["Permissions-Policy"]
    response = send(client, [(jpeg_with_exif(orientation=6), "IMG_0001.jpg")])
    assert response.status_code == 302
    [report] = reports()
    receipt = client.get(response.headers["Location"])
    assert report.code in page(receipt)
    assert report.reporter_id == user(CITIZEN).id
    assert report.status == ReportStatus.RECEIVED
    assert (round(report.latitude or 0, 4), round(report.longitude or 0, 4)) == HUE  # from the photo's GPS
    assert report.position_source == "photo"
    assert (report.lat_micro, report.lon_micro) == (16_460_000, 107_590_000)
    [photo] = report.photos
    data = storage().get(photo.storage_key)
    assert data.startswith(b"\xff\xd8\xff")
    assert b"Exif" not in data
    assert b"PhoneMakerX" not in data
    assert b"Nguyen" not in data
    stored = Image.open(io.BytesIO(data))
    assert not stored.getexif()
    assert not {"exif", "icc_profile", "comment"} & set(stored.info)
    assert stored.size == (photo.width, photo.height) == (1200, 1600)  # turned upright, at most 1600 px long
    assert fetched(client, f"/my/reports/{report.code}/photos/{photo.id}") == (200, data)
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "field_report.create")) is not None


def test_a_png_and_the_devices_position_work_and_the_device_wins_over_the_photo(demo: Flask) -> None:
    client = signed_in(demo)
    response = send(client, [(png(), "screen.png"), (jpeg_with_exif(), "b.jpg")], latitude="10.5", longitude="106.7")
    assert response.status_code == 302, page(response)[:2000]
    [report] = reports()
    assert (report.latitude, report.longitude, report.position_source) == (10.5, 106.7, "device")
    assert [p.width for p in report.photos] == [800, 1600]
    assert all(storage().get(p.storage_key).startswith(b"\xff\xd8") for p in report.photos)


def test_a_text_file_named_jpg_is_refused_with_its_name_and_nothing_is_kept(demo: Flask) -> None:
    client = signed_in(demo)
    photos = [(jpeg_with_exif(), "good.jpg"), (b"just some text\n", "not-a-photo.jpg")]
    response = send(client, photos, address="12 Lê Lợi")
    assert response.status_code == 422
    text = page(response)
    assert "Ảnh 2 (not-a-photo.jpg)" in text
    assert "không phải ảnh JPEG, PNG hoặc WebP" in text
    assert reports() == []
    assert db.session.scalar(select(func.count()).select_from(FieldReportPhoto)) == 0
    assert stored_files(demo) == []  # the good photo written before the refusal is gone too
    english = send(client, photos, headers=EN, address="12 Le Loi")
    assert "Photo 2 (not-a-photo.jpg): The file is not a JPEG, PNG or WebP photo." in page(english)


def test_six_photos_no_photo_and_no_place_are_refused(demo: Flask) -> None:
    client = signed_in(demo)
    six = send(client, [(png((50, 50)), f"{n}.png") for n in range(6)], address="Chợ Đông Ba", headers=EN)
    assert six.status_code == 422
    assert "Add between 1 and 5 photos." in page(six)
    none = send(client, [], address="Chợ Đông Ba", headers=EN)
    assert none.status_code == 422
    assert "Add between 1 and 5 photos." in page(none)
    nowhere = send(client, [(png(), "a.png")], headers=EN)
    assert nowhere.status_code == 422
    assert "Give the address of the place, or use your location." in page(nowhere)
    odd = send(client, [(png(), "a.png")], latitude="95", longitude="10", headers=EN)
    assert odd.status_code == 422
    assert "The position from your device is not valid." in page(odd)
    assert reports() == []
    assert stored_files(demo) == []


def test_a_pixel_bomb_is_refused_before_it_is_decoded(demo: Flask) -> None:
    bomb = io.BytesIO()
    Image.new("1", (12_000, 12_000)).save(bomb, "PNG")  # 144 megapixels in a few kilobytes
    assert len(bomb.getvalue()) < 100_000
    response = send(signed_in(demo), [(bomb.getvalue(), "bomb.png")], address="x", headers=EN)
    assert response.status_code == 422
    assert "Photo 1 (bomb.png): The photo has too many pixels (at most 50 megapixels)." in page(response)
    assert reports() == []


def test_sending_a_report_needs_a_valid_csrf_token_and_a_signed_in_citizen(demo: Flask) -> None:
    anonymous = demo.test_client()
    assert anonymous.get(NEW).status_code == 302  # to the sign-in page
    client = signed_in(demo)
    data = {"category": "moi_truong", "description": "x", "address": "y", "photos": [(io.BytesIO(png()), "a.png")]}
    refused = client.post(NEW, data=data, content_type="multipart/form-data")
    assert refused.status_code == 400
    assert reports() == []
    assert signed_in(demo, DESK).get(NEW).status_code == 403  # officers do not send citizens' reports


def test_sending_reports_is_rate_limited(demo: Flask) -> None:
    demo.config["REPORT_RATE_LIMIT"] = "2 per hour"
    client = signed_in(demo)
    statuses = [send(client, [(png(), "a.png")], address="Chợ Đông Ba").status_code for _n in range(3)]
    assert statuses == [302, 302, 429]
    assert len(reports()) == 2


# -- the reporter's pages ----------------------------------------------------------------------------------------


def test_only_the_reporter_sees_their_report_and_its_photos(demo: Flask) -> None:
    report = created(demo, address="Cầu Trường Tiền")
    photo = report.photos[0]
    mine = signed_in(demo).get("/my/reports")
    assert report.code in page(mine)
    other = signed_in(demo, other_citizen())
    assert other.get(f"/my/reports/{report.code}").status_code == 404
    assert other.get(f"/my/reports/{report.code}/photos/{photo.id}").status_code == 404
    assert other.get(f"/reports/{report.code}/receipt").status_code == 404
    assert report.code not in page(other.get("/my/reports"))


def test_confirming_and_rating_once_the_report_is_answered(demo: Flask) -> None:
    client = signed_in(demo)
    report = created(demo, client, address="Cầu Trường Tiền")
    detail = f"/my/reports/{report.code}"
    token = csrf(client, detail)
    early = client.post(f"{detail}/confirm", data={"csrf_token": token, "rating": "5"}, follow_redirects=True)
    assert "Không thể xác nhận phản ánh này lúc này." in page(early)
    answered(report)
    assert "Đã thu gom rác." in page(client.get(detail))
    assert client.post(f"{detail}/confirm", data={"rating": "5"}).status_code == 400  # no CSRF token
    odd = client.post(f"{detail}/confirm", data={"csrf_token": token, "rating": "9"}, headers=EN)
    assert odd.status_code == 422
    done = client.post(f"{detail}/confirm", data={"csrf_token": token, "rating": "4"}, follow_redirects=True)
    assert done.status_code == 200
    db.session.refresh(report)
    assert (report.status, report.rating) == (ReportStatus.CLOSED, 4)
    again = client.post(f"{detail}/confirm", data={"csrf_token": token, "rating": "1"}, follow_redirects=True)
    assert "Không thể xác nhận phản ánh này lúc này." in page(again)
    db.session.refresh(report)
    assert report.rating == 4
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "field_report.confirm")) is not None


def test_reopening_needs_a_reason_and_is_allowed_only_within_the_days_after_the_answer(demo: Flask) -> None:
    client = signed_in(demo)
    report = created(demo, client, address="Cầu Trường Tiền")
    detail = f"/my/reports/{report.code}"
    answered(report, days_ago=2)
    token = csrf(client, detail)
    empty = client.post(f"{detail}/reopen", data={"csrf_token": token, "reason": " "}, headers=EN)
    assert empty.status_code == 422
    assert "Please give a reason." in page(empty)
    done = client.post(f"{detail}/reopen", data={"csrf_token": token, "reason": "Rác vẫn còn."}, follow_redirects=True)
    assert done.status_code == 200
    db.session.refresh(report)
    assert (report.status, report.reopen_reason, report.reopen_count) == (ReportStatus.REOPENED, "Rác vẫn còn.", 1)
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "field_report.reopen")) is not None
    answered(report, days_ago=8)  # answered again, longer ago than REPORT_REOPEN_DAYS (7)
    late = client.post(f"{detail}/reopen", data={"csrf_token": token, "reason": "Vẫn còn."}, follow_redirects=True)
    assert "Phản ánh này không thể mở lại nữa." in page(late)
    db.session.refresh(report)
    assert report.status == ReportStatus.ANSWERED
    other = signed_in(demo, other_citizen())
    other_token = csrf(other, "/my/reports")
    assert other.post(f"{detail}/reopen", data={"csrf_token": other_token, "reason": "x"}).status_code == 404


# -- the public pages ------------------------------------------------------------------------------------------


def test_the_public_feed_shows_reports_without_personal_data_unless_the_name_is_chosen(demo: Flask) -> None:
    client = signed_in(demo)
    anonymous_report = created(demo, client, address="Cầu Trường Tiền")
    named = created(demo, client, address="Chợ Đông Ba", show_name="y", category="giao_thong")
    reporter = user(CITIZEN)
    public = demo.test_client()
    feed = page(public.get("/public/reports"))
    assert anonymous_report.code in feed
    assert named.code in feed
    assert feed.count(reporter.full_name) == 1
    assert feed.index(named.code) < feed.index(anonymous_report.code)  # newest first
    assert reporter.email not in feed
    assert (reporter.phone or "@@") not in feed
    assert reporter.full_name not in page(public.get(f"/public/reports/{anonymous_report.code}"))
    assert reporter.full_name in page(public.get(f"/public/reports/{named.code}"))
    traffic = page(public.get("/public/reports?category=giao_thong"))
    assert named.code in traffic
    assert anonymous_report.code not in traffic
    assert public.get("/public/reports?page=999999999999&category=nonsense&area=x").status_code == 200
    assert "/public/reports" in page(public.get("/"))  # linked from the public pages' footer


def test_hidden_photos_and_hidden_reports_are_missing_publicly_but_not_for_the_reporter(demo: Flask) -> None:
    client = signed_in(demo)
    report = created(demo, client, address="Cầu Trường Tiền")
    photo = report.photos[0]
    public = demo.test_client()
    assert fetched(public, f"/public/reports/{report.code}/photos/{photo.id}")[0] == 200
    services.hide_photo(photo, user(DESK))
    db.session.commit()
    assert public.get(f"/public/reports/{report.code}/photos/{photo.id}").status_code == 404
    assert f"/photos/{photo.id}" not in page(public.get(f"/public/reports/{report.code}"))
    assert fetched(client, f"/my/reports/{report.code}/photos/{photo.id}")[0] == 200
    second = created(demo, client, address="Chợ Đông Ba")
    services.hide_report(second, user(DESK), "Nội dung không phù hợp")
    db.session.commit()
    assert public.get(f"/public/reports/{second.code}").status_code == 404
    assert public.get(f"/public/reports/{second.code}/photos/{second.photos[0].id}").status_code == 404
    assert second.code not in page(public.get("/public/reports"))
    assert client.get(f"/my/reports/{second.code}").status_code == 200
    assert fetched(client, f"/my/reports/{second.code}/photos/{second.photos[0].id}")[0] == 200


@pytest.mark.parametrize("code", ["PA-0000-XXXXXX", "x" * 300])
def test_unknown_codes_are_404(demo: Flask, code: str) -> None:
    assert demo.test_client().get(f"/public/reports/{code}").status_code == 404


def test_the_area_to_choose_is_a_ward_or_commune_never_the_province(demo: Flask) -> None:
    form = page(signed_in(demo).get("/reports/new"))
    assert "UBND phường Trung Tâm" in form
    assert "UBND tỉnh Demo" not in form
