"""The citizen's dossier page and the public tracking page say when the dossier waits on another system (a BPMN
external service task), in the person's language, and only that it is being looked into when the job failed
(an incident): never the handler's error."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from flask import Flask

from portal.core.time import utcnow
from portal.external.jobs import run_due
from portal.models import Dossier, JobState
from tests.helpers import open_task, submit, vn
from tests.test_external_tasks import (  # noqa: F401  (fixture)
    APPLICATION,
    EN,
    KEY,
    Handler,
    deploy_external,
    handler,
    job_of,
    signed_in,
)
from tests.web import csrf

CITIZEN = "congdan@motcua.demo"
STEP = "Tra cứu cơ sở dữ liệu dân cư"  # the service task's name in the BPMN
VI_WAIT = f"Đang chờ kết quả từ hệ thống khác ({STEP})."
EN_WAIT = f"Waiting for the result from another system ({STEP})."
VI_LOOKED_INTO = "Việc này lâu hơn dự kiến; cơ quan đang kiểm tra."
EN_LOOKED_INTO = "This is taking longer than expected; the agency is looking into it."


def pages(app: Flask, dossier: Dossier) -> dict[str, str]:
    """The citizen's own page and the tracking page, each in Vietnamese and English."""
    citizen = signed_in(app, CITIZEN)
    visitor = app.test_client()
    data = {"csrf_token": csrf(visitor, "/track"), "code": dossier.code, "secret": dossier.tracking_secret}
    found = {}
    for lang, headers in (("vi", {}), ("en", EN)):
        mine = citizen.get(f"/my/dossiers/{dossier.id}", headers=headers)
        assert mine.status_code == 200
        found[f"dossier-{lang}"] = mine.get_data(as_text=True)
        tracked = visitor.post("/track", data=data, headers=headers)
        assert tracked.status_code == 200
        found[f"track-{lang}"] = tracked.get_data(as_text=True)
    return found


def test_a_dossier_waiting_on_another_system_says_so(demo: Flask, handler: Handler, tmp_path: Path) -> None:  # noqa: F811
    deploy_external(tmp_path)
    handler.failures = 1  # the first attempt fails: the job waits for its retry
    dossier = submit(KEY, APPLICATION, vn(2026, 12, 1, 9))
    assert job_of(dossier).state == JobState.PENDING
    seen = pages(demo, dossier)
    for where in ("dossier", "track"):
        assert VI_WAIT in seen[f"{where}-vi"]
        assert EN_WAIT in seen[f"{where}-en"]
        assert VI_LOOKED_INTO not in seen[f"{where}-vi"]
        assert "503" not in seen[f"{where}-en"]  # the failed attempt's error stays internal

    assert run_due(utcnow() + timedelta(minutes=6)) == {JobState.DONE: 1}  # the retry succeeds
    assert open_task(dossier, "receive") is not None
    for text in pages(demo, dossier).values():
        assert "another system" not in text
        assert "hệ thống khác" not in text


def test_a_failed_external_step_is_only_said_to_be_looked_into(
    demo: Flask,
    handler: Handler,  # noqa: F811
    tmp_path: Path,
) -> None:
    handler.broken = True
    deploy_external(tmp_path, cycle="R2/PT1M")
    dossier = submit(KEY, APPLICATION, vn(2026, 12, 1, 9))
    assert run_due(utcnow() + timedelta(minutes=2)) == {JobState.INCIDENT: 1}
    seen = pages(demo, dossier)
    for where in ("dossier", "track"):
        assert VI_WAIT in seen[f"{where}-vi"]
        assert VI_LOOKED_INTO in seen[f"{where}-vi"]
        assert EN_WAIT in seen[f"{where}-en"]
        assert EN_LOOKED_INTO in seen[f"{where}-en"]
        for text in (seen[f"{where}-vi"], seen[f"{where}-en"]):
            assert "population registry" not in text  # the handler's error
            assert "503" not in text
            assert "attempt 2 of 2" not in text  # the incident's message
            assert "test.lookup" not in text  # the topic
