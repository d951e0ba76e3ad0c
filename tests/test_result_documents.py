"""Results and the apology slip (issue 14): a household business dossier approved by the leader gets its signed
registration certificate (rendered from the version's sandboxed template); the applicant downloads it from the
dossier page, which returns the result (status 10) once; paper results say where and when; an officer's new
appointment issues the apology slip; administrators preview and edit a version's result template."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from portal.core.storage import storage
from portal.dossiers.timers import run_due_timers
from portal.extensions import db
from portal.models import Channel, DocumentKind, Dossier, DossierEvent, IssuedDocument, Status, StoredDocument
from tests.helpers import do, submit, vn
from tests.test_citizen_support import other_citizen
from tests.test_construction_permit import KTHT
from tests.test_construction_permit import application as permit_application
from tests.test_construction_permit import inspect as site_inspection
from tests.test_household_business import application
from tests.test_notifications_outbox import mail_to
from tests.test_signed_documents import keys_dir, pdf_text, pyhanko_status, signing_demo  # noqa: F401  (fixtures)
from tests.web import login

CITIZEN = "congdan@motcua.demo"
DESK = "tiepnhan@motcua.demo"
SPECIALIST = "dkkd@motcua.demo"
LEADER = "lanhdao@motcua.demo"
ADMIN = "admin@motcua.demo"


def approved(channel: int = Channel.ONLINE) -> Dossier:
    dossier = submit("household_business", application(), vn(2026, 3, 2, 8, 0))
    if channel != Channel.ONLINE:
        dossier.channel = channel
        db.session.commit()
    do(dossier, "reception_check", DESK, {"decision": "accept"}, vn(2026, 3, 2, 9, 0))
    do(
        dossier,
        "specialist_review",
        SPECIALIST,
        {"decision": "approve", "registration_number": "HKD-0042"},
        vn(2026, 3, 3, 9, 0),
    )
    do(dossier, "leader_approval", LEADER, {"decision": "approve"}, vn(2026, 3, 3, 10, 0))
    return dossier


def issued(dossier: Dossier, kind: str) -> list[IssuedDocument]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(IssuedDocument).where(IssuedDocument.dossier_id == dossier.id, IssuedDocument.kind == kind)
        )
    )


def events(dossier: Dossier, kind: str) -> int:
    return db.session.scalar(
        select(func.count()).where(DossierEvent.dossier_id == dossier.id, DossierEvent.kind == kind)
    )


def test_the_leaders_approval_issues_the_signed_certificate(signing_demo: Flask, tmp_path: Path) -> None:  # noqa: F811
    dossier = approved()
    assert dossier.status == Status.FINISHED
    [document] = issued(dossier, DocumentKind.RESULT)
    data = storage().get(document.storage_key)
    status = pyhanko_status(data, Path(signing_demo.config["DOCUMENT_KEYS_DIR"]))
    assert status.intact
    assert status.valid
    assert status.trusted
    assert status.bottom_line
    text = pdf_text(data, tmp_path)
    assert "GIẤY CHỨNG NHẬN ĐĂNG KÝ HỘ KINH DOANH" in text
    assert "HKD-0042" in text  # the specialist's registration number
    assert "TẠP HÓA MAI ANH" in text  # the business name
    assert "Võ Thị Mai" in text
    assert dossier.code in text
    # The certificate joins the applicant's document store, legally kept, for reuse in later applications.
    [stored] = db.session.scalars(select(StoredDocument).where(StoredDocument.issued_document_id == document.id))
    assert stored.owner_id == dossier.applicant_id
    assert stored.legally_kept
    assert stored.sha256 == document.sha256


def test_the_applicant_downloads_the_result_once_and_it_is_returned(
    signing_demo: Flask,  # noqa: F811
    client: FlaskClient,
    smtp,
    tmp_path: Path,
) -> None:
    dossier = approved()
    [document] = issued(dossier, DocumentKind.RESULT)
    # The final notification says the result is online, with the link to the dossier page.
    ready = [m for m in mail_to(smtp, CITIZEN) if "kết quả" in m["Subject"]]
    assert ready, [m["Subject"] for m in mail_to(smtp, CITIZEN)]
    body = ready[-1].get_body(preferencelist=("plain",)).get_content()
    assert "tải bản PDF có chữ ký số" in body
    assert f"/my/dossiers/{dossier.id}" in body

    other = other_citizen()
    login(client, other)
    url = f"/documents/dossiers/{dossier.id}/signed/{document.code}.pdf"
    assert client.get(url).status_code == 404
    assert client.get(f"/documents/dossiers/{dossier.id}/result").status_code == 404
    client.post("/logout")

    owner = signing_demo.test_client()
    login(owner, CITIZEN)
    page = owner.get(f"/my/dossiers/{dossier.id}").get_data(as_text=True)
    assert f"/documents/dossiers/{dossier.id}/result" in page
    assert "Kết quả được cấp dưới dạng điện tử" in page
    result_page = owner.get(f"/documents/dossiers/{dossier.id}/result").get_data(as_text=True)
    assert url in result_page
    assert "HKD-0042" in result_page

    first = owner.get(url)
    assert first.status_code == 200
    assert first.get_data() == storage().get(document.storage_key)
    first.close()
    db.session.expire_all()
    dossier = db.session.get(Dossier, dossier.id)
    assert dossier.status == Status.RETURNED
    returned_at = dossier.returned_at
    assert returned_at is not None
    assert events(dossier, "result_downloaded") == 1
    closed = events(dossier, "closed")
    # The dossier ended: its process-control slip is issued for the archive, signed, with every handover.
    [slip] = issued(dossier, DocumentKind.PROCESS_CONTROL)
    closing = db.session.scalar(
        select(DossierEvent.id).where(DossierEvent.dossier_id == dossier.id, DossierEvent.kind == "closed")
    )
    assert slip.basis == f"event:{closing}"
    assert pyhanko_status(storage().get(slip.storage_key), Path(signing_demo.config["DOCUMENT_KEYS_DIR"])).intact
    slip_text = pdf_text(storage().get(slip.storage_key), tmp_path)
    assert "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ" in slip_text
    assert dossier.code in slip_text

    second = owner.get(url)
    assert second.status_code == 200  # a second download changes nothing
    second.close()
    db.session.expire_all()
    dossier = db.session.get(Dossier, dossier.id)
    assert dossier.returned_at == returned_at
    assert events(dossier, "result_downloaded") == 1
    assert events(dossier, "closed") == closed == 1
    assert len(issued(dossier, DocumentKind.PROCESS_CONTROL)) == 1
    timeline = owner.get(f"/my/dossiers/{dossier.id}").get_data(as_text=True)
    assert "Đã trả kết quả" in timeline


def test_a_paper_result_says_where_and_when(signing_demo: Flask, smtp) -> None:  # noqa: F811
    dossier = approved(channel=Channel.IN_PERSON)
    client = signing_demo.test_client()
    login(client, CITIZEN)
    page = client.get(f"/documents/dossiers/{dossier.id}/result").get_data(as_text=True)
    assert "Bộ phận một cửa" in page
    assert dossier.agency.name in page
    dossier_page = client.get(f"/my/dossiers/{dossier.id}").get_data(as_text=True)
    assert "data-result-delivery" in dossier_page
    assert f"Bộ phận một cửa của {dossier.agency.name} từ ngày 05/03/2026" in dossier_page  # where and when
    ready = [m for m in mail_to(smtp, CITIZEN) if "kết quả" in m["Subject"]][-1]
    body = ready.get_body(preferencelist=("plain",)).get_content()
    assert dossier.agency.name in body
    assert "Bộ phận một cửa" in body
    assert f"/my/dossiers/{dossier.id}" in body
    # Downloading does not return a paper result: the desk hands it over.
    [document] = issued(dossier, DocumentKind.RESULT)
    client.get(f"/documents/dossiers/{dossier.id}/signed/{document.code}.pdf").close()
    db.session.expire_all()
    assert db.session.get(Dossier, dossier.id).status == Status.FINISHED
    do(dossier, "return_result", DESK, {"delivery_method": "counter", "fee_paid": True}, vn(2026, 3, 4, 9, 0))
    assert dossier.status == Status.RETURNED


def test_a_new_appointment_issues_the_apology_slip(signing_demo: Flask, tmp_path: Path, smtp) -> None:  # noqa: F811
    dossier = submit("construction_permit", permit_application(), vn(2026, 1, 5, 8, 0))
    do(dossier, "reception_check", DESK, {"decision": "accept"}, vn(2026, 1, 5, 9, 0))
    site_inspection(dossier, vn(2026, 1, 6, 9, 0))
    assert run_due_timers(now=vn(2026, 1, 23, 9, 0, 5)) == (1, 0)
    db.session.expire_all()
    do(
        dossier,
        "apology",
        KTHT,
        {"new_appointment": "2026-02-06", "reason": "Chờ ý kiến Sở Xây dựng"},
        vn(2026, 1, 26, 9, 0),
    )
    [slip] = issued(dossier, DocumentKind.APOLOGY)
    text = pdf_text(storage().get(slip.storage_key), tmp_path)
    assert "Chờ ý kiến Sở Xây dựng" in text
    assert "06/02/2026" in text
    client = signing_demo.test_client()
    login(client, CITIZEN)
    assert f"/documents/dossiers/{dossier.id}/apology" in client.get(f"/my/dossiers/{dossier.id}").get_data(
        as_text=True
    )
    mail = [m for m in mail_to(smtp, CITIZEN) if "xin lỗi" in m["Subject"].lower()][-1]
    assert f"/documents/dossiers/{dossier.id}/apology" in mail.get_body(preferencelist=("plain",)).get_content()


def _version_url(key: str = "household_business") -> str:
    from tests.helpers import version_of

    version = version_of(key)
    return f"/admin/procedures/{version.procedure_id}/versions/{version.number}/result-template"


def test_the_administrator_previews_and_a_sandbox_escape_is_refused(signing_demo: Flask) -> None:  # noqa: F811
    from tests.web import csrf

    approved()
    client = signing_demo.test_client()
    login(client, ADMIN)
    url = _version_url()
    page = client.get(url)
    assert page.status_code == 200
    assert "decision.registration_number" in page.get_data(as_text=True)  # the current template is in the editor
    token = csrf(client, url)
    good = "<p>Số: {{ decision.registration_number }} — {{ form.business_name }} <b>{{ applicant.full_name }}</b></p>"
    shown = client.post(url, data={"csrf_token": token, "source": good, "action": "preview"})
    assert shown.status_code == 200
    html = shown.get_data(as_text=True)
    assert "HKD-0042" in html
    assert "Tạp hóa Mai Anh" in html
    assert "&lt;b&gt;" in html  # inside the sandboxed iframe's srcdoc, escaped

    as_pdf = client.post(url, data={"csrf_token": token, "source": good, "action": "pdf"})
    assert as_pdf.status_code == 200
    assert as_pdf.mimetype == "application/pdf"
    assert as_pdf.data.startswith(b"%PDF-")

    for escape in (
        "{{ ''.__class__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ form.items.__self__ }}",
        "{% for x in range(10**9) %}{% endfor %}",
        "{{ form.business_name.upper.__self__.__class__ }}",
        "{% if %}",
    ):
        refused = client.post(url, data={"csrf_token": token, "source": escape, "action": "preview"})
        assert refused.status_code == 422, escape
        assert "data-template-error" in refused.get_data(as_text=True)
    refused = client.post(url, data={"csrf_token": token, "source": "{{ ''.__class__ }}", "action": "save"})
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "chỉ được dùng các giá trị của hồ sơ" in text
    english = client.post(
        url,
        data={"csrf_token": token, "source": "{{ ''.__class__ }}", "action": "preview"},
        headers={"Cookie": "lang=en"},
    )
    assert "templates may not use; only the dossier" in english.get_data(as_text=True)


def test_a_published_version_keeps_its_template_and_a_new_draft_gets_the_edit(signing_demo: Flask) -> None:  # noqa: F811
    from portal.models import ProcedureVersion
    from tests.helpers import version_of
    from tests.web import csrf

    published = version_of("household_business")
    assert published.status == "published"
    before = published.result_template
    client = signing_demo.test_client()
    login(client, ADMIN)
    url = _version_url()
    token = csrf(client, url)
    saved = client.post(url, data={"csrf_token": token, "source": "<p>{{ code }} mới</p>", "action": "save"})
    assert saved.status_code == 302
    db.session.expire_all()
    assert db.session.get(ProcedureVersion, published.id).result_template == before  # unchanged
    draft = db.session.scalar(
        select(ProcedureVersion)
        .where(ProcedureVersion.procedure_id == published.procedure_id)
        .order_by(ProcedureVersion.number.desc())
        .limit(1)
    )
    assert draft.number == published.number + 1
    assert draft.status == "draft"
    assert draft.result_template == "<p>{{ code }} mới</p>"
    assert draft.checksum == published.checksum
    # A draft is edited in place.
    draft_url = f"/admin/procedures/{draft.procedure_id}/versions/{draft.number}/result-template"
    again = client.post(draft_url, data={"csrf_token": token, "source": "<p>{{ code }}</p>", "action": "save"})
    assert again.status_code == 302
    db.session.expire_all()
    assert db.session.get(ProcedureVersion, draft.id).result_template == "<p>{{ code }}</p>"
    assert (
        db.session.scalar(select(func.count()).where(ProcedureVersion.procedure_id == draft.procedure_id))
        == draft.number
    )


def test_a_template_that_runs_too_long_or_makes_too_much_is_refused_in_time(signing_demo: Flask) -> None:  # noqa: F811
    import time

    from tests.web import csrf

    approved()
    signing_demo.config["RESULT_TEMPLATE_SECONDS"] = 0.5
    client = signing_demo.test_client()
    login(client, ADMIN)
    url = _version_url()
    token = csrf(client, url)
    slow = "{% for i in range(100000) %}{% for j in range(100000) %}{{ j }}{% endfor %}{% endfor %}"
    started = time.monotonic()
    refused = client.post(url, data={"csrf_token": token, "source": slow, "action": "preview"})
    assert time.monotonic() - started < 10  # stopped by the budget, not after 10**10 iterations
    assert refused.status_code == 422
    assert "quá 0.5 giây" in refused.get_data(as_text=True) or "0,5 giây" in refused.get_data(as_text=True)
    for big in ("{{ 'x' * 1000000000 }}", "{{ [1, 2] * 10**8 }}", "{{ 10 ** 100000000 }}", "{{ 7 * 'abc' * 10**7 }}"):
        refused = client.post(url, data={"csrf_token": token, "source": big, "action": "preview"})
        assert refused.status_code == 422, big
        assert "nhiều hơn mức một giấy tờ" in refused.get_data(as_text=True), big
    fine = "{{ '-' * 40 }} {{ 2 ** 10 }} {{ decision.registration_number }}"
    shown = client.post(url, data={"csrf_token": token, "source": fine, "action": "preview"})
    assert shown.status_code == 200
    assert "-" * 40 + " 1024 HKD-0042" in shown.get_data(as_text=True)
