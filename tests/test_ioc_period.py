"""The leaders' period figures, the dossiers behind them and the ranking, over HTTP: every number on the page
against an independent count of the raw rows (dossiers, procedures, timeline events, ratings, attachments), every
list as long as its number, who may see what, odd periods, and the CSV/XLSX downloads."""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from datetime import datetime
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select

from portal.core.time import as_utc, utcnow
from portal.extensions import db
from portal.ioc import period_dossiers as lists
from portal.models import Agency, Attachment, Dossier, DossierEvent, Procedure, ProcedureVersion, Rating, Status
from portal.stats.figures import Period
from tests.helpers import VN
from tests.test_inbox_pages import CITIZEN, DESK, EN, LEADER, SPECIALIST, page, signed_in
from tests.test_ioc import ADMIN, PROVINCE_LEADER, _province_leader
from tests.test_stats import APRIL, MARCH, build_fixture, local, recompute

OPEN = (Status.NEW, Status.RECEIVED, Status.IN_PROCESS, Status.SUPPLEMENT, Status.FINANCIAL, Status.FINISHED)
ENDED = {Status.NOT_ACCEPTED: "not_accepted", Status.STOPPED: "stopped", Status.WITHDRAWN: "withdrawn"}
CHANNELS = {1: "in_person", 2: "online", 3: "post"}
RATINGS = {1: "rating_unsatisfied", 2: "rating_satisfied", 3: "rating_very_satisfied"}
NUMBER_LINK = re.compile(r'<td class="num" data-kind="int"><a href="([^"]+)">([^<]+)</a></td>')


# -- the independent count ----------------------------------------------------------------------------------


def _reason(dossier: Dossier) -> str | None:
    """The last note of a decision or status entry up to the closing, read in Python from the timeline."""
    closed = dossier.closed_at
    assert closed is not None
    notes = [
        e
        for e in db.session.scalars(select(DossierEvent).where(DossierEvent.dossier_id == dossier.id))
        if e.kind in ("status", "step_completed") and e.note and as_utc(e.at) <= as_utc(closed)
    ]
    notes.sort(key=lambda e: (as_utc(e.at), e.id))
    return notes[-1].note if notes else None


def _digitised(dossier: Dossier) -> bool:
    files = db.session.scalars(select(Attachment).where(Attachment.dossier_id == dossier.id))
    return dossier.received_at is not None and any(
        f.uploaded_by_id == dossier.applicant_id or as_utc(f.created_at) <= as_utc(dossier.received_at) for f in files
    )


def expected(
    period: Period,
    *,
    agency_ids: set[int] | None = None,
    procedure_id: int | None = None,
    field: str | None = None,
    reason: str | None = None,
    no_reason: bool = False,
) -> dict[str, set[str]]:
    """The codes behind every figure, from the raw rows (days in Vietnam's time)."""

    def inside(moment: datetime | None) -> bool:
        return moment is not None and period.start <= local(moment) <= period.end  # type: ignore[operator]

    now = utcnow()
    found: dict[str, set[str]] = defaultdict(set)
    rows = db.session.execute(
        select(Dossier, Procedure)
        .join(ProcedureVersion, ProcedureVersion.id == Dossier.procedure_version_id)
        .join(Procedure, Procedure.id == ProcedureVersion.procedure_id)
    ).all()
    for d, procedure in rows:
        if agency_ids is not None and d.agency_id not in agency_ids:
            continue
        if procedure_id is not None and procedure.id != procedure_id:
            continue
        if field is not None and (procedure.field or "") != field:
            continue
        code = d.code
        is_open = d.status in OPEN and d.closed_at is None and d.status != Status.SUPPLEMENT
        if is_open and d.appointment_at is not None and as_utc(d.appointment_at) < now:
            found["overdue_open"].add(code)
        if inside(d.received_at):
            found["received"].add(code)
            found[f"received_{CHANNELS[d.channel]}"].add(code)
            if d.channel == 2 and procedure.service_level in ("full_online", "partial_online"):
                found[f"received_{procedure.service_level}"].add(code)
            if _digitised(d):
                found["received_digitised"].add(code)
        rounds = db.session.scalar(
            select(db.func.count()).where(
                DossierEvent.dossier_id == d.id, DossierEvent.kind == "status", DossierEvent.to_status == 5
            )
        )
        ended = None
        if d.status in (Status.FINISHED, Status.RETURNED) and inside(d.finished_at):
            ended = "finished"
            if d.timeliness:
                found["judged"].add(code)
                if d.timeliness in ("early", "on_time"):
                    found["finished_in_time"].add(code)
                found[f"finished_{d.timeliness}"].add(code)
            if d.received_at is not None:
                found["processing"].add(code)
        elif d.status in ENDED and inside(d.closed_at):
            ended = ENDED[d.status]
            text = _reason(d)
            if (no_reason and text is not None) or (reason is not None and text != reason):
                ended = None
        if ended:
            found[ended].add(code)
            found["ended"].add(code)
            if rounds:
                found["supplemented"].add(code)
        rating = db.session.scalar(select(Rating).where(Rating.dossier_id == d.id))
        if rating is not None and inside(rating.created_at):
            found["rated"].add(code)
            found[RATINGS[rating.level]].add(code)
    return found


