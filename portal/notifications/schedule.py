"""The celery beat schedule, from the configuration (BEAT_*_SECONDS)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def beat_schedule(config: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    # Each job expires after one period: if workers fall behind, stale ticks are dropped, not piled up.
    def every(seconds: float, task: str) -> dict[str, Any]:
        return {"task": task, "schedule": float(seconds), "options": {"expires": float(seconds)}}

    return {
        "bpmn-timers": every(config["BEAT_TIMERS_SECONDS"], "timers.tick"),
        "deadline-reminders": every(config["BEAT_REMINDERS_SECONDS"], "notifications.reminders"),
        "notification-sweep": every(config["BEAT_SWEEP_SECONDS"], "notifications.sweep"),
    }
