"""The officer's inbox and task page, over HTTP: tabs, the step's form, errors, conflicts, comments.

The helpers at the top are shared by the other test_inbox_* files and test_documents.py.
"""

from __future__ import annotations

import re
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.core.time import utcnow
from portal.extensions import db
from portal.models import Agency, DossierEvent, Group, Membership, Status, Task, User
from tests.helpers import do, open_task, submit, upload, user
from tests.web import csrf, login

CITIZEN = "congdan@motcua.demo"
DESK = "tiepnhan@motcua.demo"
DESK2 = "tiepnhan2@motcua.demo"
CIVIL = "hotich@motcua.demo"
SPECIALIST = "dkkd@motcua.demo"
LEADER = "lanhdao@motcua.demo"
OUTSIDER = "khac@motcua.demo"
EN = {"Cookie": "lang=en"}  # a person who chose English (the portal does not follow Accept-Language)


def application(name: str = "Tạp hóa Mai Anh") -> dict:
    return {
        "business_name": name,
        "business_address": "12 Lê Lợi, phường Trung Tâm",
        "business_line": "retail",
        "capital": 50_000_000,
        "owner_full_name": "Võ Thị Mai",
        "owner_citizen_id": "001190012345",
        "phone": "0912345678",
        "documents": upload(CITIZEN, "giay-de-nghi.pdf"),
    }


def new_dossier(name: str = "Tạp hóa Mai Anh", when=None):
    return submit("household_business", application(name), when or utcnow())


def signed_in(app: Flask, who: str) -> FlaskClient:
    client = app.test_client()
    login(client, who)
    return client


def other_agency_officer() -> User:
    """An officer of another ward, with a reception group of their own."""
    agency = Agency(code="000.00.32.H56", name="UBND phường Bên Cạnh", level="commune")
    db.session.add(agency)
    db.session.flush()
    group = Group(agency_id=agency.id, role="reception", name="Một cửa phường Bên Cạnh")
    officer = User(email=OUTSIDER, full_name="Người Ngoài", kind="officer")
    officer.set_password("MotCua@2026")
    db.session.add_all([group, officer])
    db.session.flush()
    db.session.add(Membership(user_id=officer.id, group_id=group.id))
    db.session.commit()
    return officer


def page(response) -> str:
    return response.get_data(as_text=True)


def task_form(client: FlaskClient, task: Task) -> str:
    return csrf(client, f"/inbox/tasks/{task.id}")


# -- the inbox -------------------------------------------------------------------------------------------


def test_the_desk_sees_new_dossiers_of_its_group_only(demo: Flask) -> None:
    dossier = new_dossier()
    desk = signed_in(demo, DESK)
    html = page(desk.get("/inbox/", headers=EN))
    assert dossier.code in html
    assert "Võ Thị Mai" in html
    assert "Tiếp nhận, kiểm tra hồ sơ" in html  # the step
    assert re.search(r'class="tag tag-(ok|soon)">[^<]*left', html)  # colour and words

    civil = signed_in(demo, CIVIL)
    assert dossier.code not in page(civil.get("/inbox/"))
    assert dossier.code not in page(civil.get("/inbox/?tab=in_process"))


def test_citizens_and_strangers_have_no_inbox(demo: Flask, client: FlaskClient) -> None:
    assert client.get("/inbox/").status_code == 302  # to the sign-in page
    citizen = signed_in(demo, CITIZEN)
    assert citizen.get("/inbox/").status_code == 403
    dossier = new_dossier()
    task = open_task(dossier, "reception_check")
    assert citizen.get(f"/inbox/tasks/{task.id}").status_code == 403
    assert citizen.get(f"/inbox/dossiers/{dossier.id}").status_code == 403


def test_tabs_follow_the_one_stop_shop_queues(demo: Flask) -> None:
    week_ago = utcnow() - timedelta(days=7)
    late = new_dossier("Quán cũ", when=week_ago)
    fresh = new_dossier("Quán mới")
    asked = new_dossier("Quán thiếu giấy")
    done = new_dossier("Quán xong")
    do(asked, "reception_check", DESK, {"decision": "supplement", "reason": "Thiếu hợp đồng thuê nhà"}, utcnow())
    do(done, "reception_check", DESK, {"decision": "accept"}, utcnow())
    desk = signed_in(demo, DESK)

    def codes(tab: str) -> set[str]:
        html = page(desk.get(f"/inbox/?tab={tab}"))
        return {d.code for d in (late, fresh, asked, done) if d.code in html}

    assert codes("new") == {late.code, fresh.code}
    assert codes("overdue") == {late.code}
    assert codes("due_soon") == {fresh.code}  # the desk has 4 working hours: within the 8 of "due soon"
    assert codes("supplement") == {asked.code}
    assert codes("finished") == {asked.code, done.code}
    assert codes("in_process") == set()  # the specialists have the accepted one now
    specialist = signed_in(demo, SPECIALIST)
    assert done.code in page(specialist.get("/inbox/?tab=in_process"))
    assert asked.code not in page(specialist.get("/inbox/?tab=supplement"))  # only the group that asked

    demo.config["INBOX_DUE_SOON_HOURS"] = 2
    assert codes("due_soon") == set()