# -- reading the pages ---------------------------------------------------------------------------------------


def number(text: str) -> int:
    return int(text.strip().replace(".", ""))


def link_filters(href: str) -> tuple[str, dict[str, Any]]:
    """The figure a link lists and its filters, as `expected()` takes them."""
    query = {k: v[0] for k, v in parse_qs(urlsplit(unescape(href)).query).items()}
    period = Period.parse(None, query["since"], query["until"]) if "since" in query else Period.parse(query["period"])
    filters: dict[str, Any] = {"period": period}
    if "agency" in query:
        filters["agency_ids"] = {int(query["agency"])}
    if "procedure" in query:
        filters["procedure_id"] = int(query["procedure"])
    if "field" in query:
        filters["field"] = "" if query["field"] == "-" else query["field"]
    if "reason" in query:
        filters["reason"] = query["reason"]
    if query.get("no_reason") == "1":
        filters["no_reason"] = True
    return query["figure"], filters


def listed(client: FlaskClient, href: str) -> tuple[int, list[str]]:
    """The total a list states and the codes on all its pages."""
    codes: list[str] = []
    url = unescape(href)
    html = page(client.get(url, headers=EN))
    total = int(re.search(r"(\d+) dossiers?\.", html).group(1))  # type: ignore[union-attr]
    page_number = 1
    while True:
        codes += re.findall(r'<th scope="row">(?:<a [^>]*>)?([^<]+)', html)
        if "Next page" not in html:
            return total, codes
        page_number += 1
        html = page(client.get(f"{url}&page={page_number}", headers=EN))


def table(html: str, name: str) -> str:
    match = re.search(rf'<table class="data[^"]*" id="ioc-{name}".*?</table>', html, re.S)
    assert match, name
    return match.group(0)


def province(app: Flask) -> FlaskClient:
    _province_leader()
    return signed_in(app, PROVINCE_LEADER)


# -- the tests -----------------------------------------------------------------------------------------------


def test_every_number_equals_the_raw_rows_and_the_list_behind_it(demo: Flask) -> None:
    build_fixture()
    leader = province(demo)
    this_month = Period.containing(utcnow().astimezone(VN).date())
    periods = (MARCH, APRIL, Period.quarter(2026, 1), Period.year(2026), this_month)
    cache: dict[str, dict[str, set[str]]] = {}
    followed = 0
    for period in periods:
        args = f"period={period.key}"
        html = page(leader.get(f"/ioc/figures?{args}", headers=EN))
        links = NUMBER_LINK.findall(html)
        assert len(links) > 60, period.key  # summary tables, reasons, three breakdowns (and months)
        for href, text in links:
            figure, filters = link_filters(href)
            key = repr(sorted(filters.items(), key=str))
            if key not in cache:
                cache[key] = expected(**filters)
            want = cache[key][figure]
            assert number(text) == len(want), (period.key, href)
            if period == Period.year(2026) or period == MARCH:  # follow every link of two periods
                total, codes = listed(leader, href)
                assert total == number(text), href  # what the list says
                assert len(codes) == number(text), href  # what it holds, over all its pages
                assert set(codes) == want, href
                followed += 1
    assert followed > 150

    # The fixture gives every list something to count (ratings are given today).
    year, now = expected(Period.year(2026)), expected(this_month)
    assert [figure for figure in lists.KEYS if not (year[figure] or now[figure])] == []


