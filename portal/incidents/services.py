"""From an engine failure to what the person reads (`StepFailed`) and what administrators see (an incident).

An incident is recorded *after* the failed step's transaction was rolled back, in a transaction of its own
(`portal.core.web.unit_of_work` does that), so nothing of the failed step survives but the record of it.
The same failure again (same version, element, kind and dossier, still open) counts one more occurrence
instead of adding a row.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from portal.core.errors import StepFailed
from portal.core.time import utcnow
from portal.extensions import db
from portal.models import Incident, IncidentState

log = logging.getLogger(__name__)

KINDS = ("time", "memory", "error")


def _kind_of(exc: Exception) -> str:
    kind = getattr(exc, "kind", "error")
    return kind if kind in KINDS else "error"


def plain_message(kind: str) -> str:
    """What the person whose step failed reads: what happened in plain words, and that nothing is lost."""
    if kind == "time":
        what = _("This step could not be completed: the procedure's automatic processing took too long.")
    elif kind == "memory":
        what = _("This step could not be completed: the procedure's automatic processing needed too much memory.")
    else:
        what = _("This step could not be completed: the procedure's automatic processing ran into an error.")
    tail = _("The administrators have been told. Nothing you entered has been lost; please try again later.")
    return f"{what} {tail}"


def jsonable(data: Mapping[str, Any] | None) -> dict[str, Any]:
    """Form data as the incident's JSON column keeps it (dates become ISO text, which forms read back)."""
    return json.loads(json.dumps(dict(data or {}), default=str))


def step_failed(
    exc: Exception,
    *,
    operation: str,
    version_id: int | None,
    dossier_id: int | None = None,
    retry: dict[str, Any] | None = None,
) -> StepFailed:
    """The engine's error (workflows.engine.EngineError) as a plain, recordable failure of a step."""
    kind = _kind_of(exc)
    return StepFailed(
        plain_message(kind),
        kind=kind,
        operation=operation,
        version_id=version_id,
        element_id=getattr(exc, "element_id", None),
        limit=getattr(exc, "limit", None),
        detail=getattr(exc, "detail", None) or str(exc),
        dossier_id=dossier_id,
        retry=retry,
    )


def dry_run_failed(exc: Exception, version_id: int | None) -> StepFailed:
    """In a dry run the administrator is the author: tell them where and what, at once (no incident)."""
    kind = _kind_of(exc)
    element = getattr(exc, "element_id", None) or "—"
    limit = getattr(exc, "limit", None) or "—"
    if kind == "time":
        what = _("it took longer than its time budget (%(limit)s).", limit=limit)
    elif kind == "memory":
        what = _("it needed more memory than its budget (%(limit)s).", limit=limit)
    else:
        what = getattr(exc, "detail", None) or str(exc)
    message = _("The workflow stopped at element %(element)s: %(what)s", element=element, what=what)
    return StepFailed(
        message,
        kind=kind,
        operation="dry_run",
        version_id=version_id,
        element_id=getattr(exc, "element_id", None),
        limit=getattr(exc, "limit", None),
        detail=getattr(exc, "detail", None) or str(exc),
        record=False,
    )


def record(failed: StepFailed) -> Incident:
    """Add the incident, or count one more occurrence of the same open one. Flushes; the caller commits."""
    now = utcnow()
    same = (
        select(Incident)
        .where(
            Incident.state == IncidentState.OPEN,
            _equal(Incident.procedure_version_id, failed.version_id),
            _equal(Incident.element_id, failed.element_id),
            Incident.kind == failed.kind,
            _equal(Incident.dossier_id, failed.dossier_id),
        )
        .order_by(Incident.id)
        .limit(1)
        .with_for_update()
    )
    incident = db.session.scalar(same)
    detail = {"limit": failed.limit, "retry": failed.retry}
    if incident is None:
        incident = Incident(
            dossier_id=failed.dossier_id,
            procedure_version_id=failed.version_id,
            element_id=failed.element_id,
            kind=failed.kind,
            operation=failed.operation,
            created_at=now,
            occurrences=1,
        )
        db.session.add(incident)
    else:
        incident.occurrences += 1
    # The latest occurrence is what a retry repeats.
    incident.operation = failed.operation
    incident.message = (failed.detail or failed.message)[:4000]
    incident.detail = detail
    incident.last_seen_at = now
    db.session.flush()
    log.warning(
        "incident %s: %s of version %s failed at %s (%s%s), dossier %s, occurrence %s: %s",
        incident.id,
        failed.operation,
        failed.version_id,
        failed.element_id,
        failed.kind,
        f", limit {failed.limit}" if failed.limit else "",
        failed.dossier_id,
        incident.occurrences,
        failed.detail,
    )
    return incident


def _equal(column: Any, value: Any) -> Any:
    return column.is_(None) if value is None else column == value
