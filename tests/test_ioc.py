"""The operations centre for leaders over HTTP: today's figures against an independent count of the rows, the
dossiers behind each figure, who may see what, and where dossiers wait on a procedure's diagram."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

from flask import Flask
from sqlalchemy import select

from portal.core.time import as_utc, utcnow
from portal.dossiers.services import submit_dossier
from portal.extensions import db
from portal.models import Agency, Channel, Dossier, Group, Incident, IncidentState, Membership, Status, User
from tests.helpers import do, open_task, user, version_of, vn
from tests.test_inbox_pages import (
    CITIZEN,
    DESK,
    EN,
    LEADER,
    SPECIALIST,
    application,
    new_dossier,
    other_agency_officer,
    page,
    signed_in,
)

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
ADMIN = "admin@motcua.demo"
PROVINCE_LEADER = "chutich@motcua.demo"
OTHER_LEADER = "lanhdao2@motcua.demo"
FIGURES = ("received", "returned", "open", "due_today", "overdue", "supplement", "refused", "incident")


def in_person(name: str, when=None) -> Dossier:
    version = version_of("household_business")
    dossier = submit_dossier(version, user(CITIZEN), application(name), channel=Channel.IN_PERSON, now=when or utcnow())
    db.session.commit()
    return dossier


def returned(name: str) -> Dossier:
    dossier = new_dossier(name)
    now = utcnow()
    do(dossier, "reception_check", DESK, {"decision": "accept"}, now)
    do(dossier, "specialist_review", SPECIALIST, {"decision": "approve"}, now)
    do(dossier, "leader_approval", LEADER, {"decision": "approve"}, now)
    return do(dossier, "return_result", DESK, {"delivery_method": "online", "fee_paid": True}, now)


def varied_day() -> dict[str, Dossier]:
    """Dossiers of every kind: new today (online and at the desk), waiting for the citizen, refused, returned,
    one from weeks ago that is now overdue, one received weeks ago and returned then."""
    made = {
        "online": new_dossier("Tạp hóa Hôm Nay"),
        "desk": in_person("Quán Cơm Quầy"),
        "asked": new_dossier("Tiệm Thiếu Giấy"),
        "refused": new_dossier("Tiệm Bị Từ Chối"),
        "returned": returned("Tiệm Xong Rồi"),
        "old": new_dossier("Tiệm Cũ Quá Hạn", utcnow() - timedelta(days=20)),
    }
    do(made["asked"], "reception_check", DESK, {"decision": "supplement", "reason": "Thiếu hợp đồng thuê"}, utcnow())
    do(made["refused"], "reception_check", DESK, {"decision": "refuse", "reason": "Không thuộc thẩm quyền"}, utcnow())
    do(made["old"], "reception_check", DESK, {"decision": "accept"}, utcnow() - timedelta(days=20))
    # The desk's dossier is held by an incident (its step's code failed); the refused one had one, resolved.
    for dossier, state in ((made["desk"], IncidentState.OPEN), (made["refused"], IncidentState.RESOLVED)):
        db.session.add(
            Incident(
                dossier_id=dossier.id, kind="error", operation="complete_task", message="ZeroDivisionError", state=state
            )
        )
    db.session.commit()
    return made


def independent_counts(agency_ids: set[int] | None = None) -> dict[str, set[str]]:
    """Each figure recomputed in Python from the raw rows, with the local day of Vietnam."""
    now = utcnow()
    today = now.astimezone(VN_TZ).date()

    def local_day(value) -> object:
        return as_utc(value).astimezone(VN_TZ).date() if value is not None else None

    found: dict[str, set[str]] = {key: set() for key in FIGURES}
    for d in db.session.scalars(select(Dossier)):
        if agency_ids is not None and d.agency_id not in agency_ids:
            continue
        is_open = d.closed_at is None and d.status not in (3, 7, 8, 10)
        if local_day(d.submitted_at) == today:
            found["received"].add(d.code)
        if local_day(d.returned_at) == today:
            found["returned"].add(d.code)
        if is_open:
            found["open"].add(d.code)
            if local_day(d.appointment_at) == today:
                found["due_today"].add(d.code)
            if d.status == Status.SUPPLEMENT:
                found["supplement"].add(d.code)
            elif d.appointment_at is not None and as_utc(d.appointment_at) < now:
                found["overdue"].add(d.code)
        if d.status in (Status.NOT_ACCEPTED, Status.STOPPED) and local_day(d.closed_at) == today:
            found["refused"].add(d.code)
        held = db.session.scalar(
            select(Incident.id).where(Incident.dossier_id == d.id, Incident.state == IncidentState.OPEN).limit(1)
        )
        if is_open and held is not None:
            found["incident"].add(d.code)
    return found


def test_today_figures_match_an_independent_count_and_the_lists_behind_them(demo: Flask) -> None:
    made = varied_day()
    leader = signed_in(demo, LEADER)
    data = leader.get("/ioc/today.json").get_json()
    expected = independent_counts()
    assert {k: data["figures"][k] for k in FIGURES} == {k: len(v) for k, v in expected.items()}
    # The fixture really exercises every figure (due today aside, which depends on the hour of the run).
    assert data["figures"]["received"] == 5
    assert data["figures"]["returned"] == 1
    assert data["figures"]["supplement"] == 1
    assert data["figures"]["refused"] == 1
    assert data["figures"]["overdue"] == 1
    assert data["figures"]["open"] == 4
    assert data["figures"]["incident"] == 1
    assert data["received_by_channel"] == {"1": 1, "2": 4, "3": 0}

    every_code = {d.code for d in db.session.scalars(select(Dossier))}
    for key in FIGURES:
        listed = page(leader.get(f"/ioc/dossiers?figure={key}", headers=EN))
        assert f"{len(expected[key])} dossier" in listed, key
        for code in every_code:
            assert (code in listed) == (code in expected[key]), (key, code)

    html = page(leader.get("/ioc/", headers=EN))
    assert "Received today" in html
    assert "Overdue now" in html
    assert 'href="/ioc/dossiers?figure=overdue"' in html
    assert 'href="/ioc/dossiers?figure=received&amp;channel=1"' in html  # each channel's count is a link too
    desk_list = page(leader.get("/ioc/dossiers?figure=received&channel=1", headers=EN))
    assert made["desk"].code in desk_list
    assert made["online"].code not in desk_list
    assert "1 dossier." in desk_list
    # The leader opens a dossier of the list in the officer's dossier page.
    assert f'href="/inbox/dossiers/{made["old"].id}"' in page(leader.get("/ioc/dossiers?figure=overdue"))


def test_a_new_submission_moves_the_figures(demo: Flask) -> None:
    leader = signed_in(demo, LEADER)
    before = leader.get("/ioc/today.json").get_json()["figures"]
    new_dossier("Tiệm Mới")
    after = leader.get("/ioc/today.json").get_json()["figures"]
    assert after["received"] == before["received"] + 1
    assert after["open"] == before["open"] + 1


def _province_leader() -> User:
    province = db.session.scalar(select(Agency).where(Agency.level == "province"))
    assert province is not None
    group = Group(agency_id=province.id, role="leader", name="Lãnh đạo UBND tỉnh", is_leadership=True)
    person = User(email=PROVINCE_LEADER, full_name="Chủ tịch Tỉnh", kind="officer")
    person.set_password("MotCua@2026")
    db.session.add_all([group, person])
    db.session.flush()
    db.session.add(Membership(user_id=person.id, group_id=group.id))
    db.session.commit()
    return person


def _other_ward_with_a_dossier() -> tuple[Agency, Dossier]:
    """Another ward with its own leader and one dossier of its own (moved there: the procedures are the ward's)."""
    officer = other_agency_officer()
    mine = select(Group.agency_id).join(Membership, Membership.group_id == Group.id)
    agency_id = db.session.scalar(mine.where(Membership.user_id == officer.id))
    agency = db.session.get(Agency, agency_id)
    assert agency is not None
    group = Group(agency_id=agency.id, role="leader", name="Lãnh đạo phường Bên Cạnh", is_leadership=True)
    person = User(email=OTHER_LEADER, full_name="Lãnh Đạo Bên Cạnh", kind="officer")
    person.set_password("MotCua@2026")
    db.session.add_all([group, person])
    db.session.flush()
    db.session.add(Membership(user_id=person.id, group_id=group.id))
    dossier = new_dossier("Tiệm Phường Bên")
    dossier.agency_id = agency.id
    db.session.commit()
    return agency, dossier


def test_who_may_see_the_operations_centre(demo: Flask) -> None:
    ours = new_dossier("Tiệm Phường Mình")
    agency, theirs = _other_ward_with_a_dossier()
    _province_leader()
    version = version_of("household_business")
    urls = ["/ioc/", "/ioc/today.json", "/ioc/dossiers?figure=received", "/ioc/waiting",
            f"/ioc/versions/{version.id}/diagram"]  # fmt: skip
    anonymous = demo.test_client()
    for url in urls:
        assert anonymous.get(url).status_code == 302, url  # to the sign-in page
    for who in (CITIZEN, DESK, SPECIALIST, ADMIN):  # citizens, officers outside leadership, an administrator
        client = signed_in(demo, who)
        for url in urls:
            assert client.get(url).status_code == 403, (who, url)
        assert "/ioc/" not in page(client.get("/"))  # no header link either

    ward = signed_in(demo, LEADER)
    assert 'href="/ioc/"' in page(ward.get("/"))
    listed = page(ward.get("/ioc/dossiers?figure=received"))
    assert ours.code in listed
    assert theirs.code not in listed
    assert ward.get("/ioc/today.json").get_json()["figures"]["received"] == 1
    # Asking for another agency changes nothing: the leader stays within their own.
    assert ward.get(f"/ioc/today.json?agency={agency.id}").get_json()["figures"]["received"] == 1
    assert theirs.code not in page(ward.get(f"/ioc/dossiers?figure=received&agency={agency.id}"))

    neighbour = signed_in(demo, OTHER_LEADER)
    assert neighbour.get("/ioc/today.json").get_json()["figures"]["received"] == 1
    assert ours.code not in page(neighbour.get("/ioc/dossiers?figure=received"))
    assert neighbour.get(f"/ioc/versions/{version.id}/diagram").status_code == 404  # another ward's procedure
    assert neighbour.get(f"/ioc/waiting?version={version.id}").status_code == 200
    assert "household" not in page(neighbour.get(f"/ioc/waiting?version={version.id}")).lower()

    province = signed_in(demo, PROVINCE_LEADER)
    assert province.get("/ioc/today.json").get_json()["figures"]["received"] == 2
    both = page(province.get("/ioc/dossiers?figure=received"))
    assert ours.code in both
    assert theirs.code in both
    one = page(province.get(f"/ioc/dossiers?figure=received&agency={agency.id}"))
    assert theirs.code in one
    assert ours.code not in one
    assert province.get(f"/ioc/today.json?agency={agency.id}").get_json()["figures"]["received"] == 1
    assert province.get(f"/ioc/versions/{version.id}/diagram").status_code == 200


def test_odd_values_never_break_the_pages(demo: Flask) -> None:
    leader = signed_in(demo, LEADER)
    assert leader.get("/ioc/dossiers?figure=nope").status_code == 404
    for url in (
        "/ioc/dossiers?figure=received&channel=99&page=abc&agency=x",
        "/ioc/waiting?version=99999999999999&since=2026-02-30&until=abc&agency=-1",
        "/ioc/waiting?since=2030-01-01&until=2020-01-01",
        "/ioc/versions/99999/diagram",
    ):
        assert leader.get(url).status_code in (200, 404), url


def _row(html: str, step_id: str) -> str:
    match = re.search(rf'<tr data-step="{step_id}".*?</tr>', html, re.S)
    assert match, step_id
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(0)))