def test_reasons_of_refusals_stops_and_withdrawals(demo: Flask) -> None:
    d = build_fixture()
    leader = province(demo)
    html = page(leader.get("/ioc/figures?period=2026-Q1", headers=EN))
    reasons = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", table(html, "reasons")))
    assert "Not accepted Không thuộc địa bàn 1" in reasons
    assert "Processing stopped Vi phạm quy hoạch 1" in reasons
    assert "Withdrawn by the applicant Tôi nộp nhầm thủ tục 1" in reasons
    april = re.sub(
        r"\s+",
        " ",
        re.sub(r"<[^>]+>", " ", table(page(leader.get("/ioc/figures?period=2026-04", headers=EN)), "reasons")),
    )
    assert "Processing stopped No reason recorded 1" in april  # imported from an older system, no timeline
    # The list behind a reason holds that dossier, and the reason is shown beside it.
    one = page(
        leader.get("/ioc/figures/dossiers?figure=not_accepted&period=2026-03&reason=Không thuộc địa bàn", headers=EN)
    )
    assert "1 dossier." in one
    assert d["refused"].code in one
    assert "Không thuộc địa bàn" in one
    none = page(leader.get("/ioc/figures/dossiers?figure=stopped&period=2026-04&no_reason=1", headers=EN))
    assert d["imported_stopped"].code in none
    assert "1 dossier." in none
    other = page(leader.get("/ioc/figures/dossiers?figure=stopped&period=2026-03&reason=Something else", headers=EN))
    assert "0 dossiers." in other


def test_breakdowns_trend_and_charts(demo: Flask) -> None:
    d = build_fixture()
    leader = province(demo)
    html = page(leader.get("/ioc/figures?period=2026", headers=EN))
    for name in (
        "received",
        "outcomes",
        "processing",
        "ratings",
        "reasons",
        "agencies",
        "fields",
        "procedures",
        "months",
    ):
        assert f'id="ioc-{name}"' in html, name
    months = table(html, "months")
    assert months.count("<tr>") == 13  # the header and twelve months
    assert 'data-chart="bar"' in months
    assert "<canvas>" in html.split('id="ioc-months"')[1].split("</section>")[0]
    agencies = table(html, "agencies")
    assert "Commune Two" in agencies
    assert "Trung Tam Ward" in agencies
    assert 'scope="col"' in agencies
    assert 'scope="row"' in agencies
    assert "<caption" in agencies
    # One month has no trend; the p90 and average come in working hours.
    march = page(leader.get("/ioc/figures?period=2026-03", headers=EN))
    assert 'id="ioc-months"' not in march
    hours = recompute(MARCH)["hours"]
    average = f"{sum(hours) / len(hours):.1f}".replace(".", ",").removesuffix(",0")
    processing = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", table(march, "processing")))
    assert f"Average processing time (working hours) {average} h" in processing
    assert re.search(r"90th percentile of processing time \(working hours\) [\d,]+ h", processing)
    # Filters: one field, one procedure.
    water = page(leader.get("/ioc/figures?period=2026-03&field=Tài nguyên nước", headers=EN))
    assert "Groundwater permit" in table(water, "procedures")
    assert "Birth registration" not in table(water, "procedures")
    procedure = d["imported_online"].version.procedure_id
    only = page(leader.get(f"/ioc/figures?period=2026-03&procedure={procedure}", headers=EN))
    assert "Birth registration" not in table(only, "procedures")


