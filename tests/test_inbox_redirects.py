"""After the decision form (posted to the task page's #do-step), the address does not keep that fragment."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask

from portal.extensions import db
from tests.helpers import open_task
from tests.test_inbox_pages import DESK, EN, new_dossier, page, signed_in, task_form


def test_a_decision_redirects_to_the_inbox_without_the_form_fragment(demo: Flask) -> None:
    dossier = new_dossier()
    task = open_task(dossier, "reception_check")
    desk = signed_in(demo, DESK)
    token = task_form(desk, task)
    form_page = page(desk.get(f"/inbox/tasks/{task.id}?tab=new"))
    assert f'action="/inbox/tasks/{task.id}?tab=new#do-step"' in form_page  # an error re-render opens at the form

    refused = desk.post(f"/inbox/tasks/{task.id}?tab=new", data={"csrf_token": token, "decision": "refuse"})
    assert refused.status_code == 422  # no reason: the same page again, at the form

    done = desk.post(f"/inbox/tasks/{task.id}?tab=new", data={"csrf_token": token, "decision": "accept"}, headers=EN)
    assert done.status_code == 302
    # Browsers carry the posted URL's #do-step over to a Location without a fragment; this one has its own.
    location = urlsplit(done.headers["Location"])
    assert (location.path, location.query, location.fragment) == ("/inbox/", "tab=new", "main")
    db.session.expire_all()

    again = desk.post(f"/inbox/tasks/{task.id}", data={"csrf_token": token, "decision": "accept"}, headers=EN)
    assert again.status_code == 302
    assert urlsplit(again.headers["Location"]).fragment == "main"
    assert "already handled" in page(desk.get(again.headers["Location"], headers=EN))
