"""One place commits: `portal.core.web.unit_of_work`, used by every view, job and command."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from portal.core.errors import InvalidInput, StepFailed
from portal.core.web import unit_of_work
from portal.extensions import db
from portal.models import Agency, Incident

PORTAL = Path(__file__).resolve().parent.parent / "portal"
THE_PLACE = PORTAL / "core" / "web.py"


def commit_calls(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "commit"
    ]


def test_nothing_outside_the_unit_of_work_commits() -> None:
    found = {
        str(path.relative_to(PORTAL)): lines
        for path in PORTAL.rglob("*.py")
        if path != THE_PLACE and (lines := commit_calls(path))
    }
    assert found == {}, "commit through portal.core.web.unit_of_work, services only flush"


def agencies() -> int:
    return db.session.scalar(select(func.count()).select_from(Agency)) or 0


def add_then_raise(code: str, error: Exception) -> None:
    with unit_of_work():
        db.session.add(Agency(code=code, name=code, level="commune"))
        db.session.flush()
        raise error


def test_it_commits_on_success_and_rolls_back_on_any_error(app: Flask) -> None:
    with unit_of_work():
        db.session.add(Agency(code="A.1", name="Một", level="commune"))
    db.session.expire_all()
    assert agencies() == 1
    with pytest.raises(InvalidInput):
        add_then_raise("A.2", InvalidInput("no"))
    assert agencies() == 1
    with unit_of_work() as work:
        db.session.add(Agency(code="A.3", name="Ba", level="commune"))
        work.discard()
    assert agencies() == 1
    with unit_of_work(trial=True):
        db.session.add(Agency(code="A.4", name="Bốn", level="commune"))
        db.session.flush()
    assert agencies() == 1


def test_a_failed_step_is_rolled_back_then_recorded_in_its_own_transaction(app: Flask) -> None:
    failed = StepFailed("x", kind="time", operation="timer", version_id=None, element_id="s1", limit="1 ms")
    with pytest.raises(StepFailed):
        add_then_raise("A.5", failed)
    assert agencies() == 0
    incident = db.session.scalar(select(Incident))
    assert incident is not None
    assert (incident.kind, incident.element_id, incident.detail["limit"]) == ("time", "s1", "1 ms")
