"""Write the audit trail: who did what, to which object, from where."""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request

from portal.extensions import db
from portal.models import AuditLog, User


def record(action: str, actor: User | None, obj: Any = None, **details: Any) -> AuditLog:
    """Add an audit line to the current transaction (it commits with the change it describes)."""
    entry = AuditLog(
        action=action,
        actor_id=actor.id if actor is not None else None,
        object_type=type(obj).__name__ if obj is not None else None,
        object_id=str(getattr(obj, "id", "")) if obj is not None else None,
        ip=request.remote_addr if has_request_context() else None,
        details=details or None,
    )
    db.session.add(entry)
    return entry
