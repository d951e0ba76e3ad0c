"""`flask sso test-idp`, as a newcomer runs it: it starts a test IdP on loopback, writes the portal's settings,
and a portal configured with those settings signs a demo user in through it."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import threading
import tomllib
from pathlib import Path

import pytest
import requests
from flask import Flask

from portal.extensions import db
from portal.models import User
from portal.sso import config as sso_config
from tests.test_sso_helpers import sign_in_at_idp

ROOT = Path(__file__).resolve().parent.parent
SP_URL = "http://127.0.0.1:5999"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def test_idp_process(tmp_path: Path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SSO_", "DATABASE_URL", "MOTCUA_"))}
    env.update(MOTCUA_INSTANCE_DIR=str(tmp_path), MOTCUA_ENV="development", PYTHONUNBUFFERED="1")
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "sso", "test-idp"]
    command += ["--port", str(port), "--sp-url", SP_URL, "--no-seed-mappings"]
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    watchdog = threading.Timer(120, proc.kill)  # a hung command must not hang the suite
    watchdog.start()
    try:
        output = []
        for line in proc.stdout:
            output.append(line)
            if "Ctrl-C stops the IdP" in line:
                break
        assert "Ctrl-C stops the IdP" in "".join(output), "".join(output)
        yield port, tmp_path, "".join(output)
    finally:
        watchdog.cancel()
        proc.terminate()
        proc.wait()
        proc.stdout.close()


def test_the_test_idp_command_serves_and_configures_the_portal(test_idp_process, app: Flask) -> None:
    port, instance, output = test_idp_process
    assert f"Test IdP: http://127.0.0.1:{port}" in output
    assert "tiepnhan, hotich, lanhdao, congdan" in output
    metadata = requests.get(f"http://127.0.0.1:{port}/metadata", timeout=10)
    assert metadata.status_code == 200
    assert f'entityID="http://127.0.0.1:{port}/metadata"' in metadata.text

    sso_dir = instance / "sso"
    assert stat.S_IMODE((sso_dir / "sp.key").stat().st_mode) == 0o600
    settings = tomllib.loads((sso_dir / "testidp.toml").read_text(encoding="utf-8"))
    assert set(settings["idps"]) == {"demo"}
    app.config.update(
        SSO_IDPS=settings["idps"], SSO_SP_CERT=str(sso_dir / "sp.crt"), SSO_SP_KEY=str(sso_dir / "sp.key")
    )
    sso_config.load(app)

    client = app.test_client()
    start = client.get("/sso/demo/login", base_url=SP_URL)
    assert start.headers["Location"].startswith(f"http://127.0.0.1:{port}/sso/redirect?")
    answer = sign_in_at_idp(start.headers["Location"], "congdan")
    assert answer.acs_url == f"{SP_URL}/sso/demo/acs"
    done = client.post("/sso/demo/acs", data={"SAMLResponse": answer.saml_response}, base_url=SP_URL)
    assert done.status_code == 302
    assert db.session.scalar(db.select(User.full_name)) == "Phạm Thị Dân"
