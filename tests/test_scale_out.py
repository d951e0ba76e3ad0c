"""Scale-out (issue 13): two web instances on different ports, two Celery workers (one of them running the beat),
one PostgreSQL, one Redis and one S3 store, under load spread over both instances.

Everything runs as in production (MOTCUA_ENV=production, one shared SECRET_KEY, the same environment for every
process): gunicorn instances A and B (bench/http_load.py's `start_gunicorn`), each with its own local folder so
that nothing can pass through a shared disk; two `celery worker` processes on a queue of the test's own, only the
first with `-B`; an SMTP server and an S3 server (moto) on loopback. Every request goes through real HTTP with
`requests` sessions and the CSRF tokens of the pages; a person's session moves freely between the instances, as
behind a load balancer. What an operator checks:

1. a file a citizen sends with an application through one instance is downloaded, byte for byte, by an officer
   through the other (it lives in the bucket, in no instance's folder);
2. every mail the applications and an officer's step cause reaches the SMTP server exactly once;
3. a deadline reminder made due, and BPMN timers that come due, are sent / fired exactly once with two workers;
4. failed sign-ins spread over both instances hit the configured limit at the same total count as on one.

PostgreSQL only: several processes on one SQLite file is not a supported deployment.
"""

from __future__ import annotations

import contextlib
import email.policy  # noqa: F401  (tests/smtp.py parses with email.policy but does not import it)
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pytest
import redis
import requests
from flask import Flask
from limits import parse_many
from sqlalchemy import func, select, update

from portal.core.time import utcnow
from portal.extensions import db
from portal.models import (
    Attachment,
    DeliveryStatus,
    Dossier,
    DossierEvent,
    Notification,
    NotificationChannel,
    Reminder,
    Task,
    TaskState,
)
from portal.notifications.delivery import message_id
from tests.helpers import COMMUNE
from tests.test_celery_worker import TIMER_BPMN, Worker, wait_for
from tests.test_citizen_support import household
from tests.test_storage_s3 import S3Server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))  # bench/http_load.py imports its neighbours as top-level modules
from http_load import free_port, start_gunicorn  # noqa: E402

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.skipif(
        not os.environ.get("TEST_DATABASE_URL", "").startswith("postgres"),
        reason="scale-out needs PostgreSQL (TEST_DATABASE_URL): several processes cannot share a SQLite file",
    ),
]

# Redis databases of this module's own: the broker (with a queue per test) and the rate-limit counters.
BROKER = os.environ.get("TEST_SCALE_OUT_BROKER_URL", "redis://127.0.0.1:6379/11")
LIMITS = os.environ.get("TEST_SCALE_OUT_LIMITS_URL", "redis://127.0.0.1:6379/12")
# The operator's sign-in limit for the cluster. Small, because every failed sign-in costs a password hash
# (scrypt, ~0.2 s of CPU); the test reads the allowed count from this same setting.
LOGIN_RATE_LIMIT = "10 per hour"
WAIT = 90.0  # seconds before a wait gives up (a failure, not a timing assertion)
SETTLE = 4.0  # seconds to keep watching after everything arrived, for a duplicate (sweeps run every second)
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
RECEIPT = re.compile(r"/my/dossiers/(\d+)/receipt")
CITIZEN = "congdan@motcua.demo"
DESK = "tiepnhan@motcua.demo"
DESK2 = "tiepnhan2@motcua.demo"
SPECIALIST = "dkkd@motcua.demo"


# -- the cluster ---------------------------------------------------------------------------------------------


@dataclass
class Cluster:
    a: str  # base URLs of the two web instances
    b: str
    workers: list[Worker]
    folders: list[Path]  # each process's own local folder (UPLOAD_DIR)
    bucket: str
    limit_prefix: str  # RATELIMIT_KEY_PREFIX of this run

    def other(self, base: str) -> str:
        return self.b if base == self.a else self.a


