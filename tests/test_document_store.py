"""The citizen's document store (issue 14), through real HTTP requests: the desk's acceptance fills it, a second
application reuses a stored document without uploading, the officer sees where it came from, the citizen sees its
uses, downloads and deletes what is not legally kept; nobody else sees or uses it."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from io import BytesIO

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from portal.core.storage import storage
from portal.core.time import utcnow
from portal.docstore.services import store_issued
from portal.extensions import db
from portal.models import (
    Attachment,
    AuditLog,
    Dossier,
    IssuedDocument,
    StoredDocument,
    StoredDocumentUse,
    StoredSource,
)
from tests.helpers import PDF, open_task, user
from tests.test_citizen_support import CITIZEN, DESK, EN, apply_online, apply_token, household, other_citizen
from tests.web import csrf, login

APPLY = "/procedures/household_business/apply"
STORE = "/my/documents"


def page(response) -> str:
    return response.get_data(as_text=True)


def signed_in(app: Flask, who: str) -> FlaskClient:
    client = app.test_client()
    login(client, who)
    return client


def accepted_dossier(app: Flask) -> tuple[FlaskClient, Dossier]:
    """The citizen applies with an uploaded file; the desk officer accepts it through the task page."""
    citizen = app.test_client()
    dossier = apply_online(citizen)
    task = open_task(dossier, "reception_check")
    desk = signed_in(app, DESK)
    token = csrf(desk, f"/inbox/tasks/{task.id}")
    done = desk.post(f"/inbox/tasks/{task.id}", data={"csrf_token": token, "decision": "accept"})
    assert done.status_code == 302, page(done)[:2000]
    return citizen, dossier


def stored_of(email: str) -> list[StoredDocument]:
    owner = user(email)
    return list(db.session.scalars(select(StoredDocument).where(StoredDocument.owner_id == owner.id)))


def add_to_store(client: FlaskClient, title: str, data: bytes = PDF, valid_until: str = "", **headers: str):
    token = csrf(client, STORE)
    return client.post(
        STORE,
        data={"csrf_token": token, "title": title, "valid_until": valid_until, "file": (BytesIO(data), "giay.pdf")},
        content_type="multipart/form-data",
        headers=headers,
    )


def test_acceptance_at_the_desk_fills_the_applicants_store_verified_by_the_officer(demo: Flask) -> None:
    citizen, dossier = accepted_dossier(demo)
    [document] = stored_of(CITIZEN)
    attachment = db.session.scalar(select(Attachment).where(Attachment.dossier_id == dossier.id))
    assert document.source == StoredSource.ATTACHMENT
    assert document.source_dossier_id == dossier.id
    assert document.verified_by_id == user(DESK).id
    assert document.verified_at is not None
    assert document.storage_key == attachment.storage_key  # the same object, not a copy
    assert document.sha256 == hashlib.sha256(PDF).hexdigest()
    assert not document.legally_kept

    html = page(citizen.get(STORE))
    assert "Kho giấy tờ của tôi" in html
    assert "giay-de-nghi.pdf" in html
    assert f"Tiếp nhận cùng hồ sơ {dossier.code}" in html
    assert f"bởi {user(DESK).full_name}" in html
    assert 'href="/my/documents"' in page(citizen.get("/"))  # in the citizen's navigation
    download = citizen.get(f"{STORE}/{document.id}/file")
    assert download.status_code == 200
    assert download.data == PDF
    download.close()


def test_a_second_application_reuses_a_stored_document_without_uploading(demo: Flask) -> None:
    citizen, first = accepted_dossier(demo)
    [document] = stored_of(CITIZEN)
    form = page(citizen.get(APPLY))
    assert "Dùng giấy tờ trong kho của tôi" in form
    assert f'<option value="{document.id}">' in form

    token = apply_token(citizen)
    response = citizen.post(APPLY, data={**household(""), "documents__store": str(document.id), "csrf_token": token})
    assert response.status_code == 302, page(response)[:3000]
    second_id = int(re.search(r"/my/dossiers/(\d+)/receipt", response.headers["Location"]).group(1))
    second = db.session.get(Dossier, second_id)
    [attachment] = db.session.scalars(select(Attachment).where(Attachment.dossier_id == second.id)).all()
    assert attachment.stored_document_id == document.id
    assert attachment.sha256 == document.sha256
    assert attachment.storage_key != document.storage_key  # the dossier keeps its own copy
    assert storage().get(attachment.storage_key) == PDF
    [use] = db.session.scalars(select(StoredDocumentUse)).all()
    assert (use.stored_document_id, use.dossier_id, use.attachment_id) == (document.id, second.id, attachment.id)

    desk = signed_in(demo, DESK)
    officer_page = page(desk.get(f"/inbox/dossiers/{second.id}"))
    assert "Từ kho dữ liệu của công dân — đã xác thực ngày" in officer_page
    assert f"bởi {user(DESK).full_name}" in officer_page
    task = open_task(second, "reception_check")
    assert "Từ kho dữ liệu của công dân" in page(desk.get(f"/inbox/tasks/{task.id}"))
    assert "Từ kho dữ liệu của công dân" not in page(desk.get(f"/inbox/dossiers/{first.id}"))

    mine = page(citizen.get(STORE))
    assert second.code in mine  # where it was used
    english = page(desk.get(f"/inbox/dossiers/{second.id}", headers=EN))
    assert "From the citizen's document store — verified on" in english


def test_another_citizen_cannot_see_download_delete_or_use_it(demo: Flask) -> None:
    _citizen, _dossier = accepted_dossier(demo)
    [document] = stored_of(CITIZEN)
    other = signed_in(demo, other_citizen())
    assert "giay-de-nghi.pdf" not in page(other.get(STORE))
    assert other.get(f"{STORE}/{document.id}/file").status_code == 404
    assert other.get(f"{STORE}/{document.id}/delete").status_code == 404
    token = csrf(other, f"{STORE}")
    assert other.post(f"{STORE}/{document.id}/delete", data={"csrf_token": token}).status_code == 404
    assert f'<option value="{document.id}">' not in page(other.get(APPLY))

    dossiers = db.session.scalar(select(func.count()).select_from(Dossier))
    token = apply_token(other)
    forged = other.post(APPLY, data={**household(""), "documents__store": str(document.id), "csrf_token": token})
    assert forged.status_code == 422
    assert "Giấy tờ này không có trong kho của bạn" in page(forged)
    token = apply_token(other)
    english = other.post(
        APPLY, data={**household(""), "documents__store": str(document.id), "csrf_token": token}, headers=EN
    )
    assert "This document is not in your store" in page(english)
    for nonsense in ("abc", "-1", "99999999999999999999"):
        refused = other.post(APPLY, data={**household(""), "documents__store": nonsense, "csrf_token": token})
        assert refused.status_code == 422, nonsense
    assert db.session.scalar(select(func.count()).select_from(Dossier)) == dossiers  # nothing sent
    assert db.session.scalar(select(Attachment).where(Attachment.stored_document_id.is_not(None))) is None
    assert db.session.scalar(select(StoredDocumentUse)) is None
    assert stored_of(CITIZEN)[0].deleted_at is None


def test_the_citizen_adds_and_deletes_an_upload_and_its_file_is_removed(demo: Flask) -> None:
    citizen = signed_in(demo, CITIZEN)
    added = add_to_store(citizen, "Căn cước công dân")
    assert added.status_code == 302, page(added)[:2000]
    [document] = stored_of(CITIZEN)
    assert document.source == StoredSource.UPLOAD
    assert not document.is_verified
    assert storage().exists(document.storage_key)
    assert db.session.scalar(select(Attachment)) is None  # the store's object is named by the stored row only

    confirm = page(citizen.get(f"{STORE}/{document.id}/delete"))
    assert "Xóa Căn cước công dân khỏi kho" in confirm
    assert citizen.post(f"{STORE}/{document.id}/delete", data={}).status_code == 400  # no CSRF token
    token = csrf(citizen, f"{STORE}/{document.id}/delete")
    done = citizen.post(f"{STORE}/{document.id}/delete", data={"csrf_token": token}, follow_redirects=True)
    assert done.status_code == 200
    assert "đã được xóa khỏi kho" in page(done)
    db.session.expire_all()
    document = db.session.get(StoredDocument, document.id)
    assert document.deleted_at is not None
    assert not storage().exists(document.storage_key)
    assert citizen.get(f"{STORE}/{document.id}/file").status_code == 404
    audit = db.session.scalar(select(AuditLog).where(AuditLog.action == "docstore.delete"))
    assert audit is not None
    assert audit.object_id == str(document.id)
    assert audit.actor_id == user(CITIZEN).id


def test_an_upload_that_is_not_a_document_is_refused_on_its_field(demo: Flask) -> None:
    citizen = signed_in(demo, CITIZEN)
    refused = add_to_store(citizen, "Ghi chú", data=b"just text")
    assert refused.status_code == 422
    assert "error-summary" in page(refused)
    assert stored_of(CITIZEN) == []


def test_a_legally_kept_result_cannot_be_deleted(demo: Flask) -> None:
    citizen, dossier = accepted_dossier(demo)
    storage().put("issued-result-test", PDF, "application/pdf")
    issued = IssuedDocument(
        code="ABCDE23456",
        dossier_id=dossier.id,
        kind="result",
        basis="task:1",
        agency_id=dossier.agency_id,
        issued_at=utcnow(),
        sha256=hashlib.sha256(PDF).hexdigest(),
        size=len(PDF),
        storage_key="issued-result-test",
        signer_subject="CN=UBND",
    )
    db.session.add(issued)
    db.session.flush()
    result = store_issued(issued)
    assert store_issued(issued) is result  # once
    db.session.commit()
    assert result is not None
    assert result.legally_kept
    assert result.source == StoredSource.RESULT
    assert result.storage_key == "issued-result-test"

    html = page(citizen.get(STORE))
    assert f"Kết quả của hồ sơ {dossier.code}" in html
    assert "Lưu giữ theo quy định" in html
    token = csrf(citizen, STORE)
    refused = citizen.post(f"{STORE}/{result.id}/delete", data={"csrf_token": token}, follow_redirects=True)
    assert "không thể xóa" in page(refused)
    db.session.expire_all()
    assert db.session.get(StoredDocument, result.id).deleted_at is None
    assert storage().exists("issued-result-test")
    assert f'<option value="{result.id}">' in page(citizen.get(APPLY))  # a valid result can be reused

    issued = db.session.get(IssuedDocument, issued.id)
    issued.revoked_at, issued.revoked_reason = utcnow(), "Cấp nhầm"
    db.session.commit()
    assert f'<option value="{result.id}">' not in page(citizen.get(APPLY))  # a revoked one cannot


def test_an_expired_document_is_not_offered_nor_accepted(demo: Flask) -> None:
    citizen = signed_in(demo, CITIZEN)
    yesterday = (utcnow().date() - timedelta(days=1)).isoformat()
    assert add_to_store(citizen, "Giấy phép cũ", valid_until=yesterday).status_code == 302
    assert add_to_store(citizen, "Giấy phép mới", data=PDF + b"%new").status_code == 302
    old, new = sorted(stored_of(CITIZEN), key=lambda d: d.id)
    form = page(citizen.get(APPLY))
    assert f'<option value="{new.id}">' in form
    assert f'<option value="{old.id}">' not in form
    assert "Không còn hiệu lực" in page(citizen.get(STORE))
    token = apply_token(citizen)
    refused = citizen.post(APPLY, data={**household(""), "documents__store": str(old.id), "csrf_token": token})
    assert refused.status_code == 422
    assert "không còn dùng được" in page(refused)
    assert db.session.scalar(select(Dossier)) is None


def test_a_request_for_documents_is_answered_from_the_store_and_logged_once(demo: Flask) -> None:
    citizen = demo.test_client()
    dossier = apply_online(citizen)
    assert add_to_store(citizen, "Biên bản họp gia đình", data=PDF + b"%minutes").status_code == 302
    [document] = stored_of(CITIZEN)
    desk = signed_in(demo, DESK)
    task = open_task(dossier, "reception_check")
    url = f"/inbox/tasks/{task.id}"
    asked = desk.post(url, data={"csrf_token": csrf(desk, url), "decision": "supplement", "reason": "Biên bản họp"})
    assert asked.status_code == 302, page(asked)[:2000]

    step = open_task(dossier, "reception_supplement")
    answer = f"/my/dossiers/{dossier.id}/steps/{step.id}"
    form = page(citizen.get(answer))
    assert "Dùng giấy tờ trong kho của tôi" in form
    assert f'<option value="{document.id}">' in form

    someone_elses = other_citizen()
    theirs = signed_in(demo, someone_elses)
    assert add_to_store(theirs, "Giấy của người khác").status_code == 302
    [foreign] = stored_of(someone_elses)
    token = csrf(citizen, answer)
    refused = citizen.post(answer, data={"csrf_token": token, "supplement_documents__store": str(foreign.id)})
    assert refused.status_code == 422
    assert "không có trong kho" in page(refused)

    token = csrf(citizen, answer)
    sent = citizen.post(answer, data={"csrf_token": token, "supplement_documents__store": str(document.id)})
    assert sent.status_code == 302, page(sent)[:3000]
    attached = db.session.scalars(
        select(Attachment).where(Attachment.dossier_id == dossier.id, Attachment.stored_document_id == document.id)
    ).all()
    assert [a.field for a in attached] == ["supplement_documents"]
    assert storage().get(attached[0].storage_key) == PDF + b"%minutes"
    uses = db.session.scalars(select(StoredDocumentUse)).all()
    assert [(u.stored_document_id, u.dossier_id) for u in uses] == [(document.id, dossier.id)]
    assert dossier.code in page(citizen.get(STORE))  # the store says where it was used
    assert "Từ kho dữ liệu của công dân" in page(desk.get(f"/inbox/dossiers/{dossier.id}"))


def test_own_uploads_long_expired_are_purged_and_records_are_not(demo: Flask) -> None:
    from portal.docstore.purge import purge_expired
    from portal.notifications.schedule import beat_schedule

    citizen = signed_in(demo, CITIZEN)
    long_ago = (utcnow().date() - timedelta(days=91)).isoformat()
    recently = (utcnow().date() - timedelta(days=89)).isoformat()
    assert add_to_store(citizen, "Giấy phép hết hạn lâu", data=PDF + b"%old", valid_until=long_ago).status_code == 302
    assert add_to_store(citizen, "Giấy phép mới hết hạn", data=PDF + b"%new", valid_until=recently).status_code == 302
    assert add_to_store(citizen, "Giấy không thời hạn", data=PDF + b"%forever").status_code == 302
    assert add_to_store(citizen, "Kết quả cũ", data=PDF + b"%record", valid_until=long_ago).status_code == 302
    old, recent, forever, record = sorted(stored_of(CITIZEN), key=lambda d: d.id)
    old_key = old.storage_key
    # A result (or an accepted attachment) is a record kept by law: expired or not, the purge never touches it.
    record.source, record.legally_kept = StoredSource.RESULT, True
    db.session.commit()

    assert purge_expired() == 1
    db.session.expire_all()
    assert old.deleted_at is not None
    assert (recent.deleted_at, forever.deleted_at, record.deleted_at) == (None, None, None)
    assert not storage().exists(old_key)
    assert storage().get(recent.storage_key) == PDF + b"%new"
    [entry] = db.session.scalars(select(AuditLog).where(AuditLog.action == "docstore.purge")).all()
    assert entry.object_id == str(old.id)
    assert "Giấy phép hết hạn lâu" not in page(citizen.get(STORE))
    assert purge_expired() == 0  # nothing twice

    job = beat_schedule(demo.config)["docstore-purge"]
    assert job["task"] == "docstore.purge"
    assert "docstore.purge" in demo.extensions["celery"].tasks