def test_who_may_see_what(demo: Flask) -> None:
    d = build_fixture()
    other = db.session.get(Agency, d["imported_online"].agency_id)
    water = d["imported_online"].version.procedure_id
    urls = ["/ioc/figures", "/ioc/figures/dossiers?figure=received&period=2026-03", "/ioc/ranking",
            "/ioc/figures?period=2026-03&export=procedures&format=csv"]  # fmt: skip
    for url in urls:
        assert demo.test_client().get(url).status_code == 302, url  # to the sign-in page
    for who in (CITIZEN, DESK, SPECIALIST, ADMIN):
        client = signed_in(demo, who)
        for url in urls:
            assert client.get(url).status_code == 403, (who, url)

    ward = signed_in(demo, LEADER)
    mine = {d["early"].agency_id}
    for extra in ("", f"&agency={other.id}", f"&procedure={water}"):  # someone else's ids are ignored
        html = page(ward.get(f"/ioc/figures?period=2026-03{extra}", headers=EN))
        assert "Commune Two" not in html, extra
        assert "Groundwater permit" not in html, extra
        assert 'id="ioc-agencies"' not in html  # one agency: no breakdown per agency
        for href, text in NUMBER_LINK.findall(html):
            figure, filters = link_filters(href)
            filters.setdefault("agency_ids", mine)
            assert filters["agency_ids"] == mine
            assert number(text) == len(expected(**filters)[figure]), href
        listed_html = page(ward.get(f"/ioc/figures/dossiers?figure=received&period=2026-03{extra}", headers=EN))
        assert d["imported_online"].code not in listed_html
        assert d["early"].code in listed_html
        csv_text = ward.get(f"/ioc/figures?period=2026-03{extra}&export=procedures&format=csv").get_data(as_text=True)
        assert "Cấp phép khai thác nước" not in csv_text
        ranking = page(ward.get(f"/ioc/ranking?period=2026-04{extra}", headers=EN))
        assert "Commune Two" not in ranking
        assert "Groundwater permit" not in ranking
    # A ward leader opens their own dossiers from a list.
    late = page(ward.get("/ioc/figures/dossiers?figure=finished_late&period=2026-04", headers=EN))
    assert f'href="/inbox/dossiers/{d["late"].id}"' in late

    whole = province(demo)
    both = page(whole.get("/ioc/figures/dossiers?figure=received&period=2026-03", headers=EN))
    assert d["imported_online"].code in both
    assert d["early"].code in both
    narrowed = page(whole.get(f"/ioc/figures/dossiers?figure=received&period=2026-03&agency={other.id}", headers=EN))
    assert d["imported_online"].code in narrowed
    assert d["early"].code not in narrowed
    # The province's leader is not an officer of the ward: codes are listed, not linked.
    assert f'href="/inbox/dossiers/{d["imported_online"].id}"' not in narrowed


@pytest.mark.parametrize(
    "query",
    [
        "period=abc",
        "period=2026-13",
        "period=99999",
        "period=" + "9" * 100,
        "kind=month&month=",
        "kind=month&month=2026-00",
        "kind=quarter&quarter=2026-Q5",
        "kind=year&year=1",
        "kind=custom&since=2026-05-01&until=2026-04-01",
        "kind=custom&since=2026-02-30&until=2026-03-01",
        "kind=custom&since=2026-03-01",
        "since=abc&until=2026-03-01",
        "kind=fortnight",
    ],
)
def test_a_bad_period_gets_a_clear_message(demo: Flask, query: str) -> None:
    _province_leader()
    leader = signed_in(demo, PROVINCE_LEADER)
    for path in ("/ioc/figures", "/ioc/figures/dossiers?figure=received&", "/ioc/ranking"):
        url = f"{path}{'' if path.endswith('&') else '?'}{query}"
        response = leader.get(url, headers=EN)
        assert response.status_code == 400, url
        assert "This period cannot be shown" in page(response), url
        assert 'role="alert"' in page(response)
    vi = page(leader.get(f"/ioc/figures?{query}"))
    assert "Không thể hiển thị kỳ này" in vi


def test_the_chooser_and_odd_filters(demo: Flask) -> None:
    build_fixture()
    leader = province(demo)
    same = [
        "/ioc/figures?period=2026-Q1",
        "/ioc/figures?kind=quarter&quarter=2026-Q1&month=2026-11&year=2026",
        "/ioc/figures?kind=custom&since=2026-01-01&until=2026-03-31",
    ]
    received = set()
    for url in same:
        html = page(leader.get(url, headers=EN))
        received.add(re.search(r'figure=received"[^>]*>(\d+)<', table(html, "received").replace("&amp;", "&")).group(1))  # type: ignore[union-attr]
        assert "from 01/01/2026 to 31/03/2026" in html
    assert received == {"7"}
    assert leader.get("/ioc/figures", headers=EN).status_code == 200  # this month by default
    assert 'id="kind-month" name="kind" value="month" checked' in page(leader.get("/ioc/figures"))
    for url in (
        "/ioc/figures?period=2026-03&agency=abc&procedure=x&field=" + "x" * 300,
        "/ioc/figures?period=2026-03&agency=99999999&procedure=99999999&field=Nothing",
        "/ioc/figures/dossiers?figure=received&period=2026-03&page=abc",
        "/ioc/figures/dossiers?figure=received&period=2026-03&page=99999999",
        "/ioc/ranking?period=2026-03&sort=nope",
    ):
        assert leader.get(url).status_code == 200, url
    assert leader.get("/ioc/figures/dossiers?figure=nope&period=2026-03").status_code == 404
    assert leader.get("/ioc/figures?period=2026-03&export=nope&format=csv").status_code == 404
    assert leader.get("/ioc/figures?period=2026-03&export=received&format=pdf").status_code == 404


