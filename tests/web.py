"""Helpers for HTTP tests: CSRF tokens from real pages, signing in through the real form."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf(client: FlaskClient, path: str) -> str:
    page = client.get(path)
    match = TOKEN.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client: FlaskClient, identifier: str, password: str = "MotCua@2026") -> None:  # noqa: S107  (the demo password)
    token = csrf(client, "/login")
    response = client.post("/login", data={"identifier": identifier, "password": password, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


def logout(client: FlaskClient) -> None:
    token = csrf(client, "/")
    client.post("/logout", data={"csrf_token": token})
