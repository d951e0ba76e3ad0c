"""The Decision 766 index over HTTP: every score agrees with its formula recomputed by hand from the raw rows
(dossiers, files, ratings, the catalogue), the components the data cannot support are listed as such, leaders see
only their agencies, the public sees the index without signing in, and odd periods get a plain answer."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.core.time import utcnow
from portal.extensions import db
from portal.models import Agency, Attachment, Dossier, Group, Membership, Procedure, ProcedureVersion, Rating, User
from portal.stats.figures import Period
from tests.helpers import VN, user
from tests.test_stats import APRIL, CITIZEN, DESK, EN, LEADER, MARCH, build_fixture
from tests.web import login

PROVINCE_LEADER = "chutich@motcua.demo"
HAI_LEADER = "lanhdao.hai@motcua.demo"
UNSUPPORTED = ("progress_transparency", "online_payment", "online_results", "reuse")


# -- the fixture: test_stats' varied March and April, a catalogue with an offline procedure, two more leaders --


def leader_of(agency: Agency, email: str) -> User:
    group = Group(agency_id=agency.id, role="leader", name=f"Lãnh đạo {agency.name}", is_leadership=True)
    person = User(email=email, full_name="Lãnh Đạo Thử", kind="officer")
    person.set_password("MotCua@2026")
    db.session.add_all([group, person])
    db.session.flush()
    db.session.add(Membership(user_id=person.id, group_id=group.id))
    db.session.commit()
    return person


def fixture() -> dict[str, Agency]:
    d = build_fixture()
    hai = db.session.get(Agency, d["imported_online"].agency_id)
    ward = db.session.get(Agency, d["early"].agency_id)
    assert hai is not None
    assert ward is not None
    water = db.session.scalar(select(Procedure).where(Procedure.key == "imported_water"))
    assert water is not None
    water.published = True
    db.session.add(
        Procedure(
            key="paper_only",
            code="1.009998",
            name="Thủ tục chỉ nộp trực tiếp",
            name_en="Paper-only procedure",
            agency_id=hai.id,
            service_level="public_service",
            deadline="5d",
            published=True,
        )
    )
    # The other commune's citizen is very satisfied: its satisfaction share (100 %) is above 90 %, capped at 6.
    db.session.add(Rating(dossier_id=d["imported_online"].id, user_id=user(CITIZEN).id, level=3))
    db.session.commit()
    province = db.session.scalar(select(Agency).where(Agency.level == "province"))
    assert province is not None
    leader_of(province, PROVINCE_LEADER)
    leader_of(hai, HAI_LEADER)
    return {"ward": ward, "hai": hai}


def signed_in(app: Flask, who: str) -> FlaskClient:
    client = app.test_client()
    login(client, who)
    return client


# -- the index recomputed by hand from the raw rows ------------------------------------------------------------


def local_in(moment: datetime | None, period: Period) -> bool:
    return moment is not None and period.start <= moment.astimezone(VN).date() <= period.end


def by_hand(period: Period, agency_id: int | None) -> dict[str, float | None]:
    """Each component's score from dossiers, files, ratings and the catalogue, by its formula."""
    rows = db.session.execute(
        select(Dossier, Procedure)
        .join(ProcedureVersion, ProcedureVersion.id == Dossier.procedure_version_id)
        .join(Procedure, Procedure.id == ProcedureVersion.procedure_id)
    ).all()
    on_time = late = received = online = digitised = ratings = satisfied = 0
    used: set[int] = set()
    for dossier, procedure in rows:
        if agency_id is not None and dossier.agency_id != agency_id:
            continue
        if dossier.status in (9, 10) and local_in(dossier.finished_at, period):
            on_time += dossier.timeliness in ("early", "on_time")
            late += dossier.timeliness == "late"
        if local_in(dossier.received_at, period):
            received += 1
            if dossier.channel == 2:
                online += 1
                used.add(procedure.id)
            files = db.session.scalars(select(Attachment).where(Attachment.dossier_id == dossier.id)).all()
            digitised += any(
                f.uploaded_by_id == dossier.applicant_id or f.created_at <= dossier.received_at for f in files
            )
        rating = db.session.scalar(select(Rating).where(Rating.dossier_id == dossier.id))
        if rating is not None and local_in(rating.created_at, period):
            ratings += 1
            satisfied += rating.level >= 2
    catalogue = db.session.scalars(select(Procedure).where(Procedure.published)).all()
    published = [p for p in catalogue if agency_id is None or p.agency_id == agency_id]
    offered = [p for p in published if p.service_level in ("partial_online", "full_online")]

    def share(a: int, b: int) -> float | None:
        return None if b == 0 else a / b

    def times(weight: float, value: float | None) -> float | None:
        return None if value is None else weight * value

    satisfaction = share(satisfied, ratings)
    return {
        "timeliness": times(20, share(on_time, on_time + late)),
        "online_offered": times(4, share(len(offered), len(published))),
        "online_used": times(4, share(len({p.id for p in offered} & used), len(offered))),
        "online_received": times(4, share(online, received)),
        "satisfaction": None if satisfaction is None else 6 * min(1.0, satisfaction / 0.9),
        "digitisation": times(10, share(digitised, received)),
    }


