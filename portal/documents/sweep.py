"""The sweep for documents that should have been issued but were not: the `documents.issue` job queued at the
commit was lost (a broker restart, a worker killed mid-job, a queue flushed) or failed. Every
BEAT_DOCUMENTS_SWEEP_SECONDS, the `documents.sweep` job looks for receptions, decisions (supplement requests,
refusals, approved results), apologies and closings (the process-control slip) older than
DOCUMENTS_SWEEP_GRACE_SECONDS (time for the job queued at the commit to run) and younger than
DOCUMENTS_SWEEP_LOOKBACK_DAYS (keys installed today do not issue years of old receipts) whose document does not
exist, and issues them, DOCUMENTS_SWEEP_BATCH a pass. Only agencies with a key are looked at; issuing is idempotent
(the same basis gives the same document; two workers racing are settled by the unique basis constraint).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Exists, String, and_, cast, exists, literal, or_, select
from sqlalchemy.orm import aliased

from portal.core.time import utcnow
from portal.extensions import db
from portal.models import Agency, DocumentKind, Dossier, DossierEvent, IssuedDocument, ProcedureVersion, Task, TaskState

from . import signing
from .results import result_steps_of
from .services import DECISION_DOCUMENTS

log = logging.getLogger(__name__)


def agencies_with_keys() -> list[int]:
    in_database = signing.agency_ids_with_database_keys()
    return [a.id for a in db.session.scalars(select(Agency)) if a.id in in_database or signing.has_file_key(a.code)]


def missing(now: datetime | None = None, limit: int | None = None) -> list[tuple[int, str]]:
    """(dossier id, kind) of the documents to issue again, oldest event first."""
    config = current_app.config
    now = now or utcnow()
    before = now - timedelta(seconds=float(config["DOCUMENTS_SWEEP_GRACE_SECONDS"]))
    since = now - timedelta(days=float(config["DOCUMENTS_SWEEP_LOOKBACK_DAYS"]))
    limit = limit if limit is not None else int(config["DOCUMENTS_SWEEP_BATCH"])
    agencies = agencies_with_keys()
    if not agencies or limit <= 0:
        return []

    def issued(kind: str, basis: Any) -> Exists:
        return exists().where(
            IssuedDocument.dossier_id == Dossier.id, IssuedDocument.kind == kind, IssuedDocument.basis == basis
        )

    found: list[tuple[datetime, int, str]] = []
    receipts = db.session.execute(
        select(Dossier.received_at, Dossier.id)
        .where(
            Dossier.agency_id.in_(agencies),
            Dossier.received_at.is_not(None),
            Dossier.received_at < before,
            Dossier.received_at >= since,
            ~issued(DocumentKind.RECEIPT, "received"),
        )
        .order_by(Dossier.received_at)
        .limit(limit)
    )
    found += [(at, dossier_id, DocumentKind.RECEIPT) for at, dossier_id in receipts if at is not None]
    for kind, decided in _decisions():
        later = aliased(Task)
        # Only the dossier's last decision of the kind has a document to issue (issue_document issues that one).
        newer = exists().where(
            later.dossier_id == Task.dossier_id,
            later.state == TaskState.COMPLETED,
            *decided(later),
            or_(
                later.completed_at > Task.completed_at,
                and_(later.completed_at == Task.completed_at, later.id > Task.id),
            ),
        )
        decisions = db.session.execute(
            select(Task.completed_at, Task.dossier_id)
            .join(Dossier, Dossier.id == Task.dossier_id)
            .where(
                Dossier.agency_id.in_(agencies),
                Task.state == TaskState.COMPLETED,
                *decided(Task),
                Task.completed_at < before,
                Task.completed_at >= since,
                ~newer,
                ~issued(kind, literal("task:") + cast(Task.id, String)),
            )
            .order_by(Task.completed_at)
            .limit(limit)
        )
        found += [(at, dossier_id, kind) for at, dossier_id in decisions if at is not None]
    found += _last_events("apology", DocumentKind.APOLOGY, agencies, before, since, limit, issued)
    found += _last_events("closed", DocumentKind.PROCESS_CONTROL, agencies, before, since, limit, issued)
    found.sort()
    return [(dossier_id, kind) for _at, dossier_id, kind in found[:limit]]


def _decisions() -> list[tuple[str, Any]]:
    """(kind, conditions on a task) of the documents a completed step issues: the slips of its decision, and the
    result when one of its version's result steps took its decision in a version that has a result template."""
    kinds: list[tuple[str, Any]] = [
        (kind, lambda task, outcome=outcome: [task.outcome == outcome]) for kind, outcome in DECISION_DOCUMENTS.items()
    ]
    declared = _result_steps()
    if declared:
        kinds.append(
            (
                DocumentKind.RESULT,
                lambda task: [
                    or_(
                        *(
                            and_(task.bpmn_id == step, task.outcome == outcome, Dossier.procedure_version_id.in_(ids))
                            for (step, outcome), ids in declared.items()
                        )
                    )
                ],
            )
        )
    return kinds


def _result_steps() -> dict[tuple[str, str], list[int]]:
    """{(step id, decision value): ids of the versions with a result template whose model says that step issues
    the result with that decision}. The declarations come from each version's parsed spec (results.result_steps_of:
    cached per process; the legacy `leader_approval` + `approve` for versions that declare none)."""
    found: dict[tuple[str, str], list[int]] = {}
    for version in db.session.scalars(select(ProcedureVersion).where(ProcedureVersion.result_template.is_not(None))):
        try:
            steps = result_steps_of(version)
        except Exception:  # one version whose spec cannot be read does not stop the sweep of the others
            log.exception("could not read the result steps of procedure version %s", version.id)
            continue
        for declaration in steps.items():
            found.setdefault(declaration, []).append(version.id)
    return found


def _last_events(
    event: str, kind: str, agencies: list[int], before: datetime, since: datetime, limit: int, issued: Any
) -> list[Any]:
    """The dossiers' last event of a kind without its document: an apology (a moved appointment) without its slip,
    a closing without its process-control slip."""
    later = aliased(DossierEvent)
    newer = exists().where(later.dossier_id == DossierEvent.dossier_id, later.kind == event, later.id > DossierEvent.id)
    rows = db.session.execute(
        select(DossierEvent.at, DossierEvent.dossier_id)
        .join(Dossier, Dossier.id == DossierEvent.dossier_id)
        .where(
            Dossier.agency_id.in_(agencies),
            DossierEvent.kind == event,
            DossierEvent.at < before,
            DossierEvent.at >= since,
            ~newer,
            ~issued(kind, literal("event:") + cast(DossierEvent.id, String)),
        )
        .order_by(DossierEvent.at)
        .limit(limit)
    )
    return [(at, dossier_id, kind) for at, dossier_id in rows if at is not None]
