"""Demo data for the embedded quick start and for trying the portal: safe to load again and again."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from flask import current_app
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from portal.extensions import Model, db
from portal.models import Agency, Department, Group, Membership, User
from portal.models.user import PASSWORD_METHOD
from portal.procedures.services import deploy

PROCEDURES_DIR = Path(__file__).resolve().parent.parent / "workflows" / "procedures"
COMMUNE_CODE = "000.00.31.H56"
PROVINCE_CODE = "000.00.00.H56"

DEPARTMENTS = [
    ("mot_cua", "Bộ phận Một cửa", "One-stop-shop desk"),
    ("tu_phap", "Tư pháp – Hộ tịch", "Justice and civil status"),
    ("kinh_te", "Phòng Kinh tế – Hạ tầng và Đô thị", "Economy, infrastructure and urban office"),
    ("lanh_dao", "Lãnh đạo UBND", "People's Committee leaders"),
]
# role, department, Vietnamese name, English name, leadership
GROUPS = [
    ("reception", "mot_cua", "Tiếp nhận và trả kết quả", "Reception and return of results", False),
    ("civil_status", "tu_phap", "Công chức Tư pháp – Hộ tịch", "Civil status officers", False),
    ("business_registration", "kinh_te", "Chuyên viên đăng ký kinh doanh", "Business registration officers", False),
    ("ktht_specialist", "kinh_te", "Chuyên viên Kinh tế – Hạ tầng", "Economy and infrastructure specialists", False),
    ("leader", "lanh_dao", "Lãnh đạo UBND phường", "Ward leaders", True),
]
# email, full name, roles
OFFICERS = [
    ("tiepnhan@motcua.demo", "Nguyễn Thị Lan", ["reception"]),
    ("tiepnhan2@motcua.demo", "Phạm Văn Hùng", ["reception"]),
    ("hotich@motcua.demo", "Trần Văn Minh", ["civil_status"]),
    ("dkkd@motcua.demo", "Lê Thị Hoa", ["business_registration"]),
    ("ktht@motcua.demo", "Đỗ Quang Huy", ["ktht_specialist"]),
    ("lanhdao@motcua.demo", "Hoàng Văn Nam", ["leader"]),
]
CITIZEN = ("congdan@motcua.demo", "Võ Thị Mai", "0912345678", "001190012345")
ADMIN = ("admin@motcua.demo", "Quản trị hệ thống")


M = TypeVar("M", bound=Model)


def _get_or_create(model: type[M], defaults: dict[str, Any] | None = None, **keys: object) -> tuple[M, bool]:
    found = db.session.scalar(select(model).filter_by(**keys))
    if found is not None:
        return found, False
    obj = model(**keys, **(defaults or {}))
    db.session.add(obj)
    db.session.flush()
    return obj, True


@lru_cache(maxsize=4)
def _demo_password_hash(password: str) -> str:
    """One hash of the demo password for every demo account, once per process. The password is public (the
    README prints it), so a salt shared between these accounts hides nothing, while each hash costs ~0.1 s of
    scrypt: loading the demo again (every test that uses it) would otherwise spend most of its time here."""
    return generate_password_hash(password, method=PASSWORD_METHOD)


def _user(email: str, full_name: str, password: str, **fields: object) -> User:
    user, created = _get_or_create(User, {"full_name": full_name, **fields}, email=email)
    if created:
        user.password_hash = _demo_password_hash(password)
    return user


def seed_agencies() -> Agency:
    province, _ = _get_or_create(
        Agency, {"name": "UBND tỉnh Demo", "name_en": "Demo Province", "level": "province"}, code=PROVINCE_CODE
    )
    commune, _ = _get_or_create(
        Agency,
        {"name": "UBND phường Trung Tâm", "name_en": "Trung Tam Ward", "level": "commune", "parent_id": province.id},
        code=COMMUNE_CODE,
    )
    departments = {}
    for code, name, name_en in DEPARTMENTS:
        departments[code], _ = _get_or_create(
            Department, {"name": name, "name_en": name_en}, agency_id=commune.id, code=code
        )
    for role, dept, name, name_en, leadership in GROUPS:
        _get_or_create(
            Group,
            {"name": name, "name_en": name_en, "department_id": departments[dept].id, "is_leadership": leadership},
            agency_id=commune.id,
            role=role,
        )
    return commune


def seed_people(commune: Agency) -> None:
    password = current_app.config["DEMO_PASSWORD"]
    groups = {g.role: g for g in db.session.scalars(select(Group).where(Group.agency_id == commune.id))}
    for email, name, roles in OFFICERS:
        officer = _user(email, name, password, kind="officer")
        for role in roles:
            _get_or_create(Membership, user_id=officer.id, group_id=groups[role].id)
    email, name, phone, citizen_id = CITIZEN
    _user(email, name, password, phone=phone, citizen_id=citizen_id, kind="citizen")
    _user(ADMIN[0], ADMIN[1], password, kind="officer", is_admin=True)


def seed_procedures() -> Iterator[str]:
    for path in sorted(PROCEDURES_DIR.glob("*.bpmn")):
        dmn = [(p.name, p.read_bytes()) for p in sorted(PROCEDURES_DIR.glob("*.dmn"))]
        result = deploy(path.read_bytes(), str(path), dmn, agency_code=COMMUNE_CODE, publish=True)
        if not result.ok:
            raise RuntimeError("bundled procedure is invalid:\n" + "\n".join(map(str, result.problems)))
        v = result.deployed
        yield f"procedure {v.procedure.key} version {v.number} {v.status}"


def seed_demo() -> Iterator[str]:
    commune = seed_agencies()
    seed_people(commune)
    yield f"agency {commune.code} with {len(GROUPS)} groups, {len(OFFICERS)} officers, a citizen and an admin"
    yield from seed_procedures()