def test_the_inbox_opens_on_the_tab_with_work(demo: Flask) -> None:
    """A specialist never receives dossiers: their inbox must not greet them with an empty "new" list."""
    dossier = new_dossier()
    desk = signed_in(demo, DESK)
    assert dossier.code in page(desk.get("/inbox/"))  # new dossiers wait: the desk opens on them
    do(dossier, "reception_check", DESK, {"decision": "accept"}, utcnow())
    specialist = signed_in(demo, SPECIALIST)
    html = page(specialist.get("/inbox/"))
    assert dossier.code in html
    assert re.search(r'aria-current="page"[^>]*>Đang xử lý<', html)
    assert dossier.code not in page(specialist.get("/inbox/?tab=new"))  # the tab asked for still wins


def test_the_finished_tab_says_who_did_each_step(demo: Flask) -> None:
    dossier = new_dossier()
    do(dossier, "reception_check", DESK, {"decision": "refuse", "reason": "Không thuộc thẩm quyền"}, utcnow())
    html = page(signed_in(demo, DESK).get("/inbox/?tab=finished"))
    row = re.search(rf"<tr>(?:(?!</tr>).)*{re.escape(dossier.code)}(?:(?!</tr>).)*</tr>", html, re.S).group(0)
    assert "Nguyễn Thị Lan" in row  # done without claiming first: still hers, not "not claimed"
    assert "Chưa có người nhận" not in row
    assert "Người thực hiện" in html
    assert re.search(r'data-label="Được tiếp nhận">—<', row)  # never received: a dash, not an empty cell


def test_each_attachment_says_which_part_of_the_dossier_it_belongs_to(demo: Flask) -> None:
    dossier = new_dossier()
    do(dossier, "reception_check", DESK, {"decision": "supplement", "reason": "Thiếu hợp đồng thuê nhà"}, utcnow())
    extra = upload(CITIZEN, "hop-dong-thue-nha.pdf")
    do(dossier, "reception_supplement", CITIZEN, {"supplement_documents": extra}, utcnow())
    task = open_task(dossier, "reception_check")
    html = page(signed_in(demo, DESK).get(f"/inbox/tasks/{task.id}"))
    files = html.split('id="files-title"', 1)[1].split("</section>", 1)[0]
    # two files with nothing to tell them apart would leave the officer guessing which one is the supplement
    assert re.search(r"Giấy tờ bổ sung:</span>\s*<a[^>]*>hop-dong-thue-nha\.pdf</a>", files)
    assert re.search(r"Hồ sơ kèm theo:</span>\s*<a[^>]*>giay-de-nghi\.pdf</a>", files)


def test_the_supplement_tab_is_read_only(demo: Flask) -> None:
    asked = new_dossier()
    do(asked, "reception_check", DESK, {"decision": "supplement", "reason": "Thiếu hợp đồng"}, utcnow())
    desk = signed_in(demo, DESK)
    html = page(desk.get("/inbox/?tab=supplement"))
    assert f"/inbox/dossiers/{asked.id}" in html
    assert 'name="task_ids"' not in html  # nothing to claim
    assert page(desk.get(f"/inbox/dossiers/{asked.id}")).count("Thiếu hợp đồng") >= 1


def test_filters_sorting_and_bad_input_never_break_the_inbox(demo: Flask) -> None:
    business = new_dossier()
    desk = signed_in(demo, DESK)
    procedure_id = business.version.procedure_id
    assert business.code in page(desk.get(f"/inbox/?procedure={procedure_id}&sort=-due"))
    assert business.code not in page(desk.get(f"/inbox/?procedure={procedure_id + 999}"))
    assert business.code not in page(desk.get(f"/inbox/?status={Status.IN_PROCESS}"))
    assert business.code in page(desk.get(f"/inbox/?status={Status.NEW}&sort=created"))
    for query in ("due_before=yesterday", "procedure=abc", "sort=evil", "tab=nope", "page=-4", "page=abc", "status=99"):
        response = desk.get(f"/inbox/?{query}", headers=EN)
        assert response.status_code == 200, query
    html = page(desk.get("/inbox/?due_before=yesterday", headers=EN))
    assert "There is a problem" in html
    assert 'value="yesterday"' in html  # what was typed stays
    assert business.code not in page(desk.get("/inbox/?page=2"))