def _taken(html: str, flow_id: str) -> int:
    match = re.search(rf'<tr data-flow="{flow_id}" data-overlay="(\d+)"', html)
    assert match, flow_id
    return int(match.group(1))


def test_where_dossiers_wait_on_the_diagram(demo: Flask) -> None:
    # Monday 2 March 2026: three dossiers reach the desk at 08:00; it spends 2, 8 and 1 working hours on them.
    quick = new_dossier("Nhanh", vn(2026, 3, 2, 8, 0))
    slow = new_dossier("Chậm", vn(2026, 3, 2, 8, 0))
    refused = new_dossier("Từ Chối", vn(2026, 3, 2, 8, 0))
    waiting = new_dossier("Đang Chờ", vn(2026, 3, 2, 8, 0))
    do(quick, "reception_check", DESK, {"decision": "accept"}, vn(2026, 3, 2, 10, 0))
    do(slow, "reception_check", DESK, {"decision": "accept"}, vn(2026, 3, 3, 8, 0))  # 3.5 + 3.5 + 1 hours
    do(refused, "reception_check", DESK, {"decision": "refuse", "reason": "Sai thẩm quyền"}, vn(2026, 3, 2, 9, 0))
    assert open_task(waiting, "reception_check")
    version = version_of("household_business")

    leader = signed_in(demo, LEADER)
    html = page(leader.get(f"/ioc/waiting?version={version.id}&since=2026-03-01&until=2026-03-31", headers=EN))
    reception = _row(html, "reception_check")
    # waiting now, of which overdue, finished in the period, median, p90, late
    assert re.search(r"Tiếp nhận, kiểm tra hồ sơ 1 1 3 2 h 8 h \d+%", reception), reception
    ranked = re.findall(r'<tr data-step="([^"]+)"', html)
    assert ranked[:2] == ["reception_check", "specialist_review"]  # one waits long at the desk: the worst step
    specialist = _row(html, "specialist_review")
    assert re.search(r"Thẩm định hồ sơ đăng ký hộ kinh doanh 2 2 0 — — —", specialist), specialist
    assert _taken(html, "Flow_start_submit") == 4
    assert _taken(html, "Flow_submit_reception") == 4
    assert _taken(html, "Flow_reception_decision") == 3
    assert _taken(html, "Flow_reception_accept") == 2
    assert _taken(html, "Flow_reception_refuse") == 1
    assert _taken(html, "Flow_reception_supplement") == 0
    assert 'id="ioc-diagram"' in html
    assert f'data-bpmn-url="/ioc/versions/{version.id}/diagram"' in html
    assert "<caption>Steps ranked as bottlenecks" in html

    # The workload: the desk group has one open task (overdue by now), and finished three in March.
    groups = re.search(r'<table class="data" id="ioc-groups".*?</table>', html, re.S)
    assert groups
    desk_row = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", groups.group(0).split("Reception and return of results")[1]))
    assert desk_row.split()[:4] == ["1", "1", "1", "3"], desk_row
    officers = re.search(r'<table class="data" id="ioc-officers".*?</table>', html, re.S)
    assert officers
    assert "Nguyễn Thị Lan" in officers.group(0)

    # Outside the period, nothing finished there; the dossiers waiting now still show.
    later = page(leader.get(f"/ioc/waiting?version={version.id}&since=2026-05-01&until=2026-05-31", headers=EN))
    assert re.search(r"Tiếp nhận, kiểm tra hồ sơ 1 1 0 — — —", _row(later, "reception_check"))
    assert _taken(later, "Flow_reception_accept") == 0


def test_the_pages_speak_vietnamese_first(demo: Flask) -> None:
    leader = signed_in(demo, LEADER)
    assert "Trung tâm điều hành" in page(leader.get("/ioc/"))
    assert "Hồ sơ chờ ở đâu" in page(leader.get("/ioc/waiting"))
