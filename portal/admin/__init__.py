"""Administration: procedures and their BPMN versions, agencies, groups and people, calendars, SSO role
mapping, the audit log. Every route is for administrators only (`access.admin_required`)."""

from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    # The view modules add their routes to the one blueprint when imported.
    from portal.admin import (  # noqa: F401
        views_agencies,
        views_api_accounts,
        views_audit,
        views_calendar,
        views_documents,
        views_dryrun,
        views_incidents,
        views_mappings,
        views_national_sync,
        views_people,
        views_procedures,
        views_versions,
        views_webhooks,
    )
    from portal.admin.blueprint import bp

    app.register_blueprint(bp)
