"""Time and memory budgets for user code (scripts, conditions, timers, decision entries).

Code running inside this process cannot be bounded: `sum(range(10**15))` or `'a' * 10**10` run inside C, where
no trace hook or signal handler gets a word in. So code that `workflows.bounded` cannot prove cheap runs in a
child interpreter (`workflows.sandbox_child`): its address space is capped at its start-up size plus the memory
budget, and this side waits for the answer with a deadline, killing the child when the time budget passes.

Children are fresh interpreters (not forks of the portal), started on first use and reused; a process keeps one
per thread that evaluates at the same moment, and a forked process (gunicorn or Celery workers) starts its own.
The per-dossier functions (before_due, after_start) need the database: the child calls back over the pipe and
this side runs them, with the clock paused.
"""

from __future__ import annotations

import atexit
import builtins
import contextlib
import io
import os
import pickle
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workflows.sandbox_rules import PICKLE_CLASSES

_ROOT = str(Path(__file__).resolve().parent.parent)
_BOOT = "import sys; sys.path.insert(0, sys.argv[1]); from workflows.sandbox_child import main; main()"
_HEADER = 4
MAX_IDLE_CHILDREN = 8
STARTUP_SECONDS = 30  # a fresh interpreter on a busy host; only the first evaluation of a process waits for it


class BudgetExceeded(Exception):
    """User code ran past its time or memory budget and was stopped."""

    def __init__(self, kind: str, limit: str) -> None:
        # args[0] is a string: SpiffWorkflow appends it to its own message.
        super().__init__(f"exceeded the {kind} budget of {limit}")
        self.kind = kind
        self.limit = limit


class ScriptFailed(Exception):
    """User code raised in the child; carries what it raised, as text."""

    def __init__(self, type_name: str, message: str, line: int | None) -> None:
        super().__init__(f"{type_name}: {message}" if message else type_name)
        self.type_name = type_name
        self.message = message
        self.line = line


@dataclass(frozen=True)
class Budgets:
    time_ms: int = 1000
    memory_mb: int = 64
    enabled: bool = True

    @property
    def time_text(self) -> str:
        return f"{self.time_ms} ms"

    @property
    def memory_text(self) -> str:
        return f"{self.memory_mb} MB"


_budgets = Budgets()
round_trips = 0  # evaluations that went to a child; tests read it to see which path was taken


def configure(time_ms: int, memory_mb: int, *, enabled: bool = True) -> None:
    """Set the budgets of this process (the app factory calls it with the deployment's settings)."""
    global _budgets
    if time_ms <= 0 or memory_mb <= 0:
        raise ValueError("script budgets must be positive")
    _budgets = Budgets(int(time_ms), int(memory_mb), enabled)


def budgets() -> Budgets:
    return _budgets


@contextlib.contextmanager
def unbounded() -> Iterator[None]:
    """Evaluate everything in-process, without budgets: only for the benchmark that measures their cost."""
    global _budgets
    saved = _budgets
    _budgets = Budgets(saved.time_ms, saved.memory_mb, enabled=False)
    try:
        yield
    finally:
        _budgets = saved


class _ChildGone(Exception):
    pass


class _Timeout(Exception):
    pass


class _DataUnpickler(pickle.Unpickler):
    """The child runs untrusted code: what it sends back may name only plain data classes."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in PICKLE_CLASSES:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not plain data")


def _loads(body: bytes) -> Any:
    try:
        return _DataUnpickler(io.BytesIO(body)).load()
    except pickle.UnpicklingError:
        raise
    except Exception as exc:  # a malformed frame: whatever pickle raised, it is the same refusal
        raise pickle.UnpicklingError(str(exc)) from exc


def _frame(message: Any) -> bytes:
    body = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return len(body).to_bytes(_HEADER, "big") + body


class _Child:
    def __init__(self, budgets: Budgets) -> None:
        self.budgets = budgets
        self.proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module, no shell
            [sys.executable, "-I", "-S", "-c", _BOOT, _ROOT, str(budgets.memory_mb)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            start_new_session=True,  # a terminal's Ctrl-C goes to the portal, which decides
            bufsize=0,
            env={},  # the portal's secrets (SECRET_KEY, DATABASE_URL…) have no business in there
        )
        assert self.proc.stdin is not None  # noqa: S101 - set by PIPE
        assert self.proc.stdout is not None  # noqa: S101
        self.stdin = self.proc.stdin
        self.fd = self.proc.stdout.fileno()
        # poll, not select: a busy web worker may hold more than FD_SETSIZE descriptors.
        self.poller = select.poll()
        self.poller.register(self.fd, select.POLLIN)
        # Start-up is not the user's code: wait for the child to say it is ready before any budget runs.
        try:
            ready = self.receive(time.monotonic() + STARTUP_SECONDS, 1024)
        except (_Timeout, _ChildGone, pickle.UnpicklingError) as exc:
            self.kill()
            raise RuntimeError("the script sandbox did not start") from exc
        if ready != ("ready",):
            self.kill()
            raise RuntimeError("the script sandbox did not start")

    def send(self, message: Any) -> None:
        try:
            self.stdin.write(_frame(message))
        except (BrokenPipeError, OSError) as exc:
            raise _ChildGone from exc

    def receive(self, deadline: float, max_bytes: int) -> Any:
        size = int.from_bytes(self._read(_HEADER, deadline), "big")
        if size > max_bytes:
            raise BudgetExceeded("memory", self.budgets.memory_text)
        return _loads(self._read(size, deadline))

    def _read(self, n: int, deadline: float) -> bytes:
        buf = bytearray()
        while len(buf) < n:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self.poller.poll(max(1, int(remaining * 1000))):
                raise _Timeout
            chunk = os.read(self.fd, min(n - len(buf), 1 << 20))
            if not chunk:
                raise _ChildGone
            buf += chunk
        return bytes(buf)

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.close_pipes()

    def close(self) -> None:
        """Let an idle child go: it exits when it reads the end of its input."""
        self.close_pipes()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=1)

    def close_pipes(self) -> None:
        for pipe in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(OSError):
                if pipe is not None:
                    pipe.close()


_pool_lock = threading.Lock()
_idle: list[_Child] = []
_pool_pid = os.getpid()


def _acquire() -> _Child:
    global _pool_pid
    with _pool_lock:
        if os.getpid() != _pool_pid:
            # A fork inherited the parent's children: they belong to the parent. Close our copies of their
            # pipes (so they still see the end of input when the parent goes) and start our own.
            for child in _idle:
                child.close_pipes()
            _idle.clear()
            _pool_pid = os.getpid()
        while _idle:
            child = _idle.pop()
            if child.budgets == _budgets and child.proc.poll() is None:
                return child
            child.close()
    return _Child(_budgets)


def _release(child: _Child) -> None:
    with _pool_lock:
        if os.getpid() == _pool_pid and len(_idle) < MAX_IDLE_CHILDREN:
            _idle.append(child)
            return
    child.close()


@atexit.register
def shutdown() -> None:
    """Stop this process's idle children (tests call it to start again from nothing)."""
    with _pool_lock:
        children = list(_idle) if os.getpid() == _pool_pid else []
        _idle.clear()
    for child in children:
        child.close()


