"""The built-in topic http.json against a real HTTP server on loopback: an allow-listed host works (values
URL-encoded into the path), a host off the list is refused with an incident saying why, time-outs are retried,
redirects to other hosts, other schemes and oversized answers are refused."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from flask import Flask
from sqlalchemy import select

from portal.core.time import utcnow
from portal.extensions import db
from portal.external.http_json import http_json
from portal.external.jobs import run_due
from portal.external.registry import ExternalCall, HandlerError
from portal.models import ExternalJob, Incident, JobState
from tests.helpers import open_task, submit, vn
from tests.test_external_tasks import APPLICATION, KEY, data_of, deploy_external


class Recorder(BaseHTTPRequestHandler):
    seen: ClassVar[list[tuple[str, str, Any]]] = []

    def log_message(self, *args: Any) -> None:
        pass

    def _answer(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        Recorder.seen.append((self.command, self.path, body))
        port = self.server.server_address[1]
        if self.path.startswith("/citizens/"):
            ident = self.path.split("?")[0].split("/")[2]
            self._answer(200, json.dumps({"registered": True, "registry": {"path_id": ident}}).encode())
        elif self.path == "/slow":
            time.sleep(1.5)
            self._answer(200, b"{}")
        elif self.path == "/elsewhere":
            self._answer(302, b"", {"Location": f"http://localhost:{port}/citizens/1"})
        elif self.path == "/here":
            self._answer(302, b"", {"Location": "/citizens/7"})
        elif self.path == "/big":
            self._answer(200, b'{"x": "' + b"a" * 3000 + b'"}')
        elif self.path == "/list":
            self._answer(200, b"[1, 2]")
        elif self.path.startswith("/flaky/"):  # fails the first call to each path, answers the next ones
            count = sum(1 for seen in Recorder.seen if seen[1] == self.path)
            if count == 1:
                self._answer(500, b'{"error": "warming up"}')
            else:
                self._answer(200, json.dumps({"registered": True, "registry": {"calls": count}}).encode())
        elif self.path == "/fail":
            self._answer(500, b'{"error": "down"}')
        else:
            self._answer(200, json.dumps({"echo": body}).encode())

    do_GET = do_POST = _handle


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    Recorder.seen = []
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def inputs(url: str, extra: str = "") -> str:
    return (
        f'<camunda:inputParameter name="url">{url}</camunda:inputParameter>'
        '<camunda:inputParameter name="cid">${citizen_id}</camunda:inputParameter>' + extra
    )


def test_an_allowed_host_answers_and_the_dossier_goes_on(demo: Flask, server: str, tmp_path: Path) -> None:
    demo.config["EXTERNAL_HTTP_ALLOWED_HOSTS"] = ["127.0.0.1"]
    deploy_external(tmp_path, topic="http.json", inputs=inputs(f"{server}/citizens/{{cid}}?src=portal"))
    dossier = submit(KEY, {**APPLICATION, "citizen_id": "001 09/0?x"}, vn(2026, 12, 1, 9))
    method, path, body = Recorder.seen[0]
    assert (method, path, body) == ("GET", "/citizens/001%2009%2F0%3Fx?src=portal", None)
    assert data_of(dossier)["registry"] == {"path_id": "001%2009%2F0%3Fx"}
    open_task(dossier, "receive")


def test_a_host_off_the_list_is_refused_with_an_incident(demo: Flask, server: str, tmp_path: Path) -> None:
    demo.config["EXTERNAL_HTTP_ALLOWED_HOSTS"] = ["registry.gov.vn"]
    deploy_external(tmp_path, topic="http.json", inputs=inputs(f"{server}/citizens/{{cid}}"))
    dossier = submit(KEY, APPLICATION, vn(2026, 12, 1, 9))
    assert Recorder.seen == []  # never called
    job = db.session.scalar(select(ExternalJob).where(ExternalJob.dossier_id == dossier.id))
    assert job is not None
    assert job.state == JobState.INCIDENT
    assert job.attempts == 1
    incident = db.session.get(Incident, job.incident_id)
    assert incident is not None
    assert "host 127.0.0.1 is not in EXTERNAL_HTTP_ALLOWED_HOSTS" in incident.message


def test_a_time_out_is_retried(demo: Flask, server: str, tmp_path: Path) -> None:
    demo.config["EXTERNAL_HTTP_ALLOWED_HOSTS"] = ["127.0.0.1"]
    extra = '<camunda:inputParameter name="timeout">0.3</camunda:inputParameter>'
    deploy_external(tmp_path, topic="http.json", inputs=inputs(f"{server}/slow", extra))
    dossier = submit(KEY, APPLICATION, vn(2026, 12, 1, 9))
    job = db.session.scalar(select(ExternalJob).where(ExternalJob.dossier_id == dossier.id))
    assert job is not None
    assert job.state == JobState.PENDING
    assert job.attempts == 1
    assert "within 0.3 s" in (job.last_error or "")
    assert run_due(utcnow() + timedelta(minutes=6)) == {JobState.PENDING: 1}


def call(url: str, **variables: Any) -> ExternalCall:
    return ExternalCall(
        topic="http.json",
        variables={"url": url, **variables},
        dossier_id=1,
        dossier_code="X",
        element_id="lookup",
        job_id=9,
        attempt=1,
        config={"EXTERNAL_HTTP_ALLOWED_HOSTS": ["127.0.0.1"], "EXTERNAL_HTTP_MAX_BYTES": 2000},
    )


def test_post_sends_the_other_inputs_as_body_and_keeps_the_answer_under_result(server: str) -> None:
    out = http_json(call(f"{server}/echo/{{cid}}", method="POST", cid="7", name="An", result="answer"))
    assert out == {"answer": {"echo": {"name": "An"}}}
    assert Recorder.seen[0][:2] == ("POST", "/echo/7")


def test_a_redirect_on_the_same_host_is_followed(server: str) -> None:
    assert http_json(call(f"{server}/here")) == {"registered": True, "registry": {"path_id": "7"}}


@pytest.mark.parametrize(
    ("url", "words", "retry"),
    [
        ("/elsewhere", "redirect to another host refused: localhost", False),
        ("/big", "larger than 2000 bytes", False),
        ("/list", "not a JSON object", False),
        ("/fail", "answered HTTP 500", True),
    ],
)
def test_refusals(server: str, url: str, words: str, retry: bool) -> None:
    with pytest.raises(HandlerError) as caught:
        http_json(call(server + url))
    assert words in str(caught.value)
    assert caught.value.retry is retry


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("file:///etc/passwd", "scheme 'file' refused"),
        ("ftp://127.0.0.1/x", "scheme 'ftp' refused"),
        ("http://user:pw@127.0.0.1/x", "credentials"),
        ("http://127.0.0.1.evil.example/x", "not in EXTERNAL_HTTP_ALLOWED_HOSTS"),
        ("http://127.0.0.1/{missing}", "no value for {missing}"),
    ],
)
def test_urls_refused_before_any_request(url: str, words: str) -> None:
    with pytest.raises(HandlerError) as caught:
        http_json(call(url))
    assert words in str(caught.value)
    assert caught.value.retry is False
