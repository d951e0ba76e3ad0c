"""Validation messages over real HTTP: in the person's language, once next to the field (and in the summary at the
top), and a text over its limit refused with the limit and its length, never cut, on every kind of form."""

from __future__ import annotations

import lxml.html
from flask import Flask
from flask.testing import FlaskClient
from flask_wtf import FlaskForm
from sqlalchemy import func, select

from forms.base import PortalForm
from forms.builder import DEFAULT_MAX_TEXT, validate_data
from portal.citizen.services import MAX_DRAFT_VALUE
from portal.core.time import utcnow
from portal.extensions import db
from portal.models import Agency, Dossier, Draft, Rating, Task, User
from tests.helpers import do, open_task, submit, upload
from tests.test_admin_support import as_admin, counts, minimal, post
from tests.test_admin_support import upload as upload_bpmn
from tests.test_citizen_dossiers import finish
from tests.test_citizen_support import CITIZEN, EN, apply_online, apply_token, household
from tests.web import csrf, login
from workflows.bpmn_model import FormFieldSpec

APPLY = "/procedures/household_business/apply"
DESK = "tiepnhan@motcua.demo"
LONG = "Nguyễn " * 714 + "An"  # 5,000 characters
ENGLISH_WTFORMS = ("Field must", "Number must", "Field cannot", "Not a valid integer", "Invalid input")


def tree(response) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(response.get_data(as_text=True))


def text(element: lxml.html.HtmlElement) -> str:
    return " ".join(element.text_content().split())


def next_to(page: lxml.html.HtmlElement, field_id: str) -> list[str]:
    """The messages shown next to a field (its error paragraph, tied to it by aria-describedby)."""
    return [text(e) for e in page.xpath(f'//*[@id="{field_id}-error"]')]


def in_summary(page: lxml.html.HtmlElement, field_id: str) -> list[str]:
    return [text(a) for a in page.xpath(f'//*[@data-error-summary]//a[@href="#{field_id}"]')]


def assert_once(page: lxml.html.HtmlElement, field_id: str, message: str) -> None:
    assert next_to(page, field_id) == [message]
    summary = in_summary(page, field_id)
    assert len(summary) == 1, summary
    assert summary[0].endswith(": " + message), summary
    assert text(page).count(message) == 2  # the summary's link and the field: no second copy anywhere


def apply(client: FlaskClient, headers: dict | None = None, **changes: str):
    token = apply_token(client)
    return client.post(APPLY, data={**household(), **changes, "csrf_token": token}, headers=headers or {})


# -- the application form built from the BPMN ----------------------------------------------------------------


def test_application_errors_in_vietnamese_once_next_to_each_field(client, demo: Flask) -> None:
    login(client, CITIZEN)
    response = apply(client, capital="-5", owner_citizen_id="12345")
    assert response.status_code == 422
    page = tree(response)
    assert_once(page, "capital", "Hãy nhập một số không nhỏ hơn 0.")
    assert_once(page, "owner_citizen_id", "Phải có đúng 12 ký tự (bạn đã nhập 5).")
    assert not [words for words in ENGLISH_WTFORMS if words in text(page)]
    assert db.session.scalar(select(func.count()).select_from(Dossier)) == 0


def test_application_errors_in_english_when_chosen(client, demo: Flask) -> None:
    login(client, CITIZEN)
    response = apply(client, EN, capital="-5", owner_citizen_id="12345")
    assert response.status_code == 422
    page = tree(response)
    assert_once(page, "capital", "Enter a number of at least 0.")
    assert_once(page, "owner_citizen_id", "Exactly 12 characters (you entered 5).")


def test_a_word_in_a_number_field_gets_one_message_not_two(client, demo: Flask) -> None:
    login(client, CITIZEN)
    page = tree(apply(client, capital="năm mươi triệu", owner_citizen_id="00119001234x"))
    assert_once(page, "capital", "Hãy nhập một số nguyên, chỉ gồm chữ số.")  # not also "out of range"
    assert_once(page, "owner_citizen_id", "Số định danh cá nhân phải gồm 12 chữ số.")


