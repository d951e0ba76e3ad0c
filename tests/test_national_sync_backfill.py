"""`flask national-sync backfill`: switched on for a portal that already has dossiers, the sync tells the national
portal (the stand-in of tests/test_national_sync.py) each dossier's current state, once; a second run adds
nothing; `--since` also catches dossiers whose later changes were missed while the sync was off."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Dossier, NationalSync, Status, SyncState
from tests.helpers import do, submit, vn
from tests.test_national_sync import DESK, TOKEN, StandInPortal, application, journey, rows


@pytest.fixture
def stand_in() -> Iterator[StandInPortal]:
    portal = StandInPortal()
    try:
        yield portal
    finally:
        portal.stop()


def switch_on(app: Flask, portal: StandInPortal) -> None:
    app.config.update(NATIONAL_PORTAL_URL=portal.url, NATIONAL_PORTAL_TOKEN=TOKEN, NATIONAL_PORTAL_TIMEOUT=2)


def backfill(app: Flask, *args: str):
    result = app.test_cli_runner().invoke(args=["national-sync", "backfill", *args])
    db.session.expire_all()
    return result


def outbox_rows() -> int:
    return db.session.scalar(select(func.count()).select_from(NationalSync)) or 0


def test_existing_dossiers_are_sent_once_with_their_current_state(demo: Flask, stand_in: StandInPortal) -> None:
    demo.config["NATIONAL_PORTAL_URL"] = ""  # the sync is off while these are filed and handled
    returned = submit("birth_registration", application(), vn(2026, 3, 2, 9, 0))
    journey(returned)
    in_process = submit("birth_registration", application(), vn(2026, 3, 3, 9, 0))
    do(in_process, "reception_check", DESK, {"decision": "accept"}, vn(2026, 3, 3, 9, 30))
    new = submit("birth_registration", application(), vn(2026, 3, 4, 9, 0))
    assert outbox_rows() == 0

    switch_on(demo, stand_in)
    dry = backfill(demo, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "3 dossier(s) to backfill; dry run: nothing written" in dry.output
    assert outbox_rows() == 0
    assert stand_in.calls == []

    done = backfill(demo, "--batch", "2")
    assert done.exit_code == 0, done.output
    assert "3 dossier(s) to backfill; 3 outbox row(s) written in 2 batch(es)" in done.output
    states = {call["body"]["MaHoSo"]: call["body"]["TrangThaiHoSo"] for call in stand_in.calls}  # as they are now
    assert states == {returned.code: Status.RETURNED, in_process.code: Status.IN_PROCESS, new.code: Status.NEW}
    assert sorted(stand_in.stored) == sorted(f"{d.code}.1" for d in (returned, in_process, new))
    body = next(c["body"] for c in stand_in.calls if c["body"]["MaHoSo"] == returned.code)
    assert body["NgayTra"] == "20260302140000"  # the dossier as it stands, in the portal's date format
    assert body["ThoiDiemCapNhat"] == "20260302140000"  # when it reached that status
    assert all(r.state == SyncState.SENT for r in db.session.scalars(select(NationalSync)))

    again = backfill(demo)
    assert again.exit_code == 0
    assert "0 dossier(s) to backfill; 0 outbox row(s) written" in again.output
    assert outbox_rows() == 3
    assert len(stand_in.calls) == 3

    do(new, "reception_check", DESK, {"decision": "accept"}, vn(2026, 3, 4, 9, 30))  # synced as usual now
    assert [r.status for r in rows(new)] == [Status.NEW, Status.RECEIVED, Status.IN_PROCESS]
    assert "0 dossier(s) to backfill" in backfill(demo, "--since", "2026-03-01").output


def test_since_catches_changes_missed_while_the_sync_was_off(demo: Flask, stand_in: StandInPortal) -> None:
    switch_on(demo, stand_in)
    early = submit("birth_registration", application(), vn(2026, 2, 27, 9, 0))
    late = submit("birth_registration", application(), vn(2026, 3, 2, 9, 0))
    assert outbox_rows() == 2  # both synced when filed

    demo.config["NATIONAL_PORTAL_URL"] = ""  # off for a while: their reception is missed
    do(early, "reception_check", DESK, {"decision": "accept"}, vn(2026, 3, 2, 9, 30))
    do(late, "reception_check", DESK, {"decision": "accept"}, vn(2026, 3, 2, 9, 40))
    switch_on(demo, stand_in)

    assert "0 dossier(s) to backfill" in backfill(demo).output  # by default, only never-synced dossiers
    done = backfill(demo, "--since", "2026-03-01")
    assert done.exit_code == 0, done.output
    assert "1 dossier(s) to backfill; 1 outbox row(s) written" in done.output
    assert [(r.seq, r.status, r.state) for r in rows(late)] == [
        (1, Status.NEW, SyncState.SENT),
        (2, Status.IN_PROCESS, SyncState.SENT),  # received and passed on, all while the sync was off
    ]
    assert [r.seq for r in rows(early)] == [1]  # filed before the date
    assert "0 dossier(s) to backfill" in backfill(demo, "--since", "2026-03-01").output


def test_refused_without_the_sync_or_with_a_bad_date(demo: Flask) -> None:
    demo.config["NATIONAL_PORTAL_URL"] = ""
    off = backfill(demo)
    assert off.exit_code != 0
    assert "NATIONAL_PORTAL_URL is not set" in off.output
    demo.config["NATIONAL_PORTAL_URL"] = "http://127.0.0.1:9/x"
    bad = backfill(demo, "--since", "02/03/2026")
    assert bad.exit_code == 2
    assert "--since" in bad.output
    assert db.session.scalar(select(func.count()).select_from(Dossier)) == 0
