"""Field reports benchmark: p50/p95 of the public feed (/public/reports) and of the map's points
(/public/reports/map.json) on PostgreSQL with many reports.

The database (BENCH_DATABASE_URL, default `bench_reports`: `createdb -h 127.0.0.1 -U postgres bench_reports`) is
rebuilt by the migrations, given the demo agencies and people, then filled with set-based SQL
(`INSERT … SELECT generate_series(…)`): N reports over three years, 60% in a city of about 10 × 9 km and the rest
across a province of about 90 × 130 km, 2% hidden, one photo each. Each page is requested many times through the
Flask test client (routing, queries, Jinja, JSON), anonymous as the public is; times are wall clock per request.

Usage: python bench/reports.py [--reports 1000000] [--requests 100] [--no-write] [--explain]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import tempfile
import time
from datetime import date
from pathlib import Path

from common import app_on, machine, write_section
from flask import Flask
from inbox import FreshContextClient, timed
from sqlalchemy import text

from portal.demo import seed_demo
from portal.extensions import db

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_reports"
TARGET_P95_MS = 100.0
# (south, west, north, east) in degrees: a city and the province around it (near Huế).
CITY = (16.42, 107.54, 16.50, 107.64)
PROVINCE = (16.00, 107.00, 16.80, 108.20)

SEED_SQL = """
INSERT INTO field_reports (id, code, reporter_id, category, description, latitude, longitude, lat_micro, lon_micro,
    position_source, address, area_agency_id, show_name, status, created_at, updated_at, reopen_count)
SELECT i, 'PA-B-' || lpad(i::text, 9, '0'), :reporter,
       (ARRAY['moi_truong','giao_thong','trat_tu_do_thi','chieu_sang','dich_vu_cong','khac'])[1 + (i * 7) % 6],
       'Phản ánh số ' || i || ': rác thải đổ trộm trên vỉa hè, cần thu gom.',
       p.lat, p.lon, round(p.lat * 1000000)::int, round(p.lon * 1000000)::int, 'device',
       'Số ' || (i % 300) || ' Lê Lợi', (:areas)[1 + i % cardinality(:areas)], i % 3 = 0,
       CASE WHEN i % 50 = 0 THEN 'hidden'
            ELSE (ARRAY['received','in_progress','answered','closed','closed','closed','reopened'])[1 + i % 7] END,
       now() - (:n - i) * interval '90 seconds', now() - (:n - i) * interval '90 seconds', 0
FROM generate_series(1, :n) AS i
CROSS JOIN LATERAL (
    SELECT CASE WHEN (i * 13) % 10 < 6 THEN :c_south + random() * (:c_north - :c_south)
                ELSE :p_south + random() * (:p_north - :p_south) END AS lat,
           CASE WHEN (i * 13) % 10 < 6 THEN :c_west + random() * (:c_east - :c_west)
                ELSE :p_west + random() * (:p_east - :p_west) END AS lon
) p
"""

PHOTOS_SQL = """
INSERT INTO field_report_photos (report_id, kind, storage_key, content_type, size, width, height,
    hidden_from_public, created_at)