def test_pages_of_the_inbox(demo: Flask) -> None:
    demo.config["INBOX_PAGE_SIZE"] = 2
    dossiers = [new_dossier(f"Quán {i}") for i in range(3)]
    desk = signed_in(demo, DESK)
    first, second = page(desk.get("/inbox/")), page(desk.get("/inbox/?page=2"))
    assert 'rel="next"' in first
    assert 'rel="next"' not in second
    shown = [d.code for d in dossiers if d.code in first] + [d.code for d in dossiers if d.code in second]
    assert sorted(shown) == sorted(d.code for d in dossiers)


# -- the task page ---------------------------------------------------------------------------------------


def test_the_task_page_shows_the_dossier_and_the_step(demo: Flask) -> None:
    dossier = new_dossier()
    task = open_task(dossier, "reception_check")
    desk = signed_in(demo, DESK)
    html = page(desk.get(f"/inbox/tasks/{task.id}"))
    assert "Tên hộ kinh doanh" in html
    assert "Tạp hóa Mai Anh" in html
    assert "Thương mại, bán lẻ hàng hóa" in html  # enum values in words
    assert 'type="radio"' in html
    assert 'value="supplement"' in html
    assert "Từ chối tiếp nhận" in html
    attachment = dossier.attachments[0]
    assert f"/documents/dossiers/{dossier.id}/attachments/{attachment.id}?inline=1" in html
    assert 'id="history"' in html
    assert re.search(r'class="tag tag-(ok|soon)"', html)
    english = page(desk.get(f"/inbox/tasks/{task.id}", headers=EN))  # names of the procedure and groups too
    assert "<dd>Household business registration</dd>" in english
    assert "<h1>Receive and check the dossier <small" in english
    assert "<dd>Reception and return of results</dd>" in english
    assert "Tiếp nhận và trả kết quả" not in english


def test_accepting_moves_the_dossier_on_and_says_what_is_next(demo: Flask) -> None:
    dossier = new_dossier()
    task = open_task(dossier, "reception_check")
    desk = signed_in(demo, DESK)
    token = task_form(desk, task)
    response = desk.post(
        f"/inbox/tasks/{task.id}", data={"csrf_token": token, "decision": "accept", "comment": "Đủ"}, headers=EN
    )
    assert response.status_code == 302
    assert "/inbox/" in response.headers["Location"]
    db.session.refresh(dossier)
    assert dossier.status == Status.IN_PROCESS
    html = page(desk.get("/inbox/", headers=EN))
    assert "Receive and check the dossier is done for dossier" in html  # the step's English name
    assert "Next: Thẩm định hồ sơ đăng ký hộ kinh doanh (Business registration officers)" in html
    assert desk.get(f"/inbox/tasks/{task.id}").status_code == 200  # still readable, without a form
    assert 'type="radio"' not in page(desk.get(f"/inbox/tasks/{task.id}"))


def test_the_confirmation_names_the_decision_without_the_forms_hint(demo: Flask) -> None:
    dossier = new_dossier()
    task = open_task(dossier, "reception_check")
    desk = signed_in(demo, DESK)
    token = task_form(desk, task)
    form = {"csrf_token": token, "decision": "refuse", "reason": "Không thuộc thẩm quyền"}
    assert desk.post(f"/inbox/tasks/{task.id}", data=form, headers=EN).status_code == 302
    html = page(desk.get("/inbox/", headers=EN))
    assert "Decision: Refuse the dossier." in html  # the option reads "Refuse the dossier (say why)"
    assert "(say why)" not in html


def test_a_refusal_without_reason_is_refused_and_keeps_what_was_typed(demo: Flask) -> None:
    dossier = new_dossier()
    task = open_task(dossier, "reception_check")
    desk = signed_in(demo, DESK)
    token = task_form(desk, task)
    response = desk.post(
        f"/inbox/tasks/{task.id}",
        data={"csrf_token": token, "decision": "refuse", "reason": "  ", "comment": "Ghi chú của tôi"},
        headers=EN,
    )
    assert response.status_code == 422
    html = page(response)
    assert "There is a problem" in html
    assert 'id="reason-error"' in html
    assert "Ghi chú của tôi" in html
    assert re.search(r'value="refuse"[^>]*checked|checked[^>]*value="refuse"', html)
    assert open_task(dossier, "reception_check").id == task.id  # nothing happened


