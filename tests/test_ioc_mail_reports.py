"""The leaders' weekly and monthly email reports, through the outbox to a real SMTP server on loopback: who gets
which report, in their language, with the figures counted independently from the raw rows, the spreadsheet
attached, the link to the printable report, and nothing sent twice when a run repeats."""

from __future__ import annotations

import io
from collections import Counter
from datetime import date
from email.message import EmailMessage

import openpyxl
from celery.schedules import crontab
from flask import Flask
from sqlalchemy import select

from portal.extensions import db
from portal.ioc.mail_reports import send_reports
from portal.ioc.tasks import send_period_reports
from portal.models import Agency, DeliveryStatus, Group, Membership, Notification, User
from portal.notifications.schedule import beat_schedule
from portal.stats.figures import Period
from tests.helpers import vn
from tests.test_inbox_pages import page, signed_in
from tests.test_ioc_report import (
    INT_COLUMNS,
    PROVINCE_LEADER,
    as_columns,
    fixture,
    ints,
    province_leader,
    raw_counts,
    rows_of,
    summed,
)
from tests.test_stats import DESK, LEADER

EN_LEADER = "phochutich@motcua.demo"
MARCH = Period.month(2026, 3)
BASE = "http://127.0.0.1:5000"


def english_leader() -> User:
    """A second leader of the ward, who reads English."""
    group = db.session.scalar(select(Group).where(Group.role == "leader", Group.is_leadership))
    assert group is not None
    person = User(email=EN_LEADER, full_name="Deputy Chair", kind="officer", locale="en")
    person.set_password("MotCua@2026")
    db.session.add(person)
    db.session.flush()
    db.session.add(Membership(user_id=person.id, group_id=group.id))
    db.session.commit()
    return person


def mail_to(inbox, address: str) -> list[EmailMessage]:
    return [m for m in inbox.messages if m["To"] == address]


