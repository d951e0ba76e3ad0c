"""Rules of the layout that CI enforces, read from the source with `ast` (no import, no app).

ruff's banned-api rule (TID251 in pyproject.toml) catches the same SpiffWorkflow imports while editing; this test
keeps the rule even if someone switches that setting off.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ENGINE = "SpiffWorkflow"
# Folders that are not the project's source: virtualenvs, caches, build output, JavaScript dependencies.
SKIPPED_PARTS = {"node_modules", "__pycache__", "instance", "test-artifacts"}
# The only file outside workflows/ allowed to use the engine: its floor times the bare engine, for comparison.
ENGINE_ALLOWED = {"bench/engine.py"}
# Where a request's or a job's work is committed: the web unit of work, Celery tasks and CLI commands.
COMMIT_ALLOWED_FILES = {"portal/core/web.py"}
COMMIT_ALLOWED_NAMES = {"tasks.py", "cli.py"}
APPLICATION_PACKAGES = ("portal", "workflows", "forms")


def python_files(*tops: str) -> Iterator[tuple[str, ast.Module]]:
    """(path relative to the repository, parsed module) of every project .py file under `tops` (all if none)."""
    for start in [ROOT / top for top in tops] if tops else [ROOT]:
        for folder, subfolders, files in os.walk(start):
            # Pruned in place, so the walk never enters .venv or node_modules at all.
            subfolders[:] = sorted(d for d in subfolders if not d.startswith(".") and d not in SKIPPED_PARTS)
            for name in sorted(f for f in files if f.endswith(".py")):
                path = Path(folder, name)
                relative = path.relative_to(ROOT).as_posix()
                yield relative, ast.parse(path.read_bytes(), filename=relative)


def engine_imports(tree: ast.AST) -> list[int]:
    """Lines that import SpiffWorkflow: import statements, and import_module()/__import__() with a literal name."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""] if node.level == 0 else []
        elif isinstance(node, ast.Call) and _called_name(node.func) in ("import_module", "__import__") and node.args:
            first = node.args[0]
            names = [first.value] if isinstance(first, ast.Constant) and isinstance(first.value, str) else []
        else:
            continue
        if any(name == ENGINE or name.startswith(ENGINE + ".") for name in names):
            lines.append(node.lineno)
    return sorted(lines)


def session_commits(tree: ast.AST) -> list[int]:
    """Lines that call `<something>.session.commit()` (db.session, or a session taken from it)."""
    lines = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "commit"):
            continue
        owner = node.func.value
        if (isinstance(owner, ast.Attribute) and owner.attr == "session") or (
            isinstance(owner, ast.Name) and owner.id == "session"
        ):
            lines.append(node.lineno)
    return sorted(lines)


def _called_name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _commit_allowed(path: str) -> bool:
    return path in COMMIT_ALLOWED_FILES or path.rsplit("/", 1)[-1] in COMMIT_ALLOWED_NAMES


# -- the detectors themselves (a rule that finds nothing because it is broken must not pass) ------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import SpiffWorkflow", [1]),
        ("x = 1\nfrom SpiffWorkflow.bpmn import BpmnWorkflow", [2]),
        ("import os, SpiffWorkflow.bpmn.serializer as s", [1]),
        ("def f():\n    from SpiffWorkflow import exceptions", [2]),
        ("import importlib\nimportlib.import_module('SpiffWorkflow.bpmn')", [2]),
        ("__import__('SpiffWorkflow')", [1]),
        ("import SpiffWorkflowish\nfrom . import SpiffWorkflow\nfrom workflows import engine", []),
    ],
)
def test_engine_import_detector(source: str, expected: list[int]):
    assert engine_imports(ast.parse(source)) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("db.session.commit()", [1]),
        ("def f(session):\n    session.commit()", [2]),
        ("self.db.session.commit()", [1]),
        ("db.session.flush()\nconnection.commit()\nsession.rollback()", []),
    ],
)
def test_commit_detector(source: str, expected: list[int]):
    assert session_commits(ast.parse(source)) == expected


def test_the_walk_covers_the_project():
    paths = [path for path, _tree in python_files()]
    assert "portal/__init__.py" in paths
    assert "bench/engine.py" in paths
    assert "tests/test_architecture.py" in paths
    assert not [p for p in paths if p.startswith((".venv/", "node_modules/"))]
    # The allowed exception is real: the walk sees its import, so a broken detector cannot pass silently.
    bench = dict(python_files("bench"))["bench/engine.py"]
    assert engine_imports(bench)


# -- the rules ---------------------------------------------------------------------------------------------------


def test_only_workflows_imports_the_engine():
    offenders = [
        f"{path}:{line}"
        for path, tree in python_files()
        if not path.startswith("workflows/") and path not in ENGINE_ALLOWED
        for line in engine_imports(tree)
    ]
    assert not offenders, (
        "Only workflows/ may import SpiffWorkflow; move this code behind a helper in workflows/: "
        + ", ".join(offenders)
    )


def test_only_the_unit_of_work_tasks_and_commands_commit():
    offenders = [
        f"{path}:{line}"
        for path, tree in python_files(*APPLICATION_PACKAGES)
        if not _commit_allowed(path)
        for line in session_commits(tree)
    ]
    assert not offenders, (
        "Only portal/core/web.py (the unit of work), Celery tasks (tasks.py) and CLI commands (cli.py) commit; "
        "services flush. Commits found in: " + ", ".join(offenders)
    )
