"""Applying online through real HTTP requests: the form from the BPMN, attachments, errors, drafts, receipt."""

from __future__ import annotations

import re
from io import BytesIO

from flask import Flask
from sqlalchemy import select

from portal.extensions import db
from portal.models import Attachment, Dossier, Draft, Status
from tests.helpers import PDF
from tests.test_citizen_support import (
    CITIZEN,
    EN,
    HEIC,
    PNG,
    TEXT,
    apply_online,
    apply_token,
    household,
    other_citizen,
    upload_json,
)
from tests.web import csrf, login, logout

APPLY = "/procedures/household_business/apply"
DRAFT = "/procedures/household_business/draft"


def test_applying_needs_a_signed_in_citizen(client, demo: Flask) -> None:
    response = client.get(APPLY)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_the_form_comes_from_the_bpmn_submit_step(client, demo: Flask) -> None:
    login(client, CITIZEN)
    page = client.get(APPLY).get_data(as_text=True)
    assert "Tên hộ kinh doanh" in page  # the label from camunda:formData
    assert 'name="business_line"' in page
    assert "Dịch vụ ăn uống" in page
    assert 'type="file"' in page
    assert 'name="documents__upload"' in page
    assert 'accept="application/pdf,image/heic,image/jpeg,image/png,.heic"' in page
    # the "required" star sits in the file field's label, on its line, not below it
    assert re.search(r'<label class="label" for="documents">[^<]*<span class="required"[^>]*>\*</span></label>', page)
    assert 'enctype="multipart/form-data"' in page
    english = client.get(APPLY, headers=EN).get_data(as_text=True)
    assert "Business name" in english  # the BPMN's label_en


def test_apply_with_an_uploaded_file_gives_a_receipt(client, demo: Flask) -> None:
    dossier = apply_online(client)
    assert dossier.status == Status.NEW
    assert dossier.form_data["business_name"] == "Tạp hóa Mai Anh"
    files = db.session.scalars(select(Attachment).where(Attachment.dossier_id == dossier.id)).all()
    assert [a.filename for a in files] == ["giay-de-nghi.pdf"]

    receipt = client.get(f"/my/dossiers/{dossier.id}/receipt").get_data(as_text=True)
    assert dossier.code in receipt
    assert dossier.tracking_secret in receipt
    assert "giay-de-nghi.pdf" in receipt
    assert "Hồ sơ kèm theo" in receipt
    assert "data-print" in receipt  # the print button (shown by print.js)
    assert db.session.scalar(select(Draft)) is None  # the draft is gone once the application is sent


def test_errors_are_listed_at_the_top_and_next_to_each_field_and_nothing_is_lost(client, demo: Flask) -> None:
    login(client, CITIZEN)
    token = apply_token(client)
    form = {**household(), "business_name": "", "phone": "12ab", "csrf_token": token}
    response = client.post(APPLY, data=form)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    summary = page.index("error-summary")
    assert summary < page.index('name="business_address"')  # the summary comes before the fields
    assert 'href="#business_name"' in page
    assert 'href="#phone"' in page
    assert 'href="#documents"' in page
    assert 'id="phone-error"' in page
    assert 'aria-invalid="true"' in page
    assert 'value="12 Lê Lợi, phường Trung Tâm"' in page  # what was typed stays
    assert "Trường này là bắt buộc" in page or "required" in page
    draft = db.session.scalar(select(Draft))
    assert draft.data["business_address"] == "12 Lê Lợi, phường Trung Tâm"  # and is kept on the server
    assert db.session.scalar(select(Dossier)) is None  # nothing half-saved


def test_without_javascript_files_are_posted_with_the_form(client, demo: Flask) -> None:
    login(client, CITIZEN)
    token = apply_token(client)
    data = {**household(), "csrf_token": token, "documents__upload": (BytesIO(PNG), "anh-chup.jpg")}
    response = client.post(APPLY, data=data, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:1000]
    attachment = db.session.scalar(select(Attachment))
    assert attachment.content_type == "image/png"  # typed by its bytes, not by its name
    assert attachment.dossier_id is not None


def test_without_javascript_a_refused_file_is_named_and_the_good_ones_kept(client, demo: Flask) -> None:
    login(client, CITIZEN)
    token = apply_token(client)
    data = {
        **household(),
        "csrf_token": token,
        "documents__upload": [(BytesIO(PDF), "don.pdf"), (BytesIO(TEXT), "ghi-chu.pdf")],
    }
    response = client.post(APPLY, data=data, content_type="multipart/form-data")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "ghi-chu.pdf" in page
    assert "PDF, JPEG, PNG" in page
    kept = db.session.scalar(select(Attachment))
    assert kept.filename == "don.pdf"
    assert f'name="documents" value="{kept.id}"' in page  # the good file stays attached to the form
    assert db.session.scalar(select(Dossier)) is None


