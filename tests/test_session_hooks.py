"""The session hooks' one registry (portal/core/session_hooks.py): the areas' handlers run in the order the design
needs, on real commits, and installing the dispatchers again (every create_app does) calls nobody twice."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from portal import create_app
from portal.core import session_hooks
from portal.extensions import db
from portal.models import Agency
from tests.helpers import submit, upload, vn
from tests.statements import count_statements
from tests.test_national_sync import CITIZEN, TOKEN, StandInPortal, application


@pytest.fixture
def national_portal(demo: Flask) -> Iterator[StandInPortal]:
    stand_in = StandInPortal()
    demo.config.update(NATIONAL_PORTAL_URL=stand_in.url, NATIONAL_PORTAL_TOKEN=TOKEN, NATIONAL_PORTAL_TIMEOUT=2)
    try:
        yield stand_in
    finally:
        stand_in.stop()


def test_the_change_feed_numbers_dossiers_after_the_national_sync_outbox_wrote_its_rows(national_portal) -> None:
    data = {**application(), "birth_certificate_file": upload(CITIZEN, "giay-chung-sinh.pdf")}
    with count_statements() as counted:
        dossier = submit("birth_registration", data, vn(2026, 3, 2, 9, 0))

    def first(prefix: str) -> int:
        return next(i for i, s in enumerate(counted.statements) if s.upper().startswith(prefix))

    # The outbox's row is written before the counter is taken (its lock is then held only until the COMMIT),
    # and the dossier is numbered after both.
    outbox_row = first("INSERT INTO NATIONAL_SYNC")
    counter = first("INSERT INTO DOSSIER_CHANGE_COUNTER")
    numbering = first("UPDATE DOSSIERS SET CHANGE_SEQ")
    assert outbox_row < counter < numbering, counted.report()
    db.session.refresh(dossier)
    assert dossier.change_seq is not None
    # After the commit, the outbox's row was pushed to the national portal.
    assert national_portal.keys() == [f"{dossier.code}.1"]


def test_the_registry_orders_each_event_by_stage() -> None:
    from portal.dossiers import changes
    from portal.sync import outbox

    before_commit = session_hooks.handlers("before_commit")
    assert before_commit.index(outbox._write_rows) < before_commit.index(changes._number_changes)
    # Both flush-noting handlers are registered, the outbox's first: the same order as their before_commit.
    after_flush = session_hooks.handlers("after_flush")
    assert after_flush.index(outbox._remember_flushed) < after_flush.index(changes._remember_flushed)


@pytest.fixture
def recorded() -> Iterator[list[str]]:
    """Names of the test's own handlers, in the order the real commits called them; unregistered at the end."""
    calls: list[str] = []

    def late(session: Session) -> None:
        calls.append("late")

    def early(session: Session) -> None:
        calls.append("early")

    def committed(session: Session) -> None:
        calls.append("committed")

    # Registered in the reverse of their stages' order: the stage decides, not the registration.
    session_hooks.register(session_hooks.Stage.STORAGE + 1, before_commit=late)
    session_hooks.register(session_hooks.Stage.NOTIFICATIONS - 1, before_commit=early, after_commit=committed)
    try:
        yield calls
    finally:
        for handler in (late, early, committed):
            session_hooks.unregister(handler)


def test_installing_again_calls_each_handler_once_per_commit(app: Flask, recorded: list[str]) -> None:
    session_hooks.install()
    create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]})
    session_hooks.install()

    db.session.add(Agency(code="000.00.99.H56", name="UBND xã Thử Nghiệm", level="commune"))
    db.session.commit()

    assert recorded == ["early", "late", "committed"]


def test_registering_a_handler_again_at_another_stage_is_refused() -> None:
    from portal.sync import outbox

    session_hooks.register(session_hooks.Stage.NATIONAL_SYNC, before_commit=outbox._write_rows)  # the same: no-op
    assert session_hooks.handlers("before_commit").count(outbox._write_rows) == 1
    with pytest.raises(ValueError, match="already registered"):
        session_hooks.register(session_hooks.Stage.STORAGE, before_commit=outbox._write_rows)
