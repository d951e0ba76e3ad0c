"""File names in Content-Disposition: look-alike slashes and dots never turn into a path, in the ASCII fallback
or in `filename*`; the Vietnamese name is kept in `filename*` (RFC 5987)."""

from __future__ import annotations

import re
from urllib.parse import unquote

import pytest
from flask import Flask
from sqlalchemy import select

from portal.attachments.names import ascii_filename, clean_filename, content_disposition
from portal.extensions import db
from portal.models import Attachment
from tests.helpers import PDF
from tests.test_attachments_web import fetch
from tests.test_citizen_support import DESK, apply_online, apply_token, upload_json
from tests.web import login

FULLWIDTH = "．．／．．／etc／passwd.pdf"  # U+FF0E, U+FF0F: NFKD (werkzeug's fallback) folds them to ../../


def names(header: str) -> tuple[str, str | None]:
    """The `filename` and the decoded `filename*` of a Content-Disposition value."""
    plain = re.search(r'filename="([^"]*)"', header)
    extended = re.search(r"filename\*=UTF-8''([^;]+)", header)
    assert plain, header
    return plain.group(1), unquote(extended.group(1)) if extended else None


def assert_safe(header: str) -> None:
    assert "\r" not in header
    assert "\n" not in header
    for name in names(header):
        if name is None:
            continue
        assert "/" not in name, header
        assert "\\" not in name, header
        assert ".." not in name, header
        assert not name.startswith("."), header
        assert "／" not in name, header


def test_an_upload_named_with_fullwidth_slashes_downloads_under_a_safe_name(client, demo: Flask) -> None:
    login(client, "congdan@motcua.demo")
    uploaded = upload_json(client, apply_token(client), FULLWIDTH, PDF).get_json()
    assert uploaded["filename"] == "passwd.pdf"
    header = fetch(client, f"/attachments/{uploaded['id']}").headers["Content-Disposition"]
    assert header.startswith("attachment")
    assert names(header) == ("passwd.pdf", None)
    assert_safe(header)


@pytest.mark.parametrize(
    "stored",
    [
        FULLWIDTH,
        "../../etc/passwd.pdf",
        "..\\..\\boot.ini",
        'a"; filename=evil.exe',
        "tờ khai\r\nX-Injected: 1.pdf",
        "\u202egnp.exe",  # right-to-left override
        "．htaccess",
        "",
    ],
)
def test_names_stored_before_the_fix_are_cleaned_when_sent(client, app: Flask, demo: Flask, stored: str) -> None:
    dossier = apply_online(client)
    attachment = db.session.scalar(select(Attachment).where(Attachment.dossier_id == dossier.id))
    attachment.filename = stored  # as an older release may have kept it
    db.session.commit()
    for path in (
        f"/attachments/{attachment.id}",
        f"/attachments/{attachment.id}/view",
        f"/documents/dossiers/{dossier.id}/attachments/{attachment.id}",
        f"/documents/dossiers/{dossier.id}/attachments/{attachment.id}?inline=1",
    ):
        response = fetch(client, path)
        assert response.status_code == 200, path
        assert "X-Injected" not in response.headers
        assert_safe(response.headers["Content-Disposition"])
    officer = app.test_client()
    login(officer, DESK)
    response = fetch(officer, f"/documents/dossiers/{dossier.id}/attachments/{attachment.id}")
    assert_safe(response.headers["Content-Disposition"])


def test_the_vietnamese_name_is_kept_in_filename_star(client, demo: Flask) -> None:
    login(client, "congdan@motcua.demo")
    uploaded = upload_json(client, apply_token(client), "Đơn đề nghị／bản sao.pdf", PDF).get_json()
    header = fetch(client, f"/attachments/{uploaded['id']}").headers["Content-Disposition"]
    assert names(header) == ("ban sao.pdf", "bản sao.pdf")
    uploaded = upload_json(client, apply_token(client), "Giấy khai sinh của Đạt.pdf", PDF).get_json()
    header = fetch(client, f"/attachments/{uploaded['id']}").headers["Content-Disposition"]
    assert names(header) == ("Giay khai sinh cua Dat.pdf", "Giấy khai sinh của Đạt.pdf")


def test_the_name_rules() -> None:
    assert clean_filename(FULLWIDTH) == "passwd.pdf"
    assert clean_filename("..") == "file"
    assert clean_filename(".pdf") == "file.pdf"
    assert clean_filename("x\u2215y.pdf") == "y.pdf"  # division slash
    assert clean_filename("a" * 500 + ".pdf").endswith("a.pdf")
    assert len(clean_filename("a" * 500 + ".pdf")) == 200
    assert ascii_filename("日本語.pdf") == "file.pdf"
    assert content_disposition("a.pdf", inline=True) == 'inline; filename="a.pdf"'
