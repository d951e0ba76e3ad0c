"""What a new officer sees, over HTTP: a clean inbox with plain filters, the dossier before the decision form,
money and file sizes written the Vietnamese way and the same on every page (officer, citizen, documents)."""

from __future__ import annotations

import re

from flask import Flask

from portal.core.time import utcnow
from tests.helpers import PDF, do, open_task, submit, upload
from tests.test_admin_support import ADMIN
from tests.test_inbox_pages import CITIZEN, DESK, application, page, signed_in

NBSP = "\u00a0"
ERROR_SUMMARY = 'class="error-summary"'


def filter_form(html: str) -> str:
    match = re.search(r'<form method="get" action="/inbox/".*?</form>', html, re.S)
    assert match, "no filter form on the inbox"
    return match.group(0)


def error_next_to(html: str, field_id: str) -> str:
    match = re.search(rf'<p class="error-message" id="{field_id}-error">([^<]*)</p>', html)
    return match.group(1).strip() if match else ""


# -- the inbox's filters ---------------------------------------------------------------------------------


def test_a_plain_visit_to_the_inbox_shows_no_error(demo: Flask) -> None:
    desk = signed_in(demo, DESK)
    for query in ("", "?tab=new", "?tab=new&procedure=&status=&due_before=&sort=", "?tab=nope"):
        response = desk.get(f"/inbox/{query}")
        html = page(response)
        assert response.status_code == 200, query
        assert ERROR_SUMMARY not in html, query
        assert 'class="error-message"' not in html, query
        assert "Not a valid" not in html, query


def test_the_filter_button_says_it_filters(demo: Flask) -> None:
    desk = signed_in(demo, DESK)
    form = filter_form(page(desk.get("/inbox/")))
    assert re.findall(r"<button[^>]*>([^<]*)</button>", form) == ["Lọc"]
    assert "Nộp hồ sơ" not in form  # "Apply" as in "apply for a procedure" was a citizen's word


def test_a_bad_filter_value_is_told_next_to_it_in_plain_vietnamese(demo: Flask) -> None:
    business = submit("household_business", application(), utcnow())
    desk = signed_in(demo, DESK)
    html = page(desk.get("/inbox/?status=99&sort=evil"))
    assert error_next_to(html, "status") == "Hãy chọn một mục trong danh sách."
    assert error_next_to(html, "sort") == "Hãy chọn một mục trong danh sách."
    assert "Not a valid" not in html
    assert business.code in html  # the bad filters are left out, the list still shows

    html = page(desk.get("/inbox/?due_before=yesterday"))
    assert error_next_to(html, "due_before") == "Ngày này không hợp lệ."
    assert 'value="yesterday"' in html
    assert "Not a valid" not in html


def test_the_audit_log_filters_plainly(demo: Flask) -> None:
    admin = signed_in(demo, ADMIN)
    html = page(admin.get("/admin/audit?action=&actor=&since=&until="))
    assert ERROR_SUMMARY not in html
    assert "auth.login" in html

    html = page(admin.get("/admin/audit?since=abc&action=auth.login"))
    assert error_next_to(html, "since") == "Ngày này không hợp lệ."
    assert "Not a valid" not in html
    assert "auth.login</code>" in html  # the valid filter still applies
    html = page(admin.get("/admin/audit?actor=" + "x" * 300))
    assert error_next_to(html, "actor") == "Chỉ được nhập tối đa 255 ký tự."


# -- the task page ---------------------------------------------------------------------------------------


def test_the_task_page_shows_the_dossier_before_the_decision_form(demo: Flask) -> None:
    dossier = submit("household_business", application(), utcnow())
    task = open_task(dossier, "reception_check")
    html = page(signed_in(demo, DESK).get(f"/inbox/tasks/{task.id}"))
    decision = html.index('id="form-title"')
    for part in ("Võ Thị Mai", "Tạp hóa Mai Anh", 'id="files-title"', "giay-de-nghi.pdf", 'id="history"'):
        assert html.index(part) < decision, part
    assert html.index('type="radio"') > decision
    assert 'href="#do-step"' in html  # a link down to the form, for who has read enough


def test_money_is_written_for_vietnam(demo: Flask) -> None:
    dossier = submit("household_business", application(), utcnow())
    task = open_task(dossier, "reception_check")
    desk = signed_in(demo, DESK)
    for path in (f"/inbox/tasks/{task.id}", f"/inbox/dossiers/{dossier.id}"):
        html = page(desk.get(path))
        assert f"50.000.000{NBSP}đ" in html, path  # the capital (a money field)
        assert "50000000" not in html, path
        assert f"100.000{NBSP}đ" in html, path  # the fee
    citizen = page(signed_in(demo, CITIZEN).get(f"/my/dossiers/{dossier.id}"))
    assert f"100.000{NBSP}đ" in citizen
    catalogue = page(demo.test_client().get("/procedures"))
    assert f"100.000{NBSP}đ" in catalogue


def test_a_file_has_the_same_size_for_the_officer_the_citizen_and_the_receipt(demo: Flask) -> None:
    data = application()
    data["documents"] = ",".join(
        [upload(CITIZEN, "don.pdf", PDF), upload(CITIZEN, "so-do.pdf", PDF + b"%" * (1536 - len(PDF)))]
    )
    dossier = submit("household_business", data, utcnow())
    task = open_task(dossier, "reception_check")
    desk = signed_in(demo, DESK)
    small, kilo = f"{len(PDF)}{NBSP}byte", f"1,5{NBSP}KB"
    officer = page(desk.get(f"/inbox/tasks/{task.id}"))
    assert small in officer
    assert kilo in officer
    assert "0 KB" not in officer
    assert small in page(desk.get(f"/inbox/dossiers/{dossier.id}"))
    citizen = page(signed_in(demo, CITIZEN).get(f"/my/dossiers/{dossier.id}"))
    assert small in citizen
    assert kilo in citizen
    assert "1 KB" not in citizen

    do(dossier, "reception_check", DESK, {"decision": "accept"}, utcnow())
    receipt = page(desk.get(f"/documents/dossiers/{dossier.id}/receipt"))
    assert small in receipt
    assert kilo in receipt
    assert f"100.000{NBSP}đ" in receipt
