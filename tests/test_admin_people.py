"""Agencies, departments, groups and people: create, edit, deactivate (never delete), password links."""

from __future__ import annotations

import re

from sqlalchemy import select

from portal.extensions import db
from portal.models import Agency, AuditLog, Department, Group, Membership, User
from tests.helpers import COMMUNE
from tests.test_admin_support import EN, as_admin, post
from tests.web import csrf, login


def agency(code: str = COMMUNE) -> Agency:
    return db.session.scalar(select(Agency).where(Agency.code == code))


def test_create_and_edit_an_agency_with_a_department_and_a_group(demo, client) -> None:
    as_admin(client)
    parent = agency()
    form = {
        "code": "000.00.32.H56",
        "name": "UBND phường Bắc",
        "name_en": "",
        "level": "commune",
        "parent_id": str(parent.parent_id),
    }
    response = post(client, "/admin/agencies/new", form, page="/admin/agencies/new")
    assert response.status_code == 302
    new = agency("000.00.32.H56")
    assert new.parent_id == parent.parent_id
    url = f"/admin/agencies/{new.id}"

    taken = post(client, "/admin/agencies/new", {**form, "name": "Trùng mã"}, page="/admin/agencies/new")
    assert taken.status_code == 422
    assert "This code is already used." in taken.get_data(as_text=True)

    # An agency cannot become its own ancestor.
    loop = post(
        client,
        f"/admin/agencies/{parent.parent_id}",
        {"code": "x.1", "name": "Tỉnh", "level": "province", "parent_id": str(new.id)},
        page=url,
    )
    assert loop.status_code == 422
    assert "cannot sit under itself" in loop.get_data(as_text=True)

    dept = post(client, f"{url}/departments", {"code": "vp", "name": "Văn phòng"}, page=url)
    assert dept.status_code == 302
    department = db.session.scalar(select(Department).where(Department.agency_id == new.id))
    version = agency("000.00.32.H56").config_version
    grp = post(
        client,
        f"{url}/groups/new",
        {"role": "reception", "name": "Một cửa", "department_id": str(department.id)},
        page=f"{url}/groups/new",
    )
    assert grp.status_code == 302
    group = db.session.scalar(select(Group).where(Group.agency_id == new.id))
    assert (group.role, group.department_id) == ("reception", department.id)
    assert agency("000.00.32.H56").config_version > version  # caches of the role→group map refresh

    bad_role = post(
        client, f"{url}/groups/new", {"role": "1 bad role", "name": "X", "department_id": "0"}, page=f"{url}/groups/new"
    )
    assert bad_role.status_code == 422
    same_role = post(
        client, f"{url}/groups/new", {"role": "reception", "name": "X", "department_id": "0"}, page=f"{url}/groups/new"
    )
    assert "already has a group with this role code" in same_role.get_data(as_text=True)

    renamed = post(
        client,
        f"{url}/groups/{group.id}",
        {"role": "one_stop", "name": "Bộ phận một cửa", "department_id": "0"},
        page=f"{url}/groups/{group.id}",
    )
    assert renamed.status_code == 302
    assert (db.session.get(Group, group.id).role, db.session.get(Group, group.id).department_id) == ("one_stop", None)
    same_dept = post(client, f"{url}/departments", {"code": "vp", "name": "Trùng"}, page=url)
    assert same_dept.status_code == 422
    assert "This code is already used." in same_dept.get_data(as_text=True)

    post(client, f"{url}/groups/{group.id}/active", {"active": "0"}, page=url)
    assert db.session.get(Group, group.id).active is False
    post(client, f"/admin/agencies/{new.id}/active", {"active": "0"}, page="/admin/agencies")
    assert agency("000.00.32.H56").active is False
    assert db.session.get(Agency, new.id) is not None  # deactivated, not deleted


def test_a_group_of_another_agency_is_not_reachable_through_this_one(demo, client) -> None:
    as_admin(client)
    group = db.session.scalar(select(Group).where(Group.agency_id == agency().id))
    province = agency().parent_id
    assert client.get(f"/admin/agencies/{province}/groups/{group.id}").status_code == 404


