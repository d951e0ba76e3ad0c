"""Finding a dossier by code and tracking secret, answering the same way for every miss (no oracle)."""

from __future__ import annotations

import hmac

from sqlalchemy import select

from portal.extensions import db
from portal.models import Dossier


def normalize_secret(secret: str | None) -> str:
    """As printed (upper case, no spaces or dashes); people type it in any case and with spaces."""
    return "".join(ch for ch in (secret or "").upper() if ch.isalnum())


def find(code: str | None, secret: str | None) -> Dossier | None:
    """The dossier whose code and secret both match, else None; an unknown code and a wrong secret look alike."""
    code = (code or "").strip().upper()
    typed = normalize_secret(secret)
    if not code or not typed or len(code) > 60 or len(typed) > 16:
        return None
    dossier = db.session.scalar(select(Dossier).where(Dossier.code == code))
    expected = dossier.tracking_secret if dossier is not None else "-" * 8
    matches = hmac.compare_digest(expected.encode(), typed.encode())  # constant time: no timing oracle either
    return dossier if dossier is not None and matches else None
