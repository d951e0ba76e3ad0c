"""The sweep for lost `documents.issue` jobs: a reception or decision older than the grace period without its
signed document gets it, once; nothing happens without keys, for fresh events (their own job may still run),
or for events older than the look-back."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select

from portal.core.time import utcnow
from portal.documents.tasks import sweep
from portal.dossiers.timers import run_due_timers
from portal.extensions import db
from portal.models import Dossier, IssuedDocument
from portal.notifications.schedule import beat_schedule
from tests.helpers import do, submit, vn
from tests.test_construction_permit import KTHT
from tests.test_construction_permit import application as permit_application
from tests.test_construction_permit import inspect as site_inspection
from tests.test_household_business import application
from tests.test_result_documents import approved
from tests.test_signed_documents import keys_dir, signing_demo  # noqa: F401  (fixtures)

DESK = "tiepnhan@motcua.demo"
SPECIALIST = "dkkd@motcua.demo"


def received(minutes_ago: float) -> Dossier:
    at = utcnow() - timedelta(minutes=minutes_ago)
    dossier = submit("household_business", application(), at - timedelta(minutes=5))
    return do(dossier, "reception_check", DESK, {"decision": "accept"}, at)


def documents_of(dossier: Dossier, kind: str = "receipt") -> int:
    db.session.expire_all()
    query = select(func.count()).where(IssuedDocument.dossier_id == dossier.id, IssuedDocument.kind == kind)
    return db.session.scalar(query) or 0


def test_the_sweep_issues_lost_documents_once(signing_demo: Flask) -> None:  # noqa: F811
    signing_demo.config["DOCUMENTS_ISSUE_AUTOMATICALLY"] = False  # the jobs queued at the commits are "lost"
    lost = received(minutes_ago=10)
    fresh = received(minutes_ago=1)  # its own job may still be on its way
    ancient = received(minutes_ago=60 * 24 * 30)  # before the look-back (e.g. before keys were installed)
    refused = received(minutes_ago=20)
    at = utcnow() - timedelta(minutes=8)
    do(refused, "specialist_review", SPECIALIST, {"decision": "refuse", "reason": "Ngành nghề cấm kinh doanh"}, at)
    assert documents_of(lost) == documents_of(refused, "refusal") == 0

    signing_demo.config["DOCUMENTS_ISSUE_AUTOMATICALLY"] = True
    # The lost receipt; the refused dossier's receipt, its refusal slip and, as it ended, its process-control slip.
    assert sweep() == 4
    assert documents_of(lost) == 1
    assert documents_of(refused) == 1
    assert documents_of(refused, "refusal") == 1
    assert documents_of(refused, "process_control") == 1
    assert documents_of(lost, "process_control") == 0  # still being handled: no slip for the archive yet
    assert documents_of(fresh) == 0
    assert documents_of(ancient) == 0

    assert sweep() == 0  # idempotent: nothing is issued twice
    assert documents_of(lost) == 1
    assert documents_of(refused, "refusal") == 1
    assert documents_of(refused, "process_control") == 1


def test_the_sweep_also_issues_lost_results_and_apology_slips(signing_demo: Flask) -> None:  # noqa: F811
    signing_demo.config["DOCUMENTS_ISSUE_AUTOMATICALLY"] = False  # the jobs queued at the commits are "lost"
    certified = approved()  # the leader approved in March: the certificate is due
    delayed = submit("construction_permit", permit_application(), vn(2026, 1, 5, 8, 0))
    do(delayed, "reception_check", DESK, {"decision": "accept"}, vn(2026, 1, 5, 9, 0))
    site_inspection(delayed, vn(2026, 1, 6, 9, 0))
    assert run_due_timers(now=vn(2026, 1, 23, 9, 0, 5)) == (1, 0)  # the apology step opens before the due date
    db.session.expire_all()
    moved = {"new_appointment": "2026-02-06", "reason": "Chờ ý kiến Sở Xây dựng"}
    do(delayed, "apology", KTHT, moved, vn(2026, 1, 26, 9, 0))
    assert documents_of(certified, "result") == documents_of(delayed, "apology") == 0

    signing_demo.config.update(DOCUMENTS_ISSUE_AUTOMATICALLY=True, DOCUMENTS_SWEEP_LOOKBACK_DAYS=3650)
    sweep()
    assert documents_of(certified, "result") == 1
    assert documents_of(delayed, "apology") == 1
    assert sweep() == 0  # nothing twice
    assert documents_of(certified, "result") == documents_of(delayed, "apology") == 1


def test_nothing_is_swept_without_keys_or_when_issuing_is_off(signing_demo: Flask, tmp_path: Path) -> None:  # noqa: F811
    signing_demo.config["DOCUMENTS_ISSUE_AUTOMATICALLY"] = False
    lost = received(minutes_ago=10)
    assert sweep() == 0  # issuing turned off
    keys = signing_demo.config["DOCUMENT_KEYS_DIR"]
    signing_demo.config.update(DOCUMENTS_ISSUE_AUTOMATICALLY=True, DOCUMENT_KEYS_DIR=str(tmp_path / "no-keys"))
    assert sweep() == 0  # no agency has a key
    assert documents_of(lost) == 0
    signing_demo.config["DOCUMENT_KEYS_DIR"] = keys
    assert sweep() == 1
    assert documents_of(lost) == 1


def test_the_sweep_is_in_the_beat_schedule(app: Flask) -> None:
    job = beat_schedule(app.config)["documents-sweep"]
    assert job["task"] == "documents.sweep"
    assert job["schedule"] == app.config["BEAT_DOCUMENTS_SWEEP_SECONDS"] == 300
    assert "documents.sweep" in app.extensions["celery"].tasks
