"""Reading attachments over HTTP: who may, and how the file is sent (type from its bytes, no sniffing)."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from portal.extensions import db
from portal.models import Attachment
from tests.helpers import PDF
from tests.test_citizen_support import CITIZEN, DESK, HEIC, PNG, apply_online, apply_token, other_citizen, upload_json
from tests.web import login


def fetch(client, path: str):
    """GET a file and close the response (a file sent from disk stays open until then)."""
    response = client.get(path)
    response.get_data()
    response.close()
    return response


def test_an_unattached_upload_is_readable_by_its_uploader_only(client, app: Flask, demo: Flask) -> None:
    login(client, CITIZEN)
    uploaded = upload_json(client, apply_token(client), "ảnh giấy tờ.jpg", PNG).get_json()
    view = fetch(client, f"/attachments/{uploaded['id']}/view")
    assert view.status_code == 200
    assert view.data == PNG
    assert view.headers["Content-Type"] == "image/png"  # what the bytes are, not what the name says
    assert view.headers["X-Content-Type-Options"] == "nosniff"
    assert view.headers["Content-Disposition"].startswith("inline")
    assert "private" in view.headers["Cache-Control"]

    download = fetch(client, f"/attachments/{uploaded['id']}")
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert "filename*=UTF-8''%E1%BA%A3nh" in download.headers["Content-Disposition"]  # the Vietnamese name

    stranger = app.test_client()
    login(stranger, other_citizen())
    assert fetch(stranger, f"/attachments/{uploaded['id']}/view").status_code == 404
    assert fetch(stranger, f"/attachments/{uploaded['id']}").status_code == 404
    officer = app.test_client()
    login(officer, DESK)
    assert fetch(officer, f"/attachments/{uploaded['id']}").status_code == 404  # not in any dossier yet


def test_an_attached_file_follows_the_dossier(client, app: Flask, demo: Flask) -> None:
    dossier = apply_online(client)
    attachment = db.session.scalar(select(Attachment).where(Attachment.dossier_id == dossier.id))
    response = fetch(client, f"/attachments/{attachment.id}/view")
    assert response.status_code == 200
    assert response.data == PDF
    assert response.headers["Content-Type"] == "application/pdf"

    officer = app.test_client()
    login(officer, DESK)  # an officer of the handling agency
    assert fetch(officer, f"/attachments/{attachment.id}").status_code == 200

    stranger = app.test_client()
    login(stranger, other_citizen())
    assert fetch(stranger, f"/attachments/{attachment.id}").status_code == 404
    assert fetch(stranger, "/attachments/999999").status_code == 404


def test_a_heic_photo_is_offered_as_a_download(client, demo: Flask) -> None:
    login(client, CITIZEN)
    uploaded = upload_json(client, apply_token(client), "IMG_2001.HEIC", HEIC).get_json()
    response = fetch(client, f"/attachments/{uploaded['id']}/view")
    assert response.headers["Content-Type"] == "image/heic"
    assert response.headers["Content-Disposition"].startswith("attachment")


def test_an_upload_without_a_file_is_answered_plainly(client, demo: Flask) -> None:
    login(client, CITIZEN)
    token = apply_token(client)
    response = client.post("/attachments/upload", data={"field": "documents"}, headers={"X-CSRFToken": token})
    assert response.status_code == 422
    assert response.get_json()["message"]


def test_too_many_unsent_uploads_are_refused(client, app: Flask, demo: Flask) -> None:
    app.config["CITIZEN_MAX_PENDING_UPLOADS"] = 2
    login(client, CITIZEN)
    token = apply_token(client)
    codes = [upload_json(client, token).status_code for _ in range(3)]
    assert codes == [201, 201, 422]


def test_uploads_are_rate_limited(client, app: Flask, demo: Flask) -> None:
    app.config["UPLOAD_RATE_LIMIT"] = "2 per minute"
    login(client, CITIZEN)
    token = apply_token(client)
    codes = [upload_json(client, token).status_code for _ in range(3)]
    assert codes == [201, 201, 429]
