"""REST API v1, the dossier change feed (GET /api/v1/dossiers/changes), driven over HTTP as a synchronising
client would: it polls with the last cursor it got and sees each dossier of its agencies after every commit that
changed it, never another agency's, pages through bursts, and gets problems for bad input."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import event, select, text, update

from portal.extensions import db
from portal.models import Agency, Dossier, DossierChangeCounter, DossierEvent, User
from tests.api import COMMUNE, assert_problem, get, make_token
from tests.helpers import do, submit, upload, vn
from tests.test_api_read import application
from tests.test_construction_permit import application as permit_application

CITIZEN = "congdan@motcua.demo"
DESK = "tiepnhan@motcua.demo"
FEED = "/api/v1/dossiers/changes"


def _birth(day: int) -> Dossier:
    data = {**application(), "birth_certificate_file": upload(CITIZEN, "giay-chung-sinh.pdf")}
    return submit("birth_registration", data, vn(2026, 3, day, 9, 0))


def _elsewhere(dossier: Dossier) -> Dossier:
    """The dossier, moved to another commune (whose dossiers are never in this commune's feed)."""
    agency = Agency(code="000.00.32.H56", name="UBND phường Bên Cạnh", level="commune")
    db.session.add(agency)
    db.session.flush()
    dossier.agency_id = agency.id
    db.session.commit()
    return dossier


def _poll(client, token: str, cursor: str | None, limit: int = 20) -> dict:
    url = f"{FEED}?limit={limit}" + (f"&cursor={cursor}" if cursor else "")
    response = get(client, url, token)
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["next_cursor"]
    return body


def test_a_polling_client_sees_each_change_of_its_agencies_once_in_commit_order(demo, client) -> None:
    token = make_token(["dossiers:read"], agencies=[COMMUNE])
    first = _poll(client, token, None)
    assert first["items"] == []
    assert first["more"] is False
    cursor = first["next_cursor"]

    one = _birth(2)
    two = _birth(3)
    permit = _elsewhere(submit("construction_permit", permit_application(), vn(2026, 3, 3, 10, 0)))

    body = _poll(client, token, cursor)
    assert [i["code"] for i in body["items"]] == [one.code, two.code]
    assert [i["status"]["code"] for i in body["items"]] == [1, 1]
    assert all(i["status"]["label"] for i in body["items"])
    assert body["items"][0]["changed_seq"] < body["items"][1]["changed_seq"]
    assert body["more"] is False
    detail = get(client, body["items"][0]["url"], token)
    assert detail.status_code == 200
    assert detail.get_json()["code"] == one.code
    cursor = body["next_cursor"]

    # Nothing changed: an empty page, and the same cursor to keep.
    again = _poll(client, token, cursor)
    assert again["items"] == []
    assert again["next_cursor"] == cursor
    assert again["more"] is False

    # An officer acts on the first dossier: it comes again, with its new status; the second does not.
    do(one, "reception_check", DESK, {"decision": "accept"}, vn(2026, 3, 3, 14, 0))
    body = _poll(client, token, cursor)
    assert [(i["code"], i["status"]["code"]) for i in body["items"]] == [(one.code, 4)]  # received, in process
    cursor = body["next_cursor"]
    assert _poll(client, token, cursor)["items"] == []

    # A change that touches no dossier moves nothing.
    db.session.execute(update(User).where(User.email == CITIZEN).values(full_name="Võ Thị Mai"))
    db.session.commit()
    assert _poll(client, token, cursor)["items"] == []

    # The other agency's account sees its own dossier only.
    other = make_token(["dossiers:read"], agencies=["000.00.32.H56"])
    assert [i["code"] for i in _poll(client, other, None)["items"]] == [permit.code]


def test_pages_of_one_walk_every_change_including_those_of_one_commit(demo, client) -> None:
    dossiers = [_birth(day) for day in (2, 3, 4)]
    # One commit changing two dossiers: they share a number, and a page may end between them.
    both = list(db.session.scalars(select(Dossier).where(Dossier.id.in_([dossiers[0].id, dossiers[2].id]))))
    for dossier in both:
        dossier.appointment_at = vn(2026, 3, 20, 9, 0)
    db.session.commit()

    token = make_token(["dossiers:read"], agencies=[COMMUNE])
    seen: list[tuple[int, str]] = []
    cursor = None
    while True:
        body = _poll(client, token, cursor, limit=1)
        assert len(body["items"]) <= 1
        seen += [(i["changed_seq"], i["code"]) for i in body["items"]]
        cursor = body["next_cursor"]
        if not body["more"]:
            break
    assert [code for _seq, code in seen] == [dossiers[1].code, *sorted([dossiers[0].code, dossiers[2].code])]
    assert seen[1][0] == seen[2][0] > seen[0][0]
    assert _poll(client, token, cursor, limit=1)["items"] == []


def test_the_changes_route_is_not_taken_for_a_dossier_code(demo, client) -> None:
    token = make_token(["dossiers:read"], agencies=[COMMUNE])
    body = get(client, FEED, token).get_json()
    assert set(body) == {"items", "next_cursor", "more"}


def test_an_account_without_agencies_gets_an_empty_feed(demo, client) -> None:
    _birth(2)
    token = make_token(["dossiers:read"])
    body = _poll(client, token, None)
    assert body["items"] == []
    assert body["more"] is False


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("cursor=not-a-cursor", "cursor"),
        ("cursor=eyJhZnRlciI6IDN9", "cursor"),  # {"after": 3}: a catalogue cursor
        ("cursor=eyJzZXEiOiAtMSwgImlkIjogMH0", "cursor"),  # {"seq": -1, "id": 0}
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("since=3", "since"),
    ],
)
def test_bad_arguments_get_422_on_their_field(demo, client, query: str, field: str) -> None:
    token = make_token(["dossiers:read"], agencies=[COMMUNE])
    body = assert_problem(get(client, f"{FEED}?{query}", token), 422)
    assert [e["field"] for e in body["errors"]] == [field]


