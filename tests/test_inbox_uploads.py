"""An officer's step with a file field: the upload survives an error elsewhere in the form, then joins the dossier."""

from __future__ import annotations

import io
import re

from flask import Flask
from sqlalchemy import select

from portal.extensions import db
from portal.models import Attachment, Status
from tests.helpers import PDF, do, open_task, user
from tests.test_inbox_pages import DESK, EN, LEADER, SPECIALIST, new_dossier, page, signed_in, task_form


def test_the_result_file_is_kept_through_an_error_and_attached(demo: Flask) -> None:
    dossier = new_dossier()
    now = dossier.created_at
    do(dossier, "reception_check", DESK, {"decision": "accept"}, now)
    do(dossier, "specialist_review", SPECIALIST, {"decision": "approve"}, now)
    do(dossier, "leader_approval", LEADER, {"decision": "approve"}, now)
    task = open_task(dossier, "return_result")
    desk = signed_in(demo, DESK)
    token = task_form(desk, task)

    missing_choice = desk.post(
        f"/inbox/tasks/{task.id}",
        data={"csrf_token": token, "result_file__upload": (io.BytesIO(PDF), "ket-qua.pdf"), "comment": "Đã ký"},
        content_type="multipart/form-data",
        headers=EN,
    )
    assert missing_choice.status_code == 422
    html = page(missing_choice)
    hidden = re.search(r'<input[^>]*name="result_file"[^>]*>', html)
    assert hidden, "the uploaded file's id is carried in the form"
    kept = re.search(r'value="(\d+)"', hidden.group(0))
    assert kept
    attachment_id = kept.group(1)
    assert "Đã ký" in html

    done = desk.post(
        f"/inbox/tasks/{task.id}",
        data={"csrf_token": token, "result_file": attachment_id, "delivery_method": "counter", "comment": "Đã ký"},
        headers=EN,
    )
    assert done.status_code == 302
    db.session.refresh(dossier)
    assert dossier.status == Status.RETURNED
    attachment = db.session.get(Attachment, int(attachment_id))
    assert attachment.dossier_id == dossier.id
    assert attachment.uploaded_by_id == user(DESK).id


def test_a_file_that_is_not_a_document_is_refused_next_to_its_field(demo: Flask) -> None:
    dossier = new_dossier()
    now = dossier.created_at
    do(dossier, "reception_check", DESK, {"decision": "accept"}, now)
    do(dossier, "specialist_review", SPECIALIST, {"decision": "approve"}, now)
    do(dossier, "leader_approval", LEADER, {"decision": "approve"}, now)
    task = open_task(dossier, "return_result")
    desk = signed_in(demo, DESK)
    response = desk.post(
        f"/inbox/tasks/{task.id}",
        data={
            "csrf_token": task_form(desk, task),
            "delivery_method": "counter",
            "result_file__upload": (io.BytesIO(b"MZ\x90\x00 not a document"), "virus.exe"),
        },
        content_type="multipart/form-data",
        headers=EN,
    )
    assert response.status_code == 422
    assert 'id="result_file__upload-error"' in page(response)
    assert db.session.scalar(select(Attachment).where(Attachment.filename == "virus.exe")) is None
    assert open_task(dossier, "return_result").id == task.id
