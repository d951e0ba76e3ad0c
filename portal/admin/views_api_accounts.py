"""Service accounts of the REST API: list, create (the token is shown once, on the answer to the form, never in
a URL, a flash message or the session), revoke. The services are the API's (portal/api/accounts.py)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, redirect, render_template, url_for
from flask_login import current_user

from portal.admin.access import admin_required
from portal.admin.blueprint import bp
from portal.admin.forms import ActionForm, ServiceAccountForm, options
from portal.admin.services import agencies as agency_services
from portal.admin.web import attempt, found, saved
from portal.api import accounts as services


def _form() -> ServiceAccountForm:
    form = ServiceAccountForm()
    form.scopes.choices = options([(key, f"{key} — {label}") for key, label in services.SCOPES.items()])
    active = agency_services.agencies(active_only=True)
    form.agency_ids.choices = options([(a.id, f"{a.code} — {a.name}") for a in active])
    form.group_ids.choices = options(
        [(g.id, f"{a.code} — {g.name} ({g.role})") for a in active for g in a.groups if g.active]
    )
    return form


def _page(form: ServiceAccountForm, status: int = 200):
    return render_template(
        "admin/api_accounts.html", form=form, accounts=services.accounts(), action=ActionForm()
    ), status


def _end_of(day: object) -> datetime | None:
    """A token that expires "on" a day works through that day, in the portal's timezone."""
    if day is None:
        return None
    tz = ZoneInfo(current_app.config["TIMEZONE"])
    return datetime.combine(day, time(0), tzinfo=tz) + timedelta(days=1)  # type: ignore[arg-type]


@bp.get("/api-accounts")
@admin_required
def api_accounts():
    return _page(_form())


@bp.post("/api-accounts")
@admin_required
def api_account_add():
    form = _form()
    if form.validate_on_submit():
        created = attempt(
            lambda: services.create_account(
                form.name.data or "",
                form.scopes.data or [],
                current_user,
                expires_at=_end_of(form.expires_on.data),
                agency_ids=form.agency_ids.data or [],
                group_ids=form.group_ids.data or [],
            ),
            form,
        )
        if isinstance(created, services.Created):
            page = render_template("admin/api_account_created.html", account=created.account, token=created.token)
            return page, 201, {"Cache-Control": "no-store"}
    return _page(form, 422)


@bp.post("/api-accounts/<int:account_id>/revoke")
@admin_required
def api_account_revoke(account_id: int):
    account = found(services.get_account, account_id)
    if ActionForm().validate_on_submit() and attempt(lambda: services.revoke_account(account, current_user)):
        saved()
    return redirect(url_for("admin.api_accounts"))
