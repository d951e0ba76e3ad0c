"""Finding one's drafts again: My dossiers and the procedure's page list them; continuing restores them;
deleting one (with its uploaded files) is confirmed, audited, and only for its owner."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.extensions import db
from portal.models import Attachment, AuditLog, Draft
from portal.procedures.services import retire_version
from tests.helpers import PROCEDURES, deploy_file, user, version_of
from tests.test_citizen_support import CITIZEN, EN, apply_token, other_citizen, upload_json
from tests.web import csrf, login

APPLY = "/procedures/household_business/apply"
DRAFT = "/procedures/household_business/draft"
PAGE = "/procedures/household_business"
MINE = "/my/dossiers"


def save_a_draft(client: FlaskClient) -> tuple[Draft, Attachment]:
    """Type some fields and upload a file on the apply page, as its scripts do; the draft is saved at 02:05 UTC."""
    login(client, CITIZEN)
    token = apply_token(client)
    uploaded = upload_json(client, token).get_json()["id"]
    typed = {"business_name": "Quán Cơm Mai", "capital": "1000", "documents": str(uploaded)}
    assert client.post(DRAFT, json=typed, headers={"X-CSRFToken": token}).status_code == 200
    draft = db.session.scalar(select(Draft))
    draft.updated_at = datetime(2026, 3, 2, 2, 5, tzinfo=UTC)  # 09:05 in Vietnam
    db.session.commit()
    attachment = db.session.get(Attachment, uploaded)
    assert attachment is not None
    return draft, attachment


def discard_path(draft: Draft) -> str:
    return f"/my/drafts/{draft.id}/discard"


def stored(app: Flask, attachment: Attachment) -> Path:
    return Path(app.config["UPLOAD_DIR"]) / attachment.storage_key


def test_my_dossiers_lists_the_draft_with_continue_and_delete(client, demo: Flask) -> None:
    draft, _file = save_a_draft(client)
    page = client.get(MINE).get_data(as_text=True)
    assert "Bản nháp chưa gửi" in page
    assert "Đăng ký hộ kinh doanh" in page  # the procedure's name
    assert "Lưu lần cuối lúc 02/03/2026 09:05" in page  # Vietnam's time, Vietnamese format
    assert re.search(r"Đã điền \d+/\d+ mục bắt buộc", page)
    assert f'href="{APPLY}">Tiếp tục' in page
    assert f'href="{discard_path(draft)}"' in page
    assert "Xóa bản nháp" in page
    assert "Bạn chưa có hồ sơ nào" not in page  # not "no dossiers" while a draft waits
    assert "Bạn chưa gửi đơn nào" in page
    english = client.get(MINE, headers=EN).get_data(as_text=True)
    assert "Drafts not sent yet" in english
    assert "Delete the draft" in english


def test_without_a_draft_my_dossiers_says_there_is_none(client, demo: Flask) -> None:
    login(client, CITIZEN)
    page = client.get(MINE).get_data(as_text=True)
    assert "Bạn chưa có hồ sơ nào" in page
    assert "Bản nháp chưa gửi" not in page


def test_the_procedure_page_mentions_the_draft_to_its_owner_only(client, app: Flask, demo: Flask) -> None:
    anonymous = client.get(PAGE).get_data(as_text=True)
    assert "bản nháp" not in anonymous
    save_a_draft(client)
    page = client.get(PAGE).get_data(as_text=True)
    assert "Bạn có bản nháp lưu lúc 02/03/2026 09:05." in page
    assert f'href="{APPLY}">Tiếp tục bản nháp' in page
    stranger = app.test_client()
    login(stranger, other_citizen())
    assert "bản nháp" not in stranger.get(PAGE).get_data(as_text=True)


def test_continue_restores_the_values_and_the_file(client, demo: Flask) -> None:
    _draft, attachment = save_a_draft(client)
    page = client.get(MINE).get_data(as_text=True)
    link = re.search(r'<a class="button" href="([^"]+)">Tiếp tục', page)
    assert link is not None
    form = client.get(link.group(1)).get_data(as_text=True)
    assert "Đã khôi phục bản nháp bạn lưu lúc 02/03/2026 09:05" in form
    assert 'value="Quán Cơm Mai"' in form
    assert attachment.filename in form


def test_deleting_asks_first_then_removes_the_draft_and_its_files(client, app: Flask, demo: Flask) -> None:
    draft, attachment = save_a_draft(client)
    draft_id, file_id, filename = draft.id, attachment.id, attachment.filename
    kept = save_file_kept_outside_the_draft(client)
    path = stored(app, attachment)
    discard = f"/my/drafts/{draft_id}/discard"
    assert path.is_file()

    confirm = client.get(discard)
    assert confirm.status_code == 200
    text = confirm.get_data(as_text=True)
    assert "Xóa bản nháp Đăng ký hộ kinh doanh" in text
    assert filename in text  # the files that go with it are named
    assert db.session.get(Draft, draft_id) is not None  # asking deletes nothing

    token = csrf(client, discard)
    response = client.post(discard, data={"csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(MINE)
    after = client.get(MINE).get_data(as_text=True)
    assert "Đã xóa bản nháp Đăng ký hộ kinh doanh" in after
    assert "Bản nháp chưa gửi" not in after
    assert "Bạn chưa có hồ sơ nào" in after
    db.session.expire_all()
    assert db.session.scalar(select(Draft)) is None
    assert db.session.get(Attachment, file_id) is None
    assert not path.exists()
    assert db.session.get(Attachment, kept) is not None  # a file the draft does not name stays
    assert client.get(f"/attachments/{file_id}").status_code == 404
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "draft.discard"))
    assert entry is not None
    assert entry.actor_id == user(CITIZEN).id
    assert entry.details == {"procedure": "household_business", "files": [file_id]}

    assert 'value="Quán Cơm Mai"' not in client.get(APPLY).get_data(as_text=True)
    assert client.get(discard).status_code == 404


def save_file_kept_outside_the_draft(client: FlaskClient) -> int:
    return upload_json(client, apply_token(client)).get_json()["id"]


def test_another_citizen_gets_the_404_of_a_missing_draft(client, app: Flask, demo: Flask) -> None:
    draft, attachment = save_a_draft(client)
    stranger = app.test_client()
    login(stranger, other_citizen())
    token = csrf(stranger, MINE)
    assert stranger.get(discard_path(draft)).status_code == 404
    theirs = stranger.post(discard_path(draft), data={"csrf_token": token})
    missing = stranger.post(f"/my/drafts/{draft.id + 1000}/discard", data={"csrf_token": token})
    assert theirs.status_code == missing.status_code == 404
    same = theirs.get_data(as_text=True).replace(f"/my/drafts/{draft.id}/", "/my/drafts/N/")
    assert same == missing.get_data(as_text=True).replace(f"/my/drafts/{draft.id + 1000}/", "/my/drafts/N/")
    db.session.expire_all()
    assert db.session.get(Draft, draft.id) is not None
    assert db.session.get(Attachment, attachment.id) is not None
    assert client.get(discard_path(draft)).status_code == 200  # its owner still can


def test_deleting_without_the_csrf_token_is_refused(client, app: Flask, demo: Flask) -> None:
    draft, attachment = save_a_draft(client)
    response = client.post(discard_path(draft), data={})
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(Draft, draft.id) is not None
    assert stored(app, attachment).is_file()


def replaced_form(tmp_path: Path) -> Path:
    """household_business with a changed step name: a new version that replaces the one the draft began on."""
    source = (PROCEDURES / "household_business.bpmn").read_text(encoding="utf-8")
    assert 'name="Tiếp nhận, kiểm tra hồ sơ"' in source
    path = tmp_path / "household_business.bpmn"
    path.write_text(source.replace('name="Tiếp nhận, kiểm tra hồ sơ"', 'name="[v2] Tiếp nhận"', 1), encoding="utf-8")
    for dmn in PROCEDURES.glob("household_business*.dmn"):
        (tmp_path / dmn.name).write_bytes(dmn.read_bytes())
    return path


def test_a_draft_of_a_replaced_form_still_continues_and_says_so(client, demo: Flask, tmp_path: Path) -> None:
    save_a_draft(client)
    v2 = deploy_file(replaced_form(tmp_path))
    assert v2.number == 2
    note = "Biểu mẫu của thủ tục này đã được cập nhật lúc"
    assert note in client.get(MINE).get_data(as_text=True)
    form = client.get(APPLY).get_data(as_text=True)
    assert note in form
    assert 'value="Quán Cơm Mai"' in form  # what still fits is kept


def test_a_draft_of_a_procedure_no_longer_online_can_only_be_deleted(client, demo: Flask) -> None:
    draft, _file = save_a_draft(client)
    retire_version(version_of("household_business"), user("admin@motcua.demo"))
    db.session.commit()
    page = client.get(MINE).get_data(as_text=True)
    assert "Thủ tục này không còn nhận hồ sơ trực tuyến" in page
    assert f'href="{APPLY}"' not in page  # no "continue" that would end on a 404
    draft_id = draft.id
    token = csrf(client, discard_path(draft))
    assert client.post(discard_path(draft), data={"csrf_token": token}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Draft, draft_id) is None
