"""Command-line tools for administrators: validate and deploy procedures, seed demo data, fire timers."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup
from flask_babel import gettext as _

from portal.core.web import unit_of_work
from portal.extensions import db

procedure_cli = AppGroup("procedure", help="Validate and deploy BPMN procedures.")
timers_cli = AppGroup("timers", help="BPMN timers.")


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError as exc:
        click.echo(f"{path}:0: -: cannot read the file: {exc.strerror}")
        return None


def _dmn_for(bpmn: Path, given: list[Path]) -> list[tuple[str, bytes]]:
    """DMN tables that go with a BPMN file: those named on the command line and those beside it."""
    found = {p.resolve(): p for p in given}
    for sibling in bpmn.parent.glob("*.dmn"):
        found.setdefault(sibling.resolve(), sibling)
    return [(p.name, data) for p in found.values() if (data := _read(p)) is not None]


def _split(paths: tuple[str, ...]) -> tuple[list[Path], list[Path]]:
    all_paths = [Path(p) for p in paths]
    return [p for p in all_paths if p.suffix != ".dmn"], [p for p in all_paths if p.suffix == ".dmn"]


@procedure_cli.command("validate")
@click.argument("paths", nargs=-1, required=True)
@click.option("--agency", "agency_code", help="Also check that every role has a group in this agency (unit code).")
def validate_command(paths: tuple[str, ...], agency_code: str | None) -> None:
    """Check BPMN (and DMN) files; print PATH:LINE: ELEMENT_ID: reason per problem."""
    from portal.external.registry import known_topics
    from workflows.validation import validate_bpmn, validate_dmn

    roles = _roles_of(agency_code) if agency_code else None
    bpmn_paths, dmn_paths = _split(paths)
    problems = []
    for dmn in dmn_paths:
        if (data := _read(dmn)) is None:
            sys.exit(1)
        problems += validate_dmn(data, str(dmn))
    for path in bpmn_paths:
        data = _read(path)
        if data is None:
            sys.exit(1)
        people = _officers_in(data) if agency_code else None
        problems += validate_bpmn(
            data,
            str(path),
            _dmn_for(path, dmn_paths),
            known_roles=roles,
            known_people=people,
            known_topics=known_topics(),
        )
    for problem in problems:
        click.echo(str(problem))
    if problems:
        sys.exit(1)
    click.echo(f"{len(paths)} file(s) valid.")


def _officers_in(data: bytes) -> set[str] | None:
    """The active officers among the people the file names; None when it cannot be read (validation says why)."""
    from lxml import etree

    from portal.procedures.services import known_officers

    try:
        return known_officers(data)
    except (ValueError, etree.XMLSyntaxError):  # not XML, or unsafe XML
        return None


def _roles_of(agency_code: str) -> set[str]:
    from portal.models import Agency
    from portal.procedures.services import agency_roles

    agency = db.session.scalar(db.select(Agency).where(Agency.code == agency_code))
    if agency is None:
        click.echo(f"-:0: -: {_('unknown agency unit code %(code)s', code=agency_code)}")
        sys.exit(1)
    return agency_roles(agency)


@procedure_cli.command("deploy")
@click.argument("path")
@click.option("--publish", is_flag=True, help="Publish the new version at once.")
@click.option("--agency", "agency_code", help="Unit code of the handling agency (else the BPMN's 'agency').")
@click.option("--dmn", "dmn", multiple=True, help="A DMN file to deploy with it (those beside it are included).")
def deploy_command(path: str, publish: bool, agency_code: str | None, dmn: tuple[str, ...]) -> None:
    """Store a new version of a procedure from a BPMN file."""
    from portal.procedures.services import deploy

    bpmn = Path(path)
    data = _read(bpmn)
    if data is None:
        sys.exit(1)
    dmns = _dmn_for(bpmn, [Path(d) for d in dmn])
    with unit_of_work() as work:
        chosen = [Path(d).name for d in dmn]
        result = deploy(data, str(bpmn), dmns, agency_code=agency_code, publish=publish, chosen_dmn=chosen)
        if not result.ok:
            work.discard()  # nothing is stored
    if not result.ok:
        for problem in result.problems:
            click.echo(str(problem))
        sys.exit(1)
    v = result.version
    if v is None:  # ok results always carry a version
        raise click.ClickException("deploy returned no version")
    state = "unchanged, " if result.unchanged else ""
    click.echo(f"{v.procedure.key} version {v.number} ({state}{v.status})")


@timers_cli.command("run-due")
@click.option("--limit", default=500, show_default=True, help="At most this many dossiers in one pass.")
def run_due_command(limit: int) -> None:
    """Fire the BPMN timers that are due, one dossier per transaction."""
    from portal.dossiers.timers import run_due_timers

    fired, failed = run_due_timers(limit)
    click.echo(f"{fired} dossier(s) advanced, {failed} failed.")
    if failed:
        sys.exit(1)


@click.command("seed-demo")
def seed_demo_command() -> None:
    """Load demo agencies, groups, people and the bundled procedures (safe to run again)."""
    from portal.demo import seed_demo

    with unit_of_work():
        for line in seed_demo():
            click.echo(line)


def register(app: Flask) -> None:
    app.cli.add_command(procedure_cli)
    app.cli.add_command(timers_cli)
    app.cli.add_command(seed_demo_command)
