"""Small per-process caches of rarely changing configuration.

Keys always include a version read from the database (e.g. an agency's `config_version`), so a cache entry is
never served after the configuration changed in another process; the cache only saves the re-reading.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")
_registry: list[ProcessCache] = []


class ProcessCache(Generic[V]):
    def __init__(self, max_entries: int = 1024) -> None:
        self._data: dict[Hashable, V] = {}
        self._lock = threading.Lock()
        self._max = max_entries
        _registry.append(self)

    def get_or_build(self, key: Hashable, build: Callable[[], V]) -> V:
        with self._lock:
            if key in self._data:
                return self._data[key]
        value = build()
        with self._lock:
            if len(self._data) >= self._max:
                self._data.clear()  # configuration is small; a rare full reset beats LRU bookkeeping
            self._data[key] = value
        return value

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


def clear_all() -> None:
    """Forget every cached entry (tests do this between databases whose ids repeat)."""
    for cache in _registry:
        cache.clear()
