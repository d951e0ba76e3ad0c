"""HTTP benchmark: gunicorn (2 workers) on PostgreSQL under a mixed citizen/officer load of 50 concurrent users.

The server is started on a free loopback port with the production configuration and stopped at the end. The
load generator is a small asyncio HTTP/1.1 client (one connection per virtual user, cookies, CSRF tokens taken
from the pages), so it costs little CPU next to the server on the same machine. Half the users are citizens
(their dossier list and dossier pages, the catalogue), half officers (inbox tabs, task pages, dossier pages,
and 5% comments posted with their CSRF token). Each run is bounded in time; every non-2xx/3xx answer and every
broken connection counts as an error.

The database is the one bench/inbox.py filled (BENCH_DATABASE_URL, default motcua_officer); with --seed N it is
rebuilt with N dossiers first.

Usage: python bench/http_load.py [--users 50] [--duration 30] [--think 0.1] [--threads 4] [--seed 0] [--no-write]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from common import ROOT, app_on, machine, write_section
from sqlalchemy import create_engine, text

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/motcua_officer"
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
PASSWORD = "MotCua@2026"  # noqa: S105  (the demo accounts' password)
OFFICERS = [
    "tiepnhan@motcua.demo",
    "tiepnhan2@motcua.demo",
    "dkkd@motcua.demo",
    "ktht@motcua.demo",
    "lanhdao@motcua.demo",
]


# -- a minimal keep-alive HTTP/1.1 client --------------------------------------------------------------------


@dataclass
class Client:
    port: int
    cookies: dict[str, str] = field(default_factory=dict)
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, form: dict[str, str] | None = None) -> tuple[int, str]:
        body = urllib.parse.urlencode(form).encode() if form is not None else b""
        head = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{self.port}", "Accept-Language: vi"]
        if self.cookies:
            head.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        if form is not None:
            head += ["Content-Type: application/x-www-form-urlencoded", f"Content-Length: {len(body)}"]
        payload = ("\r\n".join(head) + "\r\n\r\n").encode() + body
        for attempt in (1, 2):  # a kept-alive connection the server closed meanwhile is opened again once
            try:
                if self.writer is None:
                    self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
                self.writer.write(payload)
                await self.writer.drain()
                return await self._response()
            except (ConnectionError, asyncio.IncompleteReadError):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _response(self) -> tuple[int, str]:
        assert self.reader is not None
        status_line = await self.reader.readuntil(b"\r\n")
        status = int(status_line.split()[1])
        headers: dict[str, str] = {}
        while (line := await self.reader.readuntil(b"\r\n")) != b"\r\n":
            name, _, value = line.decode("latin-1").partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key] = rest.split(";", 1)[0]
            headers[name] = value
        if headers.get("transfer-encoding") == "chunked":
            body = b""
            while size := int((await self.reader.readuntil(b"\r\n")).strip(), 16):
                body += await self.reader.readexactly(size + 2)
            await self.reader.readuntil(b"\r\n")
        else:
            body = await self.reader.readexactly(int(headers.get("content-length", "0")))
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, body.decode("utf-8", "replace")

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def sign_in(client: Client, who: str) -> None:
    status, page = await client.request("GET", "/login")
    token = TOKEN.search(page)
    if status != 200 or token is None:
        raise RuntimeError(f"no sign-in form (HTTP {status})")
    status, _ = await client.request(
        "POST", "/login", {"identifier": who, "password": PASSWORD, "csrf_token": token.group(1)}
    )
    if status != 302:
        raise RuntimeError(f"sign-in of {who} failed: HTTP {status}")


# -- the load ------------------------------------------------------------------------------------------------


OFFICER_ROLES = {
    "tiepnhan@motcua.demo": "reception",
    "tiepnhan2@motcua.demo": "reception",
    "dkkd@motcua.demo": "business_registration",
    "ktht@motcua.demo": "ktht_specialist",
    "lanhdao@motcua.demo": "leader",
}


@dataclass
class Targets:
    citizen_dossiers: list[int]
    open_dossiers: list[int]
    tasks_by_role: dict[str, list[int]]


def load_targets(url: str) -> Targets:
    engine = create_engine(url)
    with engine.connect() as conn:

        def ids(sql: str, **params: object) -> list[int]:
            return [r[0] for r in conn.execute(text(sql), params)]

        targets = Targets(
            ids(
                "SELECT d.id FROM dossiers d JOIN users u ON u.id = d.applicant_id "
                "WHERE u.email = 'congdan@motcua.demo'"
            ),
            ids("SELECT id FROM dossiers WHERE closed_at IS NULL ORDER BY id LIMIT 2000"),
            {
                role: ids(
                    "SELECT t.id FROM tasks t JOIN groups g ON g.id = t.group_id "
                    "WHERE t.state = 'ready' AND g.role = :role ORDER BY t.id LIMIT 2000",
                    role=role,
                )
                for role in set(OFFICER_ROLES.values())
            },
        )
    engine.dispose()
    return targets


def officer_request(rng: random.Random, who: str, t: Targets, token: str) -> tuple[str, str, dict | None]:
    tasks = t.tasks_by_role.get(OFFICER_ROLES[who], [])
    roll = rng.random()
    if roll < 0.30:
        return "GET", "/inbox/?tab=" + rng.choice(["new", "in_process", "overdue", "due_soon"]), None
    if roll < 0.40:
        return "GET", f"/inbox/?tab=new&page={rng.randint(2, 20)}", None
    if roll < 0.70 and tasks:
        return "GET", f"/inbox/tasks/{rng.choice(tasks)}", None
    if roll < 0.95:
        return "GET", f"/inbox/dossiers/{rng.choice(t.open_dossiers)}", None
    dossier = rng.choice(t.open_dossiers)
    return "POST", f"/inbox/dossiers/{dossier}/comments", {"csrf_token": token, "text": "Đã kiểm tra (bench)"}


def citizen_request(rng: random.Random, t: Targets) -> tuple[str, str, None]:
    roll = rng.random()
    if roll < 0.4:
        return "GET", "/my/dossiers", None
    if roll < 0.8 and t.citizen_dossiers:
        return "GET", f"/my/dossiers/{rng.choice(t.citizen_dossiers)}", None
    return "GET", "/", None


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


async def virtual_user(port: int, n: int, t: Targets, stop_at: float, think: float, tally: Tally) -> None:
    rng = random.Random(n)
    officer = n % 2 == 1
    who = OFFICERS[n // 2 % len(OFFICERS)] if officer else "congdan@motcua.demo"
    client = Client(port)
    await sign_in(client, who)
    token = ""
    if officer:
        _, page = await client.request("GET", "/inbox/")
        token = TOKEN.search(page).group(1)  # type: ignore[union-attr]
    await asyncio.sleep(rng.random() * max(think, 0.05))  # users do not all start at the same instant
    while time.perf_counter() < stop_at:
        method, path, form = officer_request(rng, who, t, token) if officer else citizen_request(rng, t)
        started = time.perf_counter()
        try:
            status, _ = await client.request(method, path, form)
        except Exception as error:  # a broken connection is an error the users would see
            tally.errors.append(f"{method} {path}: {error.__class__.__name__}")
            continue
        tally.latencies.append((time.perf_counter() - started) * 1000)
        if status >= 400:
            tally.errors.append(f"{method} {path}: HTTP {status}")
        if think:
            await asyncio.sleep(rng.expovariate(1 / think))
    client.close()


async def run_load(port: int, users: int, duration: float, think: float, t: Targets) -> tuple[Tally, float]:
    tally = Tally()
    start = time.perf_counter()
    stop_at = start + duration
    await asyncio.gather(*(virtual_user(port, n, t, stop_at, think, tally) for n in range(users)))
    return tally, time.perf_counter() - start


# -- the server ----------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(
    url: str,
    port: int,
    threads: int,
    tmp: Path,
    extra: dict[str, str] | None = None,
    log: Path | None = None,
    workers: int = 2,
) -> subprocess.Popen:
    """gunicorn on 127.0.0.1:`port`, once it answers /healthz. With `log`, its output goes to that file and it
    runs in its own process group (session), so that a test can show the log and kill every process of it."""
    env = {
        **os.environ,
        "MOTCUA_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(40),
        "DATABASE_URL": url,
        "SESSION_COOKIE_SECURE": "0",  # plain HTTP on loopback
        "LOGIN_RATE_LIMIT": "100000 per minute",  # every virtual user signs in from 127.0.0.1
        # Production refuses to start without a shared rate-limit store; the bench's limits are out of reach.
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "UPLOAD_DIR": str(tmp / "uploads"),
        "MOTCUA_INSTANCE_DIR": str(tmp),
        "SSO_SP_GENERATE_KEYS": "1",
        "PORTAL_BASE_URL": f"http://127.0.0.1:{port}",
        "MAIL_TO_LOG": "1",  # no SMTP server: the sending happens in workers, none runs here
        **(extra or {}),
    }
    worker = ["--worker-class", "gthread", "--threads", str(threads)] if threads > 1 else []
    command = [sys.executable, "-m", "gunicorn", "--workers", str(workers), *worker, "--bind", f"127.0.0.1:{port}"]
    command += ["--log-level", "warning", "--keep-alive", "30", "wsgi:app"]
    if log is None:
        server = subprocess.Popen(command, cwd=ROOT, env=env)
    else:
        with log.open("wb") as out:
            server = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
                conn.sendall(b"GET /healthz HTTP/1.0\r\n\r\n")
                if b"200" in conn.recv(64):
                    return server
        except OSError:
            time.sleep(0.3)
    server.terminate()
    raise RuntimeError("gunicorn did not answer /healthz within 60 s")


def stats(tally: Tally, elapsed: float) -> dict[str, float]:
    lat = sorted(tally.latencies)
    return {
        "requests": len(lat),
        "rps": len(lat) / elapsed,
        "p50": statistics.median(lat) if lat else 0.0,
        "p95": lat[max(0, round(0.95 * len(lat)) - 1)] if lat else 0.0,
        "errors": len(tally.errors),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--think", type=float, default=0.1, help="mean think time between a user's requests, s")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker (1: sync workers)")
    parser.add_argument("--seed", type=int, default=0, help="rebuild the database with this many dossiers first")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    if args.seed:
        from seed import seed

        with tempfile.TemporaryDirectory() as tmp, app_on(url, Path(tmp)):
            seed(args.seed, args.seed // 10)
    targets = load_targets(url)
    runs = {}
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        server = start_gunicorn(url.replace("+psycopg", ""), port, args.threads, Path(tmp))
        try:
            asyncio.run(run_load(port, args.users, 5, args.think, targets))  # warm-up, not counted
            for think in (args.think, 0.0):
                tally, elapsed = asyncio.run(run_load(port, args.users, args.duration, think, targets))
                runs[think] = (stats(tally, elapsed), tally.errors[:5])
                print(think, runs[think])
        finally:
            server.terminate()
            server.wait(timeout=30)
    report = render(args, runs, targets)
    print(report)
    if not args.no_write:
        write_section("http", report)


def render(args: argparse.Namespace, runs: dict, targets: Targets) -> str:
    workers = f"2 gthread workers × {args.threads} threads" if args.threads > 1 else "2 sync workers"
    lines = [
        "## HTTP: gunicorn, mixed citizen/officer load, 50 concurrent users",
        "",
        f"Measured {date.today().isoformat()} with `python bench/http_load.py --users {args.users} --duration "
        f"{args.duration:g} --think {args.think:g} --threads {args.threads}` on {machine()}.",
        "",
        f"Method: gunicorn ({workers}, production configuration) on loopback, on the PostgreSQL database "
        "bench/inbox.py filled (1,000,000 dossiers, 100,000 open tasks, unless said otherwise); the load generator "
        f"(asyncio, one keep-alive connection per user) runs on the same {os.cpu_count()} cores. {args.users} users "
        "signed in through the real form: half the demo citizen (dossier list, dossier pages, catalogue), half "
        "the demo officers (inbox tabs and deep pages, task pages, dossier pages, 5% comments posted with CSRF). "
        f"Each run lasts {args.duration:g} s after a 5 s warm-up; latency is from sending the request to the last "
        "byte of the answer; an error is any HTTP status ≥ 400 or broken connection.",
        "",
        "| run | requests | requests/s | p50 ms | p95 ms | errors |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for think, (s, _errors) in runs.items():
        name = f"users think {think:g} s between requests" if think else "no think time (saturation)"
        lines.append(
            f"| {name} | {s['requests']:,} | {s['rps']:.0f} | {s['p50']:.1f} | {s['p95']:.1f} | {s['errors']} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