def test_an_over_long_name_is_refused_with_its_limit_and_nothing_is_cut(client, demo: Flask) -> None:
    login(client, CITIZEN)
    form_page = tree(client.get(APPLY))
    assert form_page.xpath('//input[@id="owner_full_name"]/@maxlength') == []  # a browser would cut a paste
    longer = LONG + "x" * 1000  # over what a draft keeps as well
    response = apply(client, owner_full_name=LONG, business_line_detail=longer)
    assert response.status_code == 422
    page = tree(response)
    assert_once(page, "owner_full_name", "Tối đa 100 ký tự (bạn đã nhập 5.000).")
    assert_once(page, "business_line_detail", "Tối đa 1.000 ký tự (bạn đã nhập 6.000).")
    assert page.xpath('//input[@id="owner_full_name"]/@value') == [LONG]  # shown back whole, to be shortened
    assert db.session.scalar(select(func.count()).select_from(Dossier)) == 0
    draft = db.session.scalar(select(Draft))
    assert draft.data["owner_full_name"] == LONG  # kept whole, or not at all: never cut
    assert "business_line_detail" not in draft.data


def test_a_text_field_without_a_limit_in_the_bpmn_has_one(client, demo: Flask) -> None:
    """A field whose BPMN sets no maxlength still refuses a text longer than a draft keeps (no silent cut)."""
    assert DEFAULT_MAX_TEXT <= MAX_DRAFT_VALUE
    note = FormFieldSpec(id="note", label="Ghi chú", type="string", widget="textarea")
    with demo.test_request_context():
        _clean, errors = validate_data([note], {"note": "a" * (DEFAULT_MAX_TEXT + 1)})
    assert errors == {"note": ["Tối đa 5.000 ký tự (bạn đã nhập 5.001)."]}


# -- registration and the other forms --------------------------------------------------------------------------


def registration(**changes: str) -> dict[str, str]:
    return {
        "full_name": "Trần Thị Bích",
        "email": "bich@example.vn",
        "phone": "0987654321",
        "citizen_id": "079123456789",
        "password": "matkhau2026",
        "confirm": "matkhau2026",
        **changes,
    }


def test_registration_refuses_an_over_long_name_in_the_persons_language(client, app: Flask) -> None:
    token = csrf(client, "/register")
    response = client.post("/register", data={**registration(full_name=LONG, citizen_id="0791"), "csrf_token": token})
    assert response.status_code == 422
    page = tree(response)
    assert page.xpath('//input[@id="full_name"]/@maxlength') == []
    assert_once(page, "full_name", "Tối đa 255 ký tự (bạn đã nhập 5.000).")
    assert_once(page, "citizen_id", "Số định danh cá nhân phải gồm 12 chữ số.")

    english = client.post("/register", data={**registration(full_name=LONG), "csrf_token": token}, headers=EN)
    assert_once(tree(english), "full_name", "At most 255 characters (you entered 5.000).")
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_an_officers_reason_over_its_limit_is_refused_and_the_step_stays(demo: Flask) -> None:
    dossier = submit("household_business", application_data(), utcnow())
    task = open_task(dossier, "reception_check")
    desk = demo.test_client()
    login(desk, DESK)
    token = csrf(desk, f"/inbox/tasks/{task.id}")
    response = desk.post(
        f"/inbox/tasks/{task.id}", data={"csrf_token": token, "decision": "refuse", "reason": "Thiếu giấy. " * 500}
    )
    assert response.status_code == 422
    assert_once(tree(response), "reason", "Tối đa 2.000 ký tự (bạn đã nhập 6.000).")
    assert open_task(dossier, "reception_check").id == task.id

    comment = desk.post(f"/inbox/dossiers/{dossier.id}/comments", data={"csrf_token": token, "text": "x" * 2001})
    assert comment.status_code == 422
    assert "Tối đa 2.000 ký tự (bạn đã nhập 2.001)." in text(tree(comment))


def application_data() -> dict:
    data = {**household(upload(CITIZEN, "giay-de-nghi.pdf"))}
    data["capital"] = 50_000_000
    return data


