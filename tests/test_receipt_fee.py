"""A receipt is an official document: it states the fee as the fee schedule until the decision table has
computed the amount (household business: 150.000 đ for a capital of 100 million or more, at approval)."""

from __future__ import annotations

import re

from flask import Flask

from portal.extensions import db
from portal.models import Dossier
from tests.helpers import do, vn
from tests.test_citizen_support import apply_token, household, upload_json
from tests.web import login

CITIZEN = "congdan@motcua.demo"
DESK = "tiepnhan@motcua.demo"
SPECIALIST = "dkkd@motcua.demo"
LEADER = "lanhdao@motcua.demo"
EN = {"Cookie": "lang=en"}
SCHEDULE_VI = "Theo biểu phí: 100.000\xa0đ; số tiền chính thức được tính khi phê duyệt."
SCHEDULE_EN = "According to the fee schedule: 100.000\xa0đ; the official amount is calculated on approval."


def _fee(html: str) -> str:
    match = re.search(r"<dt>(?:Fee|Phí, lệ phí)</dt>\s*<dd>(.*?)</dd>", html, re.S)
    assert match, "no fee on the page"
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


def test_the_receipt_does_not_promise_the_catalogue_fee_the_table_will_change(client, demo: Flask) -> None:
    login(client, CITIZEN)
    token = apply_token(client)
    attachment = upload_json(client, token).get_json()["id"]
    form = {**household(str(attachment)), "capital": "250000000", "csrf_token": token}
    response = client.post("/procedures/household_business/apply", data=form)
    assert response.status_code == 302
    receipt = response.headers["Location"]
    dossier_id = int(re.search(r"/my/dossiers/(\d+)/receipt", receipt).group(1))

    assert _fee(client.get(receipt).get_data(as_text=True)) == SCHEDULE_VI
    assert _fee(client.get(receipt, headers=EN).get_data(as_text=True)) == SCHEDULE_EN
    assert _fee(client.get(f"/my/dossiers/{dossier_id}").get_data(as_text=True)) == SCHEDULE_VI

    dossier = db.session.get(Dossier, dossier_id)
    do(dossier, "reception_check", DESK, {"decision": "accept"}, vn(2026, 3, 2, 9, 0))
    slip = client.get(f"/documents/dossiers/{dossier_id}/receipt", headers=EN)  # the desk's printed receipt
    assert slip.status_code == 200
    assert _fee(slip.get_data(as_text=True)) == SCHEDULE_EN

    do(dossier, "specialist_review", SPECIALIST, {"decision": "approve"}, vn(2026, 3, 2, 10, 0))
    do(dossier, "leader_approval", LEADER, {"decision": "approve"}, vn(2026, 3, 2, 11, 0))
    # Approved: the table has computed the amount, and every page states it.
    assert _fee(client.get(receipt).get_data(as_text=True)) == "150.000\xa0đ"
    assert _fee(client.get(f"/documents/dossiers/{dossier_id}/receipt").get_data(as_text=True)) == "150.000\xa0đ"
