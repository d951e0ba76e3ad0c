"""Two people at once: one task completed twice, many submissions in the same second."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from flask import Flask

from portal.core.errors import Conflict
from portal.dossiers.services import complete_task, submit_dossier
from portal.extensions import db
from portal.models import Dossier, DossierEvent, Task, TaskState
from tests.helpers import open_task, submit, upload, user, version_of, vn


def run_together(app: Flask, jobs: list[Callable[[], Any]]) -> list[Any]:
    """Run each job in its own thread and database session, released at the same moment."""
    barrier = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)

    def worker(index: int, job: Callable[[], Any]) -> None:
        with app.app_context():
            try:
                barrier.wait()
                results[index] = job()
                db.session.commit()
            except Exception as exc:  # the test inspects what each thread got
                db.session.rollback()
                results[index] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def birth_application() -> dict:
    return {
        "child_full_name": "Lê Gia Hân",
        "child_birth_date": "2026-02-25",
        "child_sex": "female",
        "child_birth_place": "Trạm y tế phường",
        "applicant_relationship": "mother",
        "birth_certificate_file": upload("congdan@motcua.demo"),
    }


def test_two_officers_complete_the_same_task_exactly_one_wins(demo: Flask) -> None:
    dossier = submit("birth_registration", birth_application(), vn(2026, 3, 2, 9, 0))
    task_id = open_task(dossier).id
    desk = [user("tiepnhan@motcua.demo").id, user("tiepnhan2@motcua.demo").id]

    def complete_as(user_id: int) -> str:
        from portal.models import User

        complete_task(task_id, db.session.get(User, user_id), {"decision": "accept"}, now=vn(2026, 3, 2, 9, 30))
        return "done"

    results = run_together(demo, [lambda: complete_as(desk[0]), lambda: complete_as(desk[1])])

    assert results.count("done") == 1
    loser = next(r for r in results if r != "done")
    assert isinstance(loser, Conflict), loser
    assert "Bước này đã được" in loser.message
    db.session.expire_all()
    done = db.session.get(Task, task_id)
    assert done.state == TaskState.COMPLETED
    assert done.completed_by.full_name in loser.message
    # The dossier moved on exactly once: one next step, one completion in the timeline.
    dossier = db.session.get(Dossier, dossier.id)
    assert open_task(dossier).bpmn_id == "civil_status_review"
    completions = db.session.scalars(
        db.select(DossierEvent).where(DossierEvent.dossier_id == dossier.id, DossierEvent.kind == "step_completed")
    ).all()
    assert [e.step for e in completions] == ["submit", "reception_check"]


def test_dossier_codes_stay_unique_under_concurrent_submissions(demo: Flask) -> None:
    citizen_id = user("congdan@motcua.demo").id
    version_id = version_of("birth_registration").id
    applications = [birth_application() for _ in range(8)]

    def file(data: dict) -> str:
        from portal.models import ProcedureVersion, User

        version = db.session.get(ProcedureVersion, version_id)
        dossier = submit_dossier(version, db.session.get(User, citizen_id), data, now=vn(2026, 3, 2, 9, 0))
        return dossier.code

    codes = run_together(demo, [lambda d=d: file(d) for d in applications])

    assert all(isinstance(c, str) for c in codes), codes
    assert len(set(codes)) == 8
    assert sorted(c.rsplit("-", 1)[1] for c in codes) == [f"{n:04d}" for n in range(1, 9)]
    assert db.session.scalar(db.select(db.func.count()).select_from(Dossier)) == 8