def test_ranking_with_the_change_against_the_previous_period(demo: Flask) -> None:
    d = build_fixture()
    leader = province(demo)
    commune, other = d["early"].agency_id, d["imported_online"].agency_id
    html = page(leader.get("/ioc/ranking?period=2026-04&sort=on_time", headers=EN))
    agencies = table(html, "agency_ranking")
    rows = re.findall(r"<tr>.*?</tr>", agencies, re.S)[1:]
    names = [re.search(r'<th scope="row">([^<(]+)', r).group(1).strip() for r in rows]  # type: ignore[union-attr]

    def share(agency: int, period: Period) -> float:
        e = expected(period, agency_ids={agency})
        return len(e["finished_early"] | e["finished_on_time"]) / len(e["judged"])

    april = {"Trung Tam Ward": share(commune, APRIL), "Commune Two": share(other, APRIL)}
    assert names == sorted(april, key=lambda n: -april[n])
    first = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", unescape(rows[0]).replace("\xa0", " ")))
    points = round((share(commune, APRIL) - share(commune, MARCH)) * 100)
    assert f"−{abs(points)} points" in first  # the on-time share fell from March
    assert "down from the previous period, worse" in first  # in words, not only by an arrow or a colour
    assert 'aria-hidden="true">▼<' in rows[0]
    # Sorted by overdue now: fewest first.
    by_overdue = table(page(leader.get("/ioc/ranking?period=2026-04&sort=overdue", headers=EN)), "agency_ranking")
    assert 'aria-sort="ascending"' in by_overdue
    overdue = [number(n) for n in re.findall(r"figure=overdue_open[^>]*>(\d+)<", by_overdue)]
    assert overdue == sorted(overdue)
    counted = {a: len(expected(APRIL, agency_ids={a})["overdue_open"]) for a in (commune, other)}
    assert sorted(overdue) == sorted(counted.values())
    # The procedures too, each number a list.
    procedures = table(html, "procedure_ranking")
    for href, text in re.findall(r'<td class="num"><a href="([^"]+)">(\d+)</a>', procedures):
        figure, filters = link_filters(href)
        assert number(text) == len(expected(**filters)[figure]), href


def _sheet(response: Any) -> list[list[Any]]:
    book = load_workbook(io.BytesIO(response.get_data()))
    return [list(row) for row in book.active.iter_rows(values_only=True)]


def _csv(response: Any) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def test_downloads_hold_the_pages_numbers(demo: Flask) -> None:
    d = build_fixture()
    leader = province(demo)
    html = page(leader.get("/ioc/figures?period=2026", headers=EN))
    for name in (
        "received",
        "outcomes",
        "processing",
        "ratings",
        "reasons",
        "agencies",
        "fields",
        "procedures",
        "months",
    ):
        assert f"export={name}&amp;format=csv" in html, name
        assert f"export={name}&amp;format=xlsx" in html, name
    procedures = table(html, "procedures")
    shown = {
        re.sub(r"<[^>]+>", "", row[0]).strip(): [
            number(n) for n in re.findall(r'data-kind="int"><a [^>]*>([\d.]+)<', row[1])
        ]
        for row in re.findall(r'<th scope="row">(.*?)</th>(.*?)</tr>', procedures, re.S)
    }
    xlsx = leader.get("/ioc/figures?period=2026&export=procedures&format=xlsx", headers=EN)
    assert xlsx.status_code == 200
    assert xlsx.mimetype.endswith("spreadsheetml.sheet")
    assert "motcua-procedures-2026.xlsx" in xlsx.headers["Content-Disposition"]
    rows = _sheet(xlsx)
    header = rows[0]
    assert header[:3] == ["Procedure", "Code", "Received"]
    count_labels = ("Received", "Online", "Finished", "Early", "On time", "Late", "Overdue now", "Not accepted",
                    "Stopped", "Withdrawn")  # fmt: skip
    counts = [i for i, label in enumerate(header) if label in count_labels]
    assert {row[0]: [row[i] for i in counts] for row in rows[1:]} == shown
    share = header.index("On-time share")
    water = next(row for row in rows if row[0] == "Groundwater permit")
    assert water[share] == pytest.approx(0.5)
    csv_rows = _csv(leader.get("/ioc/figures?period=2026&export=procedures&format=csv", headers=EN))
    assert csv_rows[0] == header
    assert {row[0]: [int(row[i]) for i in counts] for row in csv_rows[1:]} == shown

    # The summary in Vietnamese, and the month by month.
    received = _sheet(leader.get("/ioc/figures?period=2026&export=received&format=xlsx"))
    assert received[0] == ["Hình thức nộp", "Số hồ sơ", "Tỷ lệ trên số tiếp nhận"]
    total = len(expected(Period.year(2026))["received"])
    assert received[-1][1] == total
    months = _csv(leader.get("/ioc/figures?period=2026&export=months&format=csv", headers=EN))
    assert [r[0] for r in months[1:]] == [f"2026-{m:02d}" for m in range(1, 13)]
    assert sum(int(r[1]) for r in months[1:]) == total

    # A list of dossiers, with its filters; the ranking.
    listed_xlsx = _sheet(
        leader.get("/ioc/figures/dossiers?figure=withdrawn&period=2026-03&export=dossiers&format=xlsx", headers=EN)
    )
    assert [r[0] for r in listed_xlsx[1:]] == [d["withdrawn"].code]
    assert listed_xlsx[1][-1] == "Tôi nộp nhầm thủ tục"
    ranking = _csv(leader.get("/ioc/ranking?period=2026-04&export=agency_ranking&format=csv", headers=EN))
    assert ranking[0][:3] == ["Rank", "Agency", "Code"]
    assert {r[1] for r in ranking[1:]} == {"Trung Tam Ward", "Commune Two"}


