"""Field reports in a real browser, on a phone: the citizen reports rubbish with a photo from the camera input and
the position the browser gives (mocked geolocation), gets the code, finds it in *My reports*; a visitor sees it in
the public feed and on its public page, with the photo (its metadata gone) and without the reporter's name."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from flask import Flask
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import select

from portal.core.storage import storage
from portal.extensions import db
from portal.models import FieldReport, FieldReportPhoto
from tests.browser import assert_accessible, new_page, shot
from tests.test_browser_journey import sign_in
from tests.test_field_reports import jpeg_with_exif

HUE = {"latitude": 16.4637, "longitude": 107.5909}  # where the phone says it is (the photo's GPS says elsewhere)


def test_a_citizen_reports_from_a_phone_and_the_public_sees_it(live_server, browser, demo: Flask, tmp_path: Path):
    base = live_server.url
    photo = tmp_path / "IMG_2041.jpg"
    photo.write_bytes(jpeg_with_exif())

    citizen = sign_in(browser, base, "congdan@motcua.demo", phone=True)
    citizen.context.grant_permissions(["geolocation"], origin=base)
    citizen.context.set_geolocation(HUE)
    citizen.goto(f"{base}/reports/new")
    assert_accessible(citizen)
    citizen.get_by_label("Phản ánh về vấn đề gì?").select_option("moi_truong")
    citizen.get_by_label("Mô tả vấn đề").fill("Rác thải đổ trộm bên bờ sông Hương, cạnh bến thuyền")
    citizen.locator("input[type=file][name=photos]").set_input_files(str(photo))
    citizen.get_by_role("button", name="Dùng vị trí của tôi").click()
    expect(citizen.locator("[data-locate-status]")).to_have_text("Vị trí của bạn đã được thêm vào phản ánh.")
    shot(citizen, "reports-1-form-phone")
    citizen.get_by_role("button", name="Gửi phản ánh").click()
    code = citizen.locator("[data-report-code]").inner_text()
    shot(citizen, "reports-2-receipt")
    assert_accessible(citizen)

    report = db.session.scalar(select(FieldReport).where(FieldReport.code == code))
    assert report is not None
    assert (round(report.latitude, 4), round(report.longitude, 4)) == (HUE["latitude"], HUE["longitude"])
    [stored] = db.session.scalars(select(FieldReportPhoto).where(FieldReportPhoto.report_id == report.id)).all()
    image = Image.open(BytesIO(storage().get(stored.storage_key)))
    assert image.format == "JPEG"
    assert not image.getexif()  # no camera, no GPS, nothing
    assert max(image.size) <= 1600

    citizen.get_by_role("link", name="Xem phản ánh của tôi").click()
    expect(citizen.locator("main")).to_contain_text("Rác thải đổ trộm bên bờ sông Hương")
    citizen.goto(f"{base}/my/reports")
    expect(citizen.locator("main")).to_contain_text(code)
    citizen.context.close()

    visitor = new_page(browser, phone=True)  # anyone, not signed in
    visitor.goto(f"{base}/public/reports")
    expect(visitor.locator("main")).to_contain_text("Rác thải đổ trộm")
    assert_accessible(visitor)
    visitor.goto(f"{base}/public/reports/{code}")
    expect(visitor.locator("main")).to_contain_text("Rác thải đổ trộm bên bờ sông Hương")
    expect(visitor.locator("main")).not_to_contain_text("Võ Thị Mai")  # the reporter did not agree to show it
    shown = visitor.locator("main img").first
    expect(shown).to_be_visible()
    assert shown.evaluate("img => img.complete && img.naturalWidth > 0")
    shot(visitor, "reports-3-public-page")
    assert_accessible(visitor)
    visitor.context.close()
