"""Claim, release and reassign, over HTTP and at the service: one owner per task, leaders reassign, audited."""

from __future__ import annotations

import threading

import pytest
from flask import Flask
from sqlalchemy import select

from portal.core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from portal.extensions import db
from portal.inbox.services import claim_task, reassign_tasks
from portal.models import AuditLog, Task
from tests.helpers import open_task, user
from tests.test_inbox_pages import (
    CIVIL,
    DESK,
    DESK2,
    EN,
    LEADER,
    OUTSIDER,
    new_dossier,
    other_agency_officer,
    page,
    signed_in,
    task_form,
)


def actions(action: str) -> list[AuditLog]:
    return list(db.session.scalars(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)))


def test_claim_then_release(demo: Flask) -> None:
    task = open_task(new_dossier(), "reception_check")
    desk = signed_in(demo, DESK)
    token = task_form(desk, task)
    assert desk.post(f"/inbox/tasks/{task.id}/claim", data={"csrf_token": token}).status_code == 302
    db.session.refresh(task)
    assert task.assignee_id == user(DESK).id
    html = page(desk.get("/inbox/"))
    assert "Nguyễn Thị Lan" in html  # "claimed by" column
    assert desk.post(f"/inbox/tasks/{task.id}/release", data={"csrf_token": token}).status_code == 302
    db.session.refresh(task)
    assert task.assignee_id is None
    assert [a.object_id for a in actions("task.claim")] == [str(task.id)]
    assert [a.actor_id for a in actions("task.release")] == [user(DESK).id]


def test_the_second_claim_is_told_who_has_the_task(demo: Flask) -> None:
    task = open_task(new_dossier(), "reception_check")
    first, second = signed_in(demo, DESK), signed_in(demo, DESK2)
    assert first.post(f"/inbox/tasks/{task.id}/claim", data={"csrf_token": task_form(first, task)}).status_code == 302
    response = second.post(f"/inbox/tasks/{task.id}/claim", data={"csrf_token": task_form(second, task)}, headers=EN)
    assert response.status_code == 409
    assert "already claimed by Nguyễn Thị Lan" in page(response)
    # nor can they release it, or do the step
    response = second.post(f"/inbox/tasks/{task.id}/release", data={"csrf_token": task_form(second, task)})
    assert response.status_code == 403
    db.session.refresh(task)
    assert task.assignee_id == user(DESK).id


def test_only_members_of_the_group_can_claim(demo: Flask) -> None:
    task = open_task(new_dossier(), "reception_check")
    with pytest.raises(NotFound):  # a task the officer cannot open is "No such task.", as in the inbox pages
        claim_task(task.id, user(CIVIL))
    db.session.rollback()
    leader = signed_in(demo, LEADER)  # a leader may open it (to reassign) but not claim another group's step
    response = leader.post(f"/inbox/tasks/{task.id}/claim", data={"csrf_token": task_form(leader, task)})
    assert response.status_code == 403
    db.session.refresh(task)
    assert task.assignee_id is None


def test_simultaneous_claims_have_exactly_one_winner(demo: Flask) -> None:
    task_id = open_task(new_dossier(), "reception_check").id
    officers = [user(DESK).id, user(DESK2).id]
    results: list[str] = []
    barrier = threading.Barrier(2)

    def claim_as(officer_id: int) -> None:
        with demo.app_context():
            officer = db.session.get(type(user(DESK)), officer_id)
            barrier.wait()
            try:
                claim_task(task_id, officer)
                db.session.commit()
                results.append("won")
            except Conflict as error:
                db.session.rollback()
                results.append(error.message)
            except Exception as error:  # SQLite may refuse a concurrent writer: the claim simply failed
                db.session.rollback()
                results.append(f"busy: {error.__class__.__name__}")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=claim_as, args=(o,)) for o in officers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("won") == 1, results
    task = db.session.get(Task, task_id)
    db.session.refresh(task)
    assert task.assignee_id in officers
    assert len(actions("task.claim")) == 1


