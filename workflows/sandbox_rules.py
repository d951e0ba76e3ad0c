"""What the portal process and the sandbox child share: the builtins user code sees, how a script's namespace
is cleaned afterwards, and which classes may cross the pipe.

This module is imported by `workflows.sandbox_child`, a fresh interpreter that must start fast and hold
little: standard library only (no Flask, no SpiffWorkflow).
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta, timezone
from types import MappingProxyType
from typing import Any

# Functions the engine passes per dossier; validation accepts these names before any dossier exists.
EXPRESSION_FUNCTIONS = ("before_due", "after_start")

_BUILTIN_NAMES = (
    "len min max sum abs round int float str bool list dict set tuple sorted any all range enumerate zip "
    "isinstance True False None"
)
SAFE_BUILTINS: Mapping[str, Any] = MappingProxyType(
    {name: getattr(builtins, name) for name in _BUILTIN_NAMES.split()}
    | {"datetime": datetime, "date": date, "timedelta": timedelta}
)

# Classes a value may have when it comes back from the child (besides what pickle writes without a class:
# None, bool, int, float, str, bytes, list, tuple, dict, set, frozenset). Task data is JSON-like, with dates.
PICKLE_CLASSES = frozenset(
    {
        ("builtins", "complex"),
        ("builtins", "bytearray"),
        ("builtins", "range"),
        ("builtins", "slice"),
        ("builtins", "set"),
        ("builtins", "frozenset"),
        ("datetime", "datetime"),
        ("datetime", "date"),
        ("datetime", "time"),
        ("datetime", "timedelta"),
        ("datetime", "timezone"),
        ("decimal", "Decimal"),
    }
)
# Referenced so the whitelist above names only classes this module knows are plain data.
_PLAIN = (time, timezone)


def clean_after_script(context: dict, function_names: Iterable[str], external: Mapping[str, Any] | None) -> None:
    """Drop what a script's run put in its namespace besides data, as SpiffWorkflow's TaskDataEnvironment
    (`_remove_globals_and_functions_from_context`) does: builtins, anything callable, functions, external names."""
    functions = set(function_names)
    for key in list(context):
        value = context[key]
        # hasattr, not callable(): the very test SpiffWorkflow uses, so both paths drop the same keys.
        drop = key == "__builtins__" or hasattr(value, "__call__")  # noqa: B004
        if drop or key in functions or (external and key in external):
            context.pop(key)
