"""Statement budgets: the most SQL statements each main page and action may send, pinned.

Each page is requested once to warm the per-process caches (parsed specs, forms, calendars, role maps), then
one request is counted (tests/statements.py). An action that cannot be repeated is warmed by doing the same
action once on another object (a first dossier goes through the whole lifecycle before the counted one).
Going over a budget fails with the statements listed, repeated ones counted: an N+1 shows at once.

Counts are the same on any machine; they were measured on SQLite and PostgreSQL and the larger taken. Lower a
budget whenever a page gets cheaper; raising one needs a reason in the commit. See docs/BENCHMARKS.md,
"Statement budgets". Celery jobs run eagerly in tests (no broker), so an action's budget includes the jobs it
queues (notifications), as a worker would run them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from io import BytesIO

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from portal.core.time import utcnow
from portal.extensions import db
from portal.models import Dossier, Status
from tests.api import COMMUNE, bearer, make_token
from tests.helpers import PDF, do, open_task
from tests.statements import count_statements
from tests.test_api_submit import post as api_submit
from tests.test_api_submit import submission
from tests.test_api_tasks import group
from tests.test_citizen_support import household
from tests.test_inbox_pages import new_dossier
from tests.web import csrf, login, logout

# Measured on SQLite and PostgreSQL; where they differ (the writes: SQLite sends each INSERT … RETURNING of
# timeline lines, notifications and reminders alone, PostgreSQL batches them) the SQLite count is the larger and
# is pinned (PostgreSQL's in brackets). A POST's count includes the job that sends its notifications (3 statements
# each), run eagerly in tests: those counts move with the number of people notified, fixed by the demo data.
BUDGETS = {  # counted on SQLite: PostgreSQL batches the inserts of an action and sends fewer
    # public
    "home": 3,
    "catalogue": 4,
    "procedure page": 4,
    "statistics": 9,
    "login POST": 5,
    # citizen
    "apply form": 6,
    "apply POST": 57,
    "my dossiers": 8,
    "my dossier page": 16,
    "tracking POST": 6,
    # officer (the reception desk)
    "inbox": 8,
    "inbox tab new": 7,
    "inbox tab in_process": 5,
    "inbox tab supplement": 8,
    "inbox tab due_soon": 8,
    "inbox tab overdue": 7,
    "inbox tab finished": 7,
    "inbox tab agency (leader)": 9,
    "task page": 16,  # the leader's step 16, the others 14: the largest of the 4 steps' pages
    "claim POST": 7,
    "complete reception POST": 50,
    "complete specialist POST": 28,
    "complete leader POST": 48,
    "complete return POST": 22,
    "officer dossier page": 12,
    # leader
    "ioc today": 13,
    "ioc period": 12,
    # administrator
    "admin procedures": 7,
    "admin people": 15,
    # API
    "api dossier GET": 9,
    "api tasks GET": 7,
    "api dossiers POST": 61,
    # the household business lifecycle: apply form, apply POST, then each of the 4 steps' task page and
    # completion, and the desk's claim (the sum of those requests)
    "lifecycle": 276,
}

CITIZEN = "congdan@motcua.demo"
DESK = "tiepnhan@motcua.demo"
SPECIALIST = "dkkd@motcua.demo"
LEADER = "lanhdao@motcua.demo"
ADMIN = "admin@motcua.demo"
APPLY = "/procedures/household_business/apply"
STEPS = (  # bpmn id, who, the budget's name, the form
    ("reception_check", DESK, "complete reception POST", {"decision": "accept", "comment": "Đủ"}),
    ("specialist_review", SPECIALIST, "complete specialist POST", {"decision": "approve", "registration_number": "1"}),
    ("leader_approval", LEADER, "complete leader POST", {"decision": "approve"}),
    ("return_result", DESK, "complete return POST", {"delivery_method": "online", "fee_paid": "y"}),
)


class Budgets:
    """Counts requests against BUDGETS; all the pages over budget are reported together at the end. With
    `counting=False` the requests are only made (a warm-up)."""

    def __init__(self, counting: bool = True) -> None:
        self.counting = counting
        self.measured: dict[str, int] = {}  # the largest count of each name
        self.total = 0  # of every counted request
        self.over: list[str] = []

    def count(self, name: str, request: Callable[[], TestResponse], expect: int = 200) -> TestResponse:
        if not self.counting:
            response = request()
        else:
            with count_statements() as counted:
                response = request()
            self.measured[name] = max(counted.count, self.measured.get(name, 0))
            self.total += counted.count
            if counted.count > BUDGETS[name]:
                self.over.append(f"{name}: {counted.count} statements, budget {BUDGETS[name]}:\n{counted.report()}")
        assert response.status_code == expect, f"{name}: {response.status_code} {response.get_data(as_text=True)[:500]}"
        return response

    def page(self, name: str, client: FlaskClient, url: str, **headers: str) -> TestResponse:
        """Warm the page with one request, then count the next."""
        assert client.get(url, headers=headers).status_code == 200, name
        return self.count(name, lambda: client.get(url, headers=headers))

    def check(self) -> None:
        print("\nstatements:", self.measured)  # shown with -s, to update the table
        assert not self.over, "\n\n".join(self.over)


def signed_in(app: Flask, who: str) -> FlaskClient:
    client = app.test_client()
    login(client, who)
    return client


def token_in(response: TestResponse) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', response.get_data(as_text=True))
    assert match, "no CSRF token"
    return match.group(1)


def lifecycle(officers: dict[str, FlaskClient], citizen: FlaskClient, budgets: Budgets) -> Dossier:
    """The citizen applies with a file (without JavaScript: sent with the form), then the desk claims and accepts,
    the specialist and the leader approve, the desk returns the result."""
    token = token_in(budgets.count("apply form", lambda: citizen.get(APPLY)))
    data = {**household(), "csrf_token": token, "documents__upload": (BytesIO(PDF), "giay-de-nghi.pdf")}
    sent = budgets.count(
        "apply POST", lambda: citizen.post(APPLY, data=data, content_type="multipart/form-data"), expect=302
    )
    found = re.search(r"/my/dossiers/(\d+)/receipt", sent.headers["Location"])
    assert found
    dossier = db.session.get(Dossier, int(found.group(1)))
    assert dossier is not None
    for bpmn_id, who, name, form in STEPS:
        officer, url = officers[who], f"/inbox/tasks/{open_task(dossier, bpmn_id).id}"
        token = token_in(budgets.count("task page", partial(officer.get, url)))
        if bpmn_id == "reception_check":
            budgets.count("claim POST", partial(officer.post, f"{url}/claim", data={"csrf_token": token}), expect=302)
        budgets.count(name, partial(officer.post, url, data={"csrf_token": token, **form}), expect=302)
    db.session.refresh(dossier)
    assert dossier.status == Status.RETURNED
    return dossier


def test_the_lifecycle_and_the_citizens_pages_keep_their_budgets(demo: Flask) -> None:
    budgets = Budgets()
    citizen = signed_in(demo, CITIZEN)
    officers = {who: signed_in(demo, who) for who in (DESK, SPECIALIST, LEADER)}
    lifecycle(officers, citizen, Budgets(counting=False))  # the warm-up: every step once
    dossier = lifecycle(officers, citizen, budgets)
    budgets.measured["lifecycle"] = budgets.total
    if budgets.total > BUDGETS["lifecycle"]:
        budgets.over.append(f"lifecycle: {budgets.total} statements, budget {BUDGETS['lifecycle']}")

    budgets.page("my dossiers", citizen, "/my/dossiers")
    budgets.page("my dossier page", citizen, f"/my/dossiers/{dossier.id}")
    budgets.page("officer dossier page", officers[DESK], f"/inbox/dossiers/{dossier.id}")

    visitor = demo.test_client()
    token = csrf(visitor, "/track")
    form = {"csrf_token": token, "code": dossier.code, "secret": dossier.tracking_secret}
    assert visitor.post("/track", data=form).status_code == 200
    budgets.count("tracking POST", lambda: visitor.post("/track", data=form))
    budgets.check()


def test_the_pages_keep_their_budgets(demo: Flask) -> None:
    """Every list shows a few rows: new, overdue, waiting for the citizen, in process and finished dossiers."""
    week_ago = utcnow() - timedelta(days=7)
    dossiers = [new_dossier("Quán cũ", when=week_ago), new_dossier("Quán mới"), new_dossier("Quán thứ ba")]
    asked, accepted, done = new_dossier("Quán thiếu giấy"), new_dossier("Quán nhận"), new_dossier("Quán xong")
    now = utcnow()
    do(asked, "reception_check", DESK, {"decision": "supplement", "reason": "Thiếu hợp đồng thuê nhà"}, now)
    do(accepted, "reception_check", DESK, {"decision": "accept"}, now)
    do(done, "reception_check", DESK, {"decision": "accept"}, now)
    do(done, "specialist_review", SPECIALIST, {"decision": "approve"}, now)
    do(done, "leader_approval", LEADER, {"decision": "approve"}, now)
    do(done, "return_result", DESK, {"delivery_method": "online", "fee_paid": True}, now)
    budgets = Budgets()

    visitor = demo.test_client()
    budgets.page("home", visitor, "/")
    budgets.page("catalogue", visitor, "/procedures")
    budgets.page("procedure page", visitor, "/procedures/household_business")
    budgets.page("statistics", visitor, "/statistics")
    login(visitor, CITIZEN)  # the warm-up
    logout(visitor)
    token = csrf(visitor, "/login")
    form = {"identifier": CITIZEN, "password": "MotCua@2026", "csrf_token": token}
    budgets.count("login POST", lambda: visitor.post("/login", data=form), expect=302)

    desk = signed_in(demo, DESK)
    budgets.page("inbox", desk, "/inbox/")
    for tab in ("new", "in_process", "supplement", "due_soon", "overdue", "finished"):
        budgets.page(f"inbox tab {tab}", desk, f"/inbox/?tab={tab}")
    budgets.page("task page", desk, f"/inbox/tasks/{open_task(dossiers[0], 'reception_check').id}")
    leader = signed_in(demo, LEADER)
    budgets.page("inbox tab agency (leader)", leader, "/inbox/?tab=agency")
    budgets.page("ioc today", leader, "/ioc/")
    budgets.page("ioc period", leader, "/ioc/figures")
    admin = signed_in(demo, ADMIN)
    budgets.page("admin procedures", admin, "/admin/procedures")
    budgets.page("admin people", admin, "/admin/people")

    api = demo.test_client()
    reader = make_token(["dossiers:read"], agencies=[COMMUNE])
    budgets.page("api dossier GET", api, f"/api/v1/dossiers/{accepted.code}", **bearer(reader))
    actor = make_token(["tasks:act", "dossiers:read"], agencies=[COMMUNE], group_ids=[group("reception").id])
    budgets.page("api tasks GET", api, "/api/v1/tasks", **bearer(actor))
    filer = make_token(["dossiers:submit", "dossiers:read"], agencies=[COMMUNE])
    assert api_submit(api, filer, submission(), key="warm").status_code == 201
    budgets.count("api dossiers POST", lambda: api_submit(api, filer, submission(), key="counted"), expect=201)
    budgets.check()


def counts(request: Callable[[], TestResponse]) -> int:
    assert request().status_code == 200  # warm
    with count_statements() as counted:
        assert request().status_code == 200
    return counted.count


def test_the_inbox_and_my_dossiers_do_not_grow_with_their_rows(demo: Flask) -> None:
    desk, citizen = signed_in(demo, DESK), signed_in(demo, CITIZEN)

    made: list[Dossier] = []

    def add(count: int) -> None:
        """`count` new dossiers of the citizen, waiting at the desk, and one accepted (in process)."""
        more = [new_dossier(f"Quán số {len(made) + n}") for n in range(count + 1)]
        do(more[0], "reception_check", DESK, {"decision": "accept"}, utcnow())
        made.extend(more)

    add(3)
    inbox_few, mine_few = counts(lambda: desk.get("/inbox/")), counts(lambda: citizen.get("/my/dossiers"))
    add(12)
    inbox_many, mine_many = counts(lambda: desk.get("/inbox/")), counts(lambda: citizen.get("/my/dossiers"))
    inbox, mine = desk.get("/inbox/").get_data(as_text=True), citizen.get("/my/dossiers").get_data(as_text=True)
    assert sum(d.code in inbox for d in made) == 15  # all on the first page
    assert all(d.code in mine for d in made)

    assert inbox_many == inbox_few, f"the inbox: {inbox_few} statements with 3 waiting tasks, {inbox_many} with 15"
    assert mine_many == mine_few, f"my dossiers: {mine_few} statements with 4 dossiers, {mine_many} with 17"