def _stop(processes: list[subprocess.Popen]) -> None:
    """SIGTERM every process group at once (a gunicorn or celery master stops its children), then SIGKILL
    whatever is left of each."""
    for process in processes:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=20)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def _start_worker(n: int, env: dict[str, str], tmp: Path, beat: bool) -> Worker:
    """`celery worker` as production starts it; `beat`: with the embedded beat (-B), which only one worker runs."""
    folder = tmp / f"worker{n}"
    folder.mkdir()
    log = tmp / f"worker{n}.log"
    command = [
        sys.executable, "-m", "celery", "-A", "portal.celery_app:celery", "worker",
        *(["-B", "-s", str(folder / "beat-schedule")] if beat else []),
        "--loglevel=INFO", "--concurrency=2", "-n", f"scaleout{n}@%h",
        "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]  # fmt: skip
    process_env = {**os.environ, **env, "UPLOAD_DIR": str(folder / "uploads"), "MOTCUA_INSTANCE_DIR": str(folder)}
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env=process_env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    return Worker(process, log)


def _started(worker: Worker) -> bool:
    return " ready." in worker.text() or worker.process.poll() is not None


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    server = S3Server()
    yield server
    server.stop()


@pytest.fixture
def cluster(demo: Flask, smtp, s3: S3Server, database_url: str, tmp_path: Path) -> Iterator[Cluster]:
    """Two gunicorn instances, two workers (one with the beat), all on the test's database, Redis and bucket."""
    from portal.procedures.services import deploy

    # A procedure that waits 4 seconds on a BPMN timer, deployed before the processes start.
    result = deploy(TIMER_BPMN.encode(), "wait.bpmn", [], agency_code=COMMUNE, publish=True)
    assert result.ok, [str(p) for p in result.problems]
    db.session.commit()

    for url in (BROKER, LIMITS):
        client = redis.Redis.from_url(url)
        try:
            client.ping()
        except redis.ConnectionError:
            pytest.fail(f"the Redis service is not running at {url}")
        finally:
            client.close()
    queue = f"motcua-scale-{uuid.uuid4().hex[:12]}"
    prefix = f"motcua-scale-{uuid.uuid4().hex[:12]}"  # rate-limit counters of this run only
    bucket = s3.new_bucket()
    ports = [free_port(), free_port()]
    env = {
        "MOTCUA_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(40),  # one key for every instance: a session signed by A is B's too
        "DATABASE_URL": database_url,
        "SESSION_COOKIE_SECURE": "0",  # plain HTTP on loopback
        "CELERY_BROKER_URL": BROKER,
        "CELERY_QUEUE": queue,
        "RATELIMIT_STORAGE_URI": LIMITS,
        "RATELIMIT_KEY_PREFIX": prefix,
        "LOGIN_RATE_LIMIT": LOGIN_RATE_LIMIT,
        "STORAGE_BACKEND": "s3",
        "S3_BUCKET": bucket,
        "S3_ENDPOINT_URL": s3.endpoint,
        "S3_REGION": "us-east-1",
        "S3_ACCESS_KEY_ID": "testing",
        "S3_SECRET_ACCESS_KEY": "testing",
        "S3_PREFIX": "motcua/",
        "MAIL_SERVER": demo.config["MAIL_SERVER"],
        "MAIL_PORT": str(demo.config["MAIL_PORT"]),
        "PORTAL_BASE_URL": f"http://127.0.0.1:{ports[0]}",  # links in mail (no load balancer in front here)
        # Short periods, so that passes of the beat's jobs overlap on the two workers.
        "BEAT_TIMERS_SECONDS": "0.5",
        "BEAT_REMINDERS_SECONDS": "1",
        "BEAT_SWEEP_SECONDS": "1",
        "NOTIFY_RETRY_BASE": "2",  # the sweep re-queues a message after 2 s: it races the job queued at commit
        "IOC_REPORTS_ENABLED": "0",  # no leaders' weekly report if the run happens to cross its hour
    }
    processes: list[subprocess.Popen] = []
    workers = [_start_worker(1, env, tmp_path, beat=True), _start_worker(2, env, tmp_path, beat=False)]
    processes += [w.process for w in workers]
    logs = [w.log for w in workers]
    folders = [tmp_path / "worker1" / "uploads", tmp_path / "worker2" / "uploads"]
    try:
        homes = [tmp_path / "web-a", tmp_path / "web-b"]
        logs += [tmp_path / "web-a.log", tmp_path / "web-b.log"]
        for home in homes:
            home.mkdir()
        with ThreadPoolExecutor(2) as pool:  # both instances start at once; each call returns once /healthz answers
            starting = [
                pool.submit(start_gunicorn, database_url, port, 2, home, env, log)
                for port, home, log in zip(ports, homes, logs[2:], strict=True)
            ]
            for future in starting:
                with contextlib.suppress(Exception):  # its failure is raised below, once both are known
                    processes.append(future.result())
        for future in starting:
            future.result()
        bases = [f"http://127.0.0.1:{port}" for port in ports]
        folders += [home / "uploads" for home in homes]
        for worker in workers:
            wait_for(partial(_started, worker), "a worker to start")
            assert worker.process.poll() is None, worker.text()[-3000:]
        yield Cluster(bases[0], bases[1], workers, folders, bucket, prefix)
    finally:
        _stop(processes)
        # Shown with a failing test's report (pytest prints a passing test's output only when asked).
        for log in logs:
            if log.exists():
                print(f"----- {log.name} (last 4000 characters) -----")
                print(log.read_text(encoding="utf-8", errors="replace")[-4000:])
        for url, mark in ((BROKER, queue), (LIMITS, prefix)):  # the run's queue and bindings, its counters
            client = redis.Redis.from_url(url)
            for key in client.scan_iter(f"*{mark}*"):
                client.delete(key)
            client.close()


# -- people on the web -------------------------------------------------------------------------------------------


def token(page: str) -> str:
    found = TOKEN.search(page)
    assert found is not None, "no CSRF token on the page"
    return found.group(1)


def signed_in(base: str, who: str, password: str) -> requests.Session:
    """A browser signed in through `base`. Its cookies go to both instances (same host, another port), as behind
    a load balancer that sends each request to either."""
    http = requests.Session()
    page = http.get(base + "/login", timeout=30)
    answer = http.post(
        base + "/login",
        data={"identifier": who, "password": password, "csrf_token": token(page.text)},
        allow_redirects=False,
        timeout=30,
    )
    assert answer.status_code == 302, f"sign-in of {who} through {base}: HTTP {answer.status_code}"
    return http


@dataclass
class Application:
    through: str  # the instance the form was sent to
    procedure: str
    file: bytes | None
    dossier_id: int = 0


def apply(application: Application, password: str) -> None:
    """The citizen signs in, opens the form and sends it (multipart, with its file) through one instance."""
    base = application.through
    http = signed_in(base, CITIZEN, password)
    path = f"/procedures/{application.procedure}/apply"
    form = http.get(base + path, timeout=30)
    assert form.status_code == 200, form.status_code
    if application.file is not None:
        data = {**household(), "csrf_token": token(form.text)}
        files = {"documents__upload": ("giay-to.pdf", application.file, "application/pdf")}
        sent = http.post(base + path, data=data, files=files, allow_redirects=False, timeout=60)
    else:
        sent = http.post(
            base + path, data={"note": "x", "csrf_token": token(form.text)}, allow_redirects=False, timeout=60
        )
    found = RECEIPT.search(sent.headers.get("Location", ""))
    assert found is not None, f"not filed through {base}: HTTP {sent.status_code} {sent.text[:1000]}"
    application.dossier_id = int(found.group(1))


class Browsing:
    """Background load on both instances while the scenario runs: a citizen and an officer reading their pages,
    each request to the other instance than the one before. Every answer must be a success."""

    def __init__(self, bases: list[str], password: str) -> None:
        self.bases, self.password = bases, password
        self.stop = threading.Event()
        self.requests = 0
        self.errors: list[str] = []
        self.threads = [
            threading.Thread(target=self._browse, args=(who, pages), daemon=True)
            for who, pages in ((CITIZEN, ["/my/dossiers", "/", "/procedures"]), (DESK2, ["/inbox/", "/inbox/?tab=new"]))
        ]

    def __enter__(self) -> Browsing:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)

    def _browse(self, who: str, pages: list[str]) -> None:
        try:
            http = signed_in(self.bases[0], who, self.password)
            n = 0
            while not self.stop.is_set():
                base, page = self.bases[n % 2], pages[n % len(pages)]
                answer = http.get(base + page, allow_redirects=False, timeout=30)
                self.requests += 1
                if answer.status_code >= 400:
                    self.errors.append(f"{who} GET {base}{page}: HTTP {answer.status_code}")
                n += 1
                self.stop.wait(0.1)
        except Exception as exc:  # a broken connection is an error a user would see
            self.errors.append(f"{who}: {exc!r}")


