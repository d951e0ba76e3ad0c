"""Operations-centre statistics: the aggregates kept with every step agree with the dossiers' own rows and events,
with a rebuild from scratch, and with what the public page and the open data show (no personal data there)."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from datetime import date, datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from portal.citizen.services import rate
from portal.core.time import utcnow
from portal.dossiers.services import submit_dossier, withdraw_dossier
from portal.extensions import db
from portal.models import (
    Agency,
    Attachment,
    Channel,
    DailyStats,
    Dossier,
    DossierEvent,
    DossierFacts,
    Procedure,
    ProcedureVersion,
    Rating,
    Status,
)
from portal.models.stats import HOUR_BUCKETS
from portal.sla.services import calendar_for
from portal.stats import figures
from portal.stats.figures import Period
from tests.helpers import VN, do, submit, upload, user, version_of, vn

CITIZEN = "congdan@motcua.demo"
DESK = "tiepnhan@motcua.demo"
CIVIL = "hotich@motcua.demo"
SPECIALIST = "dkkd@motcua.demo"
KTHT = "ktht@motcua.demo"
LEADER = "lanhdao@motcua.demo"
EN = {"Cookie": "lang=en"}
MARCH, APRIL = Period.month(2026, 3), Period.month(2026, 4)


# -- the fixture: a varied month and a half, mostly through the real services -------------------------------


def birth() -> dict:
    return {
        "child_full_name": "Nguyễn Minh An",
        "child_birth_date": "2026-02-20",
        "child_sex": "male",
        "child_birth_place": "Bệnh viện Đa khoa tỉnh",
        "father_full_name": "Nguyễn Văn Bình",
        "mother_full_name": "Võ Thị Mai",
        "applicant_relationship": "mother",
        "birth_certificate_file": upload(CITIZEN, "giay-chung-sinh.pdf"),
    }


def business() -> dict:
    return {
        "business_name": "Tạp hóa Mai Anh",
        "business_address": "12 Lê Lợi, phường Trung Tâm",
        "business_line": "retail",
        "capital": 50_000_000,
        "owner_full_name": "Võ Thị Mai",
        "owner_citizen_id": "001190012345",
        "phone": "0912345678",
        "documents": upload(CITIZEN, "giay-de-nghi.pdf"),
    }


def permit() -> dict:
    return {
        "owner_full_name": "Võ Thị Mai",
        "owner_citizen_id": "001190012345",
        "phone": "0912345678",
        "construction_address": "Thửa 45, tờ bản đồ 12, phường Trung Tâm",
        "land_parcel_number": "45",
        "map_sheet_number": "12",
        "floor_area": 180,
        "floors": 3,
        "land_use_certificate": upload(CITIZEN, "so-do.pdf"),
        "design_drawings": upload(CITIZEN, "ban-ve.pdf"),
    }


def business_to_the_end(dossier: Dossier, approve_at: datetime) -> None:
    do(dossier, "specialist_review", SPECIALIST, {"decision": "approve"}, approve_at)
    do(dossier, "leader_approval", LEADER, {"decision": "approve"}, approve_at.replace(hour=approve_at.hour + 1))
    do(
        dossier,
        "return_result",
        DESK,
        {"delivery_method": "online", "fee_paid": True},
        approve_at.replace(hour=approve_at.hour + 2),
    )


def birth_to_the_end(dossier: Dossier, day: int, month: int = 3) -> None:
    do(dossier, "civil_status_review", CIVIL, {"decision": "approve"}, vn(2026, month, day, 10, 30))
    do(dossier, "leader_sign", LEADER, {"decision": "approve"}, vn(2026, month, day, 11, 0))
    do(dossier, "return_result", DESK, {"delivery_method": "counter"}, vn(2026, month, day, 14, 0))


def second_agency() -> tuple[Agency, Procedure, ProcedureVersion]:
    """Another commune whose dossiers came from an older system: rows written directly, not by the engine.
    The aggregates follow any write of the dossier rows, not only the engine's."""
    province = db.session.scalar(select(Agency).where(Agency.level == "province"))
    agency = Agency(code="000.00.32.H56", name="UBND xã Hai", name_en="Commune Two", level="commune")
    agency.parent_id = province.id if province else None
    db.session.add(agency)
    db.session.flush()
    procedure = Procedure(
        key="imported_water",
        code="1.009999",
        name="Cấp phép khai thác nước dưới đất",
        name_en="Groundwater permit",
        field="Tài nguyên nước",
        agency_id=agency.id,
        service_level="full_online",
        deadline="5d",
    )
    db.session.add(procedure)
    db.session.flush()
    version = ProcedureVersion(
        procedure_id=procedure.id, number=1, status="retired", process_id="imported", bpmn_xml="", checksum="x"
    )
    version.model = {}
    db.session.add(version)
    db.session.flush()
    return agency, procedure, version


