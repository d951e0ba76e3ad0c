"""Helpers shared by the citizen portal's HTTP tests (this module holds no test itself)."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient

from portal.auth.services import register_citizen
from portal.extensions import db
from portal.models import Dossier
from tests.helpers import PDF
from tests.web import csrf, login

CITIZEN = "congdan@motcua.demo"
OTHER = "khac@example.vn"
DESK = "tiepnhan@motcua.demo"
SPECIALIST = "dkkd@motcua.demo"
LEADER = "lanhdao@motcua.demo"
PASSWORD = "MotCua@2026"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
HEIC = b"\x00\x00\x00\x18ftypheic" + b"\x00" * 64
TEXT = b"just some text, not a document\n"
EN = {"Cookie": "lang=en"}  # a person who chose English (the portal does not follow Accept-Language)


def other_citizen() -> str:
    """A second citizen, to try every page with someone else's ids."""
    register_citizen("Trần Văn Khác", OTHER, "0987000111", "079200012345", PASSWORD)
    db.session.commit()
    return OTHER


def household(documents: str = "") -> dict[str, Any]:
    """The household business application form as a browser posts it."""
    return {
        "business_name": "Tạp hóa Mai Anh",
        "business_address": "12 Lê Lợi, phường Trung Tâm",
        "business_line": "retail",
        "business_line_detail": "",
        "capital": "50000000",
        "owner_full_name": "Võ Thị Mai",
        "owner_citizen_id": "001190012345",
        "phone": "0912345678",
        "documents": documents,
    }


def multipart(fields: dict[str, str], files: list[tuple[str, str, bytes]]) -> tuple[bytes, str]:
    """A multipart body as raw bytes (the test client would spool a large one to a file it never closes)."""
    boundary = "motcua-test-boundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    for name, filename, data in files:
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        )
        parts.append(head.encode() + data + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def upload_json(client: FlaskClient, token: str, name: str = "giay-de-nghi.pdf", data: bytes = PDF, **headers: str):
    body, content_type = multipart({"field": "documents"}, [("file", name, data)])
    return client.post(
        "/attachments/upload",
        data=body,
        headers={"X-CSRFToken": token, "Accept": "application/json", **headers},
        content_type=content_type,
    )


def apply_token(client: FlaskClient, key: str = "household_business") -> str:
    return csrf(client, f"/procedures/{key}/apply")


def apply_online(client: FlaskClient, email: str | None = CITIZEN) -> Dossier:
    """Sign in (unless email is None: already signed in), upload a file through the endpoint, send the household
    business form; returns the dossier."""
    if email is not None:
        login(client, email)
    token = apply_token(client)
    attachment = upload_json(client, token).get_json()["id"]
    response = client.post(
        "/procedures/household_business/apply", data={**household(str(attachment)), "csrf_token": token}
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    dossier_id = int(re.search(r"/my/dossiers/(\d+)/receipt", response.headers["Location"]).group(1))
    return db.session.get(Dossier, dossier_id)
