"""Operations-centre benchmark: p50/p95 of every page of the `ioc` and `stats` blueprints at 1,000,000 dossiers.

The database (BENCH_DATABASE_URL, default `bench_dashboard` on the local PostgreSQL) is built by the migrations
and filled with set-based SQL (bench/dashboard_seed.py: ~20 agencies, two years, 1,000,000 dossiers, ~10,000,000
timeline lines, their tasks and ratings), then the statistics are filled by the real `rebuild()` (the code behind
`flask --app wsgi stats rebuild`), timed. A marker table records what was built: a later run with the same
--dossiers reuses the database (migrating it to the latest revision first) unless --fresh is given.

The pages are found at run time: every GET rule of the `ioc` and `stats` blueprints in app.url_map. Each is
requested with the sample arguments of SAMPLES (several variants per page), or with none if the page is not in
the table; URL variables are filled from VARIABLES. Leaders' pages are measured as a province-level leader and as
the busiest commune's leader, public pages anonymously; each through the Flask test client (routing, session,
queries, templates), warm (3 untimed requests first), N timed requests or until --budget seconds are spent.
Pages that answer neither 2xx nor a redirect to a 2xx, and rules with variables nobody can fill, are reported.

Usage: python bench/dashboard.py [--dossiers 1000000] [--requests 40] [--budget 20] [--fresh] [--rebuild]
       [--only SUBSTRING] [--no-write]
"""

from __future__ import annotations

import argparse
import gc
import os
import re
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import dashboard_seed as seed_mod
from common import machine, write_section
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import text

from portal import create_app
from portal.extensions import db
from tests.schema import MIGRATIONS, fresh_schema
from tests.web import login

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_dashboard"
TARGET_P95_MS = 200.0
SEED_VERSION = 1  # bump when the data's shape changes: a database built by another version is rebuilt

# Sample query strings per endpoint: (label, URL variables, query string), formatted with the context below.
SAMPLES: dict[str, list[tuple[str, dict[str, str], str]]] = {
    "ioc.today": [
        ("", {}, ""),
        ("one agency chosen", {}, "agency={agency}"),
        ("as CSV", {}, "export=today&format=csv"),
    ],
    "ioc.today_json": [("", {}, "")],
    "ioc.dossiers": [
        *[
            (f"figure={f}", {}, f"figure={f}")
            for f in ("received", "open", "overdue", "due_today", "supplement", "incident")
        ],
        ("figure=open, page 100", {}, "figure=open&page=100"),
    ],
    "ioc.waiting": [
        ("busy version, last 30 days", {}, "version={version}"),
        ("busy version, one year", {}, "version={version}&since={since365}&until={today}"),
        (
            "busy version, one year, XLSX",
            {},
            "version={version}&since={since365}&until={today}&export=bottlenecks&format=xlsx",
        ),
    ],
    "ioc.diagram": [("busy version", {"version_id": "{version}"}, "")],
    "ioc.period_figures": [
        ("this month", {}, ""),
        ("a year", {}, "period={year}"),
        ("a year, one agency", {}, "period={year}&agency={agency}"),
        ("a year, busy procedure", {}, "period={year}&procedure={procedure}"),
        ("a year, by procedure as XLSX", {}, "period={year}&export=procedures&format=xlsx"),
    ],
    "ioc.period_dossiers": [
        ("received, this month", {}, "figure=received&period={month}"),
        ("finished late, a year", {}, "figure=finished_late&period={year}"),
        ("overdue now", {}, "figure=overdue_open&period={month}"),
        ("received, a year, page 100", {}, "figure=received&period={year}&page=100"),
    ],
    "ioc.ranking": [("this month", {}, ""), ("a year", {}, "period={year}")],
    "ioc.index766_page": [("this month", {}, ""), ("a year", {}, "period={year}")],
    "ioc.report": [("last month", {}, "period={last_month}"), ("a year", {}, "period={year}")],
    "stats.statistics": [
        ("", {}, ""),
        ("a year", {}, "period={year}"),
        ("one agency, a quarter", {}, "period={quarter}&agency={agency}"),
        ("one field, a year", {}, "period={year}&field={field}"),
        ("busy procedure, a year", {}, "period={year}&procedure={procedure}"),
    ],
    "stats.open_data_json": [
        ("current month", {"month": "{month}"}, ""),
        ("last month", {"month": "{last_month}"}, ""),
    ],
    "stats.open_data_csv": [("current month", {"month": "{month}"}, "")],
}
# URL variables of rules not in SAMPLES (or not given there), by name.
VARIABLES = {
    "version_id": "{version}",
    "procedure_id": "{procedure}",
    "agency_id": "{agency}",
    "month": "{month}",
    "period": "{month}",
    "year": "{year}",
    "quarter": "{quarter}",
}
PUBLIC_BLUEPRINTS = ("stats",)
BLUEPRINTS = ("ioc", "stats")


