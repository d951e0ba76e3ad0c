"""Signed documents benchmark: render + sign time per one-stop-shop document (issue 14: p95 < 300 ms).

On the demo data (`seed_demo`, demo CA and agency keys made as `flask documents demo-ca` does) one household
business dossier is received (the receipt) and one is refused (the refusal slip). For each document kind, after
untimed warm-up documents, N documents are rendered (`pdf.render_pdf`: the Jinja template, the QR code,
WeasyPrint) and signed (`signing.sign_pdf`: pyHanko, PAdES B-B with the agency's PKCS#12 key), each with a new
verification code, one after the other in one process, as a `documents.issue` worker does. Also the whole
`issue_document` (render + sign + store + the row), rolled back after each document.

`--code-of REV` measures pdf.py and signing.py as they are in git revision REV (read with `git show`, run in place
of today's), for a before/after comparison on the same machine and data.

Usage: python bench/documents.py [--documents 60] [--warmup 5] [--no-write] [--profile KIND] [--code-of REV]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from common import ROOT, app_on, machine, write_section

from portal.core.time import utcnow
from portal.documents import issuing, pdf, services, signing
from portal.extensions import db
from portal.models import Dossier
from tests.helpers import do, submit, vn
from tests.test_household_business import application

DESK = "tiepnhan@motcua.demo"
SPECIALIST = "dkkd@motcua.demo"
KINDS = ("receipt", "refusal")


def prepare(app, tmp: Path) -> dict[str, Dossier]:
    from portal.demo import seed_demo

    app.config.update(DOCUMENT_KEYS_DIR=str(tmp / "keys"), DOCUMENTS_ISSUE_AUTOMATICALLY=False)
    list(seed_demo())
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["documents", "demo-ca"])
    assert result.exit_code == 0, result.output
    received = submit("household_business", application(), vn(2026, 3, 2, 8, 0))
    do(received, "reception_check", DESK, {"decision": "accept"}, vn(2026, 3, 2, 9, 0))
    refused = submit("household_business", application(), vn(2026, 3, 2, 8, 0))
    do(refused, "reception_check", DESK, {"decision": "accept"}, vn(2026, 3, 2, 9, 0))
    do(
        refused,
        "specialist_review",
        SPECIALIST,
        {"decision": "refuse", "reason": "Ngành nghề cấm kinh doanh\nThiếu giấy tờ chứng minh địa điểm"},
        vn(2026, 3, 3, 9, 0),
    )
    return {"receipt": received, "refusal": refused}


def one_document(dossier: Dossier, kind: str) -> tuple[float, float, int]:
    """Render then sign one document with a fresh code: (render seconds, sign seconds, bytes)."""
    began = time.perf_counter()
    unsigned = pdf.render_pdf(dossier, kind, code=issuing.new_code(), signed_at=utcnow())
    rendered = time.perf_counter()
    signed = signing.sign_pdf(
        unsigned, dossier.agency.code, reason=str(services.TITLES[kind]), location=dossier.agency.name
    )
    return rendered - began, time.perf_counter() - rendered, len(signed)


def one_issue(dossier: Dossier, kind: str) -> float:
    began = time.perf_counter()
    issuing.issue_document(dossier, kind)
    spent = time.perf_counter() - began
    db.session.rollback()  # the stored object goes with the transaction; the next one is issued anew
    return spent


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def measure(dossier: Dossier, kind: str, documents: int, warmup: int) -> dict:
    for _ in range(warmup):
        one_document(dossier, kind)
    render, sign, total, sizes = [], [], [], []
    for _ in range(documents):
        r, s, size = one_document(dossier, kind)
        render.append(r)
        sign.append(s)
        total.append(r + s)
        sizes.append(size)
    issue = [one_issue(dossier, kind) for _ in range(max(documents // 3, 5))]
    return {"render": render, "sign": sign, "total": total, "issue": issue, "size": statistics.median(sizes)}


def profile(dossier: Dossier, kind: str, documents: int) -> None:
    one_document(dossier, kind)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(documents):
        one_document(dossier, kind)
    profiler.disable()
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)


def use_code_of(revision: str) -> None:
    """Run pdf.py and signing.py as they were in `revision`: their source, executed in the modules' namespaces
    (issuing.py calls them through the modules, so it uses these)."""
    import subprocess

    for module in (pdf, signing):
        path = f"portal/documents/{Path(module.__file__ or '').name}"
        source = subprocess.run(
            ["git", "show", f"{revision}:{path}"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout
        exec(compile(source, f"{revision}:{path}", "exec"), module.__dict__)  # noqa: S102  (our own history)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--documents", type=int, default=60, help="timed documents per kind")
    parser.add_argument("--warmup", type=int, default=5, help="untimed documents per kind first")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/BENCHMARKS.md alone")
    parser.add_argument("--profile", choices=KINDS, help="print a cProfile of rendering + signing one kind")
    parser.add_argument("--label", default="", help="a note shown with the figures (e.g. 'before caching')")
    parser.add_argument("--code-of", metavar="REV", help="measure pdf.py and signing.py of this git revision")
    parser.add_argument("--section", default="documents", help="the marked section of docs/BENCHMARKS.md")
    args = parser.parse_args()
    if args.code_of:
        use_code_of(args.code_of)
    with tempfile.TemporaryDirectory() as tmp, app_on(f"sqlite:///{tmp}/bench.db", Path(tmp)) as app:
        dossiers = prepare(app, Path(tmp))
        if args.profile:
            profile(dossiers[args.profile], args.profile, args.documents)
            return
        results = {kind: measure(dossiers[kind], kind, args.documents, args.warmup) for kind in KINDS}
    report = render(args, results)
    print(report)
    if not args.no_write:
        write_section(args.section, report)


def _ms(values: list[float], of: Callable[[list[float]], float]) -> str:
    return f"{of(values) * 1000:.0f} ms"


def render(args: argparse.Namespace, results: dict[str, dict]) -> str:
    label = f" ({args.label})" if args.label else ""
    lines = [
        f"## Signed documents: render + sign per document{label}",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d} with `python bench/documents.py --documents {args.documents} "
        f"--warmup {args.warmup}{' --code-of ' + args.code_of if args.code_of else ''}` on {machine()}.",
        "",
        "Method: the demo data, the demo CA and agency keys (RSA 2048); a received household business dossier",
        "(receipt) and a refused one (refusal slip). Per kind, after the warm-up documents (untimed: imports, fonts,",
        "the parsed key), each timed document gets a new verification code and is rendered (`pdf.render_pdf`:",
        "template, QR code, WeasyPrint with the fonts embedded and subset) then signed (`signing.sign_pdf`: pyHanko",
        "PAdES B-B, SHA-256), one after the other in one process as a `documents.issue` worker does. *issue* is the",
        "whole `issue_document` (render + sign + store in the local folder + the row, SQLite), rolled back each time.",
        "",
        "| document | render p50 / p95 | sign p50 / p95 | render + sign p50 / **p95** | issue p50 / p95 | PDF size |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for kind, r in results.items():
        lines.append(
            f"| {kind} | {_ms(r['render'], statistics.median)} / {_ms(r['render'], p95)} "
            f"| {_ms(r['sign'], statistics.median)} / {_ms(r['sign'], p95)} "
            f"| {_ms(r['total'], statistics.median)} / **{_ms(r['total'], p95)}** "
            f"| {_ms(r['issue'], statistics.median)} / {_ms(r['issue'], p95)} | {r['size'] / 1024:.0f} KiB |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
