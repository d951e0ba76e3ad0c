"""Handing a Celery job queued after a commit to the background, so no mail, SMS, webhook, national portal push or
external call runs in a request's critical path.

With a broker, `submit(task, *args)` is `task.delay(*args)`. With none (the embedded default: Celery runs jobs
eagerly, in the caller), a job queued while a request is being answered and SEND_IN_BACKGROUND is on goes to an
in-process queue served by one daemon thread per process (started at first use, so after a fork each process
starts its own); the thread runs it in an app context of the app that queued it. Anywhere else (CLI commands,
the periodic sweeps, a job run by that thread, SEND_IN_BACKGROUND off as in the tests) it runs in place, as before.

Nothing is lost when a job fails or the process stops with jobs still queued: the rows they were to handle stay
pending in their tables and the periodic sweeps (notifications.sweep, external.tick, national_sync.sweep,
webhooks.sweep; `flask notifications tick` in the embedded default) take them up again.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from typing import Any

from flask import Flask, current_app, has_request_context

log = logging.getLogger(__name__)

_Job = tuple[Flask, Any, tuple[Any, ...]]


class _Worker:
    """The queue and the thread serving it, in one process."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.jobs: queue.Queue[_Job] = queue.Queue()
        self.idle = threading.Condition()
        self.unfinished = 0
        self.thread = threading.Thread(target=self.serve, name="motcua-background", daemon=True)
        self.thread.start()

    def put(self, job: _Job) -> None:
        with self.idle:
            self.unfinished += 1
        self.jobs.put(job)

    def serve(self) -> None:
        while True:
            app, task, args = self.jobs.get()
            try:
                with app.app_context():
                    task.run(*args)
            except Exception:  # the rows stay pending: the sweep takes them up again
                log.exception("background job %s%r failed; the periodic sweep will retry it", task.name, args)
            finally:
                with self.idle:
                    self.unfinished -= 1
                    self.idle.notify_all()

    def drain(self, timeout: float) -> bool:
        with self.idle:
            return self.idle.wait_for(lambda: self.unfinished == 0, timeout)


_worker: _Worker | None = None
_lock = threading.Lock()


def _current_worker() -> _Worker:
    """This process's worker; a worker inherited through fork (its thread did not survive) is replaced."""
    global _worker, _lock
    if _worker is not None and _worker.pid != os.getpid():
        _worker, _lock = None, threading.Lock()  # the parent's lock may have been held at the fork
    with _lock:
        if _worker is None or not _worker.thread.is_alive():
            _worker = _Worker()
        return _worker


def in_background() -> bool:
    """Would a job queued now go to the background thread (no broker, SEND_IN_BACKGROUND, in a request)?"""
    return (
        has_request_context()
        and bool(current_app.config.get("SEND_IN_BACKGROUND"))
        and bool(current_app.extensions["celery"].conf.task_always_eager)
    )


def submit(task: Any, *args: Any) -> None:
    """Queue `task(*args)`: to the broker, to the background thread, or run it here (see the module's doc).
    Raises only what `task.delay` raises (a broker that cannot be reached); callers log it and rely on the sweep."""
    if not in_background():
        task.delay(*args)
        return
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    _current_worker().put((app, task, args))


def drain(timeout: float = 30.0) -> bool:
    """Wait until this process's background jobs are done (tests, shutdown); False if some still run after
    `timeout` seconds."""
    worker = _worker
    if worker is None or worker.pid != os.getpid():
        return True
    return worker.drain(timeout)