# -- what the operator looks at ------------------------------------------------------------------------------


def email_rows() -> list[Notification]:
    db.session.expire_all()
    return list(db.session.scalars(select(Notification).where(Notification.channel == NotificationChannel.EMAIL)))


def all_sent() -> bool:
    rows = list(
        db.session.scalars(select(Notification.status).where(Notification.channel != NotificationChannel.IN_APP))
    )
    return bool(rows) and set(rows) == {DeliveryStatus.SENT}


def waiting_task(dossier_id: int, step: str) -> Task:
    found = db.session.scalar(
        select(Task).where(Task.dossier_id == dossier_id, Task.bpmn_id == step, Task.state == TaskState.READY)
    )
    assert found is not None, f"dossier {dossier_id} does not wait at {step}"
    return found


def test_two_instances_and_two_workers_behave_as_one_portal(cluster: Cluster, demo: Flask, smtp, s3) -> None:
    password = demo.config["DEMO_PASSWORD"]
    a, b = cluster.a, cluster.b
    with Browsing([a, b], password) as load:
        # 1. Applications sent at the same time through both instances: four with a file, two that wait on a timer.
        applications = [
            Application(a if n % 2 == 0 else b, "household_business", b"%PDF-1.7\n" + os.urandom(150_000 + n))
            for n in range(4)
        ] + [Application(a, "wait_a_little", None), Application(b, "wait_a_little", None)]
        with ThreadPoolExecutor(len(applications)) as pool:
            list(pool.map(lambda x: apply(x, password), applications))  # re-raises a failed one
        assert all(x.dossier_id for x in applications)
        with_files = [x for x in applications if x.file is not None]
        timers = [x for x in applications if x.file is None]

        # The citizen's receipts through the instance that did not take the form: the session is the same.
        citizen = signed_in(a, CITIZEN, password)
        for x in applications:
            receipt = citizen.get(f"{cluster.other(x.through)}/my/dossiers/{x.dossier_id}/receipt", timeout=30)
            assert receipt.status_code == 200, receipt.status_code

        # 2. The reception officer, signed in through B, opens each dossier through the instance that did not take
        # it and downloads its file: the same bytes.
        officer = signed_in(b, DESK, password)
        for x in with_files:
            there = cluster.other(x.through)
            page = officer.get(f"{there}/inbox/dossiers/{x.dossier_id}", timeout=30)
            assert page.status_code == 200, page.status_code
            links = re.findall(rf"/documents/dossiers/{x.dossier_id}/attachments/\d+", page.text)
            assert links, f"no attachment link on dossier {x.dossier_id}'s page"
            download = officer.get(there + links[0], timeout=60)
            assert download.status_code == 200, download.status_code
            assert download.content == x.file
        # The files are in the bucket, under the prefix, and in no process's local folder.
        stored = {a.storage_key for a in db.session.scalars(select(Attachment))}
        keys = [o["Key"] for o in s3.client.list_objects_v2(Bucket=cluster.bucket).get("Contents", [])]
        assert sorted(keys) == sorted("motcua/" + key for key in stored)
        assert len(stored) == len(with_files)
        assert not [p for folder in cluster.folders if folder.exists() for p in folder.rglob("*") if p.is_file()]

        # 3. One step: the officer accepts the first application, with the form of B's page posted to A.
        first = with_files[0].dossier_id
        task = waiting_task(first, "reception_check")
        page = officer.get(f"{b}/inbox/tasks/{task.id}", timeout=30)
        done = officer.post(
            f"{a}/inbox/tasks/{task.id}",
            data={"decision": "accept", "csrf_token": token(page.text)},
            allow_redirects=False,
            timeout=60,
        )
        assert done.status_code == 302, done.text[:1000]
        db.session.rollback()
        waiting_task(first, "specialist_review")

        # 4. The second application's reception deadline warnings come due (reminder and escalation).
        late = waiting_task(with_files[1].dossier_id, "reception_check")
        planned = list(db.session.scalars(select(Reminder.id).where(Reminder.task_id == late.id)))
        assert len(planned) >= 2, planned  # a reminder and an escalation
        db.session.execute(update(Reminder).where(Reminder.task_id == late.id).values(due_at=utcnow()))
        db.session.commit()

        # 5. The BPMN timers (4 s after submission) fire; the beat ticks every 0.5 s, on either worker.
        wait_for(
            lambda: all(
                db.session.scalar(
                    select(func.count()).where(
                        DossierEvent.dossier_id == x.dossier_id,
                        DossierEvent.kind == "step_started",
                        DossierEvent.step == "receive",
                    )
                )
                for x in timers
            ),
            "the timers to fire",
            WAIT,
        )
        wait_for(
            lambda: set(db.session.scalars(select(Reminder.state).where(Reminder.id.in_(planned)))) == {"sent"},
            "the deadline warnings",
            WAIT,
        )
        wait_for(all_sent, "every message to be sent", WAIT)
        wait_for(lambda: len(smtp.messages) >= len(email_rows()), "the mails to arrive", WAIT)
        time.sleep(SETTLE)  # any duplicate would come now: sweeps and timer passes keep running

    # Each mail exactly once: one message per email row (its Message-ID comes from the row's idempotency key).
    rows = email_rows()
    received = Counter(m["Message-ID"] for m in smtp.messages)
    repeated = {k: n for k, n in received.items() if n > 1}
    assert not repeated, [(m["To"], m["Subject"]) for m in smtp.messages if m["Message-ID"] in repeated]
    assert set(received) == {message_id(row) for row in rows}
    kinds = Counter(row.kind for row in rows)
    assert kinds["submitted"] == len(applications)  # each application's receipt to the citizen
    assert kinds["reminder"] >= 1
    assert kinds["escalation"] >= 1
    for x in applications:  # the citizen's receipt names the dossier
        assert [m for m in smtp.messages if m["To"] == CITIZEN and _code(x) in m["Subject"]], _code(x)
    # The accepted application's next step was announced to the business registration officer.
    assert [r for r in rows if r.dossier_id == first and r.address == SPECIALIST and r.task_id is not None]

    # Each timer fired once: one "receive" step and one event, and nothing left due.
    for x in timers:
        events = db.session.scalar(
            select(func.count()).where(
                DossierEvent.dossier_id == x.dossier_id,
                DossierEvent.kind == "step_started",
                DossierEvent.step == "receive",
            )
        )
        steps = db.session.scalar(
            select(func.count()).where(Task.dossier_id == x.dossier_id, Task.bpmn_id == "receive")
        )
        assert (events, steps) == (1, 1), x.dossier_id
        dossier = db.session.get(Dossier, x.dossier_id)
        assert dossier is not None
        assert dossier.next_timer_at is None

    # Both workers did work; only the first ran the beat.
    for worker in cluster.workers:
        assert re.search(r"Task [\w.]+\[[0-9a-f-]+\] succeeded", worker.text()), worker.log.name
    assert "beat: Starting" in cluster.workers[0].text()
    assert "beat: Starting" not in cluster.workers[1].text()

    assert load.requests > 0
    assert not load.errors, load.errors[:10]
    print(f"{len(smtp.messages)} mails, {load.requests} background requests, {dict(kinds)}")

    # 6. Failed sign-ins alternately through A and B: the limit is reached at the same total as on one instance.
    allowed = min(item.amount for item in parse_many(LOGIN_RATE_LIMIT))
    stranger = requests.Session()
    login_token = token(stranger.get(a + "/login", timeout=30).text)
    codes = []
    for n in range(allowed + 2):
        base = a if n % 2 == 0 else b
        answer = stranger.post(
            base + "/login",
            data={
                "identifier": f"guess{n}-{uuid.uuid4().hex[:6]}@example.vn",
                "password": "sai",
                "csrf_token": login_token,
            },
            allow_redirects=False,
            timeout=30,
        )
        codes.append(answer.status_code)
    assert codes == [422] * allowed + [429, 429], codes  # the last two: one through A, one through B
    counters = redis.Redis.from_url(LIMITS)
    assert list(counters.scan_iter(f"*{cluster.limit_prefix}*"))  # the count lives in the shared Redis
    counters.close()


def _code(application: Application) -> str:
    dossier = db.session.get(Dossier, application.dossier_id)
    assert dossier is not None
    return dossier.code
