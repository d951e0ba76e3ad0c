"""Operations-centre statistics: aggregates kept current with every dossier change (aggregates.py), period figures
read from them (figures.py), the public statistics page and open data (views.py), and `flask stats rebuild`."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

stats_cli = AppGroup("stats", help="Statistics of the operations centre.")


@stats_cli.command("rebuild")
@click.option("--batch", default=1000, show_default=True, help="Dossiers read per query.")
def rebuild_command(batch: int) -> None:
    """Recompute every figure from the dossiers' own rows and events, replacing the aggregates (idempotent)."""
    from portal.core.web import unit_of_work
    from portal.extensions import db

    from .aggregates import dossier_count, rebuild

    total = dossier_count(db.session())
    with unit_of_work(), click.progressbar(length=total, label="Dossiers") as bar:
        done = 0
        for count in rebuild(db.session(), batch=max(1, batch)):
            bar.update(count - done)
            done = count
    click.echo(f"Statistics rebuilt from {done} dossier(s).")
    _rebuild_steps(batch)


@stats_cli.command("rebuild-steps")
@click.option("--batch", default=1000, show_default=True, help="Dossiers read per query.")
def rebuild_steps_command(batch: int) -> None:
    """Recompute where dossiers wait (steps, flows, workload per day) from the task rows (part of `rebuild`)."""
    _rebuild_steps(batch)


def _rebuild_steps(batch: int) -> None:
    from portal.core.web import unit_of_work
    from portal.extensions import db

    from .steps import rebuild, task_count

    total = task_count(db.session())
    with unit_of_work(), click.progressbar(length=total, label="Steps") as bar:
        done = 0
        for count in rebuild(db.session(), batch=max(1, batch)):
            bar.update(count - done)
            done = count
    click.echo(f"Step statistics rebuilt from {done} step(s).")


def init_app(app: Flask) -> None:
    """Register the public pages and the command, and start keeping the aggregates current."""
    from . import aggregates, steps, tasks  # noqa: F401  (tasks: registers the roll-up's Celery job)
    from .views import bp

    app.register_blueprint(bp)
    app.cli.add_command(stats_cli)
    aggregates.connect()
    steps.connect()