def test_a_second_officer_is_told_plainly_who_handled_the_step(demo: Flask) -> None:
    dossier = new_dossier()
    task = open_task(dossier, "reception_check")
    first, second = signed_in(demo, DESK), signed_in(demo, DESK2)
    token_1, token_2 = task_form(first, task), task_form(second, task)
    assert first.post(f"/inbox/tasks/{task.id}", data={"csrf_token": token_1, "decision": "accept"}).status_code == 302
    response = second.post(
        f"/inbox/tasks/{task.id}",
        data={"csrf_token": token_2, "decision": "refuse", "reason": "Thiếu giấy tờ"},
        headers=EN,
    )
    assert response.status_code in (302, 409)
    if response.status_code == 302:  # the page noticed first that the step is no longer waiting
        assert "no longer waiting" in page(second.get(response.headers["Location"], headers=EN))
    db.session.refresh(dossier)
    assert dossier.status == Status.IN_PROCESS


def test_a_conflict_keeps_the_officers_input(demo: Flask) -> None:
    """The step was claimed by someone else between opening the page and sending it."""
    dossier = new_dossier()
    task = open_task(dossier, "reception_check")
    second = signed_in(demo, DESK2)
    token = task_form(second, task)
    first = signed_in(demo, DESK)
    assert first.post(f"/inbox/tasks/{task.id}/claim", data={"csrf_token": task_form(first, task)}).status_code == 302
    response = second.post(
        f"/inbox/tasks/{task.id}",
        data={"csrf_token": token, "decision": "refuse", "reason": "Sai mẫu tờ khai"},
        headers=EN,
    )
    assert response.status_code == 403
    html = page(response)
    assert "claimed by another officer" in html
    assert "Sai mẫu tờ khai" in html


def test_another_groups_task_and_another_agencys_dossier_look_unknown(demo: Flask) -> None:
    dossier = new_dossier()
    task = open_task(dossier, "reception_check")
    other_agency_officer()
    civil, outsider = signed_in(demo, CIVIL), signed_in(demo, OUTSIDER)
    assert civil.get(f"/inbox/tasks/{task.id}").status_code == 404
    assert outsider.get(f"/inbox/tasks/{task.id}").status_code == 404
    assert outsider.get(f"/inbox/dossiers/{dossier.id}").status_code == 404
    assert outsider.get("/inbox/tasks/999999").status_code == 404
    assert dossier.code not in page(outsider.get("/inbox/?tab=new"))
    token = csrf(outsider, "/inbox/")
    for path in (f"/inbox/tasks/{task.id}", f"/inbox/tasks/{task.id}/claim", f"/inbox/tasks/{task.id}/release"):
        assert outsider.post(path, data={"csrf_token": token, "decision": "accept"}).status_code == 404, path
    response = outsider.post(f"/inbox/dossiers/{dossier.id}/comments", data={"csrf_token": token, "text": "x"})
    assert response.status_code == 404
    db.session.refresh(dossier)
    assert dossier.status == Status.NEW
    assert open_task(dossier).assignee_id is None


def test_forms_without_their_csrf_token_are_refused(demo: Flask) -> None:
    dossier = new_dossier()
    task = open_task(dossier, "reception_check")
    desk = signed_in(demo, DESK)
    assert desk.post(f"/inbox/tasks/{task.id}", data={"decision": "accept"}).status_code == 400
    assert desk.post(f"/inbox/tasks/{task.id}/claim").status_code == 400
    assert desk.post("/inbox/bulk", data={"task_ids": task.id, "action": "claim"}).status_code == 400
    assert desk.post(f"/inbox/dossiers/{dossier.id}/comments", data={"text": "x"}).status_code == 400
    db.session.refresh(dossier)
    assert dossier.status == Status.NEW
    assert open_task(dossier).assignee_id is None


# -- comments ---------------------------------------------------------------------------------------------


def test_officers_comment_on_the_dossier_history(demo: Flask) -> None:
    dossier = new_dossier()
    task = open_task(dossier, "reception_check")
    desk = signed_in(demo, DESK)
    token = task_form(desk, task)
    response = desk.post(
        f"/inbox/dossiers/{dossier.id}/comments", data={"csrf_token": token, "text": "Gọi điện <b>xác minh</b>"}
    )
    assert response.status_code == 302
    html = page(desk.get(f"/inbox/dossiers/{dossier.id}"))
    assert "Gọi điện &lt;b&gt;xác minh&lt;/b&gt;" in html  # escaped
    event = db.session.scalar(select(DossierEvent).where(DossierEvent.kind == "comment"))
    assert event.note == "Gọi điện <b>xác minh</b>"
    assert event.actor_id == user(DESK).id

    empty = desk.post(
        f"/inbox/dossiers/{dossier.id}/comments", data={"csrf_token": token, "text": " ", "task_id": task.id}
    )
    assert empty.status_code == 422
    assert "error-summary" in page(empty)
