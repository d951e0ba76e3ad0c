"""Errors that services raise for people to read. Each carries a message already in the user's language."""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """A request that cannot be done as asked; `message` says why in plain words."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotAllowed(ServiceError):
    """The user may not do this to this object."""


class NotFound(ServiceError):
    pass


class Conflict(ServiceError):
    """Somebody else changed the object first (e.g. the task was already handled)."""


class InvalidInput(ServiceError):
    """Input failed validation; `errors` maps field ids to messages."""

    def __init__(self, message: str, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or {}


class StepFailed(ServiceError):
    """The procedure's own code (a script, condition, timer expression or decision table) failed or went past
    its time or memory budget while a step ran. The step's transaction is rolled back; `message` tells the
    person plainly, the other attributes are what an incident records and what a retry needs."""

    def __init__(
        self,
        message: str,
        *,
        kind: str,
        operation: str,
        version_id: int | None,
        element_id: str | None = None,
        limit: str | None = None,
        detail: str | None = None,
        dossier_id: int | None = None,
        retry: dict[str, Any] | None = None,
        record: bool = True,
    ) -> None:
        super().__init__(message)
        self.kind = kind  # "time", "memory" or "error"
        self.operation = operation  # "submit", "complete_task", "withdraw", "timer", "dry_run"
        self.version_id = version_id
        self.element_id = element_id
        self.limit = limit  # the budget that was exceeded, e.g. "1000 ms"
        self.detail = detail  # technical text, for administrators only
        self.dossier_id = dossier_id
        self.retry = retry or {}  # what repeating the operation needs (task id, actor id, form data)
        self.record = record  # False when the person who saw it is the administrator (dry runs)
