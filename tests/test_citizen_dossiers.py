"""The citizen's dossiers over HTTP: list, dossier page, supplement answer, withdrawal, rating, and the refusals."""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy import select

from portal.core.time import utcnow
from portal.extensions import db
from portal.models import AuditLog, Dossier, Rating, Status, Task, TaskState
from tests.helpers import do, open_task, upload
from tests.test_citizen_support import (
    DESK,
    LEADER,
    PNG,
    SPECIALIST,
    apply_online,
    multipart,
    other_citizen,
)
from tests.web import csrf, login, logout

REASON = "Thiếu: 1) hợp đồng thuê nhà; 2) bản sao CCCD của chủ hộ."


def ask_for_supplement(dossier: Dossier) -> Task:
    do(dossier, "reception_check", DESK, {"decision": "supplement", "reason": REASON}, utcnow())
    return open_task(dossier, "reception_supplement")


def finish(dossier: Dossier) -> None:
    do(dossier, "reception_check", DESK, {"decision": "accept"}, utcnow())
    do(dossier, "specialist_review", SPECIALIST, {"decision": "approve"}, utcnow())
    do(dossier, "leader_approval", LEADER, {"decision": "approve"}, utcnow())
    do(dossier, "return_result", DESK, {"delivery_method": "online", "fee_paid": True}, utcnow())


def test_my_dossiers_lists_mine_in_plain_words(client, app: Flask, demo: Flask) -> None:
    dossier = apply_online(client)
    page = client.get("/my/dossiers").get_data(as_text=True)
    assert dossier.code in page
    assert "Mới đăng ký" in page or "Newly submitted" in page
    other = app.test_client()
    login(other, other_citizen())
    assert dossier.code not in other.get("/my/dossiers").get_data(as_text=True)


def test_the_dossier_page_shows_timeline_diagram_and_documents(client, demo: Flask) -> None:
    dossier = apply_online(client)
    do(dossier, "reception_check", DESK, {"decision": "accept"}, utcnow())
    page = client.get(f"/my/dossiers/{dossier.id}", headers={"Cookie": "lang=en"}).get_data(as_text=True)
    assert "Received" in page
    assert "Receive and check the dossier" in page  # the step's English name (name_en in the BPMN)
    assert "Reception and return of results" in page
    assert "tag-early" in page or "tag-on_time" in page or "tag-late" in page  # timeliness of the done step
    assert 'data-current="specialist_review"' in page  # the diagram highlights the waiting step
    assert "vendor/bpmn-js/bpmn-viewer.production.min.js" in page
    assert "giay-de-nghi.pdf" in page
    assert "Nguyễn Thị Lan" not in page  # officers are not named to the citizen
    diagram = client.get(f"/my/dossiers/{dossier.id}/diagram.bpmn")
    assert diagram.status_code == 200
    assert b"household_business" in diagram.data


def test_answering_a_supplement_request(client, demo: Flask) -> None:
    dossier = apply_online(client)
    task = ask_for_supplement(dossier)
    listing = client.get("/my/dossiers").get_data(as_text=True)
    assert f"/my/dossiers/{dossier.id}/steps/{task.id}" in listing  # what is expected of me now
    url = f"/my/dossiers/{dossier.id}/steps/{task.id}"
    page = client.get(url).get_data(as_text=True)
    assert "hợp đồng thuê nhà" in page  # the officer's consolidated list

    empty = client.post(url, data={"csrf_token": csrf(client, url), "supplement_note": "Gửi bổ sung"})
    assert empty.status_code == 422
    assert 'href="#supplement_documents"' in empty.get_data(as_text=True)
    assert 'value="Gửi bổ sung"' in empty.get_data(as_text=True) or "Gửi bổ sung</textarea>" in empty.get_data(
        as_text=True
    )

    body, content_type = multipart(
        {"csrf_token": csrf(client, url), "supplement_note": "Đã bổ sung"},
        [("supplement_documents__upload", "hop-dong.png", PNG)],
    )
    response = client.post(url, data=body, content_type=content_type)
    assert response.status_code == 302
    assert db.session.get(Task, task.id).state == TaskState.COMPLETED
    assert db.session.get(Dossier, dossier.id).status == Status.NEW  # back at the desk
    assert "hop-dong.png" in client.get(f"/my/dossiers/{dossier.id}").get_data(as_text=True)
    again = client.get(url)
    assert again.status_code == 302  # the step is done: back to the dossier page


def test_withdrawal_asks_for_a_reason_and_a_confirmation(client, demo: Flask) -> None:
    dossier = apply_online(client)
    url = f"/my/dossiers/{dossier.id}/withdraw"
    token = csrf(client, url)
    missing = client.post(url, data={"csrf_token": token, "reason": ""})
    assert missing.status_code == 422
    page = missing.get_data(as_text=True)
    assert 'href="#reason"' in page
    assert 'href="#confirm"' in page
    response = client.post(url, data={"csrf_token": token, "reason": "Tôi nộp nhầm", "confirm": "y"})
    assert response.status_code == 302
    withdrawn = db.session.get(Dossier, dossier.id)
    assert withdrawn.status == Status.WITHDRAWN
    assert "dossier.withdraw" in db.session.scalars(select(AuditLog.action)).all()
    assert client.get(url).status_code == 302  # cannot withdraw twice
    assert client.post(url, data={"csrf_token": token, "reason": "x", "confirm": "y"}).status_code == 302
    assert db.session.get(Dossier, dossier.id).status == Status.WITHDRAWN


