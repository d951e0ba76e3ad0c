"""The printable periodic report for leaders over HTTP: every cell against a count made independently from the
dossiers' raw rows, the balance of each line, who sees which agencies, odd periods, and the downloads."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta
from typing import Any

import openpyxl
import pytest
from flask import Flask
from sqlalchemy import select

from portal.core.time import as_utc, utcnow
from portal.extensions import db
from portal.models import Agency, Dossier, Group, Membership, Procedure, ProcedureVersion, Rating, User
from portal.stats import figures
from portal.stats.figures import Period
from tests.helpers import VN, do, submit, vn
from tests.test_inbox_pages import page, signed_in
from tests.test_stats import CITIZEN, DESK, EN, LEADER, SPECIALIST, build_fixture, business
from tests.web import login

PROVINCE_LEADER = "chutich@motcua.demo"
MARCH, APRIL = Period.month(2026, 3), Period.month(2026, 4)
INT_COLUMNS = (
    "received_total",
    "carried_over",
    "received_online",
    "received_counter",
    "finished",
    "finished_early",
    "finished_on_time",
    "finished_late",
    "withdrawn",
    "stopped",
    "not_accepted",
    "open_end",
    "open_not_due",
    "open_overdue",
    "refused_at_reception",
    "withdrawn_before_reception",
)


# -- the fixture: test_stats' varied months, a dossier left waiting for the citizen, a province leader ----------


def waiting_for_the_citizen() -> Dossier:
    """Received on 2 March (due 5 March), sent back for a supplement on 3 March and never answered: the clock
    stands still, so it is open at the end of March but not overdue."""
    dossier = submit("household_business", business(), vn(2026, 3, 2, 10, 0))
    do(dossier, "reception_check", DESK, {"decision": "accept"}, vn(2026, 3, 2, 10, 30))
    do(
        dossier,
        "specialist_review",
        SPECIALIST,
        {"decision": "supplement", "reason": "Thiếu ảnh"},
        vn(2026, 3, 3, 9, 0),
    )
    return dossier


def province_leader(locale: str | None = None) -> User:
    province = db.session.scalar(select(Agency).where(Agency.level == "province"))
    assert province is not None
    group = Group(agency_id=province.id, role="leader", name="Lãnh đạo UBND tỉnh", is_leadership=True)
    person = User(email=PROVINCE_LEADER, full_name="Chủ tịch Tỉnh", kind="officer", locale=locale)
    person.set_password("MotCua@2026")
    db.session.add_all([group, person])
    db.session.flush()
    db.session.add(Membership(user_id=person.id, group_id=group.id))
    db.session.commit()
    return person


def fixture() -> dict[str, Dossier]:
    made = build_fixture()
    made["waiting"] = waiting_for_the_citizen()
    return made


# -- the independent count, from the raw rows ----------------------------------------------------------------


def local(moment: datetime | None) -> date | None:
    return None if moment is None else as_utc(moment).astimezone(VN).date()


def raw_counts(period: Period, now: datetime | None = None) -> dict[tuple[int, str], Counter[str]]:
    """(agency id, field) → every count of the report, straight from dossiers, procedures and ratings."""
    end_of_period = datetime.combine(period.end + timedelta(days=1), time(0), VN)
    cut = min(end_of_period, now or utcnow())
    channels = {1: "received_in_person", 2: "received_online", 3: "received_post"}
    out: dict[tuple[int, str], Counter[str]] = defaultdict(Counter)

    def inside(day: date | None) -> bool:
        return day is not None and period.start <= day <= period.end

    rows = db.session.execute(
        select(Dossier, Procedure)
        .join(ProcedureVersion, ProcedureVersion.id == Dossier.procedure_version_id)
        .join(Procedure, Procedure.id == ProcedureVersion.procedure_id)
    ).all()
    for dossier, procedure in rows:
        c = out[(dossier.agency_id, procedure.field or "")]
        received = local(dossier.received_at)
        outcome, ended = None, None
        if dossier.status in (9, 10) and dossier.finished_at is not None:
            outcome, ended = "finished", local(dossier.finished_at)
        elif dossier.status in (3, 7, 8) and dossier.closed_at is not None:
            outcome, ended = {3: "not_accepted", 7: "withdrawn", 8: "stopped"}[dossier.status], local(dossier.closed_at)
        if received is not None:
            if received < period.start and (ended is None or ended >= period.start):
                c["carried_over"] += 1
            if inside(received):
                c[channels[dossier.channel]] += 1
            if outcome is not None and inside(ended):
                c[outcome] += 1
                if outcome == "finished" and dossier.timeliness:
                    c[f"finished_{dossier.timeliness}"] += 1
            if received <= period.end and (ended is None or ended > period.end):
                c["open_end"] += 1
                paused = dossier.sla_paused_at is not None and as_utc(dossier.sla_paused_at) < cut
                if dossier.appointment_at is not None and as_utc(dossier.appointment_at) < cut and not paused:
                    c["open_overdue"] += 1
        elif inside(ended):
            if outcome == "not_accepted":
                c["refused_at_reception"] += 1
            elif outcome == "withdrawn":
                c["withdrawn_before_reception"] += 1
        rating = db.session.scalar(select(Rating).where(Rating.dossier_id == dossier.id))
        if rating is not None and inside(local(rating.created_at)):
            c["ratings"] += 1
            c["ratings_satisfied"] += 1 if rating.level >= 2 else 0
    return out


def as_columns(c: Counter[str]) -> dict[str, int]:
    """The report's columns from raw counts (as the form adds them up)."""
    new = c["received_online"] + c["received_in_person"] + c["received_post"]
    return {
        "received_total": c["carried_over"] + new,
        "carried_over": c["carried_over"],
        "received_online": c["received_online"],
        "received_counter": c["received_in_person"] + c["received_post"],
        "finished": c["finished"],
        "finished_early": c["finished_early"],
        "finished_on_time": c["finished_on_time"],
        "finished_late": c["finished_late"],
        "withdrawn": c["withdrawn"],
        "stopped": c["stopped"],
        "not_accepted": c["not_accepted"],
        "open_end": c["open_end"],
        "open_not_due": c["open_end"] - c["open_overdue"],
        "open_overdue": c["open_overdue"],
        "refused_at_reception": c["refused_at_reception"],
        "withdrawn_before_reception": c["withdrawn_before_reception"],
    }