def text_of(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


def spreadsheets(message: EmailMessage) -> dict[str, list[tuple]]:
    out = {}
    for part in message.iter_attachments():
        assert part.get_content_type() == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        sheet = openpyxl.load_workbook(io.BytesIO(part.get_content())).worksheets[0]
        out[str(part.get_filename())] = list(sheet.iter_rows(values_only=True))
    return out


def line(label: str, now: int, before: int, previous_word: str) -> str:
    change = "±0" if now == before else f"+{now - before}" if now > before else f"−{before - now}"
    return f"{label}: {now} ({previous_word}: {before}; {change})"


def new(c: Counter[str]) -> int:
    return c["received_online"] + c["received_in_person"] + c["received_post"]


def test_the_monthly_report_reaches_each_leader_once_in_their_language(demo: Flask, smtp) -> None:
    made = fixture()
    province_leader()
    english_leader()
    commune = made["early"].agency_id
    province = db.session.scalar(select(Agency).where(Agency.level == "province"))
    assert province is not None
    raw, before = raw_counts(MARCH), raw_counts(Period.month(2026, 2))
    ward = summed(raw, lambda key: key[0] == commune)
    ward_before = summed(before, lambda key: key[0] == commune)
    everyone = summed(raw, lambda key: True)
    smtp.messages.clear()  # what the fixture's steps sent (receipts, tasks)

    written = send_reports("month", now=vn(2026, 4, 1, 7, 0))
    assert written == 3  # two ward leaders, one province leader; the desk officers are not leaders
    assert mail_to(smtp, DESK) == []
    assert all(row.status == DeliveryStatus.SENT for row in db.session.scalars(select(Notification)))

    # Vietnamese, the ward's figures, beside February's.
    (vi,) = mail_to(smtp, LEADER)
    assert vi["Subject"] == "Báo cáo tháng, Tháng 3/2026: UBND phường Trung Tâm"
    text = text_of(vi)
    assert "từ 01/03/2026 đến 31/03/2026, so với kỳ trước (từ 01/02/2026 đến 28/02/2026)" in text
    assert line("Tiếp nhận mới", new(ward), new(ward_before), "kỳ trước") in text
    assert line("trong đó trực tuyến", ward["received_online"], 0, "kỳ trước") in text
    assert line("Đã giải quyết trong kỳ", ward["finished"], 0, "kỳ trước") in text
    assert line("Đang giải quyết cuối kỳ", ward["open_end"], 0, "kỳ trước") in text
    assert line("trong đó quá hạn", ward["open_overdue"], 0, "kỳ trước") in text
    assert "Tỷ lệ đúng hạn: 100 % (kỳ trước: –; –)" in text
    assert (new(ward), ward["finished"], ward["open_end"]) == (6, 3, 2)  # the fixture is not empty
    link = f"{BASE}/ioc/report?period=2026-03&agency={commune}"
    assert link in text
    # The attachment: the report's table by field, in Vietnamese, its total line the ward's.
    sheets = spreadsheets(vi)
    assert list(sheets) == ["motcua-report-fields-2026-03.xlsx"]
    table = sheets["motcua-report-fields-2026-03.xlsx"]
    assert table[0][0] == "Lĩnh vực"
    assert table[-1][0] == "Tổng cộng"
    assert dict(zip(INT_COLUMNS, table[-1][1:17], strict=True)) == as_columns(ward)
    # The link opens the printable report with the same figures.
    leader = signed_in(demo, LEADER)
    html = page(leader.get(link.removeprefix(BASE)))
    assert ints(rows_of(html, "field")["total"]) == as_columns(ward)

    # English for the leader who chose English, same figures.
    (en,) = mail_to(smtp, EN_LEADER)
    assert en["Subject"] == "Monthly report, Month 3/2026: Trung Tam Ward"
    english = text_of(en)
    assert "Dear Deputy Chair," in english
    assert line("Newly received", new(ward), new(ward_before), "previous period") in english
    assert "On-time rate: 100 % (previous period: –; –)" in english
    assert spreadsheets(en)["motcua-report-fields-2026-03.xlsx"][-1][0] == "Total"

    # The province's leader gets the whole province: both agencies, a table per agency and one per field.
    (whole,) = mail_to(smtp, PROVINCE_LEADER)
    assert whole["Subject"] == "Báo cáo tháng, Tháng 3/2026: UBND tỉnh Demo (toàn bộ các cơ quan)"
    assert line("Tiếp nhận mới", new(everyone), 0, "kỳ trước") in text_of(whole)
    assert new(everyone) > new(ward)
    assert f"{BASE}/ioc/report?period=2026-03\n" in text_of(whole)
    tables = spreadsheets(whole)
    assert set(tables) == {"motcua-report-agencies-2026-03.xlsx", "motcua-report-fields-2026-03.xlsx"}
    assert dict(zip(INT_COLUMNS, tables["motcua-report-agencies-2026-03.xlsx"][-1][1:17], strict=True)) == as_columns(
        everyone
    )

    # A second run (a repeated tick, a retried job, a run later that month) sends nothing.
    assert send_reports("month", now=vn(2026, 4, 1, 7, 0)) == 0
    assert send_reports("month", now=vn(2026, 4, 20, 9, 0)) == 0
    assert len(smtp.messages) == 3
    reports = select(db.func.count()).select_from(Notification).where(Notification.kind == "ioc_report")
    assert db.session.scalar(reports) == 3


def test_the_weekly_report_covers_the_week_before(demo: Flask, smtp) -> None:
    made = fixture()
    english_leader()
    commune = made["early"].agency_id
    week = Period.custom(date(2026, 3, 2), date(2026, 3, 8))
    ward = summed(raw_counts(week), lambda key: key[0] == commune)
    smtp.messages.clear()

    assert send_reports("week", now=vn(2026, 3, 10, 7, 0)) == 2  # a Tuesday: still the week of 2–8 March
    (en,) = mail_to(smtp, EN_LEADER)
    assert en["Subject"] == "Weekly report, from 02/03/2026 to 08/03/2026: Trung Tam Ward"
    text = text_of(en)
    assert line("Newly received", new(ward), 0, "previous period") in text
    assert line("Handled in the period", ward["finished"], 0, "previous period") in text
    assert new(ward) == 5
    assert f"{BASE}/ioc/report?since=2026-03-02&until=2026-03-08&agency={commune}" in text
    assert "motcua-report-fields-2026-03-02..2026-03-08.xlsx" in spreadsheets(en)
    (vi,) = mail_to(smtp, LEADER)
    assert vi["Subject"] == "Báo cáo tuần, từ 02/03/2026 đến 08/03/2026: UBND phường Trung Tâm"

    assert send_reports("week", now=vn(2026, 3, 15, 22, 0)) == 0  # the same week again
    assert len(smtp.messages) == 2
    # The next week is another report, compared with this one.
    assert send_reports("week", now=vn(2026, 3, 16, 7, 0)) == 2
    following = summed(raw_counts(Period.custom(date(2026, 3, 9), date(2026, 3, 15))), lambda key: key[0] == commune)
    later = mail_to(smtp, EN_LEADER)[-1]
    assert line("Newly received", new(following), new(ward), "previous period") in text_of(later)


def test_the_beat_job_sends_last_months_report_once(demo: Flask, smtp) -> None:
    fixture()
    smtp.messages.clear()
    send_period_reports.delay("month")  # no broker in the tests: the job runs here, like the worker would
    assert len(mail_to(smtp, LEADER)) == 1
    send_period_reports.delay("month")
    assert len(mail_to(smtp, LEADER)) == 1


def test_nothing_to_report_sends_nothing(demo: Flask, smtp) -> None:
    assert send_reports("month", now=vn(2026, 4, 1, 7, 0)) == 0
    assert send_reports("week", now=vn(2026, 4, 6, 7, 0)) == 0
    assert smtp.messages == []


def test_the_beat_schedule_runs_the_reports_at_seven_local_time(app: Flask) -> None:
    schedule = beat_schedule(app.config)
    weekly, monthly = schedule["ioc-weekly-report"], schedule["ioc-monthly-report"]
    assert (weekly["task"], weekly["args"], monthly["args"]) == ("ioc.reports", ("week",), ("month",))
    assert isinstance(weekly["schedule"], crontab)
    assert weekly["schedule"].hour == {7}
    assert weekly["schedule"].minute == {0}
    assert weekly["schedule"].day_of_week == {1}  # Monday
    assert monthly["schedule"].day_of_month == {1}
    assert app.extensions["celery"].conf.timezone == app.config["TIMEZONE"] == "Asia/Ho_Chi_Minh"
    assert "ioc-weekly-report" not in beat_schedule({**app.config, "IOC_REPORTS_ENABLED": False})
    custom = beat_schedule({**app.config, "IOC_REPORT_TIME": "06:30", "IOC_WEEKLY_REPORT_DAY": "fri"})
    assert (custom["ioc-weekly-report"]["schedule"].hour, custom["ioc-weekly-report"]["schedule"].minute) == ({6}, {30})
    assert custom["ioc-weekly-report"]["schedule"].day_of_week == {5}