def test_admin_forms_say_the_limit_in_the_persons_language(demo: Flask, client) -> None:
    as_admin(client)
    before = db.session.scalar(select(func.count()).select_from(Agency))
    form = {"code": "000.00.32.H56", "name": LONG, "name_en": "", "level": "commune"}
    response = post(client, "/admin/agencies/new", form, page="/admin/agencies/new")  # in English
    assert response.status_code == 422
    assert_once(tree(response), "name", "At most 255 characters (you entered 5.000).")
    vietnamese = client.post(
        "/admin/agencies/new", data={**form, "code": "x y", "csrf_token": csrf(client, "/admin/agencies/new")}
    )
    page = tree(vietnamese)
    assert_once(page, "name", "Tối đa 255 ký tự (bạn đã nhập 5.000).")
    assert_once(page, "code", "Chỉ dùng chữ cái, chữ số, dấu chấm và dấu gạch ngang.")
    assert db.session.scalar(select(func.count()).select_from(Agency)) == before


def test_a_bpmn_whose_names_do_not_fit_the_database_is_refused_with_its_findings(demo: Flask, client) -> None:
    """The catalogue code, the fee and a step's name go into bounded columns: too long is a finding, not an error 500
    (PostgreSQL refuses a value longer than its column; SQLite would store it)."""
    as_admin(client)
    before = counts()
    changes = [
        ("1.000001", "1." + "0" * 60),
        ('name="fee" value="50000"', 'name="fee" value="' + "9" * 30 + '"'),
        ('name="Nộp hồ sơ"', 'name="' + "Nộp hồ sơ " * 30 + '"'),
    ]
    response = upload_bpmn(client, ("minimal.bpmn", minimal(*changes)))
    assert response.status_code == 422
    found = text(tree(response))
    assert "code is too long: at most 40 characters (it has 62)" in found
    assert "fee is too large: at most 9223372036854775807 VND" in found
    assert "name is too long: at most 255 characters (it has 300)" in found
    assert counts() == before


def test_wtforms_own_messages_come_in_vietnamese(demo: Flask, client) -> None:
    as_admin(client)
    token = csrf(client, "/admin/calendar")
    form = {"agency_id": "0", "day": "30/02/2026", "kind": "off", "note": "Nghỉ " * 60, "csrf_token": token}
    response = client.post("/admin/calendar", data=form)
    assert response.status_code == 422
    page = tree(response)
    assert_once(page, "day", "Ngày không hợp lệ.")  # WTForms says "Not a valid date value."
    assert_once(page, "note", "Tối đa 255 ký tự (bạn đã nhập 300).")


def test_a_rating_comment_over_its_limit_is_refused(client, demo: Flask) -> None:
    dossier = apply_online(client)
    finish(dossier)
    url = f"/my/dossiers/{dossier.id}/rate"
    response = client.post(url, data={"csrf_token": csrf(client, url), "level": "3", "comment": "Tốt " * 300})
    assert response.status_code == 422
    assert_once(tree(response), "comment", "Tối đa 1.000 ký tự (bạn đã nhập 1.200).")
    assert db.session.scalar(select(Rating)) is None


def test_an_answer_to_a_supplement_request_over_its_limit_is_refused(client, demo: Flask) -> None:
    dossier = apply_online(client)
    do(dossier, "reception_check", DESK, {"decision": "accept"}, utcnow())
    do(dossier, "specialist_review", "dkkd@motcua.demo", {"decision": "supplement", "reason": "Thiếu"}, utcnow())
    task = db.session.scalar(select(Task).where(Task.dossier_id == dossier.id, Task.bpmn_id == "specialist_supplement"))
    url = f"/my/dossiers/{dossier.id}/steps/{task.id}"
    page = client.get(url)
    assert page.status_code == 200
    response = client.post(url, data={"csrf_token": csrf(client, url), "supplement_note": "Đã bổ sung. " * 500})
    assert response.status_code == 422
    assert_once(tree(response), "supplement_note", "Tối đa 2.000 ký tự (bạn đã nhập 6.000).")


def test_every_form_class_of_the_portal_derives_from_the_portal_form(app: Flask) -> None:
    """Only PortalForm speaks Vietnamese for WTForms' own messages and shows one message a field."""

    def subclasses(cls: type) -> list[type]:
        return [c for sub in cls.__subclasses__() for c in (sub, *subclasses(sub))]

    found = [c for c in subclasses(FlaskForm) if c.__module__.startswith(("portal", "forms"))]
    assert len(found) > 20
    assert [f"{c.__module__}.{c.__qualname__}" for c in found if not issubclass(c, PortalForm)] == []
