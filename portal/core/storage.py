"""Where attachment and issued-document bytes live: a local folder (the embedded default) or S3-compatible storage.

`storage()` is the store the application is configured with (STORAGE_BACKEND "local" or "s3"). Objects are named
by the attachment's random `storage_key`; the database row is the only way to find one, so an object without a
row is unreachable. Writes happen before the caller's commit; an object written in a transaction that rolls back
is deleted again (best effort, see `remember_written`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from flask import Flask, Response, current_app, send_file
from sqlalchemy.orm import Session, SessionTransaction

from portal.core import session_hooks
from portal.extensions import db

log = logging.getLogger(__name__)
CHUNK_BYTES = 64 * 1024
WRITTEN = "storage_written"  # session.info: (store, key) written in the current transaction


class StorageUnavailable(Exception):
    """The store cannot be reached or refused the operation (not "no such object")."""


class Storage(Protocol):
    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def get(self, key: str) -> bytes:
        """The object's bytes; FileNotFoundError when there is none."""
        ...

    def delete(self, key: str) -> None:
        """Remove the object; a missing one is fine."""
        ...

    def exists(self, key: str) -> bool: ...


def check_key(key: str) -> str:
    if not key or "/" in key or "\\" in key or key in (".", ".."):
        raise ValueError(f"not a storage key: {key!r}")
    return key


class LocalStorage:
    """Files named by their key in one folder (UPLOAD_DIR)."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def path(self, key: str) -> Path:
        return self.directory / check_key(key)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.path(key).write_bytes(data)

    def get(self, key: str) -> bytes:
        return self.path(key).read_bytes()

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()


class S3Storage:
    """Objects in an S3-compatible bucket, under an optional key prefix (e.g. "motcua/")."""

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        prefix: str = "",
        connect_timeout: float = 5,
        read_timeout: float = 30,
    ) -> None:
        import boto3
        from botocore.config import Config as BotoConfig

        self.bucket = bucket
        self.prefix = prefix
        settings = BotoConfig(
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            retries={"max_attempts": 2, "mode": "standard"},
            s3={"addressing_style": "path" if endpoint_url else "auto"},
        )
        self.client: Any = boto3.client(
            "s3",
            endpoint_url=endpoint_url or None,
            region_name=region or None,
            aws_access_key_id=access_key_id or None,  # None: boto3's own chain (AWS_* variables, instance role)
            aws_secret_access_key=secret_access_key or None,
            config=settings,
        )

    def object_key(self, key: str) -> str:
        return self.prefix + check_key(key)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        with _translated(key):
            self.client.put_object(Bucket=self.bucket, Key=self.object_key(key), Body=data, ContentType=content_type)

    def open(self, key: str) -> tuple[Any, int]:
        """The object's streaming body and its length; FileNotFoundError when there is none."""
        with _translated(key):
            found = self.client.get_object(Bucket=self.bucket, Key=self.object_key(key))
        return found["Body"], int(found["ContentLength"])

    def get(self, key: str) -> bytes:
        body, _size = self.open(key)
        try:
            with _translated(key):
                return body.read()
        finally:
            body.close()

    def delete(self, key: str) -> None:
        with _translated(key):
            self.client.delete_object(Bucket=self.bucket, Key=self.object_key(key))

    def exists(self, key: str) -> bool:
        try:
            with _translated(key):
                self.client.head_object(Bucket=self.bucket, Key=self.object_key(key))
        except FileNotFoundError:
            return False
        return True


@contextmanager
def _translated(key: str) -> Iterator[None]:
    """botocore's errors as FileNotFoundError (no such object) or StorageUnavailable (anything else)."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", ""))
        if code in ("NoSuchKey", "404", "NotFound"):
            raise FileNotFoundError(key) from error
        raise StorageUnavailable(f"object storage refused: {code}") from error
    except BotoCoreError as error:
        raise StorageUnavailable(f"object storage unreachable: {type(error).__name__}") from error


def build(config: Any) -> Storage:
    backend = (config.get("STORAGE_BACKEND") or "local").lower()
    if backend == "local":
        return LocalStorage(config["UPLOAD_DIR"])
    if backend == "s3":
        if not config.get("S3_BUCKET"):
            raise RuntimeError("STORAGE_BACKEND=s3 needs S3_BUCKET")
        return S3Storage(
            config["S3_BUCKET"],
            endpoint_url=config.get("S3_ENDPOINT_URL"),
            region=config.get("S3_REGION"),
            access_key_id=config.get("S3_ACCESS_KEY_ID"),
            secret_access_key=config.get("S3_SECRET_ACCESS_KEY"),
            prefix=config.get("S3_PREFIX") or "",
        )
    raise RuntimeError(f"STORAGE_BACKEND must be 'local' or 's3', not {backend!r}")


def storage(app: Flask | None = None) -> Storage:
    """The application's store, built once per application from its configuration."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    found = app.extensions.get("storage")
    if found is None:
        found = app.extensions["storage"] = build(app.config)
    return found


def put_in_transaction(key: str, data: bytes, content_type: str) -> None:
    """Write an object for a row the caller is about to flush; deleted again if the transaction rolls back."""
    store = storage()
    store.put(key, data, content_type)
    remember_written(store, key)


def remember_written(store: Storage, key: str) -> None:
    db.session.info.setdefault(WRITTEN, []).append((store, key))


def _forget(session: Session, *_args: Any) -> None:
    session.info.pop(WRITTEN, None)


def _remove_written(session: Session, previous: SessionTransaction) -> None:
    if previous.parent is not None:  # a savepoint: the outer transaction decides
        return
    for store, key in session.info.pop(WRITTEN, None) or []:
        try:
            store.delete(key)
        except Exception:  # the store may be the reason of the rollback; the object stays, unreachable
            log.warning("could not remove %s after a rollback", key, exc_info=True)


# Called at every commit and rollback (each only pops a key when nothing was written), after the other areas'.
session_hooks.register(session_hooks.Stage.STORAGE, after_commit=_forget, after_soft_rollback=_remove_written)


def remove_stored(keys: Iterable[str]) -> None:
    """Delete objects once the rows that named them are deleted and committed (missing ones are fine; an
    unreachable store leaves them, unreachable, and is logged)."""
    store = storage()
    for key in keys:
        try:
            store.delete(key)
        except (StorageUnavailable, ValueError):
            log.warning("could not remove stored file %s", key, exc_info=True)


def send_stored(key: str, mimetype: str) -> Response | None:
    """The object as a response (no caching: max_age 0), or None when it is missing.

    The local folder is served by send_file (it streams and answers conditional requests); an S3 object is
    streamed through the portal, so that the portal's authorization checks stay the only way in.
    """
    store = storage()
    if isinstance(store, LocalStorage):
        path = store.path(key)
        if not path.is_file():
            return None
        return send_file(path, mimetype=mimetype, max_age=0)
    if isinstance(store, S3Storage):
        try:
            body, size = store.open(key)
        except FileNotFoundError:
            return None

        def chunks() -> Iterator[bytes]:
            try:
                yield from body.iter_chunks(CHUNK_BYTES)
            finally:
                body.close()

        response = Response(chunks(), mimetype=mimetype, direct_passthrough=True)
        response.headers["Content-Length"] = str(size)
        response.cache_control.no_cache = True
        response.cache_control.max_age = 0
        response.call_on_close(body.close)
        return response
    try:  # any other store: read it whole
        data = store.get(key)
    except FileNotFoundError:
        return None
    return Response(data, mimetype=mimetype)
