"""Errors that services raise for people to read. Each carries a message already in the user's language."""

from __future__ import annotations


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