def imported(version: ProcedureVersion, agency: Agency, n: int, channel: int, **times: Any) -> Dossier:
    dossier = Dossier(
        code=f"000.00.32.H56-2603{n:02d}-0001",
        tracking_secret="ABCDEFGH",
        procedure_version_id=version.id,
        agency_id=agency.id,
        applicant_id=user(CITIZEN).id,
        channel=channel,
        form_data={},
        **times,
    )
    db.session.add(dossier)
    db.session.flush()
    return dossier


def officer_file(dossier: Dossier, who: str, at: datetime, name: str) -> None:
    """A file an officer attached to a dossier, written directly (the aggregates follow any attachment write)."""
    db.session.add(
        Attachment(
            dossier_id=dossier.id,
            field="scan",
            filename=name,
            content_type="application/pdf",
            size=4,
            sha256="0" * 64,
            storage_key=f"test-{dossier.id}-{name}",
            uploaded_by_id=user(who).id,
            created_at=at,
        )
    )
    db.session.commit()


def build_fixture() -> dict[str, Dossier]:
    d: dict[str, Dossier] = {}
    # Household business (3 working days): early, after a supplement (early), late, withdrawn.
    d["early"] = submit("household_business", business(), vn(2026, 3, 2, 8, 0))
    do(d["early"], "reception_check", DESK, {"decision": "accept"}, vn(2026, 3, 2, 9, 0))
    business_to_the_end(d["early"], vn(2026, 3, 2, 10, 0))

    d["supplemented"] = submit("household_business", business(), vn(2026, 3, 2, 8, 30))
    do(d["supplemented"], "reception_check", DESK, {"decision": "accept"}, vn(2026, 3, 2, 9, 0))
    do(
        d["supplemented"],
        "specialist_review",
        SPECIALIST,
        {"decision": "supplement", "reason": "Thiếu hợp đồng thuê nhà"},
        vn(2026, 3, 3, 10, 0),
    )
    do(
        d["supplemented"],
        "specialist_supplement",
        CITIZEN,
        {"supplement_documents": upload(CITIZEN, "hop-dong.pdf"), "supplement_note": "Đã bổ sung"},
        vn(2026, 3, 6, 10, 0),
    )
    business_to_the_end(d["supplemented"], vn(2026, 3, 9, 9, 0))

    d["late"] = submit("household_business", business(), vn(2026, 3, 30, 8, 0))
    do(d["late"], "reception_check", DESK, {"decision": "accept"}, vn(2026, 3, 30, 9, 0))
    business_to_the_end(d["late"], vn(2026, 4, 8, 9, 0))  # finished in April, well past 2 April

    d["withdrawn"] = submit("household_business", business(), vn(2026, 3, 4, 8, 0))
    withdraw_dossier(d["withdrawn"].id, user(CITIZEN), "Tôi nộp nhầm thủ tục", now=vn(2026, 3, 4, 9, 0))
    db.session.commit()

    # Birth registration (same day): on time in person, refused at the desk, a supplement at the desk then on time.
    d["counter"] = submit_dossier(
        version_of("birth_registration"), user(CITIZEN), birth(), channel=Channel.IN_PERSON, now=vn(2026, 3, 3, 8, 0)
    )
    db.session.commit()
    do(d["counter"], "reception_check", DESK, {"decision": "accept"}, vn(2026, 3, 3, 8, 10))
    birth_to_the_end(d["counter"], 3)

    d["refused"] = submit("birth_registration", birth(), vn(2026, 3, 5, 9, 0))
    do(
        d["refused"],
        "reception_check",
        DESK,
        {"decision": "refuse", "reason": "Không thuộc địa bàn"},
        vn(2026, 3, 5, 9, 30),
    )

    d["desk_supplement"] = submit("birth_registration", birth(), vn(2026, 4, 1, 8, 0))
    do(
        d["desk_supplement"],
        "reception_check",
        DESK,
        {"decision": "supplement", "reason": "Thiếu bản chính"},
        vn(2026, 4, 1, 8, 30),
    )
    do(
        d["desk_supplement"],
        "reception_supplement",
        CITIZEN,
        {"supplement_documents": upload(CITIZEN, "bc.pdf")},
        vn(2026, 4, 1, 9, 0),
    )
    do(d["desk_supplement"], "reception_check", DESK, {"decision": "accept"}, vn(2026, 4, 1, 9, 30))
    birth_to_the_end(d["desk_supplement"], 1, month=4)

    # Construction permit: supplement during appraisal, then stopped (status 8); another still open.
    d["stopped"] = submit("construction_permit", permit(), vn(2026, 3, 2, 8, 0))
    do(d["stopped"], "reception_check", DESK, {"decision": "accept"}, vn(2026, 3, 2, 9, 0))
    site = {"inspection_date": "2026-03-04", "findings": "Đúng hiện trạng", "site_ok": True}
    do(d["stopped"], "site_inspection", KTHT, site, vn(2026, 3, 3, 9, 0))
    do(d["stopped"], "appraisal", KTHT, {"decision": "supplement", "reason": "Thiếu chữ ký"}, vn(2026, 3, 4, 9, 0))
    do(
        d["stopped"],
        "appraisal_supplement",
        CITIZEN,
        {"supplement_documents": upload(CITIZEN, "bv.pdf")},
        vn(2026, 3, 5, 9, 0),
    )
    do(d["stopped"], "appraisal", KTHT, {"decision": "refuse", "reason": "Vi phạm quy hoạch"}, vn(2026, 3, 6, 9, 0))

    d["open"] = submit("construction_permit", permit(), vn(2026, 4, 6, 8, 0))
    do(d["open"], "reception_check", DESK, {"decision": "accept"}, vn(2026, 4, 6, 9, 0))

    # Ratings, given today through the citizen's service: one of each level.
    for name, level in (("early", 3), ("counter", 2), ("refused", 1), ("late", 2)):
        rate(d[name], user(CITIZEN), level, None)
        db.session.commit()

    # The second agency: rows written directly; one of them changes later (an open dossier finishes late).
    agency, _procedure, version = second_agency()
    d["imported_online"] = imported(
        version,
        agency,
        1,
        Channel.ONLINE,
        status=Status.RETURNED,
        submitted_at=vn(2026, 3, 3, 8, 0),
        received_at=vn(2026, 3, 3, 8, 30),
        appointment_at=vn(2026, 3, 10, 8, 30),
        finished_at=vn(2026, 3, 5, 10, 0),
        closed_at=vn(2026, 3, 5, 10, 0),
        returned_at=vn(2026, 3, 5, 10, 0),
        timeliness="early",
    )
    d["imported_post"] = imported(
        version,
        agency,
        2,
        Channel.POST,
        status=Status.IN_PROCESS,
        submitted_at=vn(2026, 3, 10, 8, 0),
        received_at=vn(2026, 3, 10, 9, 0),
        appointment_at=vn(2026, 3, 17, 9, 0),
    )
    d["imported_stopped"] = imported(
        version,
        agency,
        3,
        Channel.IN_PERSON,
        status=Status.STOPPED,
        submitted_at=vn(2026, 4, 1, 8, 0),
        received_at=vn(2026, 4, 1, 8, 0),
        closed_at=vn(2026, 4, 3, 8, 0),
        finished_at=vn(2026, 4, 3, 8, 0),
    )
    db.session.commit()
    later = d["imported_post"]
    later.status = Status.FINISHED
    later.finished_at = vn(2026, 4, 2, 15, 0)
    later.timeliness = "late"
    db.session.commit()
    # Digitisation: the desk's scan made while receiving the postal dossier makes it digitised (the file alone
    # changes, not the dossier); the electronic result of the online one, attached after reception, does not.
    officer_file(d["imported_post"], DESK, vn(2026, 3, 10, 8, 55), "scan.pdf")
    officer_file(d["imported_online"], DESK, vn(2026, 3, 5, 10, 0), "ket-qua.pdf")
    return d