def test_the_pages_speak_vietnamese_and_are_linked_from_the_centre(demo: Flask) -> None:
    build_fixture()
    leader = signed_in(demo, LEADER)
    today = page(leader.get("/ioc/"))
    assert 'href="/ioc/figures"' in today
    assert 'href="/ioc/ranking"' in today
    html = page(leader.get("/ioc/figures?period=2026-03"))
    assert "Số liệu theo kỳ" in html
    assert "Tiếp nhận" in html
    assert '<html lang="vi"' in html
    assert "Xếp hạng" in page(leader.get("/ioc/ranking?period=2026-03"))
    assert "hồ sơ" in page(leader.get("/ioc/figures/dossiers?figure=received&period=2026-03"))


def test_the_period_pages_on_a_phone_with_a_screen_reader(live_server, browser, demo: Flask) -> None:
    from playwright.sync_api import expect

    from tests.browser import assert_accessible, shot
    from tests.test_browser_journey import sign_in

    build_fixture()
    page_ = sign_in(browser, live_server.url, LEADER, phone=True)
    errors: list[str] = []
    page_.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page_.goto(f"{live_server.url}/ioc/")
    page_.get_by_role("link", name="Số liệu theo kỳ").click()
    expect(page_.get_by_role("heading", level=2)).to_contain_text("Số liệu theo kỳ")
    # Choose the first quarter of 2026 with the chooser, as a person would.
    page_.get_by_label("Quý", exact=True).check()
    page_.get_by_label("Chọn quý").select_option("2026-Q1")
    page_.get_by_role("button", name="Xem").click()
    expect(page_.get_by_role("heading", level=2)).to_contain_text("01/01/2026")
    expect(page_.get_by_role("table", name="Theo từng tháng")).to_be_attached()
    expect(
        page_.locator("#ioc-months").locator("xpath=ancestor::div[contains(@class,'ioc-chart-pair')]//canvas")
    ).to_be_visible()
    assert page_.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")  # tables scroll inside
    assert_accessible(page_, "the period figures on a phone")
    shot(page_, "ioc-period-figures-phone")
    # A number leads to its dossiers; one is opened from there.
    page_.locator("#ioc-outcomes").get_by_role("link").first.click()
    expect(page_.get_by_role("status")).to_contain_text("hồ sơ")
    assert_accessible(page_, "the dossiers behind a figure")
    with page_.expect_download() as download:
        page_.get_by_role("link", name="Excel (XLSX)").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    page_.goto(f"{live_server.url}/ioc/ranking?period=2026-04")
    expect(page_.get_by_role("table", name=re.compile("Cơ quan"))).to_be_attached()
    assert_accessible(page_, "the ranking on a phone")
    shot(page_, "ioc-ranking-phone")
    assert errors == []