class FreshContextClient(FlaskClient):
    """Each request in its own application context, as under a real server (a fresh `g`, its own session)."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        with self.application.app_context():
            return super().open(*args, **kwargs)


# -- the database ------------------------------------------------------------------------------------------


def _marker(dossiers: int) -> str:
    return f"dashboard v{SEED_VERSION}, {dossiers} dossiers"


def _read_marker() -> dict[str, Any] | None:
    exists = db.session.execute(text("SELECT to_regclass('public.bench_marker')")).scalar()
    if not exists:
        return None
    row = db.session.execute(text("SELECT marker, generated_at, timings FROM bench_marker")).mappings().first()
    return dict(row) if row else None


def _autocommit(sql: str) -> None:
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(sql))


def rebuild_statistics(parts: tuple[str, ...] = ("stats rebuild", "steps rebuild")) -> dict[str, float]:
    """The real rebuilds, as `flask --app wsgi stats rebuild` runs them (each in one transaction). Seconds each."""
    from portal.stats import aggregates, steps

    seconds = {}
    rebuilds = {"stats rebuild": aggregates.rebuild, "steps rebuild": steps.rebuild}
    for name, rebuild in ((name, rebuilds[name]) for name in parts):
        started = last = time.perf_counter()
        done = 0
        for done in rebuild(db.session(), batch=1000):
            if time.perf_counter() - last > 60:
                last = time.perf_counter()
                print(f"  {name}: {done:,} rows read, {done / (last - started):,.0f}/s", flush=True)
        db.session.commit()
        seconds[name] = time.perf_counter() - started
        print(f"  {name}: {done:,} rows in {seconds[name]:.0f} s", flush=True)
    return seconds


def _roll_up_months() -> None:
    """What the beat job `stats.rollup` does in production: roll up the complete months not rolled up yet."""
    from portal.core.time import local_today
    from portal.stats import rollup

    started = time.perf_counter()
    months = rollup.build_missing(db.session(), local_today())
    db.session.commit()
    if months:
        _autocommit("VACUUM (ANALYZE) stats_monthly")
        print(f"  monthly roll-up (stats.rollup): {months} month(s) in {time.perf_counter() - started:.1f} s")


@contextmanager
def database(url: str, dossiers: int, fresh: bool, rebuild: bool) -> Iterator[tuple[Flask, dict[str, Any]]]:
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "ENV": "testing",
                "SQLALCHEMY_DATABASE_URI": url,
                "UPLOAD_DIR": str(Path(tmp) / "uploads"),
                "WTF_CSRF_ENABLED": True,
                "LOGIN_RATE_LIMIT": "1000 per minute",
                # Seeding and the rebuild run long statements; the pages are far below the limit anyway.
                "DB_STATEMENT_TIMEOUT_MS": 0,
                "DB_IDLE_IN_TRANSACTION_TIMEOUT_MS": 0,
            }
        )
        app.test_client_class = FreshContextClient
        with app.app_context():
            marker = None if fresh else _read_marker()
            db.session.rollback()  # let the schema be dropped
            if marker is not None and marker["marker"] != _marker(dossiers):
                print(f"database holds '{marker['marker']}', not '{_marker(dossiers)}': building it again")
                marker = None
            if marker is None:
                fresh_schema()
                t0 = datetime.now(UTC).replace(microsecond=0)
                print(f"seeding {dossiers:,} dossiers ending {t0.isoformat()} …", flush=True)
                started = time.perf_counter()
                timings = seed_mod.seed(dossiers, t0)
                db.session.remove()
                began = time.perf_counter()
                _autocommit("VACUUM (ANALYZE)")
                timings["vacuum analyze"] = time.perf_counter() - began
                timings["total"] = time.perf_counter() - started
                print(f"  vacuum analyze: {timings['vacuum analyze']:.1f} s", flush=True)
                db.session.execute(
                    text("CREATE TABLE bench_marker (marker text, generated_at timestamptz, timings jsonb)")
                )
                db.session.execute(
                    text("INSERT INTO bench_marker VALUES (:m, :t, CAST(:j AS jsonb))"),
                    {"m": _marker(dossiers), "t": t0, "j": __import__("json").dumps(timings)},
                )
                db.session.commit()
                marker = _read_marker()
                rebuild = True
            else:
                print(f"reusing the database built {marker['generated_at']:%Y-%m-%d %H:%M} UTC; migrating to head")
                upgrade(directory=str(MIGRATIONS))
            assert marker is not None
            parts: tuple[str, ...] = ("stats rebuild", "steps rebuild") if rebuild else ()
            if not rebuild and not db.session.execute(text("SELECT 1 FROM stats_step_daily LIMIT 1")).first():
                parts = ("steps rebuild",)  # new aggregate tables (a migration just made them): fill them
            if parts:
                print(f"rebuilding the statistics ({', '.join(parts)}) …", flush=True)
                timings = dict(marker["timings"])
                timings.update(rebuild_statistics(parts))
                db.session.execute(
                    text("UPDATE bench_marker SET timings = CAST(:j AS jsonb)"),
                    {"j": __import__("json").dumps(timings)},
                )
                db.session.commit()
                for table in (
                    "stats_daily",
                    "stats_dossier_facts",
                    "stats_step_daily",
                    "stats_flow_daily",
                    "stats_work_daily",
                ):
                    _autocommit(f"VACUUM (ANALYZE) {table}")
                marker = _read_marker()
            assert marker is not None
            _roll_up_months()
            db.session.remove()
            gc.collect()
            gc.freeze()  # as wsgi.py does once the app is built: the app's objects leave the collector's passes
            yield app, marker


def counts() -> dict[str, int]:
    rows = db.session.execute(
        text(
            "SELECT 'agencies', count(*) FROM agencies UNION ALL SELECT 'procedures', count(*) FROM procedures "
            "UNION ALL SELECT 'versions', count(*) FROM procedure_versions "
            "UNION ALL SELECT 'dossiers', count(*) FROM dossiers "
            "UNION ALL SELECT 'open dossiers', count(*) FROM dossiers WHERE closed_at IS NULL "
            "UNION ALL SELECT 'tasks', count(*) FROM tasks "
            "UNION ALL SELECT 'open tasks', count(*) FROM tasks WHERE state = 'ready' "
            "UNION ALL SELECT 'events', count(*) FROM dossier_events "
            "UNION ALL SELECT 'ratings', count(*) FROM ratings "
            "UNION ALL SELECT 'stats_daily rows', count(*) FROM stats_daily"
        )
    ).all()
    return {name: int(n) for name, n in rows}


# -- what to request ---------------------------------------------------------------------------------------


def context(now: datetime, tz: ZoneInfo) -> dict[str, str]:
    """Values for the sample arguments: the busy version and its agency, periods around today."""
    busy = db.session.execute(
        text(
            "SELECT d.procedure_version_id, v.procedure_id, d.agency_id, coalesce(p.field, '') AS field, count(*) "
            "FROM dossiers d JOIN procedure_versions v ON v.id = d.procedure_version_id "
            "JOIN procedures p ON p.id = v.procedure_id "
            "WHERE d.submitted_at > now() - interval '90 days' GROUP BY 1, 2, 3, 4 ORDER BY 5 DESC LIMIT 1"
        )
    ).one()
    today = now.astimezone(tz).date()
    last = today.replace(day=1) - timedelta(days=1)
    return {
        "version": str(busy[0]),
        "procedure": str(busy[1]),
        "agency": str(busy[2]),
        "field": str(busy[3]),
        "busy_version_dossiers": str(
            db.session.scalar(text("SELECT count(*) FROM dossiers WHERE procedure_version_id = :v"), {"v": busy[0]})
        ),
        "today": today.isoformat(),
        "since365": (today - timedelta(days=364)).isoformat(),
        "month": f"{today:%Y-%m}",
        "last_month": f"{last:%Y-%m}",
        "year": str(today.year),
        "quarter": f"{today.year}-Q{(today.month - 1) // 3 + 1}",
    }


@dataclass
class Target:
    endpoint: str
    label: str
    path: str | None  # None: could not be built
    public: bool
    problem: str = ""


def targets(app: Flask, ctx: dict[str, str], only: str | None) -> list[Target]:
    out: list[Target] = []
    adapter = app.url_map.bind("localhost")
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.endpoint, r.rule)):
        blueprint = rule.endpoint.split(".", 1)[0]
        if blueprint not in BLUEPRINTS or "GET" not in (rule.methods or ()):
            continue
        if only and only not in rule.endpoint:
            continue
        public = blueprint in PUBLIC_BLUEPRINTS
        variants = SAMPLES.get(rule.endpoint) or [("no arguments (not in SAMPLES)", {}, "")]
        for label, given, query in variants:
            values = {name: given.get(name, VARIABLES.get(name, "")) for name in rule.arguments}
            missing = [name for name, v in values.items() if not v]
            if missing:
                out.append(Target(rule.endpoint, label, None, public, f"no value for {', '.join(missing)}"))
                continue
            filled = {name: v.format(**ctx) for name, v in values.items()}
            try:
                path = adapter.build(rule.endpoint, filled)
            except Exception as error:  # a converter refusing the value
                out.append(Target(rule.endpoint, label, None, public, f"cannot build: {error}"))
                continue
            q = query.format(**ctx)
            out.append(Target(rule.endpoint, label, path + (f"?{q}" if q else ""), public))
    return out


# -- measuring ---------------------------------------------------------------------------------------------


@dataclass
class Result:
    samples: list[float] = field(default_factory=list)
    status: int = 0
    note: str = ""

    @property
    def p50(self) -> float:
        return statistics.median(self.samples)

    @property
    def p95(self) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]


def measure(client: FlaskClient, path: str, requests: int, budget: float) -> Result:
    response = client.get(path)
    if 300 <= response.status_code < 400 and response.location:
        location = urlsplit(response.location)
        path = location.path + (f"?{location.query}" if location.query else "")
        response = client.get(path)
    if not 200 <= response.status_code < 300:
        return Result(status=response.status_code, note=f"HTTP {response.status_code}")
    for _ in range(2):
        client.get(path)
    result = Result(status=response.status_code)
    started = time.perf_counter()
    while len(result.samples) < requests:
        began = time.perf_counter()
        response = client.get(path)
        result.samples.append((time.perf_counter() - began) * 1000)
        if not 200 <= response.status_code < 300:
            return Result(status=response.status_code, note=f"HTTP {response.status_code} while timing")
        if time.perf_counter() - started > budget and len(result.samples) >= 10:
            break
    return result


def run(app: Flask, requests: int, budget: float, only: str | None) -> tuple[dict[str, str], list, list[Target]]:
    with app.app_context():
        tz = ZoneInfo(app.config["TIMEZONE"])
        ctx = context(datetime.now(UTC), tz)
    found = targets(app, ctx, only)
    clients: dict[str, FlaskClient] = {}
    province, agency, public = app.test_client(), app.test_client(), app.test_client()
    login(province, seed_mod.PROVINCE_LEADER)
    login(agency, seed_mod.AGENCY_LEADER)
    clients = {"province": province, "agency": agency, "public": public}
    rows = []
    for target in found:
        if target.path is None:
            continue
        roles = ("public",) if target.public else ("province", "agency")
        results = {}
        for role in roles:
            results[role] = measure(clients[role], target.path, requests, budget)
            r = results[role]
            shown = f"p50 {r.p50:7.1f}  p95 {r.p95:7.1f} ms (n={len(r.samples)})" if r.samples else r.note
            print(f"  {target.endpoint:28} {target.label[:40]:40} {role:8} {shown}", flush=True)
        rows.append((target, results))
    return ctx, rows, found


# -- freshness and the cost of keeping the figures ------------------------------------------------------------


def freshness(app: Flask, steps: int) -> str:
    """Submit a dossier and take a step through the services, committing as a request does, and read the figures
    right after each commit; then time `steps` reception steps with and without the where-dossiers-wait listener."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from portal.core.time import utcnow
    from portal.dossiers.services import complete_task, submit_dossier
    from portal.stats import steps as step_stats
    from tests.helpers import open_task, user, version_of
    from tests.test_inbox_pages import CITIZEN, DESK, application

    province = app.test_client()
    login(province, seed_mod.PROVINCE_LEADER)

    def received_today() -> int:
        return int(province.get("/ioc/today.json").get_json()["figures"]["received"])

    def received_month(month: str) -> int:
        return int(app.test_client().get(f"/open-data/statistics/{month}.json").get_json()["province"]["received"])

    def flow_taken(version_id: int) -> int:
        html = province.get(f"/ioc/waiting?version={version_id}").get_data(as_text=True)
        match = re.search(r'data-flow="Flow_reception_accept" data-overlay="(\d+)"', html)
        return int(match.group(1)) if match else -1

    lines = []
    with app.app_context():
        version = version_of("household_business")
        version_id = version.id
        month = utcnow().astimezone(ZoneInfo(app.config["TIMEZONE"])).strftime("%Y-%m")
        before = (received_today(), flow_taken(version_id))
        data = application("Cửa hàng Đo Độ Tươi")
        dossier = submit_dossier(version, user(CITIZEN), data, now=utcnow())
        db.session.commit()
        after_submit = received_today()
        task = open_task(dossier, "reception_check")
        complete_task(task.id, user(DESK), {"decision": "accept"}, now=utcnow())
        db.session.commit()
        after_step = flow_taken(version_id)
        lines.append(
            "Freshness: figures change in the same transaction as the step, so they are 0 s old. Checked here on "
            f"the 1M database: a dossier submitted through the services moved today's received count "
            f"({before[0]} → {after_submit}) and, with the open data, the month's "
            f"({received_month(month)} now), on the first request after the commit; its reception step moved the "
            f"waiting view's flow 'accept' ({before[1]} → {after_step}) the same way."
        )
        db.session.remove()

        def timed_steps(n: int) -> list[float]:
            samples = []
            dossiers = []
            for _ in range(n):
                form = application("Cửa hàng Đo Chi Phí")
                dossiers.append(submit_dossier(version_of("household_business"), user(CITIZEN), form, now=utcnow()))
                db.session.commit()
            for d in dossiers:
                task_id = open_task(d, "reception_check").id
                began = time.perf_counter()
                complete_task(task_id, user(DESK), {"decision": "accept"}, now=utcnow())
                db.session.commit()
                samples.append((time.perf_counter() - began) * 1000)
            return samples

        timed_steps(3)  # warm
        listener_ms: list[float] = []

        def timed_listener(session: Session, context: Any) -> None:
            began = time.perf_counter()
            step_stats._after_flush(session, context)
            listener_ms.append((time.perf_counter() - began) * 1000)

        event.remove(Session, "after_flush", step_stats._after_flush)
        event.listen(Session, "after_flush", timed_listener)
        try:
            step_ms = timed_steps(steps)
        finally:
            event.remove(Session, "after_flush", timed_listener)
            event.listen(Session, "after_flush", step_stats._after_flush)
        db.session.remove()
    lines.append(
        f"Cost of keeping where-dossiers-wait current (portal/stats/steps.py, run after each flush): "
        f"{statistics.median(listener_ms):.1f} ms per flush (median; p95 {Result(listener_ms).p95:.1f} ms) of a "
        f"reception step that takes {statistics.median(step_ms):.1f} ms in all (complete + commit through the "
        f"services, median of {steps})."
    )
    return "\n\n".join(lines)