# -- the independent recomputation, from the raw rows ---------------------------------------------------------


def local(moment: datetime | None) -> date | None:
    return None if moment is None else moment.astimezone(VN).date()


def recompute(
    period: Period, *, agency_id: int | None = None, field: str | None = None, procedure_id: int | None = None
) -> dict[str, Any]:
    """Every count straight from dossiers, their procedures, timeline events and ratings."""
    inside = lambda moment: moment is not None and period.start <= local(moment) <= period.end  # noqa: E731
    c: Counter[str] = Counter()
    hours: list[float] = []
    rows = db.session.execute(
        select(Dossier, Procedure)
        .join(ProcedureVersion, ProcedureVersion.id == Dossier.procedure_version_id)
        .join(Procedure)
    ).all()
    channel_names = {1: "in_person", 2: "online", 3: "post"}
    for dossier, procedure in rows:
        if agency_id is not None and dossier.agency_id != agency_id:
            continue
        if procedure_id is not None and procedure.id != procedure_id:
            continue
        if field is not None and (procedure.field or "") != field:
            continue
        if inside(dossier.submitted_at):
            c["submitted"] += 1
            c[f"submitted_{channel_names[dossier.channel]}"] += 1
        if inside(dossier.received_at):
            c["received"] += 1
            c[f"received_{channel_names[dossier.channel]}"] += 1
            files = db.session.scalars(select(Attachment).where(Attachment.dossier_id == dossier.id)).all()
            # Digitised: a file of the applicant's, or an officer's file uploaded by the reception.
            if any(f.uploaded_by_id == dossier.applicant_id or f.created_at <= dossier.received_at for f in files):
                c["received_digitised"] += 1
            if dossier.channel == Channel.ONLINE and procedure.service_level in ("full_online", "partial_online"):
                c[f"received_{procedure.service_level}"] += 1
        ended = None
        if dossier.status in (Status.FINISHED, Status.RETURNED) and inside(dossier.finished_at):
            ended = "finished"
            c["finished"] += 1
            if dossier.timeliness:
                c[f"finished_{dossier.timeliness}"] += 1
            if dossier.received_at is not None:
                calendar = calendar_for(dossier.agency)
                worked = calendar.working_hours_between(dossier.received_at, dossier.finished_at)
                hours.append(max(0.0, worked - dossier.sla_paused_hours))
        elif dossier.closed_at is not None and inside(dossier.closed_at):
            ended = {Status.NOT_ACCEPTED: "not_accepted", Status.STOPPED: "stopped", Status.WITHDRAWN: "withdrawn"}.get(
                dossier.status
            )
            if ended:
                c[ended] += 1
        if ended and dossier.received_at is None:  # ended without ever being received
            c[f"unreceived_{ended}"] += 1
            if ended == "finished" and dossier.timeliness:
                c[f"unreceived_finished_{dossier.timeliness}"] += 1
        if ended:
            rounds = db.session.scalar(
                select(db.func.count()).where(
                    DossierEvent.dossier_id == dossier.id,
                    DossierEvent.kind == "status",
                    DossierEvent.to_status == Status.SUPPLEMENT,
                )
            )
            c["supplement_rounds"] += rounds
            c["supplemented"] += 1 if rounds else 0
        rating = db.session.scalar(select(Rating).where(Rating.dossier_id == dossier.id))
        if rating is not None and inside(rating.created_at):
            c[{1: "rating_unsatisfied", 2: "rating_satisfied", 3: "rating_very_satisfied"}[rating.level]] += 1
    c["processing_count"] = len(hours)
    return {"counts": c, "hours": hours}


