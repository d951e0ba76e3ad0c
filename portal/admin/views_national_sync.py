"""The national portal sync: status changes that failed to reach it, and a retry (portal/sync, docs/SYNC.md)."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.admin.access import admin_required
from portal.admin.blueprint import bp
from portal.admin.forms import ActionForm
from portal.admin.web import attempt
from portal.sync.services import retry_dossier
from portal.sync.state import stuck_rows


@bp.get("/national-sync")
@admin_required
def national_sync():
    return render_template(
        "admin/national_sync.html",
        rows=stuck_rows(),
        enabled=bool(current_app.config.get("NATIONAL_PORTAL_URL")),
        action=ActionForm(),
    )


@bp.post("/national-sync/<int:dossier_id>/retry")
@admin_required
def national_sync_retry(dossier_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    if attempt(lambda: retry_dossier(dossier_id, current_user)):
        flash(_("The status changes of this dossier are being sent again."), "success")
    return redirect(url_for("admin.national_sync"))
