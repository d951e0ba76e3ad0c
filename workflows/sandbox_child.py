"""The sandbox child: a fresh interpreter that evaluates the user code the portal cannot prove cheap.

Started by `workflows.sandbox` with `python -I -S -c BOOT <root> <memory MB>`; it reads requests from stdin and
answers on its original stdout (fd 1 is pointed at stderr so nothing else can write into the protocol). Its
address space is capped at its size after start-up plus the memory budget, so a runaway allocation raises
MemoryError here, not in the portal; the portal kills it when the time budget passes, and RLIMIT_CPU kills it
if the portal itself is gone. Standard library only: no Flask, no SpiffWorkflow.

Frames are a 4-byte big-endian length and a pickle. Requests: ("run", mode, source, context, external,
function names, time ms); answers to a function call: ("return", value) or ("raise", type name, message).
Replies: ("ready",) once at start-up, ("ok", value or cleaned namespace, grown), ("call", name, args, kwargs),
("error", type, message, line, grown), ("memory",); `grown` asks the portal to replace this child.
"""

from __future__ import annotations

import builtins
import os
import pickle
import resource
import signal
import struct
import sys
from collections.abc import Callable
from functools import lru_cache
from types import CodeType, TracebackType
from typing import Any

from workflows.sandbox_rules import SAFE_BUILTINS, clean_after_script

HEADER = struct.Struct(">I")
_MEMORY_FRAME = b""  # built before the first request: once memory has run out, nothing can be allocated
_out_fd = 1


def _read_exact(n: int) -> bytes | None:
    chunks, got = [], 0
    while got < n:
        chunk = os.read(0, n - got)
        if not chunk:
            return None
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def _receive() -> Any:
    header = _read_exact(HEADER.size)
    if header is None:
        return None
    body = _read_exact(HEADER.unpack(header)[0])
    # The parent is the trusted side: its frames are unpickled as they are.
    return None if body is None else pickle.loads(body)  # noqa: S301


def _frame(message: Any) -> bytes:
    body = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return HEADER.pack(len(body)) + body


def _write(data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(_out_fd, view) :]


def _call_parent(name: str, args: tuple, kwargs: dict) -> Any:
    _write(_frame(("call", name, args, kwargs)))
    reply = _receive()
    if reply is None:
        os._exit(0)
    if reply[0] == "return":
        return reply[1]
    kind = getattr(builtins, reply[1], None)
    if isinstance(kind, type) and issubclass(kind, Exception):
        raise kind(reply[2])
    raise RuntimeError(reply[2])


def _stub(name: str) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        return _call_parent(name, args, kwargs)

    call.__name__ = name
    return call


@lru_cache(maxsize=1024)
def _compile(source: str, mode: str) -> CodeType:
    # The portal checked this source before sending it; '<string>' marks the user's frames in tracebacks.
    return compile(source, "<string>", mode)


def _line(tb: TracebackType | None) -> int | None:
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<string>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _limit_cpu(time_ms: int) -> None:
    """A backstop for a parent that died mid-run: the portal's own deadline is wall-clock time."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    soft = int(usage.ru_utime + usage.ru_stime + 2 * time_ms / 1000 + 2)
    hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _size() -> int:
    """Bytes of address space in use (peak resident size where /proc is missing)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _limit_memory(memory_mb: int) -> int:
    """Cap the address space at what the interpreter holds now plus the budget; return the size at start."""
    size = _size()
    soft = size + memory_mb * 1024 * 1024
    hard = resource.getrlimit(resource.RLIMIT_AS)[1]
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    return size


def _run(mode: str, source: str, context: dict, external: dict | None, names: list[str]) -> Any:
    code = _compile(source, mode)
    namespace: dict[str, Any] = {name: _stub(name) for name in names}
    namespace.update(external or {})
    namespace.update(context)
    namespace["__builtins__"] = dict(SAFE_BUILTINS)  # set last: data never supplies its own builtins
    if mode == "eval":
        return eval(code, namespace)  # noqa: S307 - checked by the portal, builtins whitelisted
    exec(code, namespace)  # noqa: S102
    clean_after_script(namespace, names, external)
    return namespace


def _serve(request: tuple, grown: Callable[[], bool]) -> bytes:
    """The reply to one request; its last item says whether this child grew too big to be used again."""
    _kind, mode, source, context, external, names, time_ms = request
    _limit_cpu(time_ms)
    try:
        result = _run(mode, source, context, external, names)
    except MemoryError:
        raise
    except BaseException as exc:  # whatever user code raised goes back as plain text
        return _frame(("error", type(exc).__name__, _text(exc), _line(exc.__traceback__), grown()))
    try:
        return _frame(("ok", result, grown()))
    except MemoryError:
        raise
    except Exception as exc:  # a value pickle cannot write (a function, an iterator...)
        message = f"the result holds a value that cannot be stored ({exc})"
        return _frame(("error", "TypeError", message, None, grown()))


def _text(exc: BaseException) -> str:
    try:
        return str(exc)[:2000]
    except Exception:  # a __str__ that fails
        return ""


def main() -> None:
    global _MEMORY_FRAME, _out_fd
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in a terminal is for the portal, which stops us
    _out_fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    _MEMORY_FRAME = _frame(("memory",))
    memory_mb = int(sys.argv[2])
    start_size = _limit_memory(memory_mb)

    def grown() -> bool:
        # Freed memory is not always given back: past half the budget, the next code would get less than its due.
        return _size() > start_size + memory_mb * 1024 * 1024 // 2

    _write(_frame(("ready",)))
    while True:
        try:
            request = _receive()
            if request is None:  # the portal closed the pipe: it is done with us
                return
            _write(_serve(request, grown))
        except MemoryError:
            # Whatever the code built is unreachable now; answer with the frame made at start-up and stop,
            # since the heap may be too fragmented to be trusted with the next request.
            _write(_MEMORY_FRAME)
            os._exit(3)


if __name__ == "__main__":
    main()