def summed(raw: dict[tuple[int, str], Counter[str]], keep: Any) -> Counter[str]:
    total: Counter[str] = Counter()
    for key, counts in raw.items():
        if keep(key):
            total.update(counts)
    return total


# -- reading the page ------------------------------------------------------------------------------------------


def rows_of(html: str, kind: str) -> dict[str, dict[str, Any]]:
    """`<tr data-row="agency-12">` → {column: value}: whole numbers as ints, shares as their text."""
    out = {}
    for key, body in re.findall(rf'<tr data-row="{kind}-([^"]*)"[^>]*>(.*?)</tr>', html, re.S):
        cells = dict(re.findall(r'data-col="(\w+)">(.*?)</td>', body, re.S))
        out[key] = {
            name: int(value.replace(".", "")) if name in INT_COLUMNS else re.sub(r"<[^>]+>|&nbsp;", " ", value).strip()
            for name, value in cells.items()
        }
    return out


def ints(row: dict[str, Any]) -> dict[str, int]:
    return {name: row[name] for name in INT_COLUMNS}


def balanced(row: dict[str, Any]) -> bool:
    handled = row["finished"] + row["withdrawn"] + row["stopped"] + row["not_accepted"]
    return (
        row["received_total"]
        == handled + row["open_end"]
        == row["carried_over"] + row["received_online"] + row["received_counter"]
    )


# -- the tests ---------------------------------------------------------------------------------------------------


