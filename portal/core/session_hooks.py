"""The portal's transaction hooks on `db.session`, in one ordered registry.

Several areas act on the same session events: they note what a flush wrote, write more rows just before the
commit, and queue jobs once it has committed. Each registers its handlers here with a `Stage`; `install()`
attaches ONE dispatcher per event, which calls the handlers in stage order. The order is written here, in one
place, instead of following from which `init_app` happened to call `event.listen` first.

Why the order matters, per event:

- before_commit: the national sync outbox (`portal/sync/outbox.py`) adds its NationalSync rows and webhook
  deliveries; only then does the change feed (`portal/dossiers/changes.py`) flush what is pending (the outbox's
  rows included, so whatever they change is counted) and number the changed dossiers. Its numbering takes the
  counter's row lock, which every committing transaction that changed a dossier waits for: it must be the last
  work before the COMMIT, not followed by the outbox's queries and inserts.
- after_flush: each area only notes what the flush wrote in `session.info` under its own key; the change feed's
  numbering flushes again from inside before_commit, and that flush must reach the sync outbox's after_flush too
  (its rows are then pushed after the commit).
- after_commit / after_rollback / after_soft_rollback: each area queues or forgets its own notes; they are
  independent, and run in the order they always did (notifications, external jobs, national sync, storage), the
  documents area's last.

Handlers of one stage run in the order they were registered; give a handler its own stage when that is not
enough. A handler that raises stops the event's later handlers, as it would with separate listeners.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum
from typing import Any, Final

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from portal.extensions import db

Handler = Callable[..., None]

EVENTS: Final = ("after_flush", "before_commit", "after_commit", "after_rollback", "after_soft_rollback")


class Stage(IntEnum):
    """Where an area's handlers run within each event, lowest first (see the module's docstring for why)."""

    NOTIFICATIONS = 10  # portal/notifications/outbox.py: messages queued after the commit
    EXTERNAL_JOBS = 20  # portal/external: external service task jobs queued after the commit
    NATIONAL_SYNC = 30  # portal/sync/outbox.py: writes outbox rows at before_commit, pushes after the commit
    CHANGE_FEED = 40  # portal/dossiers/changes.py: numbers the changed dossiers at before_commit, after the outbox
    STORAGE = 50  # portal/core/storage.py: removes objects written in a transaction that rolled back
    DOCUMENTS = 60  # portal/documents: documents issued by a job queued after the commit, after the others'


# event -> (stage, registration number, handler), kept sorted; the dispatchers read the sorted handlers.
_registered: dict[str, list[tuple[int, int, Handler]]] = {name: [] for name in EVENTS}
_ordered: dict[str, tuple[Handler, ...]] = dict.fromkeys(EVENTS, ())
_count = 0
_installed = False


def register(
    stage: int,
    *,
    after_flush: Callable[[Session, Any], None] | None = None,
    before_commit: Callable[[Session], None] | None = None,
    after_commit: Callable[[Session], None] | None = None,
    after_rollback: Callable[[Session], None] | None = None,
    after_soft_rollback: Callable[[Session, SessionTransaction], None] | None = None,
) -> None:
    """Have the given handlers called at those events of `db.session`, at `stage` (a `Stage`, or any int: tests).

    Registering the same handler for the same event again changes nothing (modules may be imported by several
    apps); at another stage it is a mistake and raises ValueError."""
    given: dict[str, Handler | None] = {
        "after_flush": after_flush,
        "before_commit": before_commit,
        "after_commit": after_commit,
        "after_rollback": after_rollback,
        "after_soft_rollback": after_soft_rollback,
    }
    global _count
    for name, handler in given.items():
        if handler is None:
            continue
        entries = _registered[name]
        known = [entry for entry in entries if entry[2] is handler]
        if known:
            if known[0][0] != stage:
                raise ValueError(f"{handler.__qualname__} is already registered for {name} at stage {known[0][0]}")
            continue
        _count += 1
        entries.append((int(stage), _count, handler))
        entries.sort(key=lambda entry: (entry[0], entry[1]))
        _ordered[name] = tuple(entry[2] for entry in entries)


def unregister(handler: Handler) -> None:
    """Stop calling `handler` at any event (for tests that register their own)."""
    for name, entries in _registered.items():
        entries[:] = [entry for entry in entries if entry[2] is not handler]
        _ordered[name] = tuple(entry[2] for entry in entries)


def handlers(name: str) -> tuple[Handler, ...]:
    """The handlers of event `name`, in the order they are called."""
    return _ordered[name]


def _dispatcher(name: str) -> Handler:
    def dispatch(*args: Any) -> None:
        # Read at every call, so a handler registered after install() (a module imported late) is called too.
        for handler in _ordered[name]:
            handler(*args)

    dispatch.__name__ = dispatch.__qualname__ = f"dispatch_{name}"
    return dispatch


def install() -> None:
    """Attach one dispatcher per event to the portal's session factory (one for the process, whichever app is
    current); called by create_app, and again by every later create_app, which changes nothing."""
    global _installed
    if _installed:
        return
    for name in EVENTS:
        event.listen(db.session, name, _dispatcher(name))
    _installed = True
