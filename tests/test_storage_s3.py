"""Attachments in S3-compatible object storage (STORAGE_BACKEND=s3), against a local S3 server (moto) on loopback:
uploads land in the bucket and nowhere on disk, downloads stream through the portal's own access checks,
deleted drafts delete their objects, a rollback removes what it wrote, and an unreachable store gives a plain
503 instead of a 500 or a half-saved dossier."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config as BotoConfig
from flask import Flask
from moto.server import ThreadedMotoServer
from sqlalchemy import func, select

from portal import create_app
from portal.attachments.services import store_upload
from portal.core.cache import clear_all
from portal.core.storage import LocalStorage, S3Storage, Storage, StorageUnavailable, storage
from portal.core.web import unit_of_work
from portal.extensions import db
from portal.models import Attachment, Dossier
from tests.conftest import FreshContextClient, _empty_tables
from tests.helpers import PDF
from tests.test_citizen_drafts import discard_path, save_a_draft
from tests.test_citizen_support import (
    CITIZEN,
    DESK,
    EN,
    apply_online,
    apply_token,
    household,
    other_citizen,
    upload_json,
)
from tests.web import csrf, login

CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"}


class S3Server:
    def __init__(self) -> None:
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)  # port 0: a free one
        self.server.start()
        host, port = self.server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        self.client: Any = boto3.client(
            "s3", endpoint_url=self.endpoint, config=BotoConfig(retries={"max_attempts": 1}), **CREDENTIALS
        )

    def new_bucket(self) -> str:
        name = f"motcua-{uuid.uuid4().hex[:12]}"
        self.client.create_bucket(Bucket=name)
        return name

    def keys(self, bucket: str) -> list[str]:
        return [o["Key"] for o in self.client.list_objects_v2(Bucket=bucket).get("Contents", [])]

    def stop(self) -> None:
        """The store goes away: the listening socket is closed too, so connections are refused."""
        self.server.stop()
        inner = self.server._server
        if inner is not None:
            inner.server_close()


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    server = S3Server()
    yield server
    server.stop()


def s3_app(schema: str, tmp_path: Path, endpoint: str, bucket: str) -> Flask:
    return create_app(
        {
            "ENV": "testing",
            "SQLALCHEMY_DATABASE_URI": schema,
            "UPLOAD_DIR": str(tmp_path / "uploads"),
            "WTF_CSRF_ENABLED": True,
            "STORAGE_BACKEND": "s3",
            "S3_BUCKET": bucket,
            "S3_ENDPOINT_URL": endpoint,
            "S3_REGION": "us-east-1",
            "S3_ACCESS_KEY_ID": "testing",
            "S3_SECRET_ACCESS_KEY": "testing",
            "S3_PREFIX": "motcua/",
        }
    )


@pytest.fixture
def app(_schema: str, tmp_path: Path, s3: S3Server) -> Iterator[Flask]:
    """The suite's app fixture, on a fresh bucket of the module's S3 server."""
    app = s3_app(_schema, tmp_path, s3.endpoint, s3.new_bucket())
    app.test_client_class = FreshContextClient
    with app.app_context():
        try:
            yield app
        finally:
            db.session.rollback()
            _empty_tables()
            clear_all()
            db.session.remove()
            db.engine.dispose()


def fetch(client, path: str, **headers: str):
    response = client.get(path, headers=headers)
    response.get_data()
    response.close()
    return response


def object_of(s3: S3Server, app: Flask, attachment: Attachment) -> dict[str, Any]:
    return s3.client.get_object(Bucket=app.config["S3_BUCKET"], Key="motcua/" + attachment.storage_key)


def test_an_application_s_file_lives_in_the_bucket_and_is_served_through_the_portal(
    client, app: Flask, demo: Flask, s3: S3Server
) -> None:
    dossier = apply_online(client)
    attachment = db.session.scalar(select(Attachment).where(Attachment.dossier_id == dossier.id))
    stored = object_of(s3, app, attachment)
    assert stored["Body"].read() == PDF
    assert stored["ContentType"] == "application/pdf"
    assert s3.keys(app.config["S3_BUCKET"]) == ["motcua/" + attachment.storage_key]  # under the prefix
    uploads = Path(app.config["UPLOAD_DIR"])
    assert not uploads.exists() or not any(uploads.iterdir())  # nothing on the local disk

    officer = app.test_client()
    login(officer, DESK)
    for path in (f"/attachments/{attachment.id}", f"/documents/dossiers/{dossier.id}/attachments/{attachment.id}"):
        download = fetch(officer, path)
        assert download.status_code == 200
        assert download.data == PDF
        assert download.headers["Content-Type"] == "application/pdf"
        assert download.headers["Content-Length"] == str(len(PDF))
        assert download.headers["Content-Disposition"].startswith("attachment")
        assert download.headers["Cache-Control"] == "private, no-store"
    inline = fetch(officer, f"/documents/dossiers/{dossier.id}/attachments/{attachment.id}?inline=1")
    assert inline.data == PDF
    assert inline.headers["Content-Disposition"].startswith("inline")

    stranger = app.test_client()
    login(stranger, other_citizen())
    assert fetch(stranger, f"/attachments/{attachment.id}").status_code == 404
    assert fetch(stranger, f"/attachments/{attachment.id}/view").status_code == 404
    assert fetch(stranger, f"/documents/dossiers/{dossier.id}/attachments/{attachment.id}").status_code == 404


def test_an_object_gone_from_the_bucket_is_a_404(client, app: Flask, demo: Flask, s3: S3Server) -> None:
    dossier = apply_online(client)
    attachment = db.session.scalar(select(Attachment).where(Attachment.dossier_id == dossier.id))
    s3.client.delete_object(Bucket=app.config["S3_BUCKET"], Key="motcua/" + attachment.storage_key)
    assert fetch(client, f"/attachments/{attachment.id}").status_code == 404
    missing = fetch(client, f"/documents/dossiers/{dossier.id}/attachments/{attachment.id}", **EN)
    assert missing.status_code == 404
    assert b"missing from the store" in missing.data


def test_deleting_a_draft_deletes_its_objects(client, app: Flask, demo: Flask, s3: S3Server) -> None:
    draft, attachment = save_a_draft(client)
    bucket = app.config["S3_BUCKET"]
    assert s3.keys(bucket) == ["motcua/" + attachment.storage_key]
    response = client.post(discard_path(draft), data={"csrf_token": csrf(client, discard_path(draft))})
    assert response.status_code == 302
    assert s3.keys(bucket) == []


def test_a_rolled_back_transaction_removes_what_it_wrote(app: Flask, demo: Flask, s3: S3Server) -> None:
    from tests.helpers import user

    written: list[list[str]] = []

    def step_that_fails() -> None:
        with unit_of_work():
            store_upload(user(CITIZEN), "don.pdf", PDF, "documents")
            written.append(s3.keys(app.config["S3_BUCKET"]))  # written before the commit
            raise RuntimeError("the rest of the step failed")

    with pytest.raises(RuntimeError, match="the rest of the step failed"):
        step_that_fails()
    assert len(written[0]) == 1
    assert s3.keys(app.config["S3_BUCKET"]) == []
    assert db.session.scalar(select(func.count(Attachment.id))) == 0


def test_an_unreachable_store_gives_a_plain_503_and_saves_nothing(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    server = S3Server()  # its own server: this test stops it
    app = s3_app(request.getfixturevalue("_schema"), tmp_path, server.endpoint, server.new_bucket())
    app.test_client_class = FreshContextClient
    with app.app_context():
        try:
            from portal.demo import seed_demo

            list(seed_demo())
            db.session.commit()
            client = app.test_client()
            login(client, CITIZEN)
            token = apply_token(client)
            server.stop()

            refused = upload_json(client, token)
            assert refused.status_code == 503
            assert refused.get_json() == {
                "error": "unavailable",
                "message": "Chưa lưu được tệp lúc này. Vui lòng thử lại sau một phút.",
            }
            english = upload_json(client, token, **EN)
            assert english.status_code == 503
            assert (
                english.get_json()["message"] == "The file could not be stored just now. Please try again in a minute."
            )

            # Without JavaScript the file comes with the form: the outage page, and no dossier.
            data = {**household(), "csrf_token": token, "documents__upload": (BytesIO(PDF), "don.pdf")}
            page = client.post(
                "/procedures/household_business/apply", data=data, content_type="multipart/form-data", headers=EN
            )
            assert page.status_code == 503
            assert "briefly unavailable" in page.get_data(as_text=True)
            assert page.headers["Retry-After"]
            db.session.expire_all()
            assert db.session.scalar(select(func.count(Dossier.id))) == 0
            assert db.session.scalar(select(func.count(Attachment.id))) == 0
            assert not Path(app.config["UPLOAD_DIR"]).exists()
        finally:
            db.session.rollback()
            _empty_tables()
            clear_all()
            db.session.remove()
            db.engine.dispose()


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    if request.param == "local":
        return LocalStorage(tmp_path / "files")
    s3: S3Server = request.getfixturevalue("s3")
    return S3Storage(
        s3.new_bucket(),
        endpoint_url=s3.endpoint,
        region="us-east-1",
        access_key_id="testing",
        secret_access_key="testing",
        prefix="p/",
    )


def test_both_stores_behave_the_same(store: Storage) -> None:
    key = uuid.uuid4().hex
    assert not store.exists(key)
    with pytest.raises(FileNotFoundError):
        store.get(key)
    store.delete(key)  # a missing object is fine
    store.put(key, PDF, "application/pdf")
    assert store.exists(key)
    assert store.get(key) == PDF
    store.put(key, b"%PDF-2", "application/pdf")  # a second write replaces the first
    assert store.get(key) == b"%PDF-2"
    store.delete(key)
    assert not store.exists(key)
    for bad in ("", "../x", "a/b", "a\\b", ".."):
        with pytest.raises(ValueError, match="not a storage key"):
            store.put(bad, PDF, "application/pdf")


def test_an_unreachable_s3_store_raises_storage_unavailable() -> None:
    server = S3Server()
    bucket = server.new_bucket()
    server.stop()
    store = S3Storage(
        bucket, endpoint_url=server.endpoint, region="us-east-1", access_key_id="x", secret_access_key="x"
    )
    with pytest.raises(StorageUnavailable):
        store.put(uuid.uuid4().hex, PDF, "application/pdf")
    with pytest.raises(StorageUnavailable):
        store.exists(uuid.uuid4().hex)


def test_the_configured_store(app: Flask, tmp_path: Path) -> None:
    assert isinstance(storage(), S3Storage)
    local = create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": "sqlite://", "UPLOAD_DIR": str(tmp_path)})
    assert isinstance(storage(local), LocalStorage)  # the embedded default
    wrong = create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": "sqlite://", "STORAGE_BACKEND": "ftp"})
    with pytest.raises(RuntimeError, match="'local' or 's3'"):
        storage(wrong)
