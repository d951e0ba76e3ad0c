"""What people read for the codes of field reports: categories and statuses, in the page's language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from portal.models import ReportCategory, ReportStatus

CATEGORY_LABELS = {
    ReportCategory.ENVIRONMENT: _l("Environment and waste"),
    ReportCategory.TRAFFIC: _l("Traffic and roads"),
    ReportCategory.URBAN_ORDER: _l("Urban order and construction"),
    ReportCategory.LIGHTING: _l("Street lighting and power"),
    ReportCategory.PUBLIC_SERVICES: _l("Public services and officials' conduct"),
    ReportCategory.OTHER: _l("Other"),
}

STATUS_LABELS = {
    ReportStatus.RECEIVED: _l("Received"),
    ReportStatus.IN_PROGRESS: _l("Being handled"),
    ReportStatus.ANSWERED: _l("Answered"),
    ReportStatus.CLOSED: _l("Solved"),
    ReportStatus.REOPENED: _l("Reopened"),
    ReportStatus.HIDDEN: _l("Not shown publicly"),
}


def category_label(code: str) -> str:
    return str(CATEGORY_LABELS.get(code, code))


def report_status_label(code: str) -> str:
    return str(STATUS_LABELS.get(code, code))