def run(
    mode: str,
    source: str,
    context: Mapping[str, Any],
    external: Mapping[str, Any] | None,
    functions: Mapping[str, Callable[..., Any]],
) -> Any:
    """Evaluate `source` in a child under the budgets. `eval` returns the value; `exec` returns the namespace
    the script left, cleaned as SpiffWorkflow cleans it. Raises BudgetExceeded or ScriptFailed."""
    global round_trips
    round_trips += 1
    budgets = _budgets
    child = _acquire()
    data = {k: v for k, v in context.items() if k != "__builtins__"}  # the child sets its own
    request = ("run", mode, source, data, dict(external or {}), sorted(functions), budgets.time_ms)
    try:
        reply = _exchange(child, request, functions, budgets)
    except BaseException:
        child.kill()  # stopped mid-run or out of step with us: never reuse it
        raise
    if reply[0] == "memory":  # the child stops by itself after running out: reap it
        child.kill()
        raise BudgetExceeded("memory", budgets.memory_text)
    if reply[-1]:  # the child grew past half its budget: a fresh one for the next evaluation
        child.close()
    else:
        _release(child)
    if reply[0] == "ok":
        return reply[1]
    raise _user_exception(reply[1], reply[2], reply[3])


def _user_exception(type_name: str, message: str, line: int | None) -> Exception:
    """What the code raised in the child, as the same builtin type when there is one (so SpiffWorkflow and
    callers see a NameError as a NameError), with the line it came from in `script_line`."""
    kind = getattr(builtins, type_name, None)
    exc: Exception = ScriptFailed(type_name, message, line)
    if isinstance(kind, type) and issubclass(kind, Exception):
        with contextlib.suppress(Exception):  # a few types need more than one argument
            exc = kind(message)
    exc.script_line = line  # type: ignore[attr-defined]
    return exc


def _exchange(child: _Child, request: tuple, functions: Mapping[str, Callable[..., Any]], budgets: Budgets) -> tuple:
    """Send the request, answer the child's calls, return its final reply."""
    max_bytes = budgets.memory_mb * 1024 * 1024  # more than the child could hold: refused before it is read
    deadline = time.monotonic() + budgets.time_ms / 1000
    try:
        child.send(request)
        while True:
            reply = child.receive(deadline, max_bytes)
            if reply[0] != "call":
                return reply
            paused = time.monotonic()
            child.send(_call(functions, reply[1], reply[2], reply[3]))
            deadline += time.monotonic() - paused  # the portal's own work does not count against the code
    except _Timeout:
        raise BudgetExceeded("time", budgets.time_text) from None
    except _ChildGone:
        # Killed by RLIMIT_CPU (only past twice the budget) or by the kernel.
        raise ScriptFailed("RuntimeError", "the evaluation stopped unexpectedly", None) from None
    except pickle.UnpicklingError as exc:
        raise ScriptFailed("TypeError", f"the result holds a value that cannot be stored ({exc})", None) from None


def _call(functions: Mapping[str, Callable[..., Any]], name: str, args: tuple, kwargs: dict) -> tuple:
    try:
        return ("return", functions[name](*args, **kwargs))
    except Exception as exc:  # raised again in the child, where the user's code sees it
        return ("raise", type(exc).__name__, str(exc))