# -- the report --------------------------------------------------------------------------------------------


def _cell(result: Result | None) -> tuple[str, str]:
    if result is None:
        return "–", "–"
    if not result.samples:
        return result.note, ""
    return f"{result.p50:.1f}", f"{result.p95:.1f}"


def render(
    args: argparse.Namespace,
    marker: dict[str, Any],
    n: dict[str, int],
    ctx: dict[str, str],
    rows: list,
    found: list[Target],
    extra: str,
) -> str:
    timings = marker["timings"]
    seeded = sum(v for k, v in timings.items() if k not in ("total", "stats rebuild", "steps rebuild"))
    rebuild, steps_rebuild = timings.get("stats rebuild"), timings.get("steps rebuild")
    lines = [
        "## Operations centre at 1M dossiers",
        "",
        f"Measured {date.today().isoformat()} with `python bench/dashboard.py --dossiers {args.dossiers} "
        f"--requests {args.requests} --budget {args.budget:g}` on {machine()}.",
        "",
        "Method: PostgreSQL built by the migrations and filled with set-based SQL (`bench/dashboard_seed.py`, "
        f"{seeded:.0f} s), then the statistics filled by the real rebuilds (`portal.stats.aggregates.rebuild` and "
        "`portal.stats.steps.rebuild`, the code behind `flask --app wsgi stats rebuild`). "
        "Every GET page of the `ioc` and `stats` blueprints found in "
        "`app.url_map` at run time is requested through the Flask test client (routing, session, queries, Jinja; "
        "each request in its own application context), leaders' pages signed in as a province-level leader (every "
        "agency) and as the leader of the busiest commune, public pages anonymously; 3 untimed requests first "
        f"(warm caches), then {args.requests} timed ones or as many as fit in {args.budget:g} s (at least 10); "
        "ms per request, wall clock.",
        "",
        f"Data: {n['agencies']} agencies, {n['procedures']} procedures, {n['versions']} versions; "
        f"{n['dossiers']:,} dossiers over two years ({n['open dossiers']:,} open), {n['tasks']:,} task rows "
        f"({n['open tasks']:,} open), {n['events']:,} timeline lines, {n['ratings']:,} ratings; "
        f"{n['stats_daily rows']:,} rows of `stats_daily`. The busiest commune holds 35 % of the dossiers; "
        f"its busiest version (the waiting view's sample) {int(ctx['busy_version_dossiers']):,}. "
        f"Data generated {marker['generated_at']:%Y-%m-%d %H:%M} UTC.",
        "",
        "| page | arguments | province leader p50 | p95 | agency leader p50 | p95 | p95 < 200 ms |",
        "|---|---|---:|---:|---:|---:|:---:|",
    ]
    for target, results in rows:
        if target.public:
            p50, p95 = _cell(results.get("public"))
            a50, a95 = "(public)", ""
            worst = results.get("public")
            worst_p95 = [worst.p95] if worst and worst.samples else []
        else:
            p50, p95 = _cell(results.get("province"))
            a50, a95 = _cell(results.get("agency"))
            worst_p95 = [r.p95 for r in results.values() if r.samples]
        ok = "–" if not worst_p95 else ("yes" if max(worst_p95) < TARGET_P95_MS else "**no**")
        lines.append(f"| `{target.endpoint}` {target.label} | `{target.path}` | {p50} | {p95} | {a50} | {a95} | {ok} |")
    skipped = [t for t in found if t.path is None]
    if skipped:
        lines += [
            "",
            "Routes the bench could not exercise: " + "; ".join(f"`{t.endpoint}` ({t.problem})" for t in skipped),
        ]
    not_ok = [(t, r) for t, results in rows for r in results.values() if not r.samples]
    if not_ok:
        lines += ["", "Pages that did not answer 2xx: " + "; ".join(f"`{t.path}` ({r.note})" for t, r in not_ok)]
    if rebuild and steps_rebuild:
        lines += [
            "",
            f"Rebuild from scratch (`flask --app wsgi stats rebuild`, each part in one transaction): the dossier "
            f"statistics in {rebuild:.0f} s ({n['dossiers'] / rebuild:,.0f} dossiers/s), where dossiers wait in "
            f"{steps_rebuild:.0f} s ({n['tasks'] / steps_rebuild:,.0f} task rows/s).",
        ]
    if extra:
        lines += ["", extra]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dossiers", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--budget", type=float, default=20.0, help="seconds at most per page and role")
    parser.add_argument("--fresh", action="store_true", help="build the data again even if the marker matches")
    parser.add_argument("--rebuild", action="store_true", help="run the statistics rebuild again on reused data")
    parser.add_argument("--only", help="measure only endpoints containing this text")
    parser.add_argument("--steps", type=int, default=20, help="steps timed with and without the step listener")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/BENCHMARKS.md alone")
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    with database(url, args.dossiers, args.fresh, args.rebuild) as (app, marker):
        with app.app_context():
            n = counts()
        print(f"  rows: {n}")
        ctx, rows, found = run(app, args.requests, args.budget, args.only)
        extra = "" if args.only else freshness(app, args.steps)
    report = render(args, marker, n, ctx, rows, found, extra)
    print(report)
    if not args.no_write and not args.only:
        write_section("dashboard", report)


if __name__ == "__main__":
    main()
