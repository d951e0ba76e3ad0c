"""No lock that other dossiers need is held while a procedure's code runs; PostgreSQL sessions have time limits."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, text

from portal import create_app
from portal.core.errors import StepFailed
from portal.dossiers.services import submit_dossier
from portal.extensions import db
from portal.models import Dossier, DossierCodeCounter, ProcedureVersion, User
from tests.helpers import TESTS, deploy_file, user, vn
from tests.test_incidents import RUNAWAY, deploy_budgeted
from workflows import sandbox

ON_POSTGRES = os.environ.get("TEST_DATABASE_URL", "").startswith(("postgres://", "postgresql"))
SLOW_MS = 4000  # how long the runaway submission holds its transaction


@pytest.fixture
def slow_budget(demo: Flask) -> Iterator[Flask]:
    sandbox.configure(SLOW_MS, 64)
    try:
        yield demo
    finally:
        sandbox.configure(demo.config["SCRIPT_TIME_BUDGET_MS"], demo.config["SCRIPT_MEMORY_BUDGET_MB"])


def in_thread(app: Flask, job: Any, results: dict[str, Any], name: str) -> threading.Thread:
    def work() -> None:
        with app.app_context():
            started = time.monotonic()
            try:
                results[name] = job()
                db.session.commit()
            except Exception as exc:  # the test looks at what each submission got
                db.session.rollback()
                results[name] = exc
            finally:
                results[name + "_seconds"] = time.monotonic() - started
                results[name + "_done_at"] = time.monotonic()
                db.session.remove()

    thread = threading.Thread(target=work)
    thread.start()
    return thread


def file(version_id: int, applicant_id: int, data: dict) -> Any:
    version = db.session.get(ProcedureVersion, version_id)
    return submit_dossier(version, db.session.get(User, applicant_id), data, now=vn(2026, 3, 2, 9)).code


def test_a_submission_is_not_held_up_by_another_ones_runaway_script(slow_budget: Flask, tmp_path) -> None:
    """Both procedures belong to the same agency, so both submissions need its dossier-code counter."""
    slow_version = deploy_budgeted(tmp_path, RUNAWAY)
    fast_version = deploy_file(TESTS / "bpmn_good" / "failing_step.bpmn").id
    citizen = user("congdan@motcua.demo").id
    results: dict[str, Any] = {}

    slow = in_thread(slow_budget, lambda: file(slow_version, citizen, {"title": "Chậm"}), results, "slow")
    time.sleep(0.8)  # the slow submission is inside its script by now
    fast = in_thread(slow_budget, lambda: file(fast_version, citizen, {"title": "Nhanh"}), results, "fast")
    fast.join(timeout=30)
    slow.join(timeout=30)

    assert isinstance(results["fast"], str), results["fast"]
    # It did not wait for the runaway script (which has more than 3 s left when the fast one starts).
    assert results["fast_seconds"] < 2.5, results
    assert results["fast_done_at"] < results["slow_done_at"]
    assert isinstance(results["slow"], StepFailed)
    assert results["slow"].kind == "time"
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Dossier)) == 1
    assert db.session.scalar(select(DossierCodeCounter.value)) == 1  # the failed one took no number


@pytest.fixture
def limited_app(app: Flask) -> Iterator[Flask]:
    """A second application on the test database with short session limits and two probe pages."""
    limited = create_app(
        {
            "ENV": "testing",
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "DB_STATEMENT_TIMEOUT_MS": 500,
            "DB_IDLE_IN_TRANSACTION_TIMEOUT_MS": 700,
        }
    )

    @limited.get("/probe/settings")
    def settings() -> dict:
        show = lambda name: db.session.execute(text(f"SHOW {name}")).scalar()  # noqa: E731
        return {"statement": show("statement_timeout"), "idle": show("idle_in_transaction_session_timeout")}

    @limited.get("/probe/slow")
    def slow() -> str:
        db.session.execute(text("SELECT pg_sleep(10)"))
        return "finished"

    try:
        yield limited
    finally:
        with limited.app_context():
            db.engine.dispose()


@pytest.mark.postgres
@pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL (TEST_DATABASE_URL)")
def test_postgres_sessions_carry_the_configured_time_limits(app: Flask, limited_app: Flask) -> None:
    defaults = app.test_client()
    app.add_url_rule("/probe/settings", view_func=limited_app.view_functions["settings"])
    assert defaults.get("/probe/settings").get_json() == {"statement": "30s", "idle": "1min"}
    assert limited_app.test_client().get("/probe/settings").get_json() == {"statement": "500ms", "idle": "700ms"}


@pytest.mark.postgres
@pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL (TEST_DATABASE_URL)")
def test_a_statement_past_the_limit_becomes_a_plain_error_not_a_hang(limited_app: Flask) -> None:
    started = time.monotonic()
    response = limited_app.test_client().get("/probe/slow", headers={"Accept-Language": "vi"})
    elapsed = time.monotonic() - started

    assert elapsed < 3, elapsed  # cancelled after 0.5 s, not 10
    assert response.status_code in (500, 503)
    page = response.get_data(as_text=True)
    assert "finished" not in page
    for internal in ("QueryCanceled", "statement timeout", "pg_sleep", "Traceback"):
        assert internal not in page, internal
    assert "thử lại" in page  # plain words: try again


@pytest.mark.postgres
@pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL (TEST_DATABASE_URL)")
def test_a_transaction_left_idle_is_ended_by_the_server(limited_app: Flask) -> None:
    with limited_app.app_context():
        db.session.execute(text("SELECT 1"))  # opens the transaction
        time.sleep(1.2)
        with pytest.raises(Exception, match="idle"):
            db.session.execute(text("SELECT 1"))
        db.session.rollback()
        assert db.session.execute(text("SELECT 1")).scalar() == 1  # the pool hands out a good connection again
