"""Celery jobs of signed documents. They take ids and commit per document (portal/core/web.py unit_of_work)."""

from __future__ import annotations

import logging

from celery import shared_task
from sqlalchemy.exc import IntegrityError

log = logging.getLogger(__name__)


@shared_task(name="documents.issue", ignore_result=True)
def issue(dossier_id: int, kind: str) -> str:
    """Issue the dossier's `kind` document (queued after the commit that made it available). Returns its code, or
    why nothing was issued: "no-key" (the agency has no signing key yet), "no-template" (a result without a
    template), "gone", "failed"."""
    from portal.core.web import unit_of_work
    from portal.extensions import db
    from portal.models import Dossier

    from . import signing
    from .issuing import issue_document

    try:
        with unit_of_work():
            dossier = db.session.get(Dossier, int(dossier_id))
            if dossier is None:
                return "gone"
            if kind == "result" and not dossier.version.result_template:  # the procedure has no result template
                log.info("procedure version %s has no result template: no result PDF", dossier.procedure_version_id)
                return "no-template"
            if not signing.has_key(dossier.agency.code):
                log.info(
                    "no signing key for agency %s: %s of dossier %s not issued", dossier.agency.code, kind, dossier_id
                )
                return "no-key"
            return issue_document(dossier, kind).code
    except IntegrityError:  # another worker issued it for the same event at the same moment
        log.info("%s of dossier %s was issued by another worker", kind, dossier_id)
        return "exists"
    except Exception:
        log.exception("could not issue %s of dossier %s", kind, dossier_id)
        return "failed"


@shared_task(name="documents.sweep", ignore_result=True)
def sweep() -> int:
    """Issue the documents whose `documents.issue` job was lost or failed (portal/documents/sweep.py), one
    transaction each; nothing while issuing is turned off or no agency has a key. Returns how many were issued."""
    from flask import current_app

    from portal.extensions import db

    from . import signing
    from .sweep import missing

    if not current_app.config.get("DOCUMENTS_ISSUE_AUTOMATICALLY", True) or not signing.any_keys():
        return 0
    try:
        wanted = missing()
    finally:
        db.session.rollback()
    results = [issue(dossier_id, kind) for dossier_id, kind in wanted]
    issued = sum(1 for result in results if result not in ("no-key", "gone", "failed", "exists"))
    if wanted:
        log.info("documents sweep: %d missing, %d issued", len(wanted), issued)
    return issued