def test_create_an_officer_who_chooses_a_password_through_the_mailed_link(demo, client, app, smtp) -> None:
    as_admin(client)
    form = {"full_name": "Trần Văn Bình", "email": "binh@motcua.demo"}
    response = post(client, "/admin/people/new", form, page="/admin/people/new")
    assert response.status_code == 302
    officer = db.session.scalar(select(User).where(User.email == "binh@motcua.demo"))
    assert (officer.kind, officer.is_admin, officer.password_hash) == ("officer", False, None)
    assert len(smtp.messages) == 1
    assert smtp.messages[0]["To"] == "binh@motcua.demo"
    link = re.search(r"http://localhost(/password/reset/\S+)", smtp.bodies()[0]).group(1)

    # The same email again is refused, with the form kept.
    again = post(client, "/admin/people/new", form, page="/admin/people/new")
    assert again.status_code == 422
    assert "already exists" in again.get_data(as_text=True)

    person = f"/admin/people/{officer.id}"
    reception = db.session.scalar(select(Group).where(Group.role == "reception"))
    assert post(client, f"{person}/groups", {"group_id": str(reception.id)}, page=person).status_code == 302
    assert [m.group_id for m in db.session.get(User, officer.id).memberships] == [reception.id]
    twice = post(client, f"{person}/groups", {"group_id": str(reception.id)}, page=person)
    assert twice.status_code == 422

    newcomer = app.test_client()
    token = csrf(newcomer, link)
    newcomer.post(link, data={"csrf_token": token, "password": "Binh@2026-moi", "confirm": "Binh@2026-moi"})
    login(newcomer, "binh@motcua.demo", "Binh@2026-moi")
    assert newcomer.get("/inbox/").status_code == 200

    membership = db.session.scalar(select(Membership).where(Membership.user_id == officer.id))
    post(client, f"{person}/groups/{membership.id}/remove", page=person)
    assert db.session.get(User, officer.id).memberships == []
    actions = db.session.scalars(
        select(AuditLog.action).where(AuditLog.action.like("admin.%")).order_by(AuditLog.id)
    ).all()
    assert actions == ["admin.user_created", "admin.reset_link_sent", "admin.user_roles", "admin.user_roles"]


def test_a_deactivated_officer_cannot_sign_in_and_is_signed_out(demo, client, app) -> None:
    officer_client = app.test_client()
    login(officer_client, "hotich@motcua.demo")
    as_admin(client)
    officer = db.session.scalar(select(User).where(User.email == "hotich@motcua.demo"))
    response = post(client, f"/admin/people/{officer.id}/active", {"active": "0"}, page=f"/admin/people/{officer.id}")
    assert response.status_code == 302
    assert db.session.get(User, officer.id).active is False
    assert officer_client.get("/inbox/").status_code == 302  # signed out at the next request
    token = csrf(officer_client, "/login")
    refused = officer_client.post(
        "/login", data={"identifier": "hotich@motcua.demo", "password": "MotCua@2026", "csrf_token": token}
    )
    assert refused.status_code == 422
    post(client, f"/admin/people/{officer.id}/active", {"active": "1"}, page=f"/admin/people/{officer.id}")
    login(app.test_client(), "hotich@motcua.demo")


def test_admins_cannot_lock_themselves_out(demo, client) -> None:
    as_admin(client)
    me = db.session.scalar(select(User).where(User.email == "admin@motcua.demo"))
    page = f"/admin/people/{me.id}"
    response = post(client, f"{page}/active", {"active": "0"}, page=page, follow_redirects=True)
    assert "You cannot deactivate your own account." in response.get_data(as_text=True)
    demote = post(client, page, {"full_name": me.full_name}, page=page)
    assert demote.status_code == 422
    assert "your own administrator role" in demote.get_data(as_text=True)
    me = db.session.get(User, me.id)
    assert (me.active, me.is_admin) == (True, True)


def test_make_someone_an_administrator_is_audited(demo, client) -> None:
    as_admin(client)
    leader = db.session.scalar(select(User).where(User.email == "lanhdao@motcua.demo"))
    page = f"/admin/people/{leader.id}"
    post(client, page, {"full_name": leader.full_name, "is_admin": "y"}, page=page)
    assert db.session.get(User, leader.id).is_admin is True
    log = db.session.scalar(select(AuditLog).where(AuditLog.action == "admin.user_roles"))
    assert log.details == {"is_admin": True}


def test_citizens_are_not_managed_here(demo, client) -> None:
    as_admin(client)
    citizen = db.session.scalar(select(User).where(User.email == "congdan@motcua.demo"))
    assert client.get(f"/admin/people/{citizen.id}").status_code == 404
    listing = client.get("/admin/people", headers=EN).get_data(as_text=True)
    assert "Võ Thị Mai" not in listing
    assert "hotich@motcua.demo" in listing


def test_the_people_list_names_their_groups_in_words(demo, client) -> None:
    as_admin(client)
    listing = client.get("/admin/people").get_data(as_text=True)
    row = re.search(r"<tr>(?:(?!</tr>).)*hotich@motcua\.demo(?:(?!</tr>).)*</tr>", listing, re.S).group(0)
    assert "Công chức Tư pháp – Hộ tịch" in row
    assert "civil_status" not in row  # the BPMN role code is no name for a person's group
    english = client.get("/admin/people", headers=EN).get_data(as_text=True)
    assert "Civil status officers" in english


def test_a_persons_groups_are_named_in_the_pages_language(demo, client) -> None:
    as_admin(client)
    officer = db.session.scalar(select(User).where(User.email == "hotich@motcua.demo"))
    english = client.get(f"/admin/people/{officer.id}", headers=EN).get_data(as_text=True)
    assert "Civil status officers (<code>civil_status</code>)" in english  # the membership
    assert "— Ward leaders (leader)</option>" in english  # the groups to add
    assert "Công chức Tư pháp – Hộ tịch" not in english
