"""The operations centre for leaders: today's figures, where dossiers wait on each procedure's diagram, workload.

Leaders of an agency (a group with `is_leadership`) see their agency; leaders of a province-level agency see every
agency. Figures are counted on the current rows of dossiers and tasks, through their indexes; the period
aggregates and the public statistics live in portal/stats/.
"""

from __future__ import annotations

# Registered on import: /ioc/index, /ioc/figures, /ioc/ranking and /ioc/report on the blueprint, the email
# reports' Celery job.
from . import index_views, period_views, report_views, tasks  # noqa: F401
from .views import bp

__all__ = ["bp"]
