"""Helpers shared by the tests: people, deploying a BPMN file, doing a dossier's steps."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from portal.dossiers.services import complete_task, submit_dossier
from portal.extensions import db
from portal.models import Dossier, Procedure, ProcedureVersion, Task, TaskState, User
from portal.procedures.services import current_version, deploy

TESTS = Path(__file__).resolve().parent
PROCEDURES = TESTS.parent / "workflows" / "procedures"
VN = ZoneInfo("Asia/Ho_Chi_Minh")
COMMUNE = "000.00.31.H56"


def vn(*args: int) -> datetime:
    """A moment in Vietnam's local time."""
    return datetime(*args, tzinfo=VN)  # type: ignore[misc]


def user(email: str) -> User:
    found = db.session.scalar(select(User).where(User.email == email))
    assert found is not None, email
    return found


def deploy_file(path: Path, publish: bool = True) -> ProcedureVersion:
    dmn = [(p.name, p.read_bytes()) for p in path.parent.glob("*.dmn")]
    result = deploy(path.read_bytes(), str(path), dmn, agency_code=COMMUNE, publish=publish)
    assert result.ok, [str(p) for p in result.problems]
    db.session.commit()
    assert result.version is not None
    return result.version


def version_of(key: str) -> ProcedureVersion:
    procedure = db.session.scalar(select(Procedure).where(Procedure.key == key))
    assert procedure is not None
    version = current_version(procedure)
    assert version is not None
    return version


def submit(key: str, data: dict[str, Any], now: datetime, applicant: str = "congdan@motcua.demo") -> Dossier:
    dossier = submit_dossier(version_of(key), user(applicant), data, now=now)
    db.session.commit()
    return dossier


def open_tasks(dossier: Dossier) -> list[Task]:
    return list(
        db.session.scalars(
            select(Task).where(Task.dossier_id == dossier.id, Task.state == TaskState.READY).order_by(Task.id)
        )
    )


def open_task(dossier: Dossier, bpmn_id: str | None = None) -> Task:
    tasks = [t for t in open_tasks(dossier) if bpmn_id is None or t.bpmn_id == bpmn_id]
    assert len(tasks) == 1, [(t.bpmn_id, t.state) for t in open_tasks(dossier)]
    return tasks[0]


def do(dossier: Dossier, bpmn_id: str, who: str, data: dict[str, Any], now: datetime) -> Dossier:
    """Complete the dossier's waiting step `bpmn_id` as `who`, and commit like a request would."""
    task = open_task(dossier, bpmn_id)
    result = complete_task(task.id, user(who), data, now=now)
    db.session.commit()
    return result


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def upload(who: str, name: str = "giay-to.pdf", data: bytes = PDF) -> str:
    """Upload a file as `who` and return the value a file field takes (its attachment id)."""
    from portal.attachments.services import store_upload

    attachment = store_upload(user(who), name, data)
    db.session.commit()
    return str(attachment.id)
