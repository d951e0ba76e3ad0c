"""Public tracking by dossier code and the receipt's secret: no sign-in, no personal data, no oracle, rate-limited."""

from __future__ import annotations

import re

from flask import Flask

from portal.core.time import utcnow
from tests.helpers import do
from tests.test_citizen_dossiers import REASON
from tests.test_citizen_support import DESK, apply_online
from tests.web import csrf, logout


def track(client, code: str, secret: str):
    return client.post("/track", data={"csrf_token": csrf(client, "/track"), "code": code, "secret": secret})


def test_tracking_shows_progress_without_personal_data(client, app: Flask, demo: Flask) -> None:
    dossier = apply_online(client)
    do(dossier, "reception_check", DESK, {"decision": "supplement", "reason": REASON}, utcnow())
    visitor = app.test_client()
    response = track(visitor, dossier.code, dossier.tracking_secret)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Yêu cầu bổ sung" in page or "Supplement requested" in page  # status in plain words
    assert "Đăng ký hộ kinh doanh" in page  # the procedure
    assert "Tiếp nhận, kiểm tra hồ sơ" in page
    assert "Tiếp nhận và trả kết quả" in page
    for private in (
        "Võ Thị Mai",
        "Tạp hóa Mai Anh",
        "001190012345",
        "0912345678",
        "giay-de-nghi.pdf",
        "Nguyễn Thị Lan",
        "hợp đồng thuê nhà",
    ):
        assert private not in page, private
    english = visitor.post(
        "/track",
        data={"csrf_token": csrf(visitor, "/track"), "code": dossier.code, "secret": dossier.tracking_secret},
        headers={"Cookie": "lang=en"},
    ).get_data(as_text=True)
    assert "Receive and check the dossier" in english  # the step's English name on an English page
    assert "Tiếp nhận, kiểm tra hồ sơ" not in english


def test_the_secret_is_forgiving_about_case_and_spaces(client, app: Flask, demo: Flask) -> None:
    dossier = apply_online(client)
    logout(client)
    secret = dossier.tracking_secret.lower()
    spaced = f" {secret[:4]} {secret[4:]} "
    assert track(client, f" {dossier.code.lower()} ", spaced).status_code == 200


def test_a_wrong_secret_and_an_unknown_code_get_the_same_answer(client, app: Flask, demo: Flask) -> None:
    dossier = apply_online(client)
    logout(client)
    wrong = track(client, dossier.code, "ZZZZZZZZ")
    unknown = track(client, "000.00.31.H56-990101-9999", "ZZZZZZZZ")
    assert wrong.status_code == unknown.status_code == 404

    def answer(response) -> str:
        page = response.get_data(as_text=True)
        return page[page.index("error-summary") : page.index("</ul>", page.index("error-summary"))]

    assert answer(wrong) == answer(unknown)
    assert f'value="{dossier.code}"' in wrong.get_data(as_text=True)  # what was typed is kept


def test_an_empty_form_is_answered_plainly(client, demo: Flask) -> None:
    response = track(client, "", "")
    assert response.status_code == 422
    assert 'href="#code"' in response.get_data(as_text=True)
    assert track(client, "x" * 500, "y" * 500).status_code == 422


def test_tracking_is_rate_limited(client, app: Flask, demo: Flask) -> None:
    app.config["TRACKING_RATE_LIMIT"] = "3 per minute"
    token = csrf(client, "/track")
    codes = [
        client.post("/track", data={"csrf_token": token, "code": "A", "secret": "B"}).status_code for _ in range(4)
    ]
    assert codes == [404, 404, 404, 429]


def test_the_receipt_link_fills_in_the_code_only(client, demo: Flask) -> None:
    page = client.get("/track?code=000.00.31.H56-260302-0001").get_data(as_text=True)
    assert 'value="000.00.31.H56-260302-0001"' in page
    assert re.search(r'<input[^>]*name="secret"[^>]*value=""', page)
