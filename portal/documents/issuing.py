"""Issuing signed documents: render (pdf.py), sign (signing.py), store immutably with the hash, record.

`issue_document` is a service: it flushes, the caller commits (the `documents.issue` Celery job in
portal/documents/tasks.py, queued after the commit of the step that made the document available). The stored
object is written before the row; if the transaction rolls back, the store removes it again
(portal/core/storage.py). Nothing here rewrites an issued PDF or its row; revocation only marks the row.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from portal.core import audit
from portal.core.errors import ServiceError
from portal.core.storage import put_in_transaction, storage
from portal.core.time import utcnow
from portal.extensions import db
from portal.models import DocumentKind, Dossier, IssuedDocument, User

from . import pdf, results, services, signing

# No 0/O, 1/I/L: easy to read off paper and type; 31**10 ≈ 8·10**14 codes, guessed only through a rate limit.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 10
MAX_REASON = 1000


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(text: str) -> str | None:
    """A code as typed (any case, with dashes or spaces, O for 0…) in its stored form; None if it cannot be one."""
    cleaned = "".join(ch for ch in (text or "")[:40].upper() if ch not in " -.\t")
    if len(cleaned) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in cleaned):
        return None
    return cleaned


def display_code(code: str) -> str:
    """ABCDE-23456: two groups of five, as printed."""
    return f"{code[:5]}-{code[5:]}" if len(code) == CODE_LENGTH else code


def basis_of(dossier: Dossier, kind: str) -> str:
    """What the document is issued for: one receipt per reception, one slip per decision, the process-control slip
    once per closing of the dossier (before it closes, per moment it is asked for)."""
    if kind == DocumentKind.RECEIPT:
        return "received"
    if kind in services.DECISION_DOCUMENTS:
        task = services.decision_task(dossier, services.DECISION_DOCUMENTS[kind])
        if task is None:
            raise ServiceError(_("This dossier has no such document yet."))
        return f"task:{task.id}"
    if kind == DocumentKind.RESULT:
        approval = results.result_task(dossier)
        if approval is None:
            raise ServiceError(_("This dossier has no such document yet."))
        return f"task:{approval.id}"
    if kind == DocumentKind.APOLOGY:
        entry = services.apology_event(dossier)
        if entry is None:
            raise ServiceError(_("This dossier has no such document yet."))
        return f"event:{entry.id}"
    closed = services.last_event(dossier, "closed") if kind == DocumentKind.PROCESS_CONTROL else None
    if closed is not None:  # the slip of the whole handling, for the archive, once the dossier has ended
        return f"event:{closed.id}"
    return f"at:{utcnow().isoformat(timespec='seconds')}"


def existing(dossier: Dossier, kind: str, basis: str) -> IssuedDocument | None:
    return db.session.scalar(
        select(IssuedDocument).where(
            IssuedDocument.dossier_id == dossier.id, IssuedDocument.kind == kind, IssuedDocument.basis == basis
        )
    )


def issue_document(dossier: Dossier, kind: str, *, now: datetime | None = None) -> IssuedDocument:
    """Render, sign, store and record the dossier's `kind` document; the one already issued for the same basis
    is returned as it is (issuing twice for one event gives one document). Flushes; the caller commits.
    Raises ServiceError when the dossier has no such document, SigningUnavailable when its agency has no key."""
    if kind not in DocumentKind.ALL:
        raise ServiceError(_("Unknown document type."))
    if not services.is_available(dossier, kind):
        raise ServiceError(_("This dossier has no such document yet."))
    basis = basis_of(dossier, kind)
    found = existing(dossier, kind, basis)
    if found is not None:
        return found
    agency = dossier.agency
    subject = signing.signer_subject(agency.code)  # fails early, before rendering, when there is no key
    signed_at = now or utcnow()
    code = _unused_code()
    unsigned = pdf.render_pdf(dossier, kind, code=code, signed_at=signed_at)
    signed = signing.sign_pdf(unsigned, agency.code, reason=str(services.TITLES[kind]), location=agency.name)
    key = f"issued-{uuid.uuid4().hex}.pdf"
    put_in_transaction(key, signed, "application/pdf")
    row = IssuedDocument(
        code=code,
        dossier_id=dossier.id,
        kind=kind,
        basis=basis,
        agency_id=agency.id,
        issued_at=signed_at,
        sha256=hashlib.sha256(signed).hexdigest(),
        size=len(signed),
        storage_key=key,
        signer_subject=subject,
    )
    db.session.add(row)
    db.session.flush()
    if kind == DocumentKind.RESULT:  # a result joins the applicant's document store, to be reused (legally kept)
        from portal.docstore.services import store_issued

        store_issued(row)
    return row


def _unused_code() -> str:
    while True:  # a collision is one in 10**14 per issued document: the loop ends at once
        code = new_code()
        if find(code) is None:
            return code


def find(code: str) -> IssuedDocument | None:
    normal = normalize_code(code)
    if normal is None:
        return None
    return db.session.scalar(select(IssuedDocument).where(IssuedDocument.code == normal))


def latest_issued(dossier: Dossier, kind: str) -> IssuedDocument | None:
    """The newest document of this kind for the dossier that is not revoked (the one to download)."""
    return db.session.scalar(
        select(IssuedDocument)
        .where(
            IssuedDocument.dossier_id == dossier.id,
            IssuedDocument.kind == kind,
            IssuedDocument.revoked_at.is_(None),
        )
        .order_by(IssuedDocument.issued_at.desc(), IssuedDocument.id.desc())
        .limit(1)
    )


def revoke_document(document: IssuedDocument, reason: str, by: User, *, now: datetime | None = None) -> None:
    """Mark an issued document revoked, with the reason (shown on /verify); once. Flushes; the caller commits."""
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(_("Please give the reason for revoking the document."))
    if document.revoked_at is not None:
        raise ServiceError(_("This document is already revoked."))
    document.revoked_at = now or utcnow()
    document.revoked_reason = reason[:MAX_REASON]
    document.revoked_by_id = by.id
    audit.record("document.revoke", by, document, code=document.code, reason=document.revoked_reason)
    db.session.flush()


def stored_bytes(document: IssuedDocument) -> bytes:
    return storage().get(document.storage_key)


# -- checking an uploaded file ----------------------------------------------------------------------------------


class Verdict:
    NOT_PDF = "not_pdf"  # the bytes are not a PDF, or one that cannot be read
    VALID = "valid"  # signed by a trusted key, intact, and exactly a document the portal issued
    REVOKED = "revoked"  # as valid, but the portal revoked the document
    NOT_VALID = "not_valid"  # anything else: unsigned, changed, untrusted signer, not issued by the portal


@dataclass(frozen=True)
class UploadCheck:
    verdict: str
    signature: signing.SignatureCheck
    document: IssuedDocument | None


PDF_MAGIC = b"%PDF-"


def looks_like_pdf(data: bytes) -> bool:
    """A PDF by its bytes: the header within the first kilobyte (as readers accept it) and an end-of-file mark."""
    return PDF_MAGIC in data[:1024] and b"%%EOF" in data[-2048:]


def check_upload(data: bytes) -> UploadCheck:
    """Is this file a document the portal issued, unchanged, with a signature that validates against the portal's
    trust roots? Both are needed: a valid signature on other bytes, or our bytes with a broken signature, fail."""
    if not looks_like_pdf(data):
        return UploadCheck(Verdict.NOT_PDF, signing.SignatureCheck(readable=False), None)
    signature = signing.check_signature(data)
    if not signature.readable:
        return UploadCheck(Verdict.NOT_PDF, signature, None)
    digest = hashlib.sha256(data).hexdigest()
    document = db.session.scalar(select(IssuedDocument).where(IssuedDocument.sha256 == digest).limit(1))
    if document is None or not signature.valid:
        return UploadCheck(Verdict.NOT_VALID, signature, document)
    return UploadCheck(Verdict.REVOKED if document.is_revoked else Verdict.VALID, signature, document)
