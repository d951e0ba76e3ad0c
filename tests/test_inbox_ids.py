"""A page's task ids are walked without the dossiers when nothing reads them (portal/inbox/queries.py
`_needs_dossier`): for every tab, sort and filter the walk must give the rows, in the order, of the full query."""

from __future__ import annotations

import itertools
from datetime import timedelta

from flask import Flask

from portal.core.time import utcnow
from portal.extensions import db
from portal.inbox.queries import SORTS, TABS, InboxFilters, inbox_ids_query, inbox_query, scope_of
from portal.models import Procedure
from tests.helpers import do, user
from tests.test_inbox_pages import new_dossier

DESK = "tiepnhan@motcua.demo"
LEADER = "lanhdao@motcua.demo"


def test_the_walk_without_dossiers_gives_the_full_querys_rows_in_order(demo: Flask) -> None:
    now = utcnow()
    dossiers = [new_dossier(f"Cửa hàng số {i}", now - timedelta(days=i)) for i in range(4)]
    do(dossiers[0], "reception_check", DESK, {"decision": "accept"}, now)
    do(dossiers[1], "reception_check", DESK, {"decision": "supplement", "reason": "Thiếu hợp đồng thuê nhà"}, now)
    household = db.session.scalar(db.select(Procedure.id).where(Procedure.key == "household_business"))
    filters_tried = 0
    for who, tab, sort, procedure, status, mine in itertools.product(
        (DESK, LEADER), (*TABS, "agency"), SORTS, (None, household), (None, 2), (False, True)
    ):
        scope = scope_of(user(who))
        filters = InboxFilters(tab=tab, sort=sort, procedure_id=procedure, status=status, mine=mine)
        if tab == "supplement":
            continue  # walked by dossier in chunks (_supplement_rows), not by this query
        full = [row.task_id for row in db.session.execute(inbox_query(scope, filters, now))]
        walked = list(db.session.scalars(inbox_ids_query(scope, filters, now)))
        assert walked == full, (who, filters)
        filters_tried += 1
    assert filters_tried > 100
