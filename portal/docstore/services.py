"""The citizen's document store: filling it (an accepted dossier's attachments, issued results, the citizen's own
uploads), offering its documents when applying, recording their uses, and deleting what is not legally kept.

Services flush; the caller commits (portal/core/web.py unit_of_work). See docs/DOCUMENTS.md, "The citizen's
document store", for what is kept, how long and why.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.datastructures import MultiDict

from portal.attachments.services import store_upload
from portal.core import audit, storage
from portal.core.errors import InvalidInput, NotFound
from portal.core.time import utcnow
from portal.extensions import db
from portal.models import Attachment, Dossier, IssuedDocument, StoredDocument, StoredDocumentUse, StoredSource, User

STORE_SUFFIX = "__store"  # the select "use a document from my store" of file field `x` is named `x__store`
RESULT_KIND = "result"


def today() -> date:
    return utcnow().date()


def keep_accepted(dossier: Dossier, officer: User, now: datetime) -> list[StoredDocument]:
    """The desk accepted `dossier`: its applicant's attachments join the applicant's store, verified by `officer`
    at `now`. Files that came from the store, and files already in it (same hash), are not added twice."""
    mine = [
        a
        for a in sorted(dossier.attachments, key=lambda a: a.id)
        if a.uploaded_by_id == dossier.applicant_id and a.stored_document_id is None
    ]
    if not mine:
        return []
    have = set(
        db.session.scalars(
            select(StoredDocument.sha256).where(
                StoredDocument.owner_id == dossier.applicant_id, StoredDocument.deleted_at.is_(None)
            )
        )
    )
    added = []
    for attachment in mine:
        if attachment.sha256 in have:
            continue
        have.add(attachment.sha256)
        document = StoredDocument(
            owner_id=dossier.applicant_id,
            title=attachment.filename,
            kind=attachment.field,
            filename=attachment.filename,
            content_type=attachment.content_type,
            size=attachment.size,
            sha256=attachment.sha256,
            storage_key=attachment.storage_key,  # the attachment's own object, shared
            source=StoredSource.ATTACHMENT,
            source_dossier_id=dossier.id,
            source_attachment_id=attachment.id,
            verified_at=now,
            verified_by_id=officer.id,
            verifier=officer.full_name,
            legally_kept=False,
            created_at=now,
        )
        db.session.add(document)
        added.append(document)
    db.session.flush()
    return added


def store_issued(document: IssuedDocument, *, title: str | None = None) -> StoredDocument | None:
    """An issued result joins its applicant's store: verified by the issuing agency (its signature), legally kept,
    sharing the issued document's object. Idempotent: a document already stored is returned as it is."""
    if document.kind != RESULT_KIND:
        return None  # one-stop-shop slips (receipt, refusal…) are not documents to reuse
    found = db.session.scalar(select(StoredDocument).where(StoredDocument.issued_document_id == document.id))
    if found is not None:
        return found
    dossier = document.dossier
    if dossier is None:
        return None
    agency = document.agency
    # Named after what it is, the procedure's result (the store's source column names the dossier).
    procedure = dossier.version.procedure if dossier.version is not None else None
    stored = StoredDocument(
        owner_id=dossier.applicant_id,
        title=title or _result_title(procedure.name if procedure else None, dossier.code),
        kind=RESULT_KIND,
        filename=f"ket-qua-{document.code}.pdf",
        content_type="application/pdf",
        size=document.size,
        sha256=document.sha256,
        storage_key=document.storage_key,  # the issued PDF's own object, shared and never rewritten
        source=StoredSource.RESULT,
        source_dossier_id=dossier.id,
        issued_document_id=document.id,
        valid_from=document.issued_at.date() if document.issued_at else None,
        verified_at=document.issued_at,
        verifier=agency.name if agency is not None else None,
        legally_kept=True,
    )
    db.session.add(stored)
    db.session.flush()
    return stored


def _result_title(procedure_name: str | None, code: str) -> str:
    if procedure_name:
        return _("Result of the procedure: %(procedure)s", procedure=procedure_name)
    return _("Result of dossier %(code)s", code=code)


def add_upload(owner: User, title: str, filename: str, data: bytes, valid_until: date | None) -> StoredDocument:
    """The citizen puts a file of their own in the store (checked like an attachment; not verified, deletable)."""
    # The same checks and typing as an application's upload, then the object is the stored document's alone.
    attachment = store_upload(owner, filename, data)
    stored = StoredDocument(
        owner_id=owner.id,
        title=title.strip() or attachment.filename,
        filename=attachment.filename,
        content_type=attachment.content_type,
        size=attachment.size,
        sha256=attachment.sha256,
        storage_key=attachment.storage_key,
        source=StoredSource.UPLOAD,
        valid_until=valid_until,
        legally_kept=False,
    )
    db.session.delete(attachment)  # only the stored document names the object now
    db.session.add(stored)
    db.session.flush()
    audit.record("docstore.upload", owner, stored, title=stored.title)
    return stored


def documents_of(owner: User) -> list[StoredDocument]:
    """The owner's live documents, newest first, with their uses."""
    query = (
        select(StoredDocument)
        .where(StoredDocument.owner_id == owner.id, StoredDocument.deleted_at.is_(None))
        .options(selectinload(StoredDocument.uses).selectinload(StoredDocumentUse.dossier))
        .order_by(StoredDocument.created_at.desc(), StoredDocument.id.desc())
    )
    return list(db.session.scalars(query))


