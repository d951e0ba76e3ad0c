"""Dry runs: an admin walks a version with sample data; no dossier, task or notification is ever made."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Dossier as DossierRow
from portal.models import DossierEvent, DryRun, Notification, Task, User
from tests.test_admin_support import EN, MINIMAL, as_admin, post, procedure, upload
from tests.web import login

FORM_ACTION = re.compile(r'action="(/admin/dry-runs/\d+/steps/[^"]+)"')


def rows() -> tuple[int, int, int, int]:
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (DossierRow, Task, DossierEvent, Notification)
    )


def step_form(page: str) -> tuple[str, str]:
    """The waiting step's form action and its field prefix."""
    action = FORM_ACTION.search(page).group(1)
    prefix = re.search(r'name="(s[0-9a-f]{8})-', page).group(1)
    return action, prefix


def test_walk_a_version_to_its_end(demo, client) -> None:
    as_admin(client)
    upload(client, ("minimal.bpmn", MINIMAL))
    proc = procedure("minimal")
    before = rows()
    version_page = f"/admin/procedures/{proc.id}/versions/1"
    response = post(client, f"{version_page}/dry-run", page=version_page)
    assert response.status_code == 302
    run_url = response.headers["Location"]
    page = client.get(run_url, headers=EN).get_data(as_text=True)
    assert "Waiting step: Nộp hồ sơ" in page

    action, prefix = step_form(page)
    wrong = post(client, action, {f"{prefix}-full_name": "", f"{prefix}-copies": "x"}, page=run_url)
    assert wrong.status_code == 422
    assert "This field is required." in wrong.get_data(as_text=True)

    done = post(client, action, {f"{prefix}-full_name": "Võ Thị Mai", f"{prefix}-copies": "2"}, page=run_url)
    assert done.status_code == 302
    page = client.get(run_url, headers=EN).get_data(as_text=True)
    assert "Waiting step: Tiếp nhận hồ sơ" in page
    assert "Võ Thị Mai" in page  # the steps done and the process data

    action, prefix = step_form(page)
    post(client, action, {f"{prefix}-decision": "accept", f"{prefix}-reason": ""}, page=run_url)
    page = client.get(run_url, headers=EN).get_data(as_text=True)
    assert "The process reached its end." in page
    assert "finished" in page
    assert "End event finished: Processing finished" in " ".join(re.sub(r"<[^>]+>", "", page).split())
    assert rows() == before  # no dossier, task, timeline event or notification


def test_a_completed_step_cannot_be_posted_twice(demo, client) -> None:
    as_admin(client)
    upload(client, ("minimal.bpmn", MINIMAL))
    proc = procedure("minimal")
    run_url = post(client, f"/admin/procedures/{proc.id}/versions/1/dry-run").headers["Location"]
    action, prefix = step_form(client.get(run_url).get_data(as_text=True))
    data = {f"{prefix}-full_name": "A", f"{prefix}-copies": "1"}
    assert post(client, action, data, page=run_url).status_code == 302
    again = post(client, action, data, page=run_url)
    assert again.status_code == 409
    assert len(db.session.scalars(select(DryRun)).one().log) == 1


def test_dry_runs_belong_to_the_admin_who_started_them(demo, client, app) -> None:
    as_admin(client)
    upload(client, ("minimal.bpmn", MINIMAL))
    proc = procedure("minimal")
    run_url = post(client, f"/admin/procedures/{proc.id}/versions/1/dry-run").headers["Location"]
    other_admin = User(email="admin2@motcua.demo", full_name="Quản trị 2", kind="officer", is_admin=True)
    other_admin.set_password("MotCua@2026")
    db.session.add(other_admin)
    db.session.commit()
    other = app.test_client()
    login(other, "admin2@motcua.demo")
    assert other.get(run_url).status_code == 404
