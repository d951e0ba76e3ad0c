"""Synchronisation with the national public service portal: an outbox of status changes (`outbox`), pushed in
order and once per dossier by Celery jobs (`delivery`, `tasks`), shown to officers on the dossier (`state`).
See docs/SYNC.md."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup


def init_app(app: Flask) -> None:
    from . import tasks  # noqa: F401  (registers the Celery jobs)
    from .outbox import install_session_hooks
    from .state import dossier_sync
    from .topic import register_topic

    install_session_hooks()
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
