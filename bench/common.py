"""Shared pieces of the benchmarks: an app on a chosen database, demo data, results written to the docs."""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask import Flask  # noqa: E402

from portal import create_app  # noqa: E402
from portal.extensions import db  # noqa: E402
from tests.schema import fresh_schema  # noqa: E402

BENCHMARKS_MD = ROOT / "docs" / "BENCHMARKS.md"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@contextmanager
def app_on(url: str, tmp: Path, queue_jobs: bool = False) -> Iterator[Flask]:
    """A fresh schema on `url` (SQLite file or PostgreSQL database, emptied first), built by the migrations.

    With `queue_jobs`, background jobs (sending notifications) are queued to an in-memory broker and not run,
    as a web process does in production with a real broker; otherwise they run eagerly in the caller.
    """
    overrides = {"ENV": "testing", "SQLALCHEMY_DATABASE_URI": url, "UPLOAD_DIR": str(tmp / "uploads")}
    if queue_jobs:
        from config import TestingConfig

        overrides["CELERY"] = {**TestingConfig.CELERY, "task_always_eager": False, "broker_url": "memory://"}
    app = create_app(overrides)
    with app.app_context():
        fresh_schema()
        try:
            yield app
        finally:
            db.session.remove()
            db.engine.dispose()


def postgres_url() -> str | None:
    """The PostgreSQL to measure on, or None when none answers."""
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_PG)
    try:
        import psycopg

        psycopg.connect(url.replace("+psycopg", ""), connect_timeout=3).close()
    except Exception:
        return None
    return url


def machine() -> str:
    from importlib.metadata import version

    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    pg = ""
    try:
        out = subprocess.run(["psql", "--version"], capture_output=True, text=True, timeout=5, check=False)
        pg = ", " + out.stdout.strip()
    except OSError:
        pass
    return (
        f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, "
        f"SpiffWorkflow {version('SpiffWorkflow')}, SQLAlchemy {version('SQLAlchemy')}{pg}"
    )


def write_section(name: str, body: str) -> None:
    """Replace the section between `<!-- name -->` markers in docs/BENCHMARKS.md (or append it)."""
    start, end = f"<!-- {name} -->", f"<!-- /{name} -->"
    block = f"{start}\n{body.rstrip()}\n{end}"
    current = BENCHMARKS_MD.read_text(encoding="utf-8") if BENCHMARKS_MD.exists() else "# Benchmarks\n"
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.DOTALL)
    if pattern.search(current):
        current = pattern.sub(lambda _: block, current)
    else:
        current = current.rstrip() + "\n\n" + block + "\n"
    BENCHMARKS_MD.write_text(current, encoding="utf-8")
