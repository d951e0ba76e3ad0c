"""Inbox benchmark: p50/p95 of the officer's inbox, a dossier page and the citizen's 'my dossiers' on PostgreSQL.

The database (BENCH_DATABASE_URL, default the officer engineer's `motcua_officer`) is rebuilt by the migrations
and filled with set-based SQL (bench/seed.py): first 100,000 dossiers / 10,000 open tasks, then 1,000,000 /
100,000, so the two scales can be compared. Each page is requested many times through the Flask test client
(the whole stack: routing, session, queries, templates) by a signed-in user; times are wall clock per request.

Usage: python bench/inbox.py [--dossiers 1000000] [--open 100000] [--requests 200] [--no-write] [--keep]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

from common import app_on, machine, write_section
from flask.testing import FlaskClient
from seed import seed
from sqlalchemy import text

from portal.extensions import db
from tests.web import login

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/motcua_officer"
TARGET_P95_MS = 50.0


class FreshContextClient(FlaskClient):
    """Each request in its own application context, as under a real server (a fresh `g`, its own session)."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * len(ordered)) - 1)]
    return statistics.median(ordered), p95


def timed(client: FlaskClient, paths: list[str], count: int) -> tuple[float, float]:
    for path in paths[:5]:  # warm caches (specs, calendars, templates)
        assert client.get(path).status_code == 200, path
    samples = []
    for i in range(count):
        path = paths[i % len(paths)]
        started = time.perf_counter()
        response = client.get(path)
        samples.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"{path}: HTTP {response.status_code}")
    return percentiles(samples)


def pages(open_ids: list[int], closed_ids: list[int], task_ids: list[int]) -> dict[str, list[str]]:
    return {
        "inbox, new (desk), page 1": ["/inbox/?tab=new"],
        "inbox, new (desk), page 40": ["/inbox/?tab=new&page=40"],
        "inbox, overdue (desk)": ["/inbox/?tab=overdue"],
        "inbox, due soon (desk)": ["/inbox/?tab=due_soon"],
        "inbox, supplement requested (desk)": ["/inbox/?tab=supplement"],
        "inbox, finished (desk)": ["/inbox/?tab=finished"],
        "inbox, filtered by procedure and due date": [
            f"/inbox/?tab=new&procedure={p}&due_before={date.today().isoformat()}" for p in (1, 2, 3)
        ],
        "task page (open dossier)": [f"/inbox/tasks/{t}" for t in task_ids],
        "dossier page (open)": [f"/inbox/dossiers/{d}" for d in open_ids],
        "dossier page (closed)": [f"/inbox/dossiers/{d}" for d in closed_ids],
    }


def measure(app, requests: int) -> dict[str, tuple[float, float]]:
    rng = random.Random(7)
    with app.app_context():
        open_ids = [r[0] for r in db.session.execute(text("SELECT id FROM dossiers WHERE closed_at IS NULL"))]
        closed_ids = [
            r[0] for r in db.session.execute(text("SELECT id FROM dossiers WHERE closed_at IS NOT NULL LIMIT 200000"))
        ]
        task_ids = [
            r[0]
            for r in db.session.execute(
                text(
                    "SELECT t.id FROM tasks t JOIN groups g ON g.id = t.group_id "
                    "WHERE t.state = 'ready' AND g.role = 'reception'"
                )
            )
        ]
    sample = lambda ids: rng.sample(ids, min(len(ids), 100))  # noqa: E731
    results: dict[str, tuple[float, float]] = {}
    desk = app.test_client()
    login(desk, "tiepnhan@motcua.demo")
    for name, paths in pages(sample(open_ids), sample(closed_ids), sample(task_ids)).items():
        results[name] = timed(desk, paths, requests)
    specialist = app.test_client()
    login(specialist, "dkkd@motcua.demo")
    results["inbox, in process (specialist)"] = timed(specialist, ["/inbox/?tab=in_process"], requests)
    citizen = app.test_client()
    login(citizen, "congdan@motcua.demo")
    results["my dossiers (citizen)"] = timed(citizen, ["/my/dossiers"], requests)
    return results


def run_scale(url: str, dossiers: int, open_dossiers: int, requests: int) -> tuple[dict, dict, dict]:
    with tempfile.TemporaryDirectory() as tmp, app_on(url, Path(tmp)) as app:
        app.config.update(WTF_CSRF_ENABLED=True, LOGIN_RATE_LIMIT="1000 per minute")
        app.test_client_class = FreshContextClient
        print(f"seeding {dossiers:,} dossiers, {open_dossiers:,} open …")
        timings = seed(dossiers, open_dossiers)
        counts = dict(
            db.session.execute(
                text(
                    "SELECT 'dossiers', count(*) FROM dossiers UNION ALL SELECT 'tasks', count(*) FROM tasks "
                    "UNION ALL SELECT 'open tasks', count(*) FROM tasks WHERE state = 'ready' "
                    "UNION ALL SELECT 'events', count(*) FROM dossier_events"
                )
            ).all()
        )
        db.session.remove()
        print(f"  rows: {counts}")
        return measure(app, requests), timings, counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dossiers", type=int, default=1_000_000)
    parser.add_argument("--open", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/BENCHMARKS.md alone")
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    small = run_scale(url, args.dossiers // 10, args.open // 10, args.requests)
    large = run_scale(url, args.dossiers, args.open, args.requests)
    report = render(args, small, large)
    print(report)
    if not args.no_write:
        write_section("inbox", report)


def render(args: argparse.Namespace, small: tuple, large: tuple) -> str:
    (small_res, _small_t, small_counts), (large_res, large_t, large_counts) = small, large
    lines = [
        "## Inbox, dossier page and 'my dossiers' at 1,000,000 dossiers",
        "",
        f"Measured {date.today().isoformat()} with `python bench/inbox.py --dossiers {args.dossiers} "
        f"--open {args.open} --requests {args.requests}` on {machine()}.",
        "",
        "Method: PostgreSQL rebuilt by the migrations and filled with set-based SQL (`bench/seed.py`), everything in "
        "one ward, so the desk's and specialists' groups hold all the open tasks (the worst case for an inbox). "
        f"Large scale: {large_counts.get('dossiers', 0):,} dossiers, {large_counts.get('open tasks', 0):,} open tasks, "
        f"{large_counts.get('tasks', 0):,} task rows, {large_counts.get('events', 0):,} timeline lines "
        f"(seeded in {sum(large_t.values()):.0f} s); small scale 10× fewer "
        f"({small_counts.get('dossiers', 0):,} dossiers, {small_counts.get('open tasks', 0):,} open tasks). "
        f"Each page is requested {args.requests} times through the Flask test client (routing, session, "
        "queries, Jinja) by a signed-in user, after 5 warm-up requests; ms per request, wall clock.",
        "",
        "| page | p50, 10× fewer | p95, 10× fewer | p50 | p95 | p95 < 50 ms |",
        "|---|---:|---:|---:|---:|:---:|",
    ]
    for name, (p50, p95) in large_res.items():
        s50, s95 = small_res[name]
        ok = "yes" if p95 < TARGET_P95_MS else "no"
        lines.append(f"| {name} | {s50:.1f} | {s95:.1f} | {p50:.1f} | {p95:.1f} | {ok} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