def exported(client: FlaskClient, url: str) -> dict[tuple[str, str], dict[str, str]]:
    """The index table as the page's CSV download: (agency, component) -> row."""
    response = client.get(url + ("&" if "?" in url else "?") + "export=index766&format=csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")))
    return {(row["Cơ quan"], row["Thành phần"]): row for row in rows}


NAMES_VI = {
    "timeliness": "Tiến độ giải quyết",
    "online_offered": "Dịch vụ công trực tuyến: thủ tục cung cấp trực tuyến",
    "online_used": "Dịch vụ công trực tuyến: thủ tục trực tuyến có phát sinh hồ sơ",
    "online_received": "Dịch vụ công trực tuyến: hồ sơ tiếp nhận trực tuyến",
    "satisfaction": "Mức độ hài lòng",
    "digitisation": "Số hóa hồ sơ",
}


def number(text: str) -> float | None:
    return None if text == "" else float(text)


# -- the tests ----------------------------------------------------------------------------------------------


def test_every_score_agrees_with_its_formula_recomputed_from_the_rows(demo: Flask) -> None:
    agencies = fixture()
    province = signed_in(demo, PROVINCE_LEADER)
    seen_values: set[float | None] = set()
    this_month = Period.containing(utcnow().astimezone(VN).date())  # when the ratings were given
    for period in (MARCH, APRIL, Period.quarter(2026, 1), this_month):
        table = exported(province, f"/ioc/index?period={period.key}")
        for agency_name, agency_id in (
            ("Toàn tỉnh", None),
            (agencies["ward"].name, agencies["ward"].id),
            (agencies["hai"].name, agencies["hai"].id),
        ):
            want = by_hand(period, agency_id)
            total = maximum = 0.0
            for key, name in NAMES_VI.items():
                row = table[(agency_name, name)]
                got = number(row["Điểm"])
                seen_values.add(None if want[key] is None else round(want[key], 2))
                if want[key] is None:
                    assert got is None, (period.key, agency_name, key)
                else:
                    assert got == pytest.approx(want[key], abs=0.005), (period.key, agency_name, key, row)
                    total += want[key]
                    maximum += float(row["Trọng số (điểm)"])
            row = table[(agency_name, "Tổng các thành phần được hỗ trợ")]
            assert number(row["Điểm"]) == pytest.approx(total, abs=0.01)
            assert number(row["Trọng số (điểm)"]) == pytest.approx(maximum)
    # The fixture is varied: full, partial and missing scores all occur.
    assert None in seen_values
    assert len(seen_values) > 8

    # March by hand, as a reader of the page would check: the ward's 3 early + 1 on time of 4 judged → 20 points;
    # the ward's 5 received in March are all digitised; the other commune's online dossier only has an officer's
    # result file (not digitised), its postal one the desk's scan made before reception (digitised).
    march = by_hand(MARCH, agencies["hai"].id)
    assert march["digitisation"] == pytest.approx(10 * 1 / 2)
    assert march["online_offered"] == pytest.approx(4 * 1 / 2)  # one of its two published procedures is online
    assert by_hand(MARCH, agencies["ward"].id)["timeliness"] == pytest.approx(20.0)
    assert by_hand(this_month, agencies["ward"].id)["satisfaction"] == pytest.approx(6 * 0.75 / 0.9)
    assert by_hand(this_month, agencies["hai"].id)["satisfaction"] == pytest.approx(6.0)
    html = province.get("/ioc/index?period=2026-03").get_data(as_text=True)
    assert "Số hóa hồ sơ" in html
    assert "10 × (hồ sơ tiếp nhận đã được số hóa) ÷ (hồ sơ tiếp nhận)" in html


def test_the_components_the_data_cannot_support_are_listed_not_scored(demo: Flask) -> None:
    fixture()
    province = signed_in(demo, PROVINCE_LEADER)
    html = province.get("/ioc/index?period=2026-03").get_data(as_text=True)
    for key in UNSUPPORTED:
        assert f'<li data-component="{key}">' in html
        assert f'<tr data-component="{key}">' not in html
    assert "Thanh toán trực tuyến" in html
    assert "không được hỗ trợ" in html
    english = province.get("/ioc/index?period=2026-03", headers=EN).get_data(as_text=True)
    assert "Online payment" in english
    assert "not supported" in english
    assert "Decision 766 index" in english
    # Nor are they in the download.
    components = {component for _, component in exported(province, "/ioc/index?period=2026-03")}
    assert "Thanh toán trực tuyến" not in components


