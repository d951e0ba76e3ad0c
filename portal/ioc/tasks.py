"""Celery jobs of the operations centre: the leaders' weekly and monthly email reports (see mail_reports.py)."""

from __future__ import annotations

from celery import shared_task

from . import mail_reports  # registers the reports' attachment with the outbox's delivery, in every process


@shared_task(name="ioc.reports", ignore_result=True)
def send_period_reports(kind: str) -> int:
    """Write the reports of the last week or month that are not written yet; the outbox sends them."""
    return mail_reports.send_reports(kind)