def test_every_cell_agrees_with_the_raw_rows_and_each_line_balances(demo: Flask) -> None:
    made = fixture()
    province_leader()
    commune, other = made["early"].agency_id, made["imported_online"].agency_id
    leader = signed_in(demo, PROVINCE_LEADER)
    before = utcnow().astimezone(VN).date().replace(day=1) - timedelta(days=1)
    last_month = Period.month(before.year, before.month)  # open dossiers carried over, nothing new
    for period in (MARCH, APRIL, Period.quarter(2026, 1), last_month):
        response = leader.get(f"/ioc/report?period={period.key}", headers=EN)
        assert response.status_code == 200, period.key
        html = page(response)
        raw = raw_counts(period)
        agencies = rows_of(html, "agency")
        fields = rows_of(html, "field")
        for agency_id in (commune, other):
            want = as_columns(summed(raw, lambda key, a=agency_id: key[0] == a))
            if any(want.values()):
                assert ints(agencies[str(agency_id)]) == want, (period.key, agency_id)
        for field in {key[1] for key in raw}:
            want = as_columns(summed(raw, lambda key, f=field: key[1] == f))
            if any(want.values()):
                assert ints(fields[field]) == want, (period.key, field)
        total = as_columns(summed(raw, lambda key: True))
        assert ints(agencies["total"]) == total == ints(fields["total"]), period.key
        for row in [*agencies.values(), *fields.values()]:
            assert balanced(row), (period.key, row)
        # The report and the statistics pages count receptions and results alike.
        stats = figures.totals(period)
        assert total["received_online"] == stats.received_online
        assert total["received_counter"] == stats.received_in_person + stats.received_post
        assert (total["finished_early"], total["finished_on_time"], total["finished_late"]) == (
            stats.finished_early,
            stats.finished_on_time,
            stats.finished_late,
        )

    # The fixture exercises every column the definitions separate.
    march = ints(rows_of(page(leader.get("/ioc/report?period=2026-03")), "agency")["total"])
    assert march["carried_over"] == 0
    assert (march["received_online"], march["received_counter"]) == (6, 2)
    assert (march["finished_early"], march["finished_on_time"], march["finished_late"]) == (3, 1, 0)
    assert (march["stopped"], march["refused_at_reception"], march["withdrawn_before_reception"]) == (1, 1, 1)
    # Open at the end of March: due 2 April (not yet due), past due 17 March, and one waiting for the citizen
    # since 3 March whose appointment passed while the clock stood still (not overdue).
    assert (march["open_end"], march["open_overdue"]) == (3, 1)
    april = ints(rows_of(page(leader.get("/ioc/report?period=2026-04")), "agency")["total"])
    assert april["carried_over"] == 3  # what March left open
    assert april["finished_late"] == 2
    assert april["open_overdue"] == 1  # the construction permit received on 6 April, due before May
    assert raw_counts(APRIL)[(commune, made["open"].version.procedure.field or "")]["open_overdue"] == 1
    assert other in {int(k) for k in rows_of(page(leader.get("/ioc/report?period=2026-04")), "agency") if k.isdigit()}


def test_satisfaction_and_on_time_rates_are_the_shares_of_their_counts(demo: Flask) -> None:
    fixture()
    leader = signed_in(demo, LEADER)
    today = utcnow().astimezone(VN).date()
    this_month = Period.month(today.year, today.month)  # the fixture's ratings were given today
    row = rows_of(page(leader.get(f"/ioc/report?period={this_month.key}")), "field")["total"]
    raw = summed(raw_counts(this_month), lambda key: True)
    assert raw["ratings"] == 4
    assert row["satisfaction_share"] == "75 %"
    march = rows_of(page(leader.get("/ioc/report?period=2026-03")), "field")["total"]
    assert march["on_time_share"] == "100 %"
    april = rows_of(page(leader.get("/ioc/report?period=2026-04")), "field")["total"]
    assert april["on_time_share"] == "50 %"  # the ward: one on time, one late