def test_leaders_see_only_their_agencies(demo: Flask) -> None:
    agencies = fixture()
    ward, hai = agencies["ward"], agencies["hai"]
    anonymous = demo.test_client()
    assert anonymous.get("/ioc/index").status_code == 302  # to the sign-in page
    for who in (CITIZEN, DESK):
        assert signed_in(demo, who).get("/ioc/index?period=2026-03").status_code == 403, who

    ours = signed_in(demo, LEADER)
    html = ours.get("/ioc/index?period=2026-03").get_data(as_text=True)
    assert ward.name in html
    assert hai.name not in html
    assert "Toàn tỉnh" not in html
    assert '<a href="/ioc/index" aria-current="page" class="current">' in html  # the tab, on every ioc page
    assert '<a href="/ioc/index">' in ours.get("/ioc/").get_data(as_text=True)
    # Another agency's id is ignored: still the leader's own agency only, on the page and in the download.
    html = ours.get(f"/ioc/index?period=2026-03&agency={hai.id}").get_data(as_text=True)
    assert ward.name in html
    assert hai.name not in html
    assert {agency for agency, _ in exported(ours, f"/ioc/index?period=2026-03&agency={hai.id}")} == {ward.name}

    theirs = signed_in(demo, HAI_LEADER)
    assert {agency for agency, _ in exported(theirs, f"/ioc/index?period=2026-03&agency={ward.id}")} == {hai.name}

    province = signed_in(demo, PROVINCE_LEADER)
    everyone = {agency for agency, _ in exported(province, "/ioc/index?period=2026-03")}
    assert {"Toàn tỉnh", ward.name, hai.name} <= everyone
    narrowed = {agency for agency, _ in exported(province, f"/ioc/index?period=2026-03&agency={hai.id}")}
    assert narrowed == {hai.name}
    xlsx = province.get("/ioc/index?period=2026-03&export=index766&format=xlsx")
    assert xlsx.status_code == 200
    assert xlsx.data[:2] == b"PK"


def test_the_public_sees_the_index_without_signing_in(demo: Flask) -> None:
    agencies = fixture()
    client = demo.test_client()
    response = client.get("/statistics?period=2026-03")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Chỉ số phục vụ theo Quyết định 766" in html
    assert agencies["hai"].name in html
    assert "Toàn tỉnh" in html
    assert "Thanh toán trực tuyến" in html
    for private in ("Võ Thị Mai", "001190012345", "0912345678", "Nguyễn Thị Lan"):
        assert private not in html
    # The public download gives the same scores as the leaders' page.
    public = exported(client, "/statistics?period=2026-03")
    leaders = exported(signed_in(demo, PROVINCE_LEADER), "/ioc/index?period=2026-03")
    assert {k: v["Điểm"] for k, v in public.items()} == {k: v["Điểm"] for k, v in leaders.items()}
    one = client.get(f"/statistics?period=2026-03&agency={agencies['hai'].id}").get_data(as_text=True)
    assert agencies["ward"].name not in one

    # Open data carries the digitisation figures at the end of each record.
    body = client.get("/open-data/statistics/2026-03.json").get_json()
    assert body["fields"][-2:] == ["received_digitised", "digitised_rate"]
    assert body["province"]["received_digitised"] == 6
    assert body["province"]["digitised_rate"] == pytest.approx(round(6 / 7, 4))


@pytest.mark.parametrize(
    "query",
    [
        "period=abc",
        "period=2026-13",
        "period=99999",
        "period=" + "9" * 40,
        "since=2026-05-01&until=2026-04-01",
        "since=2026-02-30&until=2026-03-01",
        "since=2026-03-01",
    ],
)
def test_odd_periods_get_a_plain_answer(demo: Flask, query: str) -> None:
    leader = signed_in(demo, LEADER)
    response = leader.get(f"/ioc/index?{query}")
    assert response.status_code == 400
    assert "quý (2026-Q4)" in response.get_data(as_text=True)
    english = leader.get(f"/ioc/index?{query}", headers=EN)
    assert "a quarter (2026-Q4)" in english.get_data(as_text=True)
    assert demo.test_client().get(f"/statistics?{query}").status_code == 400


def test_a_custom_period_and_no_data_give_a_page(demo: Flask) -> None:
    leader = signed_in(demo, LEADER)
    assert leader.get("/ioc/index").status_code == 200  # this month, whatever it holds
    html = leader.get("/ioc/index?since=2020-01-01&until=2020-01-31").get_data(as_text=True)
    assert "01/01/2020" in html
    assert "–" in html  # nothing to count: no made-up 0
