"""PostgreSQL goes away and comes back, under a running server: 503 with Retry-After while it is away, and the
same server (no restart) serves pages again once it is back (pool_pre_ping replaces the dead connections).

The server reaches the test database through a small TCP proxy on loopback; stopping the proxy cuts every
connection and refuses new ones, as a database restart does.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from flask import Flask
from sqlalchemy.engine import make_url

from portal.extensions import db
from tests.browser import LiveServer
from tests.test_outage import AGENT, EN, assert_health, assert_unavailable, server_app

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not os.environ.get("TEST_DATABASE_URL", "").startswith("postgres"), reason="needs TEST_DATABASE_URL"
    ),
]


class TcpProxy:
    """Forwards 127.0.0.1:<port> to the database; `stop()` drops every connection, `start()` listens again."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = 0
        self.sockets: list[socket.socket] = []
        self.listener: socket.socket | None = None
        self.lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(50)
        self.port = listener.getsockname()[1]
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        if self.listener is not None:
            with contextlib.suppress(OSError):  # shutdown wakes the accept() under way; close() alone does not
                self.listener.shutdown(socket.SHUT_RDWR)
            self.listener.close()
            self.listener = None
        with self.lock:
            for sock in self.sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self.sockets.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # stopped
            server = socket.create_connection(self.upstream)
            with self.lock:
                self.sockets += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def proxied(demo: Flask, _schema: str, tmp_path: Path) -> Iterator[tuple[LiveServer, TcpProxy]]:
    url = make_url(_schema)
    proxy = TcpProxy((url.host or "127.0.0.1", url.port or 5432))
    proxy.start()
    app = server_app(url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False), tmp_path)
    try:
        with LiveServer(app) as server:
            yield server, proxy
    finally:
        proxy.stop()
        with app.app_context():
            db.engine.dispose()


def _sign_in(server: LiveServer) -> requests.Session:
    import re

    session = requests.Session()
    session.headers.update({"User-Agent": AGENT})
    session.cookies.update(EN)
    form = session.get(f"{server.url}/login", timeout=10)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form.text).group(1)
    signed = session.post(
        f"{server.url}/login",
        data={"identifier": "congdan@motcua.demo", "password": "MotCua@2026", "csrf_token": token},
        allow_redirects=False,
        timeout=10,
    )
    assert signed.status_code == 302
    return session


def test_the_database_goes_away_and_comes_back(proxied: tuple[LiveServer, TcpProxy]) -> None:
    server, proxy = proxied
    citizen = _sign_in(server)
    assert citizen.get(f"{server.url}/my/dossiers", timeout=10).status_code == 200
    assert_health(requests.get(f"{server.url}/healthz", timeout=10), "ok")

    proxy.stop()  # the database restarts: every connection drops, new ones are refused
    for _ in range(2):  # the pooled connections, then fresh attempts
        assert_unavailable(citizen.get(f"{server.url}/my/dossiers", timeout=10), english=True)
        assert_unavailable(requests.get(f"{server.url}/procedures", timeout=10))
    assert_health(requests.get(f"{server.url}/healthz", timeout=10), "error")

    proxy.start()  # back, on the same address; the server was not restarted
    assert citizen.get(f"{server.url}/my/dossiers", timeout=10).status_code == 200  # still signed in
    assert requests.get(f"{server.url}/procedures", timeout=10).status_code == 200
    assert_health(requests.get(f"{server.url}/healthz", timeout=10), "ok")


def test_a_restart_between_two_requests_goes_unnoticed(proxied: tuple[LiveServer, TcpProxy]) -> None:
    """The pooled connections died while nobody asked: pool_pre_ping replaces them on the next checkout, so
    the first request after the restart already works (without it, that request would fail)."""
    server, proxy = proxied
    for _ in range(3):
        assert requests.get(f"{server.url}/procedures", timeout=10).status_code == 200
    proxy.stop()
    proxy.start()
    assert requests.get(f"{server.url}/procedures", timeout=10).status_code == 200
    assert_health(requests.get(f"{server.url}/healthz", timeout=10), "ok")
