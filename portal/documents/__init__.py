"""One-stop-shop documents: the printable pages (receipt, supplement request, refusal slip, process-control slip),
their signed PDFs (pdf.py renders, signing.py signs, issuing.py stores and records), and the public /verify page.

A document is issued by the `documents.issue` job, queued once the transaction that made it available has
committed: the reception (a "received" dossier event) issues the receipt; a completed step that requested a
supplement or refused issues that slip.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from sqlalchemy import inspect
from sqlalchemy.orm import Session

from portal.core import session_hooks

log = logging.getLogger(__name__)

PENDING = "motcua_documents_to_issue"


def init_app(app: Flask) -> None:
    """The template filter, the `flask documents` commands, the Celery job, and the public /verify pages (the
    settings are in config.py)."""
    from portal.docstore import purge  # noqa: F401  (registers the store's purge job)

    from . import tasks  # noqa: F401  (registers the Celery job)
    from .admin_views import bp as result_templates_bp
    from .cli import documents_cli
    from .issuing import display_code
    from .results import delivery_note
    from .verify import bp as verify_bp

    app.add_template_filter(display_code, "document_code")
    app.add_template_global(delivery_note, "result_delivery_note")
    app.cli.add_command(documents_cli)
    app.register_blueprint(verify_bp)
    app.register_blueprint(result_templates_bp)


def _remember_flushed(session: Session, _context: Any) -> None:
    """Note the documents a flush made available: a reception (its "received" event) and a completed decision."""
    from portal.models import DocumentKind, DossierEvent, Task, TaskState

    from .services import DECISION_DOCUMENTS

    wanted: list[tuple[int, str]] = []
    for obj in session.new:
        if isinstance(obj, DossierEvent) and obj.kind == "received":
            wanted.append((obj.dossier_id, DocumentKind.RECEIPT))
        elif isinstance(obj, DossierEvent) and obj.kind == "apology":  # an officer moved the appointment
            wanted.append((obj.dossier_id, DocumentKind.APOLOGY))
        elif isinstance(obj, DossierEvent) and obj.kind == "closed":  # the process-control slip, for the archive
            wanted.append((obj.dossier_id, DocumentKind.PROCESS_CONTROL))
    by_outcome = {outcome: kind for kind, outcome in DECISION_DOCUMENTS.items()}
    for obj in (*session.new, *session.dirty):
        decided = isinstance(obj, Task) and obj.state == TaskState.COMPLETED and obj.outcome in by_outcome
        if decided and (obj in session.new or inspect(obj).attrs.state.history.has_changes()):
            wanted.append((obj.dossier_id, by_outcome[obj.outcome]))
        finished = isinstance(obj, Task) and obj.state == TaskState.COMPLETED and obj.outcome is not None
        # The leader signed the result: a step the model says issues it was just completed with its decision.
        if finished and inspect(obj).attrs.state.history.has_changes() and _issues_result(obj):
            wanted.append((obj.dossier_id, DocumentKind.RESULT))
    if wanted:
        session.info.setdefault(PENDING, []).extend(wanted)


def _issues_result(task: Any) -> bool:
    """Whether the completed task is one of its version's result steps with the decision that issues the result
    (the version's declarations come from its parsed spec, cached per process: the step's own run parsed it)."""
    from .results import issues_result, result_steps_of

    try:
        steps = result_steps_of(task.dossier.version)
    except Exception:  # a spec that cannot be read must not undo the officer's step; the sweep tries again
        log.exception("could not read the result steps of dossier %s", task.dossier_id)
        return False
    return issues_result(steps, task.bpmn_id, task.outcome)


def _issue_after_commit(session: Session) -> None:
    wanted = session.info.pop(PENDING, None)
    if not wanted:
        return
    from flask import current_app

    if not current_app.config.get("DOCUMENTS_ISSUE_AUTOMATICALLY", True):
        return
    from portal.core import background

    from .signing import any_keys
    from .tasks import issue

    if not any_keys():  # no agency can sign yet (no `flask documents demo-ca`, no keys installed): nothing to do
        return

    for dossier_id, kind in dict.fromkeys(wanted):
        try:
            background.submit(issue, dossier_id, kind)
        except Exception:  # a broker that cannot be reached: the document can be issued again later
            log.exception("could not queue the %s of dossier %s", kind, dossier_id)


def _forget(session: Session, *_args: Any) -> None:
    session.info.pop(PENDING, None)


session_hooks.register(
    session_hooks.Stage.DOCUMENTS,
    after_flush=_remember_flushed,
    after_commit=_issue_after_commit,
    after_rollback=_forget,
)
