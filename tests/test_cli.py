"""The administrators' command line: validate, deploy, seed-demo, timers run-due."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask

from portal.extensions import db
from portal.models import Agency, Procedure, ProcedureVersion, User
from tests.helpers import PROCEDURES, TESTS

BAD = TESTS / "bpmn_bad"
PROBLEM_LINE = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+): (?P<element>[^:]+): (?P<reason>.+)$")


def test_validate_accepts_the_bundled_procedures(runner) -> None:
    paths = [str(p) for p in sorted(PROCEDURES.glob("*.bpmn"))]
    result = runner.invoke(args=["procedure", "validate", *paths])
    assert result.exit_code == 0, result.output
    assert "valid" in result.output


def test_validate_reports_each_problem_on_one_line(runner) -> None:
    path = BAD / "java_delegate.bpmn"
    result = runner.invoke(args=["procedure", "validate", str(path)])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines
    for line in lines:
        match = PROBLEM_LINE.match(line)
        assert match, line
        assert match["path"] == str(path)
    assert "Traceback" not in result.output


def test_validate_never_shows_a_traceback_for_any_bad_file(runner, demo: Flask) -> None:
    for path in sorted(BAD.glob("*.bpmn")):
        result = runner.invoke(args=["procedure", "validate", "--agency", "000.00.31.H56", str(path)])
        assert result.exit_code == 1, path
        assert result.exception is None or isinstance(result.exception, SystemExit), (path, result.exception)
        assert all(PROBLEM_LINE.match(line) for line in result.output.strip().splitlines()), result.output


def test_validate_checks_roles_against_an_agency(runner, demo: Flask) -> None:
    path = str(BAD / "unknown_role.bpmn")
    assert runner.invoke(args=["procedure", "validate", path]).exit_code == 0
    result = runner.invoke(args=["procedure", "validate", "--agency", "000.00.31.H56", path])
    assert result.exit_code == 1
    assert "vai trò recepton không xác định" in result.output


def test_validate_a_missing_file(runner, tmp_path: Path) -> None:
    result = runner.invoke(args=["procedure", "validate", str(tmp_path / "nope.bpmn")])
    assert result.exit_code == 1
    assert "cannot read the file" in result.output


def test_seed_demo_is_idempotent(runner, app: Flask) -> None:
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    counts = _counts()
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0, second.output
    assert _counts() == counts
    assert counts["procedures"] == 3
    assert counts["versions"] == 3
    admin = db.session.scalar(db.select(User).where(User.email == "admin@motcua.demo"))
    assert admin.is_admin
    assert admin.check_password("MotCua@2026")
    assert admin.password_hash.startswith("scrypt:")


def _counts() -> dict[str, int]:
    def count(model: type) -> int:
        return db.session.scalar(db.select(db.func.count()).select_from(model))

    return {
        "agencies": count(Agency),
        "users": count(User),
        "procedures": count(Procedure),
        "versions": count(ProcedureVersion),
    }


def test_deploy_refuses_a_bad_file_and_writes_nothing(runner, demo: Flask) -> None:
    before = _counts()
    result = runner.invoke(args=["procedure", "deploy", str(BAD / "service_task.bpmn"), "--agency", "000.00.31.H56"])
    assert result.exit_code == 1
    assert PROBLEM_LINE.match(result.output.strip().splitlines()[0])
    assert _counts() == before


def test_deploy_a_new_version_and_publish_it(runner, demo: Flask, tmp_path: Path) -> None:
    source = (PROCEDURES / "birth_registration.bpmn").read_text(encoding="utf-8")
    changed = tmp_path / "birth_registration.bpmn"
    changed.write_text(source.replace("Giấy chứng sinh", "Giấy chứng sinh (bản chính)"), encoding="utf-8")

    result = runner.invoke(args=["procedure", "deploy", str(changed), "--agency", "000.00.31.H56"])
    assert result.exit_code == 0, result.output
    assert "birth_registration version 2 (draft)" in result.output
    again = runner.invoke(args=["procedure", "deploy", str(changed), "--agency", "000.00.31.H56", "--publish"])
    assert "birth_registration version 2 (unchanged, published)" in again.output


def test_deploy_to_an_unknown_agency(runner, demo: Flask) -> None:
    result = runner.invoke(args=["procedure", "deploy", str(PROCEDURES / "birth_registration.bpmn"), "--agency", "999"])
    assert result.exit_code == 1
    assert "không tìm thấy cơ quan có mã đơn vị 999" in result.output


def test_timers_run_due_with_nothing_due(runner, demo: Flask) -> None:
    result = runner.invoke(args=["timers", "run-due"])
    assert result.exit_code == 0
    assert "0 dossier(s) advanced, 0 failed." in result.output