def test_a_leader_reassigns_many_tasks_at_once(demo: Flask) -> None:
    tasks = [open_task(new_dossier(f"Quán {i}"), "reception_check") for i in range(3)]
    leader = signed_in(demo, LEADER)
    html = page(leader.get("/inbox/?tab=agency"))
    assert all(f'value="{t.id}"' in html for t in tasks)
    token = task_form(leader, tasks[0])
    response = leader.post(
        "/inbox/bulk?tab=agency",
        data={
            "csrf_token": token,
            "action": "reassign",
            "assignee_id": user(DESK2).id,
            "task_ids": [t.id for t in tasks],
        },
        headers=EN,
    )
    assert response.status_code == 302
    for task in tasks:
        db.session.refresh(task)
        assert task.assignee_id == user(DESK2).id
    assert len(actions("task.reassign")) == 3
    assert "3 tasks reassigned to Phạm Văn Hùng" in page(leader.get("/inbox/?tab=agency", headers=EN))
    # and back to the group
    response = leader.post(
        "/inbox/bulk", data={"csrf_token": token, "action": "reassign", "assignee_id": "", "task_ids": tasks[0].id}
    )
    assert response.status_code == 302
    db.session.refresh(tasks[0])
    assert tasks[0].assignee_id is None


def test_reassigning_to_someone_outside_the_group_changes_nothing(demo: Flask) -> None:
    tasks = [open_task(new_dossier(f"Quán {i}"), "reception_check") for i in range(2)]
    leader = signed_in(demo, LEADER)
    token = task_form(leader, tasks[0])
    response = leader.post(
        "/inbox/bulk?tab=agency",
        data={
            "csrf_token": token,
            "action": "reassign",
            "assignee_id": user(CIVIL).id,
            "task_ids": [t.id for t in tasks],
        },
        headers=EN,
    )
    assert response.status_code == 422
    html = page(response)
    assert "No task was reassigned" in html or "is not a member of" in html
    assert html.count("checked") >= 2  # the ticks are kept
    for task in tasks:
        db.session.refresh(task)
        assert task.assignee_id is None
    assert actions("task.reassign") == []


def test_only_leaders_of_the_same_agency_reassign(demo: Flask) -> None:
    task = open_task(new_dossier(), "reception_check")
    with pytest.raises(NotAllowed):
        reassign_tasks([task.id], user(DESK), user(DESK2).id)
    db.session.rollback()
    desk = signed_in(demo, DESK)
    response = desk.post(
        "/inbox/bulk",
        data={
            "csrf_token": task_form(desk, task),
            "action": "reassign",
            "assignee_id": user(DESK2).id,
            "task_ids": task.id,
        },
    )
    assert response.status_code == 403
    other_agency_officer()
    outsider = user(OUTSIDER)
    # make the outsider a leader of their own agency: still not ours
    from portal.models import Group, Membership

    group = db.session.scalar(select(Group).where(Group.name == "Một cửa phường Bên Cạnh"))
    group.is_leadership = True
    db.session.commit()
    with pytest.raises(InvalidInput) as refused:
        reassign_tasks([task.id], outsider, outsider.id)
    assert "not in an agency you lead" in str(refused.value.errors) or refused.value.errors
    db.session.rollback()
    assert db.session.get(Task, task.id).assignee_id is None
    assert Membership  # imported for the leader change above


def test_bulk_claim_reports_the_tasks_it_could_not_take(demo: Flask) -> None:
    tasks = [open_task(new_dossier(f"Quán {i}"), "reception_check") for i in range(2)]
    other = signed_in(demo, DESK2)
    other.post(f"/inbox/tasks/{tasks[0].id}/claim", data={"csrf_token": task_form(other, tasks[0])})
    desk = signed_in(demo, DESK)
    token = task_form(desk, tasks[1])
    response = desk.post(
        "/inbox/bulk", data={"csrf_token": token, "action": "claim", "task_ids": [t.id for t in tasks]}, headers=EN
    )
    assert response.status_code == 409
    assert "already claimed by Phạm Văn Hùng" in page(response)
    db.session.refresh(tasks[1])
    assert tasks[1].assignee_id == user(DESK).id
    bad = desk.post("/inbox/bulk", data={"csrf_token": token, "action": "claim", "task_ids": "abc"}, headers=EN)
    assert bad.status_code == 422
    none = desk.post("/inbox/bulk", data={"csrf_token": token, "action": "claim"}, headers=EN)
    assert none.status_code == 422
    assert "Choose at least one task" in page(none)