def test_rating_only_once_and_only_when_finished(client, demo: Flask) -> None:
    dossier = apply_online(client)
    url = f"/my/dossiers/{dossier.id}/rate"
    assert client.get(url).status_code == 302  # not finished yet
    assert f'href="{url}"' not in client.get(f"/my/dossiers/{dossier.id}").get_data(as_text=True)
    finish(dossier)
    assert db.session.get(Dossier, dossier.id).status == Status.RETURNED
    page = client.get(url).get_data(as_text=True)
    assert 'type="radio"' in page
    assert 'value="3"' in page
    token = csrf(client, url)
    assert client.post(url, data={"csrf_token": token, "level": "7"}).status_code == 422
    assert client.post(url, data={"csrf_token": token}).status_code == 422
    ok = client.post(url, data={"csrf_token": token, "level": "3", "comment": "Nhanh, chu đáo"})
    assert ok.status_code == 302
    rating = db.session.scalar(select(Rating))
    assert (rating.level, rating.comment) == (3, "Nhanh, chu đáo")
    assert client.post(url, data={"csrf_token": token, "level": "1"}).status_code == 302  # refused: once only
    assert db.session.scalar(select(Rating)).level == 3
    assert "Nhanh, chu đáo" in client.get(f"/my/dossiers/{dossier.id}").get_data(as_text=True)


def test_every_dossier_route_refuses_another_citizen(client, app: Flask, demo: Flask) -> None:
    dossier = apply_online(client)
    task = ask_for_supplement(dossier)
    attachment = dossier.attachments[0].id if dossier.attachments else None
    logout(client)
    login(client, other_citizen())
    token = csrf(client, "/my/dossiers")
    base = f"/my/dossiers/{dossier.id}"
    for path in (
        base,
        f"{base}/receipt",
        f"{base}/diagram.bpmn",
        f"{base}/steps/{task.id}",
        f"{base}/withdraw",
        f"{base}/rate",
        f"/attachments/{attachment}",
        f"/attachments/{attachment}/view",
    ):
        response = client.get(path)
        response.close()
        assert response.status_code == 404, path
    for path in (f"{base}/steps/{task.id}", f"{base}/withdraw", f"{base}/rate"):
        response = client.post(path, data={"csrf_token": token, "reason": "x", "confirm": "y", "level": "1"})
        assert response.status_code == 404, path
    assert db.session.get(Dossier, dossier.id).status == Status.SUPPLEMENT
    assert db.session.get(Task, task.id).state == TaskState.READY
    assert db.session.scalar(select(Rating)) is None


def test_a_step_of_another_dossier_or_an_officer_step_is_not_found(client, demo: Flask) -> None:
    first = apply_online(client)
    second = apply_online(client, None)
    task = ask_for_supplement(first)
    assert client.get(f"/my/dossiers/{second.id}/steps/{task.id}").status_code == 404
    desk_step = open_task(second, "reception_check")
    assert client.get(f"/my/dossiers/{second.id}/steps/{desk_step.id}").status_code == 404
    assert client.get("/my/dossiers/999999").status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(client, demo: Flask) -> None:
    for path in ("/my/dossiers", "/my/dossiers/1", "/my/dossiers/1/receipt", "/attachments/1"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert "/login" in response.headers["Location"], path


def test_the_receipt_shows_code_secret_and_documents(client, demo: Flask) -> None:
    dossier = apply_online(client)
    page = client.get(f"/my/dossiers/{dossier.id}/receipt").get_data(as_text=True)
    assert re.search(re.escape(dossier.code), page)
    assert dossier.tracking_secret in page
    assert "Võ Thị Mai" in page
    assert "/track" in page


def test_a_refused_dossier_says_why_in_its_status_box(client, demo: Flask) -> None:
    dossier = apply_online(client)
    reason = "Hồ sơ không thuộc thẩm quyền của UBND phường."
    do(dossier, "reception_check", DESK, {"decision": "refuse", "reason": reason}, utcnow())
    page = client.get(f"/my/dossiers/{dossier.id}").get_data(as_text=True)
    box = page.split('class="status-box"', 1)[1].split("</section>", 1)[0]
    assert reason in box  # not only far below, in the progress table
    assert f'href="/documents/dossiers/{dossier.id}/refusal"' in box


def test_a_result_sent_as_a_file_is_offered_in_the_status_box(client, demo: Flask) -> None:
    dossier = apply_online(client)
    do(dossier, "reception_check", DESK, {"decision": "accept"}, utcnow())
    do(dossier, "specialist_review", SPECIALIST, {"decision": "approve"}, utcnow())
    do(dossier, "leader_approval", LEADER, {"decision": "approve"}, utcnow())
    result = upload(DESK, "giay-chung-nhan-hkd.pdf")
    do(dossier, "return_result", DESK, {"delivery_method": "online", "result_file": result}, utcnow())
    page = client.get(f"/my/dossiers/{dossier.id}").get_data(as_text=True)
    box = page.split('class="status-box"', 1)[1].split("</section>", 1)[0]
    assert "Kết quả của bạn" in box
    assert f'href="/attachments/{result}"' in box
    assert "giay-chung-nhan-hkd.pdf" in box
    assert "giay-de-nghi.pdf" not in box  # the citizen's own files are not the result
    with client.get(f"/attachments/{result}") as download:
        assert download.status_code == 200
