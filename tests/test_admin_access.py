"""Only administrators reach the administration pages: every admin route, tried as anonymous, citizen, officer."""

from __future__ import annotations

import re

import pytest

from tests.web import csrf, login

CITIZEN = "congdan@motcua.demo"
OFFICER = "tiepnhan@motcua.demo"
LEADER = "lanhdao@motcua.demo"


def admin_routes(app) -> list[tuple[str, str]]:
    """(method, url) of every route of the admin blueprint, with 1 for each id in it."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("admin."):
            continue
        url = re.sub(r"<(?:int:)?[a-z_]+>", "1", rule.rule)
        found += [(method, url) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return found


def test_every_admin_view_carries_the_admin_check(app) -> None:
    for endpoint, view in app.view_functions.items():
        if endpoint.startswith("admin."):
            assert getattr(view, "admin_only", False), endpoint
    assert len(admin_routes(app)) > 40


@pytest.mark.parametrize("who", [CITIZEN, OFFICER, LEADER])
def test_citizens_and_officers_get_403_everywhere(demo, client, who) -> None:
    login(client, who)
    token = csrf(client, "/")  # a valid token, so the refusal comes from the admin check, not from CSRF
    for method, url in admin_routes(demo):
        data = {"csrf_token": token} if method == "POST" else None
        response = client.open(url, method=method, data=data, headers={"X-CSRFToken": token})
        assert response.status_code == 403, (who, method, url, response.status_code)


def test_anonymous_visitors_are_sent_to_sign_in(demo, client) -> None:
    token = csrf(client, "/login")
    for method, url in admin_routes(demo):
        data = {"csrf_token": token} if method == "POST" else None
        response = client.open(url, method=method, data=data, headers={"X-CSRFToken": token})
        assert response.status_code == 302, (method, url)
        assert "/login" in response.headers["Location"]


def test_the_nav_shows_administration_to_admins_only(demo, client) -> None:
    login(client, OFFICER)
    assert 'href="/admin/"' not in client.get("/").get_data(as_text=True)
    other = demo.test_client()
    login(other, "admin@motcua.demo")
    page = other.get("/").get_data(as_text=True)
    assert 'href="/admin/"' in page
    assert other.get("/admin/").status_code == 200


def test_admin_pages_answer(demo, client) -> None:
    login(client, "admin@motcua.demo")
    for url in [
        "/admin/",
        "/admin/procedures",
        "/admin/procedures/upload",
        "/admin/procedures/new/modeler",
        "/admin/agencies",
        "/admin/agencies/new",
        "/admin/people",
        "/admin/people/new",
        "/admin/calendar",
        "/admin/role-mappings",
        "/admin/audit",
        "/admin/modeler/blank.bpmn",
    ]:
        assert client.get(url).status_code == 200, url