def test_the_feed_needs_the_dossiers_read_scope(demo, client) -> None:
    token = make_token(["catalogue:read"], agencies=[COMMUNE])
    assert_problem(get(client, FEED, token), 403)
    assert_problem(client.get(FEED), 401)


def test_numbering_costs_two_statements_per_commit_that_changed_dossiers_and_none_otherwise(demo, client) -> None:
    dossier = _birth(2)
    statements: list[str] = []

    def note(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    def counted(change) -> list[str]:
        statements.clear()
        event.listen(db.engine, "before_cursor_execute", note)
        try:
            change()
            db.session.commit()
        finally:
            event.remove(db.engine, "before_cursor_execute", note)
        return [s for s in statements if "change" in s]

    citizen = db.session.scalar(select(User).where(User.email == CITIZEN))
    assert citizen is not None

    def rename() -> None:
        citizen.full_name = "Võ Thị Mai"

    def reschedule() -> None:
        dossier.appointment_at = vn(2026, 3, 21, 9, 0)

    assert counted(rename) == []
    numbering = counted(reschedule)
    assert len(numbering) == 2
    assert "dossier_change_counter" in numbering[0]
    assert "change_seq" in numbering[1]


def test_the_openapi_document_describes_the_feed(app, client) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/dossiers/changes"]["get"]
    assert {p["name"] for p in operation["parameters"]} == {"cursor", "limit", "If-None-Match"}
    answer = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    page = spec["components"]["schemas"][answer.rsplit("/", 1)[-1]]
    assert {"items", "next_cursor", "more"} <= set(page["properties"])
    assert "next_cursor" in page["required"]
    assert {"403", "422"} <= set(operation["responses"])


def test_numbers_follow_the_commit_order_so_a_poll_in_between_misses_nothing(demo, app, client) -> None:
    """PostgreSQL: A numbers its change and is slow to commit; B, changing another dossier, must wait for A and
    so gets the next number. A client polling meanwhile sees neither, then both, in order."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: commit order is the numbering order trivially")
    from portal.dossiers.changes import _number_changes

    slow, quick = _birth(2), _birth(3)
    token = make_token(["dossiers:read"], agencies=[COMMUNE])
    cursor = _poll(client, token, None)["next_cursor"]
    numbered, go_on = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def change(dossier_id: int, hold: bool) -> None:
        with app.app_context():
            try:
                found = db.session.get(Dossier, dossier_id)
                assert found is not None
                found.appointment_at = vn(2026, 3, 25, 9, 0)
                if hold:
                    db.session.flush()
                    _number_changes(db.session())  # what the commit does first; the counter stays locked
                    numbered.set()
                    assert go_on.wait(30)
                db.session.commit()
            except BaseException as exc:
                errors.append(exc)
                db.session.rollback()
            finally:
                db.session.remove()

    a = threading.Thread(target=change, args=(slow.id, True))
    a.start()
    assert numbered.wait(30)
    b = threading.Thread(target=change, args=(quick.id, False))
    b.start()
    with db.engine.connect() as conn:  # wait until B waits for A's lock on the counter
        for _ in range(3000):
            waiting = conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                    " AND datname = current_database() AND query LIKE '%dossier_change_counter%'"
                )
            ).scalar()
            if waiting:
                break
            conn.rollback()
            threading.Event().wait(0.01)
        assert waiting
    assert _poll(client, token, cursor)["items"] == []  # neither committed yet
    go_on.set()
    a.join(30)
    b.join(30)
    assert errors == []
    body = _poll(client, token, cursor)
    assert [i["code"] for i in body["items"]] == [slow.code, quick.code]
    assert body["items"][0]["changed_seq"] < body["items"][1]["changed_seq"]


def _wait_for_a_lock_wait(query_part: str) -> None:
    with db.engine.connect() as conn:
        for _ in range(3000):
            waiting = conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                    " AND datname = current_database() AND query LIKE :part"
                ),
                {"part": f"%{query_part}%"},
            ).scalar()
            if waiting:
                return
            conn.rollback()
            threading.Event().wait(0.01)
    raise AssertionError("no transaction waits for a lock")


def test_a_timeline_entry_and_a_dossier_update_at_once_do_not_deadlock(demo, app) -> None:
    """PostgreSQL: B has updated the dossier and not committed yet; A adds a timeline entry to it (which leaves the
    dossier row alone) and commits. A must wait for the dossier's row before it takes the counter: the other way
    round, A would hold the counter B needs while waiting for B's dossier row."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no row locks")
    dossier = _birth(2)
    updated, go_on = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def update_dossier() -> None:
        with app.app_context():
            try:
                found = db.session.get(Dossier, dossier.id)
                assert found is not None
                found.appointment_at = vn(2026, 3, 25, 9, 0)
                db.session.flush()  # the dossier row is B's until it commits
                updated.set()
                assert go_on.wait(30)
                db.session.commit()
            except BaseException as exc:
                errors.append(exc)
                db.session.rollback()
            finally:
                db.session.remove()

    def add_entry() -> None:
        with app.app_context():
            try:
                db.session.add(DossierEvent(dossier_id=dossier.id, kind="comment", note="Đã gọi điện cho công dân"))
                db.session.commit()
            except BaseException as exc:
                errors.append(exc)
                db.session.rollback()
            finally:
                db.session.remove()

    b = threading.Thread(target=update_dossier)
    b.start()
    assert updated.wait(30)
    a = threading.Thread(target=add_entry)
    a.start()
    _wait_for_a_lock_wait("dossiers")  # A waits for B's dossier row
    go_on.set()
    b.join(30)
    a.join(30)
    assert errors == []
    changed = db.session.scalar(select(Dossier.change_seq).where(Dossier.id == dossier.id))
    counter = db.session.scalar(select(DossierChangeCounter.value))
    assert changed == counter  # A committed last: its number is the dossier's
