"""An officer of another agency cannot learn which task, dossier or file ids exist: every answer about
something they may not touch is word for word the answer about something that does not exist."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.extensions import db
from portal.models import Attachment, Group, Task
from tests.helpers import open_task
from tests.test_inbox_pages import EN, OUTSIDER, new_dossier, other_agency_officer, page, signed_in
from tests.web import csrf

MISSING = 987654


def _errors(html: str) -> list[str]:
    """The messages shown at the top of the inbox form (the ids replaced, so two answers compare)."""
    found = re.findall(r'class="[^"]*(?:error|flash)[^"]*"[^>]*>(.*?)</', html, flags=re.S)
    return [re.sub(r"\b\d+\b", "N", re.sub(r"\s+", " ", text)).strip() for text in found if text.strip()]


def _bulk(client: FlaskClient, task_id: int, action: str = "claim", **extra: object):
    token = csrf(client, "/inbox/")
    data = {"csrf_token": token, "action": action, "task_ids": task_id, **extra}
    return client.post("/inbox/bulk", data=data, headers=EN)


def test_bulk_claim_answers_the_same_for_a_foreign_and_a_missing_task(demo: Flask) -> None:
    foreign = open_task(new_dossier(), "reception_check")
    other_agency_officer()
    outsider = signed_in(demo, OUTSIDER)
    theirs, missing = _bulk(outsider, foreign.id), _bulk(outsider, MISSING)
    assert theirs.status_code == missing.status_code
    assert _errors(page(theirs)) == _errors(page(missing))
    assert f"{foreign.id}: No such task." in page(theirs)
    assert "member" not in page(theirs)
    db.session.refresh(foreign)
    assert foreign.assignee_id is None


def test_bulk_claim_does_not_name_who_holds_a_foreign_task(demo: Flask) -> None:
    foreign = open_task(new_dossier(), "reception_check")
    desk = signed_in(demo, "tiepnhan@motcua.demo")
    desk.post(f"/inbox/tasks/{foreign.id}/claim", data={"csrf_token": csrf(desk, f"/inbox/tasks/{foreign.id}")})
    other_agency_officer()
    outsider = signed_in(demo, OUTSIDER)
    html = page(_bulk(outsider, foreign.id))
    assert "already claimed" not in html
    assert "Phạm" not in html
    assert "No such task." in html


def test_bulk_reassign_answers_the_same_for_a_foreign_and_a_missing_task(demo: Flask) -> None:
    foreign = open_task(new_dossier(), "reception_check")
    outsider_user = other_agency_officer()
    group = db.session.scalar(select(Group).where(Group.name == "Một cửa phường Bên Cạnh"))
    group.is_leadership = True  # a leader, of their own agency only
    db.session.commit()
    outsider = signed_in(demo, OUTSIDER)
    theirs = _bulk(outsider, foreign.id, "reassign", assignee_id=outsider_user.id)
    missing = _bulk(outsider, MISSING, "reassign", assignee_id=outsider_user.id)
    assert theirs.status_code == missing.status_code == 422
    assert _errors(page(theirs)) == _errors(page(missing))
    assert f"Task {foreign.id} was not found." in page(theirs)
    assert "agency you lead" not in page(theirs)


def _same_404(client: FlaskClient, theirs: str, missing: str, method: str = "get", **kwargs: object) -> None:
    a = getattr(client, method)(theirs, headers=EN, **kwargs)
    b = getattr(client, method)(missing, headers=EN, **kwargs)
    assert a.status_code == b.status_code == 404, (theirs, a.status_code, b.status_code)
    # The ids in the language links are the only expected difference, and the CSRF token of the language
    # form, which carries the second it was signed in.
    assert _comparable(page(a), theirs) == _comparable(page(b), missing), theirs


def _comparable(html: str, url: str) -> str:
    return re.sub(r'name="csrf_token"[^>]*value="[^"]*"', "CSRF", html.replace(url, "URL"))


def test_single_pages_answer_the_same_for_foreign_and_missing_ids(demo: Flask) -> None:
    dossier = new_dossier()
    task = open_task(dossier, "reception_check")
    attachment = db.session.scalar(select(Attachment).where(Attachment.dossier_id == dossier.id))
    other_agency_officer()
    outsider = signed_in(demo, OUTSIDER)
    token = csrf(outsider, "/inbox/")
    pairs = [
        (f"/inbox/tasks/{task.id}", f"/inbox/tasks/{MISSING}"),
        (f"/inbox/dossiers/{dossier.id}", f"/inbox/dossiers/{MISSING}"),
        (f"/documents/dossiers/{dossier.id}/receipt", f"/documents/dossiers/{MISSING}/receipt"),
        (f"/documents/dossiers/{dossier.id}/process-control", f"/documents/dossiers/{MISSING}/process-control"),
        (
            f"/documents/dossiers/{dossier.id}/attachments/{attachment.id}",
            f"/documents/dossiers/{MISSING}/attachments/{attachment.id}",
        ),
        (f"/attachments/{attachment.id}", f"/attachments/{MISSING}"),
        (f"/attachments/{attachment.id}/view", f"/attachments/{MISSING}/view"),
    ]
    for theirs, missing in pairs:
        _same_404(outsider, theirs, missing)
    for action in ("claim", "release"):
        _same_404(
            outsider,
            f"/inbox/tasks/{task.id}/{action}",
            f"/inbox/tasks/{MISSING}/{action}",
            "post",
            data={"csrf_token": token},
        )
    _same_404(
        outsider,
        f"/inbox/dossiers/{dossier.id}/comments",
        f"/inbox/dossiers/{MISSING}/comments",
        "post",
        data={"csrf_token": token, "text": "xin chào"},
    )
    db.session.refresh(task)
    assert task.assignee_id is None
    assert db.session.get(Task, task.id) is not None
