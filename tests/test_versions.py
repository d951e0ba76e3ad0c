"""Procedure versions: running dossiers keep theirs, new dossiers take the latest published one."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from portal.core.errors import NotAllowed
from portal.dossiers.services import submit_dossier
from portal.extensions import db
from portal.procedures.services import compiled, current_version, retire_version
from tests.helpers import PROCEDURES, deploy_file, do, open_task, submit, user, version_of, vn
from tests.test_birth_registration import application

DESK = "tiepnhan@motcua.demo"


def renamed_copy(tmp_path: Path) -> Path:
    source = (PROCEDURES / "birth_registration.bpmn").read_text(encoding="utf-8")
    assert 'name="Tiếp nhận' in source
    path = tmp_path / "birth_registration.bpmn"
    path.write_text(source.replace('name="Tiếp nhận', 'name="[v2] Tiếp nhận', 1), encoding="utf-8")
    return path


def test_a_running_dossier_keeps_its_version(demo: Flask, tmp_path: Path) -> None:
    v1 = version_of("birth_registration")
    old = submit("birth_registration", application(), vn(2026, 3, 2, 9, 0))
    v2 = deploy_file(renamed_copy(tmp_path))
    assert (v1.number, v2.number) == (1, 2)
    assert current_version(v1.procedure) == v2

    new = submit("birth_registration", application(), vn(2026, 3, 2, 9, 5))
    assert new.procedure_version_id == v2.id
    assert open_task(new).name.startswith("[v2]")
    assert old.procedure_version_id == v1.id
    assert not open_task(old).name.startswith("[v2]")
    # The old dossier goes on under version 1 to the end.
    do(old, "reception_check", DESK, {"decision": "accept"}, vn(2026, 3, 2, 9, 30))
    assert open_task(old).bpmn_id == "civil_status_review"
    assert old.procedure_version_id == v1.id


def test_a_retired_version_takes_no_new_dossier(demo: Flask, tmp_path: Path) -> None:
    v1 = version_of("birth_registration")
    v2 = deploy_file(renamed_copy(tmp_path))
    retire_version(v2, user("admin@motcua.demo"))
    db.session.commit()
    assert current_version(v1.procedure) == v1
    with pytest.raises(NotAllowed):
        submit_dossier(v2, user("congdan@motcua.demo"), application(), now=vn(2026, 3, 2, 9, 0))


def test_published_versions_are_never_rewritten(demo: Flask, tmp_path: Path) -> None:
    v1 = version_of("birth_registration")
    xml_before = v1.bpmn_xml
    deploy_file(renamed_copy(tmp_path))
    db.session.refresh(v1)
    assert v1.bpmn_xml == xml_before
    assert v1.status == "published"


def test_parsed_specs_are_cached_per_version(demo: Flask) -> None:
    version = version_of("birth_registration")
    assert compiled(version) is compiled(version)


def test_publishing_and_retiring_are_audited(demo: Flask, tmp_path: Path) -> None:
    from portal.models import AuditLog

    admin = user("admin@motcua.demo")
    v2 = deploy_file(renamed_copy(tmp_path))
    retire_version(v2, admin)
    db.session.commit()
    entries = db.session.scalars(
        db.select(AuditLog).where(AuditLog.object_id == str(v2.id)).order_by(AuditLog.id)
    ).all()
    assert [e.action for e in entries] == ["procedure.deploy", "procedure.publish", "procedure.retire"]
    assert entries[-1].actor_id == admin.id
    assert entries[-1].details == {"procedure": "birth_registration", "number": 2}


def test_a_later_publication_keeps_the_catalogue_as_edited(demo: Flask, tmp_path: Path) -> None:
    procedure = version_of("birth_registration").procedure
    procedure.name_en = "Birth registration (edited by an administrator)"
    procedure.fee = 5000
    db.session.commit()
    deploy_file(renamed_copy(tmp_path))  # deploys and publishes version 2
    db.session.refresh(procedure)
    assert procedure.name_en == "Birth registration (edited by an administrator)"
    assert procedure.fee == 5000