def check(period: Period, **selection: Any) -> figures.Figures:
    got = figures.totals(period, **selection)
    want = recompute(period, **selection)
    for name in figures.Figures.__dataclass_fields__:
        if name in ("hours_histogram", "processing_hours"):
            continue
        assert getattr(got, name) == want["counts"][name], (period.key, selection, name)
    assert got.processing_hours == pytest.approx(sum(want["hours"]), abs=0.01)
    hours = sorted(want["hours"])
    if hours:
        true_p90 = hours[max(0, -(-9 * len(hours) // 10) - 1)]
        edges = (0, *HOUR_BUCKETS, float("inf"))
        bucket = next(i for i in range(len(edges) - 1) if edges[i] <= true_p90 < edges[i + 1])
        assert edges[bucket] <= (got.p90_hours or 0) <= edges[bucket + 1], (true_p90, got.p90_hours)
        assert got.average_hours == pytest.approx(sum(hours) / len(hours), abs=0.01)
    else:
        assert got.p90_hours is None
        assert got.average_hours is None
    return got


def daily_rows() -> list[tuple]:
    table = DailyStats.__table__
    rows = db.session.execute(select(table).order_by(table.c.day, table.c.agency_id, table.c.procedure_id)).all()
    return [tuple(round(v, 3) if isinstance(v, float) else v for v in row) for row in rows if any(row[3:])]


def facts_rows() -> list[tuple]:
    table = DossierFacts.__table__
    return [tuple(row) for row in db.session.execute(select(table).order_by(table.c.dossier_id))]


# -- the tests ----------------------------------------------------------------------------------------------


def test_every_figure_agrees_with_the_dossiers_rows_and_events(demo: Flask) -> None:
    d = build_fixture()
    this_month = Period.containing(utcnow().astimezone(VN).date())
    commune = d["early"].agency_id
    other = d["imported_online"].agency_id
    for period in (
        MARCH,
        APRIL,
        Period.quarter(2026, 1),
        Period.year(2026),
        this_month,
        Period.custom(date(2026, 3, 2), date(2026, 3, 4)),
    ):
        check(period)
        for agency_id in (commune, other):
            check(period, agency_id=agency_id)
        for field in {p.field or "" for p in db.session.scalars(select(Procedure))}:
            check(period, field=field)
        for procedure in db.session.scalars(select(Procedure)):
            check(period, procedure_id=procedure.id)

    # The fixture is as varied as it claims.
    march = figures.totals(MARCH)
    assert (march.finished_early, march.finished_on_time, march.not_accepted, march.stopped, march.withdrawn) == (
        3,
        1,
        1,
        1,
        1,
    )
    assert (march.received_in_person, march.received_online, march.received_post) == (1, 5, 1)
    assert march.received_full_online == 1
    assert march.received_partial_online == 4
    assert march.received_digitised == 6  # every received one but the imported online dossier
    assert march.digitised_share == pytest.approx(6 / 7)
    assert march.supplement_rounds == 2
    assert march.supplemented == 2
    april = figures.totals(APRIL)
    assert april.finished_late == 2
    assert april.stopped == 1
    assert april.supplement_rounds == 1
    ratings = figures.totals(this_month)
    assert (ratings.rating_unsatisfied, ratings.rating_satisfied, ratings.rating_very_satisfied) == (1, 2, 1)
    assert ratings.satisfaction_share == pytest.approx(0.75)

    # Breakdowns add up to the whole.
    for rows in (figures.by_agency(MARCH), figures.by_procedure(MARCH), figures.by_field(MARCH)):
        total = figures.Figures()
        for row in rows:
            total = total + row.figures
        assert total == march
    year = figures.totals(Period.year(2026))
    months = figures.by_month(Period.year(2026))
    assert len(months) == 12
    assert sum(m.figures.received for m in months) == year.received


def test_a_rebuild_from_scratch_gives_the_same_rows_and_is_idempotent(demo: Flask) -> None:
    build_fixture()
    incremental, facts = daily_rows(), facts_rows()
    assert incremental
    db.session.execute(DailyStats.__table__.delete())
    db.session.commit()
    assert figures.totals(MARCH).received == 0

    runner = demo.test_cli_runner()
    for _ in range(2):
        result = runner.invoke(args=["stats", "rebuild", "--batch", "3"])
        assert result.exit_code == 0, result.output
        assert "rebuilt from 12 dossier(s)" in result.output
        db.session.expire_all()
        assert daily_rows() == incremental
        assert facts_rows() == facts


def test_a_rolled_back_step_leaves_the_figures_untouched(demo: Flask) -> None:
    dossier = submit("household_business", business(), vn(2026, 3, 2, 8, 0))
    before = daily_rows()
    do_not_keep = db.session.get(Dossier, dossier.id)
    do_not_keep.status = Status.WITHDRAWN
    do_not_keep.closed_at = vn(2026, 3, 2, 9, 0)
    db.session.flush()
    assert figures.totals(MARCH).withdrawn == 1  # visible inside the transaction
    db.session.rollback()
    assert daily_rows() == before
    assert figures.totals(MARCH).withdrawn == 0


def test_the_public_page_shows_the_figures_in_both_languages_and_no_personal_data(demo: Flask) -> None:
    d = build_fixture()
    client = demo.test_client()
    page = client.get("/statistics?period=2026-03")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Thống kê" in html
    assert "<caption>" in html
    assert 'scope="col"' in html
    assert 'scope="row"' in html
    march = figures.totals(MARCH)
    for row in figures.by_procedure(MARCH):
        assert row.name in html
    assert f"<dd>{march.received}</dd>" in html
    for private in (
        "Võ Thị Mai",
        "001190012345",
        "0912345678",
        "Nguyễn Minh An",
        d["early"].code,
        "Tạp hóa",
        "Nguyễn Văn An",
    ):
        assert private not in html

    english = client.get("/statistics?period=2026-03", headers=EN).get_data(as_text=True)
    assert "Statistics of administrative procedures" in english
    assert "Groundwater permit" in english

    # One agency, one field: the figures of the selection only.
    agency_page = client.get(f"/statistics?period=2026-03&agency={d['imported_online'].agency_id}").get_data(
        as_text=True
    )
    assert "UBND xã Hai" in agency_page
    assert "Đăng ký khai sinh" not in agency_page
    field_page = client.get("/statistics?period=2026-Q1&field=Tài nguyên nước")
    assert field_page.status_code == 200
    assert "Cấp phép khai thác nước" in field_page.get_data(as_text=True)


def test_each_procedure_has_a_public_page_of_its_own(demo: Flask) -> None:
    d = build_fixture()
    client = demo.test_client()
    procedure = db.session.get(ProcedureVersion, d["early"].procedure_version_id).procedure
    province = client.get("/statistics?period=2026-03").get_data(as_text=True)
    link = f"/statistics?period=2026-03&amp;procedure={procedure.id}"
    assert link in province  # the province's table of procedures leads to each one's page

    page = client.get(f"/statistics?period=2026-03&procedure={procedure.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    want = recompute(MARCH, procedure_id=procedure.id)["counts"]
    assert procedure.name in html
    assert f"<dd>{want['received']}</dd>" in html
    assert f"<dd>{want['finished_late']}</dd>" in html
    assert 'id="procedures-title"' not in html  # no table of other procedures
    assert "Đăng ký khai sinh" not in html
    # Each agency handling it, and the months of a longer period, for that procedure only.
    assert f"procedure={procedure.id}" in html
    quarter = client.get(f"/statistics?period=2026-Q1&procedure={procedure.id}").get_data(as_text=True)
    assert 'id="months-title"' in quarter

    assert client.get("/statistics?period=2026-03&procedure=999999").status_code == 404
    assert client.get("/statistics?period=2026-03&procedure=abc").status_code == 400


def test_open_data_matches_the_figures_and_is_cacheable(demo: Flask) -> None:
    d = build_fixture()
    client = demo.test_client()
    response = client.get("/open-data/statistics/2026-03.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert "public" in response.headers["Cache-Control"]
    assert "max-age=3600" in response.headers["Cache-Control"]
    body = response.get_json()
    assert body["month"] == "2026-03"
    names = {row["procedure_code"]: row for row in body["rows"]}
    for procedure in db.session.scalars(select(Procedure)):
        want = recompute(MARCH, procedure_id=procedure.id)["counts"]
        if not any(want.values()):
            assert procedure.code not in names
            continue
        row = names[procedure.code]
        assert row["received"] == want["received"]
        assert row["finished_late"] == want["finished_late"]
        assert row["finished_on_time"] + row["finished_early"] == want["finished_on_time"] + want["finished_early"]
        assert row["withdrawn"] == want["withdrawn"]
        assert row["stopped"] == want["stopped"]
    assert body["province"]["received"] == recompute(MARCH)["counts"]["received"]
    assert list(body["rows"][0]) == body["fields"]

    again = client.get("/open-data/statistics/2026-03.json", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304

    table = client.get("/open-data/statistics/2026-03.csv")
    assert table.status_code == 200
    assert table.mimetype == "text/csv"
    assert table.headers["ETag"]
    rows = list(csv.DictReader(io.StringIO(table.get_data(as_text=True).lstrip("\ufeff"))))
    assert [r["procedure_code"] for r in rows] == [r["procedure_code"] for r in body["rows"]]
    assert sum(int(r["received"]) for r in rows) == body["province"]["received"]
    text = table.get_data(as_text=True) + json.dumps(body, ensure_ascii=False)
    for private in ("Võ Thị Mai", "001190012345", d["early"].code):
        assert private not in text

    # A month still going is fresh within a minute.
    this_month = utcnow().astimezone(VN).strftime("%Y-%m")
    assert "max-age=60" in client.get(f"/open-data/statistics/{this_month}.csv").headers["Cache-Control"]


def test_every_page_leads_to_the_public_statistics(demo: Flask) -> None:
    html = demo.test_client().get("/procedures").get_data(as_text=True)
    assert '<a href="/statistics">Thống kê giải quyết thủ tục hành chính</a>' in html


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/statistics?period=abc", 400),
        ("/statistics?period=2026-13", 400),
        ("/statistics?period=99999", 400),
        ("/statistics?since=2026-05-01&until=2026-04-01", 400),
        ("/statistics?since=2026-02-30&until=2026-03-01", 400),
        ("/statistics?agency=abc", 400),
        (f"/statistics?agency={10**30}", 400),
        ("/statistics?agency=999999", 404),
        ("/statistics?field=" + "x" * 300, 400),
        ("/statistics?field=Nothing%20here", 200),
        ("/statistics?since=2026-03-01&until=2026-04-15", 200),
        ("/open-data/statistics/2026-13.json", 404),
        ("/open-data/statistics/2026.csv", 404),
        ("/open-data/statistics/abc.csv", 404),
    ],
)
def test_odd_query_values_get_a_plain_answer(demo: Flask, url: str, status: int) -> None:
    assert demo.test_client().get(url).status_code == status


def test_periods_read_and_step_back() -> None:
    assert Period.parse("2026-11") == Period(date(2026, 11, 1), date(2026, 11, 30), "month")
    assert Period.parse("2026-q1").end == date(2026, 3, 31)
    assert Period.parse("2024-02").end == date(2024, 2, 29)
    assert Period.parse("2026").previous() == Period.year(2025)
    assert Period.parse("2026-01").previous().key == "2025-12"
    assert Period.parse("2026-Q1").previous().key == "2025-Q4"
    custom = Period.parse(None, "2026-03-10", "2026-03-19")
    assert (custom.days, custom.previous().start, custom.previous().end) == (10, date(2026, 2, 28), date(2026, 3, 9))
    assert [m.key for m in Period.parse("2026-Q2").months()] == ["2026-04", "2026-05", "2026-06"]
    for odd in ("", "2026-00", "2026-Q5", "0001", "26-11", "2026-11-01"):
        with pytest.raises(figures.BadPeriod):
            Period.parse(odd)


def test_the_p90_comes_from_the_histogram() -> None:
    # 10 dossiers: 8 took under an hour, 2 took between 8 and 16 working hours.
    histogram = (8, 0, 0, 0, 2, *([0] * 7))
    f = figures.Figures(processing_count=10, processing_hours=30.0, hours_histogram=histogram)
    assert f.average_hours == 3.0
    assert f.p90_hours == pytest.approx(12.0)  # halfway into the 8-16 h bucket
    assert figures.Figures(hours_histogram=(0,) * 11 + (3,)).p90_hours == 480
    assert figures.Figures().p90_hours is None
    assert figures.Figures().on_time_share is None


def test_the_statistics_page_on_a_phone_is_readable_and_accessible(live_server, browser) -> None:
    from playwright.sync_api import expect

    from tests.browser import assert_accessible, new_page, shot

    build_fixture()
    page = new_page(browser, phone=True)
    page.goto(f"{live_server.url}/statistics?period=2026-03")
    expect(page.get_by_role("heading", name="Thống kê giải quyết thủ tục hành chính")).to_be_visible()
    expect(page.get_by_role("table", name="Hồ sơ theo thủ tục")).to_be_visible()
    expect(page.get_by_role("rowheader", name="Cấp phép khai thác nước dưới đất")).to_be_visible()
    shot(page, "statistics-phone")
    assert_accessible(page)
    # Nothing wider than the screen: the tables turn into cards.
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    page.get_by_role("link", name="UBND xã Hai").click()
    expect(page.get_by_role("table", name="Hồ sơ theo cơ quan giải quyết")).to_have_count(0)
    expect(page.locator(".lead")).to_contain_text("UBND xã Hai")
