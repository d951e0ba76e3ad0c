"""With no broker and SEND_IN_BACKGROUND on (the embedded default), mail is sent on the background thread, after
the page was answered: a mail server that holds the connection does not hold the citizen's page."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from sqlalchemy import select

from portal.core import background
from portal.extensions import db
from portal.models import DeliveryStatus, Notification, NotificationChannel
from tests.smtp import Inbox, free_port
from tests.test_citizen_support import CITIZEN, apply_online


class HeldInbox(Inbox):
    """Keeps every message waiting for its answer (250) until the test releases the server."""

    def __init__(self) -> None:
        super().__init__()
        self.reached = threading.Event()  # a message is being sent, and held
        self.release = threading.Event()

    async def handle_DATA(self, server, session, envelope) -> str:
        self.reached.set()
        await asyncio.get_running_loop().run_in_executor(None, self.release.wait)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def held_smtp(demo: Flask) -> Iterator[HeldInbox]:
    inbox = HeldInbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    demo.config.update(MAIL_SERVER=controller.hostname, MAIL_PORT=controller.port, SEND_IN_BACKGROUND=True)
    try:
        yield inbox
    finally:
        inbox.release.set()
        assert background.drain(60)  # nothing may still write while the tables are emptied
        controller.stop()


def email_rows(address: str | None = None) -> list[Notification]:
    db.session.expire_all()
    stmt = select(Notification).where(Notification.channel == NotificationChannel.EMAIL)
    if address is not None:
        stmt = stmt.where(Notification.address == address)
    return list(db.session.scalars(stmt.order_by(Notification.id)))


def test_the_page_is_answered_while_the_mail_server_holds_the_message(demo: Flask, held_smtp: HeldInbox) -> None:
    dossier = apply_online(demo.test_client())  # the redirect to the receipt page came back

    assert held_smtp.reached.wait(30), "the background thread never reached the mail server"
    assert held_smtp.messages == []
    # The first message is being sent (claimed, its answer awaited); none has been sent yet.
    statuses = {r.status for r in email_rows()}
    assert DeliveryStatus.SENDING in statuses
    assert DeliveryStatus.SENT not in statuses

    held_smtp.release.set()
    assert background.drain(60)

    receipts = [m for m in held_smtp.messages if m["To"] == CITIZEN]
    assert len(receipts) == 1
    assert dossier.code in receipts[0]["Subject"]
    assert [r.status for r in email_rows(CITIZEN)] == [DeliveryStatus.SENT]


class Broken:
    """A sending job that fails outright (not one message: the whole job)."""

    name = "notifications.send"

    def run(self, ids: list[int]) -> int:
        raise RuntimeError("the job broke")

    def delay(self, ids: list[int]) -> int:
        return self.run(ids)


def test_a_failing_background_job_is_logged_and_the_sweep_sends_its_messages(
    demo: Flask, smtp, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from portal.notifications import tasks

    demo.config.update(SEND_IN_BACKGROUND=True, NOTIFY_RETRY_BASE=0)
    monkeypatch.setattr(tasks, "send_notifications", Broken())
    with caplog.at_level(logging.ERROR, logger="portal.core.background"):
        dossier = apply_online(demo.test_client())  # the request is not affected
        assert background.drain(60)
    assert "the job broke" in caplog.text
    assert "background job notifications.send" in caplog.text
    assert smtp.messages == []
    assert [r.status for r in email_rows(CITIZEN)] == [DeliveryStatus.PENDING]  # kept for the sweep

    monkeypatch.undo()
    tasks.sweep_notifications()  # outside a request: runs in place

    assert len([m for m in smtp.messages if m["To"] == CITIZEN and dossier.code in m["Subject"]]) == 1
    assert [r.status for r in email_rows(CITIZEN)] == [DeliveryStatus.SENT]


def test_with_background_sending_off_the_mail_is_sent_before_the_page_returns(demo: Flask, smtp) -> None:
    assert demo.config["SEND_IN_BACKGROUND"] is False  # the testing configuration's default
    dossier = apply_online(demo.test_client())

    receipts = [m for m in smtp.messages if m["To"] == CITIZEN]
    assert len(receipts) == 1
    assert dossier.code in receipts[0]["Subject"]
    assert [r.status for r in email_rows(CITIZEN)] == [DeliveryStatus.SENT]


class Note:
    name = "test.note"

    def __init__(self, write_fd: int) -> None:
        self.write_fd = write_fd

    def run(self, text: str) -> None:
        os.write(self.write_fd, text.encode())


def test_a_forked_process_starts_its_own_thread(app: Flask) -> None:
    """gunicorn forks workers: a thread started in the parent does not exist in the child, which starts its own."""
    read_fd, write_fd = os.pipe()
    parent = background._current_worker()
    parent.put((app, Note(write_fd), ("parent",)))
    assert background.drain(30)
    assert os.read(read_fd, 100) == b"parent"

    pid = os.fork()
    if pid == 0:  # the child: report what it sees through the pipe, then leave without running pytest's exit
        try:
            worker = background._current_worker()
            worker.put((app, Note(write_fd), (f"child {worker is not parent} {worker.pid == os.getpid()}",)))
            background.drain(30)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    assert os.read(read_fd, 100) == b"child True True"
    assert background._current_worker() is parent  # the parent keeps its own
    os.close(read_fd)
    os.close(write_fd)
