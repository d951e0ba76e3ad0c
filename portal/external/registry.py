"""Topic handlers for BPMN external service tasks (`camunda:type="external"`, `camunda:topic="…"`).

A handler is a function `handler(call: ExternalCall) -> Mapping[str, Any]`: it gets the variables the task
declares (its `camunda:inputParameter`s, or all of the dossier's data when it declares none) and returns the
outputs that merge into the dossier's data. It raises to fail the attempt (`HandlerError` for a plain reason):
the job is retried per the task's `camunda:failedJobRetryTimeCycle`, then an incident opens.

Register one in the portal with the `topic` decorator, or from an installed package with an entry point in the
group `motcua.external_topics` (the entry point's name is the topic, its object the handler):

    [project.entry-points."motcua.external_topics"]
    "land.lookup" = "motcua_land.handlers:lookup"

The registry is filled once per process; validation refuses a service task whose topic has no handler.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "motcua.external_topics"


@dataclass(frozen=True)
class ExternalCall:
    """What a handler gets: the topic, the variables, and where the call comes from (for logs and keys)."""

    topic: str
    variables: dict[str, Any]
    dossier_id: int
    dossier_code: str
    element_id: str
    job_id: int
    attempt: int
    config: Mapping[str, Any] = field(default_factory=dict)  # the Flask app's configuration


Handler = Callable[[ExternalCall], Mapping[str, Any]]


class HandlerError(Exception):
    """An attempt failed for a reason the administrators should read as it is (no traceback needed).

    `retry=False`: trying again cannot help (a refused host, a bad template): the incident opens at once."""

    def __init__(self, message: str, *, retry: bool = True) -> None:
        super().__init__(message)
        self.retry = retry


_handlers: dict[str, Handler] = {}
_loaded = False
_lock = threading.Lock()


def register(name: str, handler: Handler) -> Handler:
    _handlers[name] = handler
    return handler


def unregister(name: str) -> None:
    _handlers.pop(name, None)


def topic(name: str) -> Callable[[Handler], Handler]:
    """Decorator: `@topic("land.lookup")` registers the function as that topic's handler."""

    def decorate(handler: Handler) -> Handler:
        return register(name, handler)

    return decorate


def _load() -> None:
    global _loaded
    with _lock:
        if _loaded:
            return
        from portal.external import http_json  # noqa: F401  (registers the built-in topics)

        for point in entry_points(group=ENTRY_POINT_GROUP):
            try:
                _handlers.setdefault(point.name, point.load())
            except Exception:  # a broken package must not take the portal down: its topic stays unknown
                log.exception("could not load the handler of topic %s from %s", point.name, point.value)
        _loaded = True


def handler_for(name: str) -> Handler | None:
    _load()
    return _handlers.get(name)


def known_topics() -> frozenset[str]:
    _load()
    return frozenset(_handlers)