def own_document(owner: User, document_id: int) -> StoredDocument | None:
    """The owner's live document; None for a missing, deleted or someone else's one (they look the same)."""
    found = db.session.get(StoredDocument, document_id)
    if found is None or found.owner_id != owner.id or found.deleted_at is not None:
        return None
    return found


def usable(owner: User, content_types: Iterable[str], *, day: date | None = None) -> list[StoredDocument]:
    """The owner's documents a file field can take today: live, still valid, of an accepted type."""
    day = day or today()
    query = (
        select(StoredDocument)
        .where(
            StoredDocument.owner_id == owner.id,
            StoredDocument.deleted_at.is_(None),
            StoredDocument.content_type.in_(sorted(set(content_types))),
        )
        .options(joinedload(StoredDocument.issued_document))
        .order_by(StoredDocument.created_at.desc(), StoredDocument.id.desc())
    )
    return [d for d in db.session.scalars(query) if usable_on(d, day)]


def usable_on(document: StoredDocument, day: date) -> bool:
    """Live, within its validity dates, and not a revoked result."""
    revoked = document.issued_document is not None and document.issued_document.is_revoked
    return document.valid_on(day) and not revoked


@dataclass(frozen=True)
class Choice:
    field: str
    content_types: tuple[str, ...]


def take_store_choices(
    owner: User, choices: Iterable[Choice], formdata: MultiDict, *, day: date | None = None
) -> dict[str, list[str]]:
    """The application form's "use a document from my store" selects: each chosen document becomes an attachment
    of the citizen (a copy of its object, referencing the stored document) added to its field's files, so it
    counts for the field's validation and is claimed with the dossier. Refusals come back by field; a refused
    choice attaches nothing. Flushes."""
    day = day or today()
    errors: dict[str, list[str]] = {}
    for choice in choices:
        raw = (formdata.get(choice.field + STORE_SUFFIX) or "").strip()
        formdata.setlist(choice.field + STORE_SUFFIX, [""])  # taken (or refused): not chosen again on a new post
        if not raw:
            continue
        document = own_document(owner, int(raw)) if raw.isdigit() and len(raw) < 10 else None  # fits an INTEGER
        if document is None or not usable_on(document, day) or document.content_type not in choice.content_types:
            errors.setdefault(choice.field, []).append(
                _("This document is not in your store, or can no longer be used. Choose another one or upload a file.")
            )
            continue
        attachment = attach_copy(owner, document, choice.field)
        ids = [part for part in (formdata.get(choice.field) or "").split(",") if part.strip()]
        formdata.setlist(choice.field, [",".join([*ids, str(attachment.id)])])
    return errors


def attach_copy(owner: User, document: StoredDocument, field: str) -> Attachment:
    """A new attachment of `owner` with the stored document's bytes (its own object: attachments are kept with
    their dossier whatever happens to the store later)."""
    data = storage.storage().get(document.storage_key)
    key = secrets.token_hex(16)
    storage.put_in_transaction(key, data, document.content_type)
    attachment = Attachment(
        filename=document.filename,
        content_type=document.content_type,
        size=document.size,
        sha256=document.sha256,
        storage_key=key,
        uploaded_by_id=owner.id,
        field=field,
        stored_document_id=document.id,
    )
    db.session.add(attachment)
    db.session.flush()
    return attachment


def record_uses(dossier: Dossier, actor: User, now: datetime | None = None) -> list[StoredDocumentUse]:
    """Log the stored documents the dossier's attachments came from (one row per attachment), those of its
    application or of a later answer: an attachment whose use is logged already is not logged again. Flushes."""
    now = now or utcnow()
    logged = select(StoredDocumentUse.id).where(StoredDocumentUse.attachment_id == Attachment.id).exists()
    taken = select(Attachment.id, Attachment.stored_document_id).where(
        Attachment.dossier_id == dossier.id, Attachment.stored_document_id.is_not(None), ~logged
    )
    uses = []
    for attachment_id, stored_document_id in db.session.execute(taken):
        use = StoredDocumentUse(
            stored_document_id=stored_document_id,
            dossier_id=dossier.id,
            attachment_id=attachment_id,
            used_at=now,
            used_by_id=actor.id,
        )
        db.session.add(use)
        uses.append(use)
    if uses:
        db.session.flush()
    return uses


def delete(owner: User, document_id: int) -> list[str]:
    """The citizen deletes a document that is not legally kept: it leaves the store (the row stays, marked deleted,
    so the log of its past uses remains). Returns the storage keys to remove once committed: the object of a
    citizen's own upload; an accepted attachment's object stays with its dossier. Audited. Flushes."""
    document = own_document(owner, document_id)
    if document is None:
        raise NotFound(_("No such document in your store."))
    if document.legally_kept:
        raise InvalidInput(_("This document is kept as the law requires and cannot be deleted."))
    document.deleted_at = utcnow()
    audit.record("docstore.delete", owner, document, title=document.title, source=document.source)
    db.session.flush()
    return [document.storage_key] if document.source == StoredSource.UPLOAD else []


def store_origin(attachments: Iterable[Attachment]) -> Mapping[int, StoredDocument]:
    """For the officer's pages: the stored document each attachment came from, by attachment id."""
    wanted = {a.stored_document_id for a in attachments if a.stored_document_id is not None}
    if not wanted:
        return {}
    found = {d.id: d for d in db.session.scalars(select(StoredDocument).where(StoredDocument.id.in_(wanted)))}
    return {a.id: found[a.stored_document_id] for a in attachments if a.stored_document_id in found}
