"""/notifications: a signed-in person's in-app notifications; the unread badge; `flask notifications ...`."""

from __future__ import annotations

import time

import click
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.core.errors import NotFound
from portal.core.web import page_arg, unit_of_work

from . import services

bp = Blueprint("notifications", __name__, url_prefix="/notifications", cli_group="notifications")


@bp.app_context_processor
def inject_unread() -> dict:
    if not current_user or not current_user.is_authenticated:
        return {"unread_notifications": 0}
    return {"unread_notifications": services.unread_count(current_user)}


@bp.get("/")
@login_required
def index():
    page = page_arg()
    rows, more = services.page_of(current_user, page)
    return render_template("notifications/index.html", rows=rows, page=page, more=more)


@bp.post("/<int:notification_id>/read")
@login_required
def read(notification_id: int):
    try:
        with unit_of_work():
            services.mark_read(current_user, notification_id)
    except NotFound:
        abort(404)
    return redirect(url_for(".index", page=request.form.get("page", 1, type=int)))


@bp.post("/read-all")
@login_required
def read_all():
    with unit_of_work():
        count = services.mark_all_read(current_user)
    flash(_("%(n)d notification(s) marked as read.", n=count), "success")
    return redirect(url_for(".index"))


# -- command line (the embedded default has no celery beat: run `tick` from cron or with --every) -----------


@bp.cli.command("tick")
@click.option("--every", type=float, default=0, help="Repeat every this many seconds (0: run once).")
def tick_command(every: float) -> None:
    """Run the periodic jobs once: fire due BPMN timers, send deadline reminders, retry unsent messages."""
    from .tasks import send_reminders, sweep_notifications, timers_tick

    while True:
        # Called directly (in this process, each in its own app context), whatever the broker setting.
        fired, reminded, queued = timers_tick(), send_reminders(), sweep_notifications()
        click.echo(f"{fired} dossier(s) advanced, {reminded} reminder(s) sent, {queued} message(s) retried.")
        if every <= 0:
            return
        time.sleep(every)


@bp.cli.command("retry-failed")
def retry_failed_command() -> None:
    """Give messages that failed for good another round of attempts."""
    from .delivery import retry_failed
    from .outbox import enqueue

    with unit_of_work():
        ids = retry_failed()
    enqueue(ids)
    click.echo(f"{len(ids)} message(s) queued again.")
