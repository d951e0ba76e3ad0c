"""`flask --app wsgi sso test-idp`: a local identity provider with demo users, for trying single sign-on."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app

from portal.core.web import unit_of_work
from portal.extensions import db
from portal.sso.views import bp

DEMO_AGENCY = "000.00.31.H56"  # the ward `flask seed-demo` creates


def _sp_metadata(name: str, sp_url: str, metadata_path: Path) -> bytes:
    """The portal's SP metadata as the portal at `sp_url` will publish it (same keys, same URLs)."""
    from portal.sso.config import parse_idp
    from portal.sso.provider import SamlProvider

    with current_app.test_request_context(base_url=sp_url):
        return SamlProvider(parse_idp(name, {"metadata": str(metadata_path)})).metadata_xml()


def _seed_role_mappings(name: str, roles: set[str]) -> list[str]:
    """Map the demo users' `role` values to the demo ward's groups of the same role (once)."""
    from portal.models import Agency, Group, RoleMapping

    agency = db.session.scalar(db.select(Agency).where(Agency.code == DEMO_AGENCY))
    if agency is None:
        return []
    done = []
    for group in db.session.scalars(db.select(Group).where(Group.agency_id == agency.id, Group.role.in_(roles))):
        exists = db.session.scalar(
            db.select(RoleMapping.id).where(
                RoleMapping.idp == name, RoleMapping.attribute == "roles", RoleMapping.value == group.role
            )
        )
        if exists is None:
            db.session.add(RoleMapping(idp=name, attribute="roles", value=group.role, group_id=group.id))
        done.append(f"roles={group.role} → {group.name}")
    return done


def _write_config(directory: Path, name: str, metadata_path: Path, pin: str) -> Path:
    path = directory / "testidp.toml"
    path.write_text(
        "# Written by `flask sso test-idp`: the portal's SSO settings for the local test IdP (docs/SSO.md).\n"
        f"[idps.{name}]\n"
        'label = "Sign in with the provincial account (test IdP)"\n'
        f'metadata = "{metadata_path}"\n'
        f'cert_fingerprint = "{pin}"\n',
        encoding="utf-8",
    )
    return path


@bp.cli.command("test-idp")
@click.option("--port", default=8900, show_default=True, help="Port of the test IdP on 127.0.0.1.")
@click.option("--sp-url", default="http://127.0.0.1:5000", show_default=True, help="Where the portal runs.")
@click.option("--name", default="demo", show_default=True, help="The IdP's name in the portal (/sso/<name>/…).")
@click.option("--seed-mappings/--no-seed-mappings", default=True, help="Map demo roles to the demo ward's groups.")
def test_idp_command(port: int, sp_url: str, name: str, seed_mappings: bool) -> None:
    """Run a local SAML identity provider with demo users (development only; never expose it)."""
    from portal.sso.testidp import TestIdP, demo_users

    directory = Path(current_app.config["SSO_SP_CERT"]).parent
    directory.mkdir(parents=True, exist_ok=True)
    metadata_path = (directory / "testidp-metadata.xml").resolve()
    sp_xml = _sp_metadata(name, sp_url.rstrip("/"), metadata_path)
    try:
        idp = TestIdP(directory, [sp_xml], users=demo_users(current_app.config["DEMO_PASSWORD"]), port=port)
    except OSError as exc:
        click.echo(f"Cannot listen on 127.0.0.1:{port}: {exc.strerror}. Choose another --port.")
        sys.exit(1)
    metadata_path.write_text(idp.metadata_xml(), encoding="utf-8")
    config_path = _write_config(directory, name, metadata_path, idp.cert_fingerprint())
    if seed_mappings:
        roles = {r for u in idp.users.values() for r in u.attributes.get("role", [])}
        try:
            with unit_of_work():
                lines = _seed_role_mappings(name, roles)
            for line in lines:
                click.echo(f"role mapping: {line}")
        except Exception as exc:  # no database yet: the IdP still works, groups just stay empty
            click.echo(f"(role mappings not seeded: {type(exc).__name__}; run `flask db upgrade` and `seed-demo`)")
    users = ", ".join(idp.users)
    click.echo(
        f"Test IdP: {idp.base_url}  (entity id {idp.entity_id})\n"
        f"Demo users: {users} — password {current_app.config['DEMO_PASSWORD']}\n"
        f"Portal settings written to {config_path}. In another terminal:\n"
        f"  SSO_CONFIG={config_path} make run\n"
        f"then open {sp_url}/login and choose “Sign in with the provincial account”. Ctrl-C stops the IdP."
    )
    try:
        idp.serve_forever()
    except KeyboardInterrupt:
        click.echo("Test IdP stopped.")
