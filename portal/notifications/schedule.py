"""The celery beat schedule, from the configuration (BEAT_*_SECONDS; IOC_*_REPORT_* in local time)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from celery.schedules import crontab


def beat_schedule(config: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    # Each job expires after one period: if workers fall behind, stale ticks are dropped, not piled up.
    def every(seconds: float, task: str) -> dict[str, Any]:
        return {"task": task, "schedule": float(seconds), "options": {"expires": float(seconds)}}

    return {
        "bpmn-timers": every(config["BEAT_TIMERS_SECONDS"], "timers.tick"),
        "deadline-reminders": every(config["BEAT_REMINDERS_SECONDS"], "notifications.reminders"),
        "notification-sweep": every(config["BEAT_SWEEP_SECONDS"], "notifications.sweep"),
        "external-jobs": every(config["BEAT_EXTERNAL_SECONDS"], "external.tick"),
        "national-sync": every(config["BEAT_NATIONAL_SYNC_SECONDS"], "national_sync.sweep"),
        "webhooks": every(config["BEAT_WEBHOOKS_SECONDS"], "webhooks.sweep"),
        "stats-rollup": every(config["BEAT_ROLLUP_SECONDS"], "stats.rollup"),
        "idempotency-cleanup": every(config["BEAT_IDEMPOTENCY_CLEANUP_SECONDS"], "api.idempotency_cleanup"),
        "documents-sweep": every(config["BEAT_DOCUMENTS_SWEEP_SECONDS"], "documents.sweep"),
        "docstore-purge": every(config["BEAT_DOCSTORE_PURGE_SECONDS"], "docstore.purge"),
        "heartbeat": every(config["BEAT_HEARTBEAT_SECONDS"], "health.heartbeat"),
        **reports(config),
    }


def reports(config: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The leaders' weekly and monthly email reports, at IOC_REPORT_TIME on their day (the Celery app's timezone
    is the portal's TIMEZONE, so these are local times). A run repeated for a period sends nothing twice."""
    if not config.get("IOC_REPORTS_ENABLED", True):
        return {}
    hour, _, minute = str(config["IOC_REPORT_TIME"]).partition(":")
    at = {"hour": int(hour), "minute": int(minute or 0)}
    # A tick not run within half a day is dropped; `celery -A portal.celery_app call ioc.reports --args='["week"]'`
    # later in the same week (month) sends what is missing, and nothing twice.
    options = {"expires": 12 * 3600.0}
    weekly = crontab(day_of_week=config["IOC_WEEKLY_REPORT_DAY"], **at)
    monthly = crontab(day_of_month=config["IOC_MONTHLY_REPORT_DAY"], **at)
    return {
        "ioc-weekly-report": {"task": "ioc.reports", "schedule": weekly, "args": ("week",), "options": options},
        "ioc-monthly-report": {"task": "ioc.reports", "schedule": monthly, "args": ("month",), "options": options},
    }
