"""Dossier codes: `<unit code>-<YYMMDD>-<sequence of the day>`, the format configurable.

The sequence is one row per prefix and day, bumped with a single UPDATE … RETURNING inside the submitting
transaction, so two concurrent submissions can never get the same number and a rolled-back one leaves no gap.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from portal.extensions import db
from portal.models import Agency, DossierCodeCounter

# No 0/O, 1/I: the secret is read off paper and typed by hand.
SECRET_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # noqa: S105  (an alphabet, not a secret)


def next_dossier_code(agency: Agency, now: datetime) -> str:
    local = now.astimezone(ZoneInfo(current_app.config["TIMEZONE"]))
    seq = _next_sequence(agency.code, local.date())
    return current_app.config["DOSSIER_CODE_FORMAT"].format(unit=agency.code, date=local, seq=seq)


def _next_sequence(prefix: str, day) -> int:  # noqa: ANN001
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    db.session.execute(insert(DossierCodeCounter).values(prefix=prefix, day=day, value=0).on_conflict_do_nothing())
    stmt = (
        update(DossierCodeCounter)
        .where(DossierCodeCounter.prefix == prefix, DossierCodeCounter.day == day)
        .values(value=DossierCodeCounter.value + 1)
        .returning(DossierCodeCounter.value)
    )
    return db.session.execute(stmt).scalar_one()


def new_tracking_secret(length: int = 8) -> str:
    return "".join(secrets.choice(SECRET_ALPHABET) for _ in range(length))
