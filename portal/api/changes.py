"""The dossier change feed (`dossiers:read`): the dossiers of the account's agencies changed after a cursor, in
the order the changes were committed, for back-office systems and the national portal to keep in step.

Each commit that changes dossiers (themselves, their tasks, files or timeline) gives them all one number,
`Dossier.change_seq`, in commit order (portal/dossiers/changes.py): a client that polls with the last
`next_cursor` it got so never misses a change. A dossier changed again moves to its new number; the feed shows
each dossier once, at its latest change. The cursor is the last (number, dossier id) given: dossiers changed in
one commit share a number, and pages may end among them.
"""

from __future__ import annotations

from typing import Any

from flask import url_for
from marshmallow import RAISE
from sqlalchemy import and_, or_, select

from portal.api.auth import current_account, requires
from portal.api.queries import decode_position, encode_position
from portal.api.schemas import ChangePageSchema, ChangesArgs
from portal.api.views import blp, documented
from portal.core.presentation import status_label
from portal.extensions import db
from portal.models import Dossier, ServiceAccount


def changes_page(account: ServiceAccount, seq: int, dossier_id: int, limit: int) -> tuple[list[Any], bool]:
    """Up to `limit` (code, status, change_seq, id) of the account's dossiers after (seq, dossier_id); and
    whether more follow."""
    agencies = [int(a) for a in account.agency_ids or []]
    if not agencies:
        return [], False
    stmt = (
        select(Dossier.code, Dossier.status, Dossier.change_seq, Dossier.id)
        .where(
            Dossier.agency_id.in_(agencies),
            Dossier.change_seq >= seq,  # the index's range; the tie on seq goes on by id
            or_(Dossier.change_seq > seq, and_(Dossier.change_seq == seq, Dossier.id > dossier_id)),
        )
        .order_by(Dossier.change_seq, Dossier.id)
        .limit(limit + 1)
    )
    rows = list(db.session.execute(stmt))
    return rows[:limit], len(rows) > limit


@blp.route("/dossiers/changes")
@requires("dossiers:read")
@blp.arguments(ChangesArgs, location="query", as_kwargs=True, unknown=RAISE)
@blp.response(200, ChangePageSchema)
@documented()
def dossier_changes(limit: int, cursor: str | None = None):
    """The dossiers of the account's agencies changed after the cursor (submitted, a step done, a file added,
    a status changed…), oldest change first, each once at its latest change. `next_cursor` is always given:
    keep it and ask again with it; when nothing changed, the answer is empty with the same cursor. `more`:
    further changes wait already."""
    seq, dossier_id = decode_position(cursor, "seq", "id") if cursor else (0, 0)
    rows, more = changes_page(current_account(), seq, dossier_id, limit)
    if rows:
        seq, dossier_id = rows[-1].change_seq, rows[-1].id
    items = [
        {
            "code": row.code,
            "status": {"code": row.status, "label": status_label(row.status)},
            "changed_seq": row.change_seq,
            "url": url_for("api.dossier", code=row.code),
        }
        for row in rows
    ]
    return {"items": items, "next_cursor": encode_position(seq=seq, id=dossier_id), "more": more}
