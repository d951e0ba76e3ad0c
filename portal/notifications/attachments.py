"""Files attached to an email when it is delivered.

An outbox row holds text only. A kind of message that carries a file registers a builder here; the worker asks it
for the files when it sends the row, and the builder makes them again from what the row says (its kind, its
idempotency key, its recipient), e.g. the spreadsheet of a closed period's report. A builder that fails makes the
send fail, so the message is retried with the others' backoff rather than sent without its file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from portal.models import Notification


@dataclass(frozen=True)
class MailAttachment:
    filename: str
    mimetype: str  # e.g. application/vnd.openxmlformats-officedocument.spreadsheetml.sheet
    data: bytes


Builder = Callable[[Notification], list[MailAttachment]]
_BUILDERS: dict[str, Builder] = {}


def register(kind: str, builder: Builder) -> None:
    """Attach what `builder` returns to every email of `kind` (once per process; a second call replaces it)."""
    _BUILDERS[kind] = builder


def attachments_for(row: Notification) -> list[MailAttachment]:
    builder = _BUILDERS.get(row.kind)
    return builder(row) if builder is not None else []
