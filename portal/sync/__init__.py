"""Synchronisation with the national public service portal: an outbox of status changes (`outbox`), pushed in
order and once per dossier by Celery jobs (`delivery`, `tasks`), shown to officers on the dossier (`state`).
See docs/SYNC.md."""

from __future__ import annotations

from datetime import datetime

import click
from flask import Flask
from flask.cli import AppGroup


def init_app(app: Flask) -> None:
    from . import outbox, tasks  # noqa: F401  (outbox: its session hooks; tasks: the Celery jobs)
    from .state import dossier_sync
    from .topic import register_topic

    register_topic()  # the BPMN external-task topic national-portal.sync
    app.jinja_env.globals["national_sync_of"] = dossier_sync
    app.cli.add_command(cli)


cli = AppGroup("national-sync", help="Synchronisation with the national public service portal.")


@cli.command("push")
def push_command() -> None:
    """Push every row that is due now (what the beat job does)."""
    from portal.core.time import utcnow

    from .delivery import due_dossiers, push

    total = sum(push(dossier_id) for dossier_id in due_dossiers(utcnow()))
    click.echo(f"{total} status change(s) pushed")


@cli.command("retry-failed")
@click.option("--dossier-id", type=int, default=None)
def retry_failed_command(dossier_id: int | None) -> None:
    """Give rows that failed for good another round of attempts; the next sweep pushes them."""
    from portal.core.web import unit_of_work

    from .delivery import retry_failed

    with unit_of_work():
        count = retry_failed(dossier_id)
    click.echo(f"{count} row(s) back in line")


@cli.command("backfill")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, help="filed on or after (YYYY-MM-DD)")
@click.option("--dry-run", is_flag=True, help="only count the dossiers; write nothing")
@click.option("--batch", type=click.IntRange(1, 10000), default=200, show_default=True)
def backfill_command(since: datetime | None, dry_run: bool, batch: int) -> None:
    """Tell the national portal the current state of dossiers it does not know as they are (run once the sync is
    switched on for a portal that already has dossiers; running it again writes nothing new). docs/SYNC.md."""
    from flask import current_app

    from .backfill import backfill

    if not current_app.config.get("NATIONAL_PORTAL_URL"):
        raise click.ClickException("NATIONAL_PORTAL_URL is not set: the sync is off, nothing would be sent")
    result = backfill(since.date() if since else None, dry_run=dry_run, batch=batch)
    if dry_run:
        click.echo(f"{result.candidates} dossier(s) to backfill; dry run: nothing written")
    else:
        click.echo(
            f"{result.candidates} dossier(s) to backfill; {result.written} outbox row(s) written "
            f"in {result.batches} batch(es)"
        )
