"""Full HTTP lifecycles on gunicorn + PostgreSQL: what one dossier costs the portal, from application to decision.

A lifecycle is the bundled household business registration through its real pages, 13 requests:
- citizen: the application form (GET), the application with its file (multipart POST), the receipt (GET);
- reception desk, business registration specialist, leader, each: the inbox (GET), the task page (GET), the
  step's form (POST: accept / approve with a registration number / approve);
- citizen: the dossier page (GET).
Each client thread is one citizen and three officers (own signed-in sessions, keep-alive connections) running
lifecycles back to back; the task to open is the one the dossier waits at (looked up by the client, as the officer
would click it in the inbox; that lookup is not counted).

The server is gunicorn (2 workers × 4 threads) in the production configuration, with a broker configured (Redis:
mail and SMS are queued for workers, none runs here) and `SQL_COUNT_HEADER` on, so each answer says how many SQL
statements it ran. Measured: lifecycles/s; app-server CPU per lifecycle (user + system time of the gunicorn
processes, from /proc, over the measured run); SQL statements per lifecycle (sum of the answers' counts);
p50/p95 per request type; database growth per lifecycle (pg_database_size). A warm-up round is not counted.

The database (BENCH_DATABASE_URL, default motcua_lifecycle) is rebuilt from the migrations with the demo data
and the bundled procedures at each run.

Usage: python bench/lifecycle.py [--threads 4] [--lifecycles 40] [--scale-out] [--no-write]
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import statistics
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import requests
from common import app_on, machine, write_section
from http_load import free_port, start_gunicorn
from sqlalchemy import create_engine, text

from tests.test_citizen_support import household

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/motcua_lifecycle"
BROKER = "redis://127.0.0.1:6379/14"
PASSWORD = "MotCua@2026"  # noqa: S105  (the demo accounts' password)
CITIZEN = "congdan@motcua.demo"
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
RECEIPT = re.compile(r"/my/dossiers/(\d+)/receipt")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 2048
APPLICATION = household()  # the household business form as a browser posts it, as the tests send it
# (officer, BPMN step, the step's form)
STEPS = [
    ("tiepnhan@motcua.demo", "reception_check", {"decision": "accept"}),
    ("dkkd@motcua.demo", "specialist_review", {"decision": "approve", "registration_number": "HKD-1"}),
    ("lanhdao@motcua.demo", "leader_approval", {"decision": "approve"}),
]


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statements: int = 0
    lifecycles: int = 0
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, seconds: float, statements: int) -> None:
        with self.lock:
            self.latencies[kind].append(seconds)
            self.statements += statements


class Person:
    """One signed-in browser: a session with keep-alive, cookies, CSRF tokens read from the pages."""

    def __init__(self, bases: list[str], who: str, tally: Tally) -> None:
        # With several instances each request goes to the next one: a session signed in on one is valid on all.
        self.bases, self.tally, self.turn = bases, tally, 0
        base = bases[0]
        self.http = requests.Session()
        self.http.headers["Accept-Language"] = "vi"
        page = self.http.get(base + "/login").text
        answer = self.http.post(
            base + "/login",
            data={"identifier": who, "password": PASSWORD, "csrf_token": token(page)},
            allow_redirects=False,
        )
        if answer.status_code != 302:
            raise RuntimeError(f"sign-in of {who} failed: HTTP {answer.status_code}")

    def call(self, kind: str, method: str, path: str, **kwargs: object) -> requests.Response:
        base = self.bases[self.turn % len(self.bases)]
        self.turn += 1
        started = time.perf_counter()
        answer = self.http.request(method, base + path, allow_redirects=False, **kwargs)  # type: ignore[arg-type]
        elapsed = time.perf_counter() - started
        if answer.status_code >= 400:
            raise RuntimeError(f"{kind}: HTTP {answer.status_code} on {path}")
        self.tally.add(kind, elapsed, int(answer.headers.get("X-SQL-Statements", "0")))
        return answer


def token(page: str) -> str:
    found = TOKEN.search(page)
    if found is None:
        raise RuntimeError("no CSRF token on the page")
    return found.group(1)


def lifecycle(citizen: Person, officers: dict[str, Person], waiting_task: object) -> None:
    apply = "/procedures/household_business/apply"
    form = citizen.call("apply form", "GET", apply).text
    data = {**APPLICATION, "csrf_token": token(form)}
    sent = citizen.call("submit", "POST", apply, data=data, files={"documents__upload": ("giay-to.png", PNG)})
    found = RECEIPT.search(sent.headers.get("Location", ""))
    if found is None:
        raise RuntimeError(f"the application was not filed (HTTP {sent.status_code})")
    dossier_id = int(found.group(1))
    citizen.call("receipt", "GET", f"/my/dossiers/{dossier_id}/receipt")
    for who, step, values in STEPS:
        officer = officers[who]
        officer.call("inbox", "GET", "/inbox")
        task_id = waiting_task(dossier_id, step)  # type: ignore[operator]
        page = officer.call("task page", "GET", f"/inbox/tasks/{task_id}").text
        officer.call("complete step", "POST", f"/inbox/tasks/{task_id}", data={**values, "csrf_token": token(page)})
    citizen.call("dossier page", "GET", f"/my/dossiers/{dossier_id}")


def cpu_seconds(master: int) -> float:
    """User + system CPU of the gunicorn master and its workers so far."""
    pids = [master]
    try:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        pids += [int(p) for p in children]
    except OSError:
        pass
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime (fields 14 and 15 of stat)
    return total


def run(bases: list[str], threads: int, per_thread: int, lookup: object, tally: Tally) -> float:
    def worker() -> None:
        try:
            citizen = Person(bases, CITIZEN, tally)
            officers = {who: Person(bases, who, tally) for who, _step, _values in STEPS}
            for _ in range(per_thread):
                lifecycle(citizen, officers, lookup)
                with tally.lock:
                    tally.lifecycles += 1
        except Exception as exc:
            with tally.lock:
                tally.errors.append(repr(exc))

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    started = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return time.perf_counter() - started


def prepare(url: str) -> None:
    admin = create_engine(url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    name = url.rsplit("/", 1)[1]
    with admin.connect() as conn:
        if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    from portal.demo import seed_demo
    from portal.extensions import db

    with tempfile.TemporaryDirectory() as tmp, app_on(url, Path(tmp)):
        for _line in seed_demo():
            pass
        db.session.commit()


@dataclass
class Measured:
    tally: Tally
    elapsed: float
    cpu: float
    grown: int


def measure(url: str, instances: int, workers: int, threads: int, lifecycles: int) -> Measured:
    """`instances` gunicorn instances of `workers` workers each on free ports, sharing one SECRET_KEY, one
    database and one broker, with every client's requests going round the instances."""
    engine = create_engine(url)

    def waiting_task(dossier_id: int, step: str) -> int:
        with engine.connect() as conn:
            found = conn.scalar(
                text("SELECT id FROM tasks WHERE dossier_id = :d AND bpmn_id = :s AND state = 'ready'"),
                {"d": dossier_id, "s": step},
            )
        if found is None:
            raise RuntimeError(f"dossier {dossier_id} does not wait at {step}")
        return int(found)

    def size() -> int:
        with engine.connect() as conn:
            return int(conn.scalar(text("SELECT pg_database_size(current_database())")) or 0)

    with tempfile.TemporaryDirectory() as tmp:
        extra = {
            "SECRET_KEY": secrets.token_urlsafe(40),
            "SQL_COUNT_HEADER": "1",
            "CELERY_BROKER_URL": BROKER,
            "RATELIMIT_STORAGE_URI": BROKER,
            "UPLOAD_RATE_LIMIT": "100000 per minute",
            "CITIZEN_MAX_PENDING_UPLOADS": "100000",
        }
        ports = [free_port() for _ in range(instances)]
        servers = []
        try:
            for port in ports:  # one upload folder: the hosts of a real deployment share S3 instead
                servers.append(start_gunicorn(url.replace("+psycopg", ""), port, 4, Path(tmp), extra, workers=workers))
            bases = [f"http://127.0.0.1:{port}" for port in ports]
            run(bases, threads, 2, waiting_task, Tally())  # warm-up: imports, caches, connections
            size_before, tally = size(), Tally()
            cpu_before = sum(cpu_seconds(server.pid) for server in servers)
            elapsed = run(bases, threads, lifecycles, waiting_task, tally)
            cpu = sum(cpu_seconds(server.pid) for server in servers) - cpu_before
            grown = size() - size_before
        finally:
            for server in servers:
                server.terminate()
                server.wait(timeout=30)
    engine.dispose()
    if tally.errors:
        raise SystemExit(f"{len(tally.errors)} failed: {tally.errors[:3]}")
    return Measured(tally, elapsed, cpu, grown)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=4, help="client threads (each a citizen and 3 officers)")
    parser.add_argument("--lifecycles", type=int, default=40, help="measured lifecycles per thread")
    parser.add_argument(
        "--scale-out",
        action="store_true",
        help="also run two instances of one worker each on the same cores, and compare in one run",
    )
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    prepare(url)
    one = measure(url, 1, 2, args.threads, args.lifecycles)
    report = render(args, one.tally, one.elapsed, one.cpu, one.grown)
    if args.scale_out:
        two = measure(url, 2, 1, args.threads, args.lifecycles)
        report += "\n\n" + render_scale_out(one, two)
    print(report)
    if not args.no_write:
        write_section("lifecycle", report)


