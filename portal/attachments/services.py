"""Attachments: stored under random keys (portal.core.storage: UPLOAD_DIR or S3), typed by their bytes, not
by their name.

A citizen uploads files before submitting (they belong to nobody's dossier yet); the step that names them in a
file field claims them for the dossier in the same transaction as the step itself.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable

from flask_babel import gettext as _
from sqlalchemy import select

from portal.attachments.names import clean_filename
from portal.core import storage
from portal.core.errors import InvalidInput
from portal.core.storage import put_in_transaction
from portal.extensions import db
from portal.models import Attachment, Dossier, User

MAX_FILE_BYTES = 10 * 1024 * 1024
HEIC_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"mif1", b"msf1", b"heim", b"heis")


def sniff_type(head: bytes) -> str | None:
    """The content type the bytes really are, among those we accept; None for anything else."""
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[4:8] == b"ftyp" and head[8:12] in HEIC_BRANDS:
        return "image/heic"
    return None


def _safe_name(filename: str) -> str:
    return clean_filename(filename)  # look-alike slashes and dots too, not only "/" and "\\"


def store_upload(owner: User, filename: str, data: bytes, field: str | None = None) -> Attachment:
    """Check and store an uploaded file. Flushes; the caller commits.

    The bytes are written before the commit; if the transaction rolls back they are deleted again (and if even
    that fails, they stay unreferenced, which loses nothing: no row points at them). An unreachable store
    raises StorageUnavailable before anything is flushed.
    """
    if not data:
        raise InvalidInput(_("The file %(name)s is empty.", name=filename))
    if len(data) > MAX_FILE_BYTES:
        raise InvalidInput(_("The file %(name)s is larger than %(mb)d MB.", name=filename, mb=MAX_FILE_BYTES // 2**20))
    content_type = sniff_type(data[:16])
    if content_type is None:
        raise InvalidInput(_("The file %(name)s is not a PDF, JPEG, PNG or HEIC file.", name=filename))
    key = secrets.token_hex(16)
    put_in_transaction(key, data, content_type)
    attachment = Attachment(
        filename=_safe_name(filename),
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        storage_key=key,
        uploaded_by_id=owner.id,
        field=field,
    )
    db.session.add(attachment)
    db.session.flush()
    return attachment


def parse_ids(value: object) -> list[int]:
    if value in (None, ""):
        return []
    return [int(part) for part in str(value).split(",") if part.strip()]


def claim(ids: Iterable[int], actor: User, dossier: Dossier, field: str) -> list[Attachment]:
    """Attach files named in a step's file field to the dossier, refusing anyone else's files."""
    wanted = set(ids)
    if not wanted:
        return []
    rows = db.session.scalars(select(Attachment).where(Attachment.id.in_(wanted)))
    found = [a for a in rows if a.uploaded_by_id == actor.id and a.dossier_id in (None, dossier.id)]
    if {a.id for a in found} != wanted:
        raise InvalidInput(_("An attached file was not found."), {field: [_("An attached file was not found.")]})
    for attachment in found:
        attachment.dossier_id = dossier.id
        attachment.field = attachment.field or field
    return found


def remove_stored(keys: Iterable[str]) -> None:
    """Remove files from the store once the rows that named them are deleted and committed (a missing one is
    fine)."""
    storage.remove_stored(keys)
