"""Working calendar days, the SSO role mapping table, and the audit log page."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from portal.extensions import db
from portal.models import Agency, AuditLog, CalendarException, Group, RoleMapping
from tests.helpers import COMMUNE
from tests.test_admin_support import EN, as_admin, post


def commune() -> Agency:
    return db.session.scalar(select(Agency).where(Agency.code == COMMUNE))


def test_add_and_remove_days_off_and_make_up_days(demo, client) -> None:
    as_admin(client)
    before = commune().config_version
    form = {"agency_id": str(commune().id), "day": "2026-04-30", "kind": "off", "note": "Nghỉ bù"}
    assert post(client, "/admin/calendar", form, page="/admin/calendar").status_code == 302
    province_wide = {"agency_id": "0", "day": "2026-05-09", "kind": "work", "note": "Làm bù"}
    assert post(client, "/admin/calendar", province_wide, page="/admin/calendar").status_code == 302
    rows = db.session.scalars(select(CalendarException).order_by(CalendarException.day)).all()
    assert [(r.day, r.kind, r.agency_id) for r in rows] == [
        (date(2026, 4, 30), "off", commune().id),
        (date(2026, 5, 9), "work", None),
    ]
    assert commune().config_version > before  # every process rebuilds its cached calendar
    page = client.get("/admin/calendar?year=2026", headers=EN).get_data(as_text=True)
    assert "30/04/2026" in page
    assert "All agencies" in page

    bad = post(client, "/admin/calendar", {**form, "day": "30/04/2026", "kind": "holiday"}, page="/admin/calendar")
    assert bad.status_code == 422
    assert "Not a valid choice" in bad.get_data(as_text=True)
    assert len(db.session.scalars(select(CalendarException)).all()) == 2

    post(client, f"/admin/calendar/{rows[0].id}/remove", page="/admin/calendar")
    assert [r.day for r in db.session.scalars(select(CalendarException))] == [date(2026, 5, 9)]
    assert post(client, "/admin/calendar/999/remove", page="/admin/calendar").status_code == 404


def test_sso_role_mappings(demo, client) -> None:
    as_admin(client)
    reception = db.session.scalar(select(Group).where(Group.role == "reception"))
    form = {"idp": "vneid", "attribute": "roles", "value": "mot-cua", "group_id": str(reception.id)}
    assert post(client, "/admin/role-mappings", form, page="/admin/role-mappings").status_code == 302
    mapping = db.session.scalars(select(RoleMapping)).one()
    assert (mapping.idp, mapping.attribute, mapping.value, mapping.group_id) == (
        "vneid",
        "roles",
        "mot-cua",
        reception.id,
    )
    twice = post(client, "/admin/role-mappings", form, page="/admin/role-mappings")
    assert twice.status_code == 422
    assert "already exists" in twice.get_data(as_text=True)
    bad = post(client, "/admin/role-mappings", {**form, "idp": "Bad IdP!", "value": ""}, page="/admin/role-mappings")
    assert bad.status_code == 422
    assert len(db.session.scalars(select(RoleMapping)).all()) == 1

    page = client.get("/admin/role-mappings").get_data(as_text=True)
    assert "mot-cua" in page
    post(client, f"/admin/role-mappings/{mapping.id}/remove", page="/admin/role-mappings")
    assert db.session.scalars(select(RoleMapping)).all() == []
    actions = db.session.scalars(select(AuditLog.action).where(AuditLog.action.like("admin.mapping%"))).all()
    assert sorted(actions) == ["admin.mapping_added", "admin.mapping_removed"]


def test_audit_log_filters(demo, client) -> None:
    as_admin(client)
    reception = db.session.scalar(select(Group).where(Group.role == "reception"))
    form = {"idp": "vneid", "attribute": "roles", "value": "mot-cua", "group_id": str(reception.id)}
    post(client, "/admin/role-mappings", form, page="/admin/role-mappings")

    everything = client.get("/admin/audit", headers=EN).get_data(as_text=True)
    assert "admin.mapping_added" in everything
    assert "auth.login" in everything
    assert "127.0.0.1" in everything

    mappings = client.get("/admin/audit?action=admin.mapping", headers=EN).get_data(as_text=True)
    assert "admin.mapping_added" in mappings
    assert "auth.login</code>" not in mappings
    assert "1 entry" in mappings

    by_actor = client.get("/admin/audit?actor=lanhdao", headers=EN).get_data(as_text=True)
    assert "0 entries" in by_actor

    today = client.get("/admin/audit?action=admin.mapping&since=2000-01-01&until=2999-12-31", headers=EN)
    assert "1 entry" in today.get_data(as_text=True)
    past = client.get("/admin/audit?action=admin.mapping&until=2001-01-01", headers=EN)
    assert "0 entries" in past.get_data(as_text=True)

    bad = client.get("/admin/audit?since=yesterday", headers=EN)
    assert bad.status_code == 422
    assert 'id="since-error"' in bad.get_data(as_text=True)  # told next to the date, in the portal's words
    assert "Not a valid date value" not in bad.get_data(as_text=True)


def test_audit_log_pages(demo, client) -> None:
    as_admin(client)
    for n in range(60):
        db.session.add(AuditLog(action="test.filler", details={"n": n}))
    db.session.commit()
    first = client.get("/admin/audit?action=test.", headers=EN).get_data(as_text=True)
    assert "Page 1 of 2" in first
    second = client.get("/admin/audit?action=test.&page=2", headers=EN).get_data(as_text=True)
    assert "Page 2 of 2" in second
    assert second.count("test.filler</code>") == 10