SELECT id, 'before', 'reports/bench/' || id || '.jpg', 'image/jpeg', 200000, 1600, 1200, false, created_at
FROM field_reports
"""


def seed(n: int) -> dict[str, float]:
    list(seed_demo())
    db.session.commit()
    reporter = db.session.scalar(text("SELECT id FROM users WHERE email = 'congdan@motcua.demo'"))
    areas = [r[0] for r in db.session.execute(text("SELECT id FROM agencies ORDER BY id"))]
    conn = db.session.connection()
    conn.execute(text("SET synchronous_commit TO off"))
    params = {
        "n": n,
        "reporter": reporter,
        "areas": areas,
        "c_south": CITY[0],
        "c_west": CITY[1],
        "c_north": CITY[2],
        "c_east": CITY[3],
        "p_south": PROVINCE[0],
        "p_west": PROVINCE[1],
        "p_north": PROVINCE[2],
        "p_east": PROVINCE[3],
    }
    timings = {}
    for name, sql in (("reports", SEED_SQL), ("photos", PHOTOS_SQL)):
        started = time.perf_counter()
        conn.execute(text(sql), params)
        db.session.commit()
        conn = db.session.connection()
        timings[name] = time.perf_counter() - started
        print(f"  seeded {name} in {timings[name]:.1f} s")
    started = time.perf_counter()
    for table in ("field_reports", "field_report_photos"):  # names from this fixed tuple, never from input
        conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))  # noqa: S608
    db.session.commit()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as raw:
        raw.execute(text("VACUUM ANALYZE field_reports"))
        raw.execute(text("VACUUM ANALYZE field_report_photos"))
    timings["vacuum analyze"] = time.perf_counter() - started
    return timings


def box_around(rng: random.Random, inside: tuple[float, float, float, float], size: tuple[float, float]) -> str:
    """A bbox parameter of `size` (degrees of latitude, longitude) somewhere inside `inside`."""
    south = inside[0] + rng.random() * max(0.0, inside[2] - inside[0] - size[0])
    west = inside[1] + rng.random() * max(0.0, inside[3] - inside[1] - size[1])
    return f"{west:.6f},{south:.6f},{west + size[1]:.6f},{south + size[0]:.6f}"


def pages(app: Flask) -> dict[str, list[str]]:
    rng = random.Random(11)
    with app.app_context():
        area = db.session.scalar(text("SELECT id FROM agencies ORDER BY id LIMIT 1"))
    city = [f"/public/reports/map.json?bbox={box_around(rng, CITY, (0.08, 0.10))}" for _ in range(20)]
    ward = [f"/public/reports/map.json?bbox={box_around(rng, CITY, (0.01, 0.012))}" for _ in range(50)]
    rural = [f"/public/reports/map.json?bbox={box_around(rng, PROVINCE, (0.01, 0.012))}" for _ in range(50)]
    province = f"/public/reports/map.json?bbox={PROVINCE[1]:.2f},{PROVINCE[0]:.2f},{PROVINCE[3]:.2f},{PROVINCE[2]:.2f}"
    return {
        "feed, first page": ["/public/reports"],
        "feed, by category": [f"/public/reports?category={c}" for c in ("giao_thong", "chieu_sang", "khac")],
        "feed, by area": [f"/public/reports?area={area}"],
        "feed, page 50": ["/public/reports?page=50"],
        "feed, by status and category, page 3": ["/public/reports?status=reopened&category=khac&page=3"],
        "map.json, province box": [province],
        "map.json, city-sized boxes": city,
        "map.json, city-sized boxes, one category": [f"{p}&category=chieu_sang" for p in city],
        "map.json, ward-sized boxes in the city": ward,
        "map.json, ward-sized boxes in the countryside": rural,
    }


_MAP_SQL = (
    "SELECT code, category, status, lat_micro, lon_micro FROM field_reports WHERE id IN (SELECT id FROM "
    "field_reports WHERE lat_micro BETWEEN {} AND {} AND lon_micro BETWEEN {} AND {} AND status <> 'hidden' "
    "ORDER BY created_at DESC, id DESC LIMIT 501) ORDER BY created_at DESC, id DESC"
)
EXPLAINED = {  # the statements of portal/reports/map.py points_in
    "map, province box": _MAP_SQL.format(16000000, 16800000, 107000000, 108200000),
    "map, city box": _MAP_SQL.format(16420000, 16500000, 107540000, 107640000),
    "map, ward box": _MAP_SQL.format(16450000, 16460000, 107580000, 107592000),
    "map, countryside ward box": _MAP_SQL.format(16100000, 16110000, 107100000, 107112000),
    "feed, first page (capped count)": (
        "SELECT count(*) FROM (SELECT id FROM field_reports WHERE status <> 'hidden' LIMIT 10001) AS c"
    ),
    "feed, page 50": (
        "SELECT id FROM field_reports WHERE status <> 'hidden' ORDER BY created_at DESC, id DESC LIMIT 20 OFFSET 980"
    ),
    "feed, by status and category (capped count)": (
        "SELECT count(*) FROM (SELECT id FROM field_reports WHERE status <> 'hidden' AND status = 'reopened' "
        "AND category = 'khac' LIMIT 10001) AS c"
    ),
}


SCAN = re.compile(
    r"((?:Parallel )?(?:Bitmap Index|Bitmap Heap|Index Only|Index|Seq) Scan)(?: Backward)? (?:using|on) (\w+)"
)


def explain(verbose: bool) -> list[tuple[str, list[str], float]]:
    """Each statement's plan (EXPLAIN ANALYZE): the indexes it used and its execution time in ms."""
    summary = []
    for name, sql in EXPLAINED.items():
        plan = [row[0] for row in db.session.execute(text("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql))]
        if verbose:
            print(f"-- {name}", *plan, sep="\n    ")
        scans = [f"{m.group(1)} {m.group(2)}" for line in plan if (m := SCAN.search(line))]
        took = next(float(line.split(":")[1].split()[0]) for line in plan if line.startswith("Execution Time"))
        summary.append((name, scans, took))
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/BENCHMARKS.md alone")
    parser.add_argument("--explain", action="store_true", help="print the map queries' plans")
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    with tempfile.TemporaryDirectory() as tmp, app_on(url, Path(tmp)) as app:
        app.test_client_class = FreshContextClient
        print(f"seeding {args.reports:,} field reports …")
        timings = seed(args.reports)
        plans = explain(args.explain)
        db.session.remove()
        client = app.test_client()
        results = {name: timed(client, paths, args.requests) for name, paths in pages(app).items()}
    report = render(args, results, timings, plans)
    print(report)
    if not args.no_write:
        write_section("reports", report)


def render(
    args: argparse.Namespace,
    results: dict[str, tuple[float, float]],
    timings: dict[str, float],
    plans: list[tuple[str, list[str], float]],
) -> str:
    lines = [
        "## Field reports: public feed and map",
        "",
        f"Measured {date.today().isoformat()} with `python bench/reports.py --reports {args.reports} "
        f"--requests {args.requests}` on {machine()}.",
        "",
        "Method: PostgreSQL rebuilt by the migrations, the demo agencies and people, then "
        f"{args.reports:,} field reports written with set-based SQL (seeded in {sum(timings.values()):.0f} s, "
        "VACUUM ANALYZE after): three years of reports, 60% in a city of about 10 × 9 km, the rest across a "
        "province of about 90 × 130 km, six categories, 2% hidden, one photo each. Each page is requested "
        f"{args.requests} times (cycling through its URLs: 20 city boxes of 0.10° × 0.08°, 50 ward boxes of "
        "0.012° × 0.01°) through the Flask test client, anonymous, after 5 warm-up requests; ms per request, "
        'wall clock. The feed counts up to 10,000 matches ("more than 10,000 reports"); the map returns at most '
        "500 points, newest first.",
        "",
        f"| request | p50 | p95 | p95 < {TARGET_P95_MS:.0f} ms |",
        "|---|---:|---:|:---:|",
    ]
    for name, (p50, p95) in results.items():
        lines.append(f"| {name} | {p50:.1f} | {p95:.1f} | {'yes' if p95 < TARGET_P95_MS else 'no'} |")
    lines += [
        "",
        "Plans of the statements behind them (EXPLAIN ANALYZE on the same database, `--explain` prints them):",
        "",
    ]
    for name, scans, took in plans:
        lines.append(f"- {name}: {', '.join(scans) or 'no index'}; {took:.1f} ms")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
