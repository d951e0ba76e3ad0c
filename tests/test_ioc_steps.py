"""Where dossiers wait is counted as the steps happen (portal/stats/steps.py): the waiting view read from those
counts says the same after a rebuild from the task rows, and its medians come from the duration buckets."""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy import delete, select

from portal.extensions import db
from portal.models import FlowDaily, StepDaily, WorkDaily
from portal.stats.steps import bucket_of, quantile_of
from tests.helpers import do, upload, version_of, vn
from tests.test_inbox_pages import CITIZEN, DESK, EN, LEADER, SPECIALIST, new_dossier, page, signed_in


def _rows() -> dict[str, list[tuple]]:
    return {
        table.__tablename__: sorted(tuple(r) for r in db.session.execute(select(table.__table__)))
        for table in (StepDaily, FlowDaily, WorkDaily)
    }


def _tables(html: str) -> str:
    """The figures of the page: its tables, without the parts that change with the clock."""
    return "\n".join(re.findall(r"<table.*?</table>", html, re.S))


def varied_month() -> None:
    """March 2026: a dossier taken to the end, one sent back for a supplement and then accepted, one refused,
    one still at the specialist's, and one that started in February (its reception in March)."""
    done = new_dossier("Đủ Cả", vn(2026, 3, 2, 8, 0))
    do(done, "reception_check", DESK, {"decision": "accept"}, vn(2026, 3, 2, 9, 0))
    do(done, "specialist_review", SPECIALIST, {"decision": "approve"}, vn(2026, 3, 3, 10, 30))
    do(done, "leader_approval", LEADER, {"decision": "approve"}, vn(2026, 3, 4, 8, 0))
    do(done, "return_result", DESK, {"delivery_method": "online", "fee_paid": True}, vn(2026, 3, 4, 9, 0))
    asked = new_dossier("Thiếu Giấy", vn(2026, 3, 2, 8, 0))
    do(asked, "reception_check", DESK, {"decision": "supplement", "reason": "Thiếu hợp đồng thuê"}, vn(2026, 3, 2, 10))
    files = upload(CITIZEN, "hop-dong.pdf")
    do(asked, "reception_supplement", CITIZEN, {"supplement_documents": files}, vn(2026, 3, 5, 8, 0))
    do(asked, "reception_check", DESK, {"decision": "accept"}, vn(2026, 3, 5, 9, 0))
    refused = new_dossier("Sai Chỗ", vn(2026, 3, 3, 8, 0))
    do(refused, "reception_check", DESK, {"decision": "refuse", "reason": "Sai thẩm quyền"}, vn(2026, 3, 3, 8, 30))
    early = new_dossier("Tháng Trước", vn(2026, 2, 27, 15, 0))
    do(early, "reception_check", DESK, {"decision": "accept"}, vn(2026, 3, 2, 8, 0))


def test_the_waiting_view_is_the_same_after_a_rebuild_from_the_task_rows(demo: Flask) -> None:
    varied_month()
    version = version_of("household_business")
    incremental = _rows()
    assert all(incremental.values()), incremental
    leader = signed_in(demo, LEADER)
    urls = [
        f"/ioc/waiting?version={version.id}&since=2026-03-01&until=2026-03-31",
        f"/ioc/waiting?version={version.id}&since=2026-02-01&until=2026-02-28",
        f"/ioc/waiting?version={version.id}&since=2026-01-01&until=2026-12-31",
    ]
    before = [_tables(page(leader.get(url, headers=EN))) for url in urls]
    march = page(leader.get(urls[0], headers=EN))
    # The supplement round went out and came back; the refusal ended at its end event; two reached the specialist
    # in March (one from a February start: its reception step was led to from the start in February).
    assert re.search(r'<tr data-flow="Flow_reception_supplement" data-overlay="1"', march)
    assert re.search(r'<tr data-flow="Flow_supplement_reception" data-overlay="1"', march)
    assert re.search(r'<tr data-flow="Flow_reception_refuse" data-overlay="1"', march)
    assert re.search(r'<tr data-flow="Flow_reception_accept" data-overlay="3"', march)
    assert re.search(r'<tr data-flow="Flow_return_end" data-overlay="1"', march)

    for table in (StepDaily, FlowDaily, WorkDaily):
        db.session.execute(delete(table))
    db.session.commit()
    assert re.search(r'<tr data-flow="Flow_reception_accept" data-overlay="0"', page(leader.get(urls[0], headers=EN)))
    runner = demo.test_cli_runner()
    for _ in range(2):
        result = runner.invoke(args=["stats", "rebuild-steps", "--batch", "2"])
        assert result.exit_code == 0, result.output
        assert "Step statistics rebuilt from" in result.output
        db.session.expire_all()
        assert _rows() == incremental
        assert [_tables(page(leader.get(url, headers=EN))) for url in urls] == before


def test_medians_and_p90_are_read_from_the_duration_buckets() -> None:
    # Durations at the buckets' edges are exact: 1, 2 and 8 hours give a median of 2 and a p90 of 8.
    histogram = {bucket_of(1): 1, bucket_of(2): 1, bucket_of(8): 1}
    assert quantile_of(histogram, 0.5) == 2
    assert quantile_of(histogram, 0.9) == 8
    # Between edges, the edge above: 2.2 hours counts as "at most 2.5".
    assert quantile_of({bucket_of(2.2): 4}, 0.5) == 2.5
    assert quantile_of({bucket_of(0): 2, bucket_of(100): 1}, 0.5) == 0
    assert quantile_of({}, 0.5) is None
    assert quantile_of({bucket_of(10_000): 3}, 0.9) == 2000  # past the last edge: at least that
