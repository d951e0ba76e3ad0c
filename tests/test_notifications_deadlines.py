"""Deadline reminders, escalations, the apology and assignments, on the portal's clock (no broker: in-process)."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from portal.extensions import db
from portal.models import Notification, NotificationChannel, Reminder, Task
from portal.notifications.reminders import send_due_reminders
from tests.helpers import do, open_task, submit, user, vn
from tests.test_construction_permit import KTHT, application, inspect
from tests.test_notifications_outbox import CITIZEN, DESK, DESK2, LEADER, birth_application, mail_to


def emails(kind: str) -> list[str]:
    stmt = select(Notification.address).where(Notification.kind == kind, Notification.channel == "email")
    return sorted(db.session.scalars(stmt.order_by(Notification.id)))


def test_an_unclaimed_step_reminds_its_group_then_escalates_to_the_leaders(demo: Flask, smtp) -> None:
    submit("birth_registration", birth_application(), vn(2026, 3, 2, 9, 0))  # the desk's 2 working hours: 11:00
    assert send_due_reminders(now=vn(2026, 3, 2, 10, 29)) == 0  # before 75% of the allowance
    assert send_due_reminders(now=vn(2026, 3, 2, 10, 31)) == 1
    assert emails("reminder") == sorted([DESK, DESK2])
    assert send_due_reminders(now=vn(2026, 3, 2, 10, 45)) == 0  # once per step
    assert emails("escalation") == []

    assert send_due_reminders(now=vn(2026, 3, 2, 11, 1)) == 1
    assert emails("escalation") == [LEADER]
    assert send_due_reminders(now=vn(2026, 3, 3, 9, 0)) == 0
    assert len(mail_to(smtp, LEADER)) == 1
    assert len(mail_to(smtp, DESK)) == 2  # the new step, the reminder


def test_a_claimed_step_reminds_only_its_officer(demo: Flask) -> None:
    from portal.inbox.services import claim_task

    dossier = submit("birth_registration", birth_application(), vn(2026, 3, 2, 9, 0))
    claim_task(open_task(dossier).id, user(DESK2))
    db.session.commit()
    send_due_reminders(now=vn(2026, 3, 2, 10, 31))
    assert emails("reminder") == [DESK2]


def test_a_step_done_in_time_sends_no_warning(demo: Flask) -> None:
    dossier = submit("birth_registration", birth_application(), vn(2026, 3, 2, 9, 0))
    do(dossier, "reception_check", DESK, {"decision": "accept"}, vn(2026, 3, 2, 9, 30))
    desk_task = db.session.scalar(select(Task).where(Task.bpmn_id == "reception_check"))
    send_due_reminders(now=vn(2026, 3, 2, 11, 5))
    assert emails("reminder") == []
    assert emails("escalation") == []
    states = db.session.scalars(select(Reminder.state).where(Reminder.task_id == desk_task.id))
    assert set(states) == {"skipped"}


def test_a_leader_assigning_a_step_tells_that_officer(demo: Flask) -> None:
    from portal.inbox.services import reassign_tasks

    dossier = submit("birth_registration", birth_application(), vn(2026, 3, 2, 9, 0))
    reassign_tasks([open_task(dossier).id], user(LEADER), user(DESK2).id)
    db.session.commit()
    assigned = db.session.scalars(
        select(Notification.address)
        .where(Notification.kind == "task_assigned", Notification.channel == "email")
        .order_by(Notification.id)
    ).all()
    # Two "new step in your group" messages at submission, then one "assigned to you" for DESK2.
    assert assigned == [DESK, DESK2, DESK2]


def test_the_apology_reaches_the_citizen_with_the_new_date(demo: Flask, smtp, runner) -> None:
    dossier = submit("construction_permit", application(), vn(2026, 1, 5, 8, 0))
    do(dossier, "reception_check", DESK, {"decision": "accept"}, vn(2026, 1, 5, 9, 0))
    inspect(dossier, vn(2026, 1, 6, 9, 0))
    from portal.notifications.timers import due_batches, fire_batch

    due = [i for batch in due_batches(now=vn(2026, 1, 23, 9, 0, 5)) for i in batch]
    assert fire_batch(due, now=vn(2026, 1, 23, 9, 0, 5)) == (1, 0)
    # The timer opened the apology step; the specialists were told, and once it is done, the citizen.
    assert KTHT in emails("task_assigned")
    do(
        dossier,
        "apology",
        KTHT,
        {"new_appointment": "2026-02-06", "reason": "Chờ ý kiến Sở Xây dựng"},
        vn(2026, 1, 26, 9, 0),
    )
    apology = [m for m in mail_to(smtp, CITIZEN) if "xin lỗi" in m["Subject"].lower() or "apolog" in m["Subject"]]
    assert len(apology) == 1
    text = apology[0].get_body(preferencelist=("plain",)).get_content()
    assert "06/02/2026 17:00" in text
    assert "26/01/2026" in text
    assert "Chờ ý kiến Sở Xây dựng" in text
    sms = db.session.scalar(
        select(Notification).where(Notification.kind == "apology", Notification.channel == NotificationChannel.SMS)
    )
    assert sms is not None
    assert "06/02/2026" in sms.body


def test_the_tick_command_runs_the_periodic_jobs_in_process(demo: Flask, runner) -> None:
    result = runner.invoke(args=["notifications", "tick"])
    assert result.exit_code == 0, result.output
    assert "0 dossier(s) advanced" in result.output
