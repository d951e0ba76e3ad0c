"""The field reports' blueprint; routes in views.py (the reporter's pages) and public_views.py (everyone's)."""

from __future__ import annotations

from flask import Blueprint

from portal.reports.labels import category_label, report_status_label

bp = Blueprint("reports", __name__)
bp.add_app_template_filter(category_label, "report_category")
bp.add_app_template_filter(report_status_label, "report_status")
