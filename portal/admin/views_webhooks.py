"""Webhooks: endpoints subscribed to dossier events, their delivery log and redelivery (portal/sync/webhooks.py).
The signing secret is shown once, on the answer to the form."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.admin.access import admin_required
from portal.admin.blueprint import bp
from portal.admin.forms import ActionForm, options
from portal.admin.forms_webhooks import WebhookForm
from portal.admin.web import attempt, status_code
from portal.extensions import db
from portal.models import WEBHOOK_EVENTS, WebhookEndpoint
from portal.sync import services


def event_labels() -> dict[str, str]:
    return {
        "dossier.submitted": _("A dossier is submitted"),
        "dossier.status_changed": _("A dossier's status changes"),
    }


def _form() -> WebhookForm:
    form = WebhookForm()
    labels = event_labels()
    form.events.choices = options([(e, f"{e} — {labels[e]}") for e in WEBHOOK_EVENTS])
    return form


@bp.get("/webhooks")
@admin_required
def webhooks():
    return render_template("admin/webhooks.html", form=_form(), endpoints=services.endpoints(), action=ActionForm())


@bp.post("/webhooks")
@admin_required
def webhook_add():
    form = _form()
    if form.validate_on_submit():
        created = attempt(
            lambda: services.create_endpoint(
                form.url.data or "", form.description.data or "", list(form.events.data or []), current_user
            ),
            form,
        )
        if created:
            endpoint, secret = created
            return render_template("admin/webhook_created.html", endpoint=endpoint, secret=secret)
    page = render_template("admin/webhooks.html", form=form, endpoints=services.endpoints(), action=ActionForm())
    return page, status_code(form)


@bp.get("/webhooks/<int:endpoint_id>")
@admin_required
def webhook(endpoint_id: int):
    endpoint = db.session.get(WebhookEndpoint, endpoint_id) or abort(404)
    return render_template(
        "admin/webhook.html",
        endpoint=endpoint,
        deliveries=services.deliveries(endpoint_id),
        labels=event_labels(),
        action=ActionForm(),
    )


@bp.post("/webhooks/<int:endpoint_id>/active")
@admin_required
def webhook_toggle(endpoint_id: int):
    endpoint = db.session.get(WebhookEndpoint, endpoint_id) or abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    active = not endpoint.active
    if attempt(lambda: services.set_active(endpoint_id, active, current_user)):
        flash(_("The endpoint is active.") if active else _("The endpoint is deactivated."), "success")
    return redirect(url_for("admin.webhook", endpoint_id=endpoint_id))


@bp.post("/webhooks/<int:endpoint_id>/deliveries/<int:delivery_id>/redeliver")
@admin_required
def webhook_redeliver(endpoint_id: int, delivery_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    if attempt(lambda: services.redeliver(endpoint_id, delivery_id, current_user)):
        flash(_("The delivery was sent again."), "success")
    return redirect(url_for("admin.webhook", endpoint_id=endpoint_id))