def test_the_upload_endpoint_checks_content_not_names(client, demo: Flask) -> None:
    login(client, CITIZEN)
    token = apply_token(client)
    refused = upload_json(client, token, "hop-dong.pdf", TEXT)
    assert refused.status_code == 422
    assert "hop-dong.pdf" in refused.get_json()["message"]
    heic = upload_json(client, token, "IMG_0001.HEIC", HEIC)
    assert heic.status_code == 201
    assert heic.get_json()["content_type"] == "image/heic"
    big = upload_json(client, token, "lon.pdf", PDF + b"0" * (10 * 1024 * 1024))
    assert big.status_code == 422
    assert "10 MB" in big.get_json()["message"]
    assert upload_json(client, "not-the-token").status_code == 400


def test_a_signed_out_upload_or_autosave_answers_401_json(client, demo: Flask) -> None:
    login(client, CITIZEN)
    token = apply_token(client)
    logout(client)
    response = upload_json(client, token)
    assert response.status_code == 401
    assert response.get_json()["error"] == "signed_out"
    saved = client.post(DRAFT, json={"business_name": "x"}, headers={"X-CSRFToken": token})
    assert saved.status_code == 401
    assert client.get(DRAFT, headers={"Accept": "application/json"}).status_code == 401


def test_the_draft_is_saved_as_you_type_and_restored_on_another_device(client, app: Flask, demo: Flask) -> None:
    login(client, CITIZEN)
    token = apply_token(client)
    typed = {"business_name": "Quán Cơm Mai", "capital": "1000", "not_a_field": "dropped"}
    response = client.post(DRAFT, json=typed, headers={"X-CSRFToken": token})
    assert response.status_code == 200
    draft = db.session.scalar(select(Draft))
    assert draft.data == {"business_name": "Quán Cơm Mai", "capital": "1000"}
    assert client.post(DRAFT, json={"business_name": "y"}).status_code == 400  # no CSRF header
    assert client.post(DRAFT, json=["not", "an", "object"], headers={"X-CSRFToken": token}).status_code == 422

    phone = app.test_client()  # another device: a new session
    login(phone, CITIZEN)
    page = phone.get(APPLY).get_data(as_text=True)
    assert 'value="Quán Cơm Mai"' in page
    assert 'value="1000"' in page
    fresh = phone.get(DRAFT, headers={"Accept": "application/json"}).get_json()
    assert fresh["data"]["business_name"] == "Quán Cơm Mai"
    assert fresh["csrf_token"]


def test_count_limits_and_someone_elses_file_are_refused_plainly(client, app: Flask, demo: Flask) -> None:
    app.config["CITIZEN_MAX_FILES_PER_FIELD"] = 2
    other = other_citizen()
    stranger = app.test_client()
    login(stranger, other)
    theirs = upload_json(stranger, apply_token(stranger)).get_json()["id"]

    login(client, CITIZEN)
    token = apply_token(client)
    mine = [str(upload_json(client, token).get_json()["id"]) for _ in range(3)]
    too_many = client.post(APPLY, data={**household(",".join(mine)), "csrf_token": token})
    assert too_many.status_code == 422
    assert "2" in too_many.get_data(as_text=True)
    not_mine = client.post(APPLY, data={**household(str(theirs)), "csrf_token": token})
    assert not_mine.status_code == 422
    assert db.session.scalar(select(Dossier)) is None
    forged = client.post(APPLY, data={**household("1,abc"), "csrf_token": token})
    assert forged.status_code == 422


def test_a_form_without_csrf_is_refused(client, demo: Flask) -> None:
    login(client, CITIZEN)
    response = client.post(APPLY, data=household("1"))
    assert response.status_code == 400
    assert db.session.scalar(select(Dossier)) is None


def test_unknown_or_offline_procedures_have_no_apply_page(client, demo: Flask) -> None:
    from portal.models import Procedure

    login(client, CITIZEN)
    assert client.get("/procedures/no_such_thing/apply").status_code == 404
    procedure = db.session.scalar(select(Procedure).where(Procedure.key == "household_business"))
    procedure.service_level = "public_service"
    db.session.commit()
    assert client.get(APPLY).status_code == 404
    page = client.get("/procedures/household_business").get_data(as_text=True)
    assert "/apply" not in page


def test_the_receipt_link_after_applying(client, demo: Flask) -> None:
    login(client, CITIZEN)
    token = csrf(client, APPLY)
    attachment = upload_json(client, token).get_json()["id"]
    response = client.post(APPLY, data={**household(str(attachment)), "csrf_token": token}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert re.search(r"000\.00\.31\.H56-\d{6}-\d{4}", page)