def test_who_sees_which_agencies(demo: Flask) -> None:
    made = fixture()
    province_leader()
    commune, other = made["early"].agency_id, made["imported_online"].agency_id
    anonymous = demo.test_client()
    assert anonymous.get("/ioc/report?period=2026-03").status_code == 302
    for who in (CITIZEN, DESK, SPECIALIST):
        client = signed_in(demo, who)
        assert client.get("/ioc/report?period=2026-03").status_code == 403, who
        assert client.get("/ioc/report?period=2026-03&export=report-fields&format=xlsx").status_code == 403, who

    ward = signed_in(demo, LEADER)
    own = page(ward.get("/ioc/report?period=2026-03"))
    assert 'id="report-agencies"' not in own  # one agency: its fields only
    mine = as_columns(summed(raw_counts(MARCH), lambda key: key[0] == commune))
    assert ints(rows_of(own, "field")["total"]) == mine
    assert "UBND PHƯỜNG TRUNG TÂM" in own
    # Another agency asked for is ignored: the same report of the leader's own agency.
    foreign = page(ward.get(f"/ioc/report?period=2026-03&agency={other}"))
    assert ints(rows_of(foreign, "field")["total"]) == mine
    assert "Tài nguyên nước" not in foreign  # the other agency's field
    assert "Tài nguyên nước" not in page(ward.get(f"/ioc/report?period=2026-03&agency={other}&export=report-fields"))

    province = signed_in(demo, PROVINCE_LEADER)
    whole = page(province.get("/ioc/report?period=2026-03"))
    assert set(rows_of(whole, "agency")) == {str(commune), str(other), "total"}
    narrowed = page(province.get(f"/ioc/report?period=2026-03&agency={other}"))
    theirs = as_columns(summed(raw_counts(MARCH), lambda key: key[0] == other))
    assert ints(rows_of(narrowed, "field")["total"]) == theirs
    assert theirs != mine


@pytest.mark.parametrize(
    "query",
    [
        "period=2026-13",
        "period=abc",
        "period=2026-00",
        "period=" + "9" * 40,
        "since=2026-02-30&until=2026-03-01",
        "since=2026-03-10&until=2026-03-01",
        "period=2026-03&export=report-fields&format=pdf",
    ],
)
def test_odd_periods_get_a_clear_message(demo: Flask, query: str) -> None:
    leader = signed_in(demo, LEADER)
    response = leader.get(f"/ioc/report?{query}")
    if "export" in query:
        assert response.status_code == 404  # a download the page never offers
        return
    assert response.status_code == 400
    assert "Hãy ghi tháng dạng YYYY-MM" in page(response)
    english = page(leader.get(f"/ioc/report?{query}", headers=EN))
    assert "Give a month as YYYY-MM (for example 2026-03)" in english
    assert 'name="period"' in english  # the form is there to try again


def test_a_period_not_begun_is_refused_and_the_default_is_last_month(demo: Flask) -> None:
    leader = signed_in(demo, LEADER)
    today = utcnow().astimezone(VN).date()
    later = Period.month(today.year + 1, today.month)
    response = leader.get(f"/ioc/report?period={later.key}", headers=EN)
    assert response.status_code == 400
    assert "has not begun yet" in page(response)
    before = today.replace(day=1) - timedelta(days=1)
    default = page(leader.get("/ioc/report", headers=EN))
    assert f"Month {before.month}/{before.year}" in default
    assert f'value="{before:%Y-%m}"' in default


