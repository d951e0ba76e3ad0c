"""The audit log: who did what, when, from where; filterable, a page at a time."""

from __future__ import annotations

from flask import render_template, request

from portal.admin.access import admin_required
from portal.admin.blueprint import bp
from portal.admin.forms import AuditFilterForm
from portal.admin.services import audit_log as services
from portal.core.web import page_arg


@bp.get("/audit")
@admin_required
def audit():
    form = AuditFilterForm(request.args)
    form.validate()  # the filters that are valid apply; a bad one is told next to it
    ok = form.field_ok
    wanted = services.AuditFilter(
        (form.action.data or "") if ok("action") else "",
        (form.actor.data or "") if ok("actor") else "",
        form.since.data if ok("since") else None,
        form.until.data if ok("until") else None,
    )
    page = services.search(wanted, page_arg())
    args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template(
        "admin/audit.html", form=form, result=page, actions=services.actions(), args=args
    ), 200 if not form.errors else 422
