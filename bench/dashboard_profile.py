"""Where one page of the operations centre spends its time: its SQL statements (slowest first) and the rest.

Usage: python bench/dashboard_profile.py [--as province|agency|public] [--top 8] [--explain] PATH
(on the database bench/dashboard.py built; the page is requested 3 times, the last one is reported).
"""

from __future__ import annotations

import argparse
import os
import time

import dashboard_seed as seed_mod
from common import ROOT  # noqa: F401  (puts the project on sys.path)
from dashboard import DEFAULT_URL, FreshContextClient
from sqlalchemy import event

from portal import create_app
from portal.extensions import db
from tests.web import login


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path")
    parser.add_argument("--as", dest="role", default="province", choices=("province", "agency", "public"))
    parser.add_argument("--top", type=int, default=8)
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE the slowest statement")
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    app = create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": url, "LOGIN_RATE_LIMIT": "1000 per minute"})
    app.test_client_class = FreshContextClient
    client = app.test_client()
    if args.role != "public":
        login(client, seed_mod.PROVINCE_LEADER if args.role == "province" else seed_mod.AGENCY_LEADER)
    seen: list[tuple[float, str, object]] = []

    with app.app_context():
        engine = db.engine

    def before(conn, cursor, statement, parameters, context, executemany):
        conn.info["started"] = time.perf_counter()

    def after(conn, cursor, statement, parameters, context, executemany):
        seen.append(((time.perf_counter() - conn.info["started"]) * 1000, statement, parameters))

    for _ in range(2):
        client.get(args.path)
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    started = time.perf_counter()
    response = client.get(args.path)
    total = (time.perf_counter() - started) * 1000
    event.remove(engine, "before_cursor_execute", before)
    event.remove(engine, "after_cursor_execute", after)
    sql = sum(ms for ms, _s, _p in seen)
    print(f"{args.path}: HTTP {response.status_code}, {total:.1f} ms, {len(seen)} statements, {sql:.1f} ms in SQL")
    for ms, statement, _params in sorted(seen, key=lambda s: -s[0])[: args.top]:
        print(f"  {ms:8.1f} ms  {' '.join(statement.split())[:300]}")
    if args.explain and seen:
        _ms, statement, params = max(seen, key=lambda s: s[0])
        with app.app_context():
            conn = db.session.connection()
            raw = conn.connection.driver_connection
            assert raw is not None
            with raw.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, params)
                for (line,) in cursor.fetchall():
                    print("   ", line)
            db.session.rollback()


if __name__ == "__main__":
    main()