def test_tables_download_as_xlsx_and_csv_with_the_page_numbers(demo: Flask) -> None:
    made = fixture()
    province_leader()
    leader = signed_in(demo, PROVINCE_LEADER)
    html = page(leader.get("/ioc/report?period=2026-03", headers=EN))
    shown = rows_of(html, "agency")
    assert 'href="/ioc/report?period=2026-03&amp;export=report-agencies&amp;format=xlsx"' in html
    response = leader.get("/ioc/report?period=2026-03&export=report-agencies&format=xlsx", headers=EN)
    assert response.status_code == 200
    assert "motcua-report-agencies-2026-03.xlsx" in response.headers["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    assert sheet is not None
    lines = list(sheet.iter_rows(values_only=True))
    header = lines[0]
    assert header[:3] == ("Agency", "Received for processing: total", "Carried over from the previous period")
    by_name = {line[0]: line for line in lines[1:]}
    commune = db.session.get(Agency, made["early"].agency_id)
    assert commune is not None
    for name, key in ((commune.name_en, str(commune.id)), ("Total", "total")):
        line = by_name[name]
        assert list(line[1 : 1 + len(INT_COLUMNS)]) == [shown[key][c] for c in INT_COLUMNS], name
    assert by_name["Total"][header.index("On-time rate")] == 1.0

    text = leader.get("/ioc/report?period=2026-03&export=report-fields&format=csv").data.decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(text)))
    assert table[0][0] == "Lĩnh vực"
    assert table[-1][0] == "Tổng cộng"
    assert [int(v) for v in table[-1][1:17]] == [shown["total"][c] for c in INT_COLUMNS]


def test_the_page_prints_on_a4_landscape_with_a_print_button_and_no_inline_script(demo: Flask) -> None:
    leader = signed_in(demo, LEADER)
    html = page(leader.get("/ioc/report?period=2026-03"))
    assert "BÁO CÁO TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH" in html.upper()
    assert "Tháng 3/2026" in html
    assert "Người lập biểu" in html
    assert "Thủ trưởng cơ quan" in html
    assert '<button type="button" class="button" data-print hidden>In</button>' in html
    assert '<script src="/static/js/print.js" defer></script>' in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)  # CSP: no inline scripts
    assert " on" + "click=" not in html
    with demo.test_client().get("/static/css/ioc-report.css") as response:
        css = response.get_data(as_text=True)
    assert "size: A4 landscape" in css
    assert ".site-header" in css  # the portal's menus are not printed
    assert '<link rel="stylesheet" href="/static/css/ioc-report.css">' in html
    assert 'href="/ioc/report"' in page(leader.get("/ioc/"))  # the operations centre's tabs link it
    assert "Báo cáo tháng" in page(leader.get("/ioc/"))


def test_the_english_page(demo: Flask) -> None:
    client = demo.test_client()
    login(client, LEADER)
    html = page(client.get("/ioc/report?period=2026-03", headers=EN))
    assert "Report on handling administrative procedures" in html
    assert "Month 3/2026 (from 01/03/2026 to 31/03/2026)" in html
    assert "Carried over" in html
    assert "Signature" not in html
    assert "Head of the agency" in html


def test_a_leader_prints_the_report_in_a_browser(live_server, browser, demo: Flask) -> None:
    from playwright.sync_api import expect

    from tests.browser import ARTIFACTS, assert_accessible, shot
    from tests.test_browser_journey import sign_in

    fixture()
    page = sign_in(browser, live_server.url, LEADER)
    errors: list[str] = []  # a CSP refusal (inline script or style) shows as a console error
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{live_server.url}/ioc/")
    page.get_by_role("link", name="Báo cáo tháng").click()
    page.locator("#report-period").fill("2026-03")
    page.get_by_role("button", name="Xem").click()
    expect(page.get_by_role("heading", level=2)).to_have_text(
        "Báo cáo tình hình, kết quả giải quyết thủ tục hành chính"
    )
    expect(page.get_by_role("button", name="In")).to_be_visible()  # print.js ran: the button shows
    expect(page.get_by_role("table", name="Kết quả theo lĩnh vực")).to_be_visible()
    assert_accessible(page, "the printable report")
    shot(page, "ioc-report")

    page.emulate_media(media="print")
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.locator(".ioc-filter")).to_be_hidden()
    expect(page.locator(".export-links").first).to_be_hidden()
    expect(page.get_by_role("table", name="Kết quả theo lĩnh vực")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    pdf = page.pdf(path=str(ARTIFACTS / "ioc-report.pdf"), prefer_css_page_size=True)
    box = re.search(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", pdf)
    assert box is not None
    width, height = float(box[1]), float(box[2])
    assert (round(width), round(height)) == (842, 595)  # A4 landscape, in points
    assert errors == []