def render_scale_out(one: Measured, two: Measured) -> str:
    def rate(m: Measured) -> float:
        return m.tally.lifecycles / m.elapsed

    def cpu(m: Measured) -> float:
        return m.cpu / max(1, m.tally.lifecycles) * 1000

    def p95(m: Measured) -> float:
        return pct([v for values in m.tally.latencies.values() for v in values], 0.95)

    return "\n".join(
        [
            "Scale-out, same run, same 2 cores: the same 2 workers as one instance, then as two instances of one",
            "worker each (own ports, one SECRET_KEY, one database and broker), each client's requests going round",
            "both instances (a session signed in on one is used on the other).",
            "",
            "| layout | lifecycles/s | app CPU per lifecycle | p95 of all requests | ratio to one instance |",
            "|---|---:|---:|---:|---:|",
            f"| 1 instance × 2 workers | {rate(one):.2f} | {cpu(one):.0f} ms | {p95(one):.0f} ms | 1.00× |",
            f"| 2 instances × 1 worker | {rate(two):.2f} | {cpu(two):.0f} ms | {p95(two):.0f} ms | "
            f"{rate(two) / rate(one):.2f}× |",
        ]
    )


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(q * len(ordered)) - 1)] * 1000


def render(args: argparse.Namespace, tally: Tally, elapsed: float, cpu: float, grown: int) -> str:
    n = max(1, tally.lifecycles)
    lines = [
        "## HTTP lifecycles: what one dossier costs, application to decision",
        "",
        f"Measured {date.today().isoformat()} with `python bench/lifecycle.py --threads {args.threads} "
        f"--lifecycles {args.lifecycles}"
        f"{' --scale-out' if args.scale_out else ''}` on {machine()}.",
        "",
        "Method: gunicorn (2 gthread workers × 4 threads, production configuration, Redis broker: mail and SMS are "
        f"queued for workers) on loopback and PostgreSQL; {args.threads} client threads on the same machine, each "
        "a signed-in citizen and three officers running the household business registration through its 13 "
        "pages back to back (application form, application with a file, receipt; inbox, task page and step form "
        "for reception, specialist and leader; the dossier page). App CPU is the gunicorn processes' user + "
        "system time from /proc over the measured run; SQL statements are the answers' `X-SQL-Statements`.",
        "",
        "| measure | value |",
        "|---|---|",
        f"| lifecycles | {tally.lifecycles} in {elapsed:.1f} s: **{tally.lifecycles / elapsed:.2f} lifecycles/s** |",
        f"| app-server CPU per lifecycle | **{cpu / n * 1000:.0f} ms** |",
        f"| SQL statements per lifecycle | **{tally.statements / n:.0f}** |",
        f"| database growth per lifecycle | {grown / n / 1024:.1f} KiB |",
        f"| errors | {len(tally.errors)} |",
        "",
        "| request | count | p50 ms | p95 ms |",
        "|---|---|---|---|",
    ]
    for kind, values in tally.latencies.items():
        lines.append(f"| {kind} | {len(values)} | {statistics.median(values) * 1000:.0f} | {pct(values, 0.95):.0f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
