"""Decision tables belong only to the procedures whose business rule tasks use them (seed-demo, admin uploads)."""

from __future__ import annotations

from io import BytesIO

from tests.helpers import COMMUNE, PROCEDURES
from tests.test_admin_support import BAD, EN, as_admin, counts, procedure, upload
from tests.test_citizen_support import multipart
from tests.web import csrf

FEE_TABLE = "household_business_fee.dmn"


def _tables_shown(client, key: str) -> str:
    page = client.get(f"/admin/procedures/{procedure(key).id}", headers=EN).get_data(as_text=True)
    return page.split('id="versions"', 1)[1].split('id="dmn"', 1)[0]


def test_seed_demo_attaches_the_fee_table_only_where_it_is_used(demo, client) -> None:
    as_admin(client)
    assert FEE_TABLE in _tables_shown(client, "household_business")
    assert FEE_TABLE not in _tables_shown(client, "birth_registration")
    assert FEE_TABLE not in _tables_shown(client, "construction_permit")


def test_an_uploaded_table_the_procedure_does_not_use_is_refused(demo, client) -> None:
    as_admin(client)
    before = counts()
    table = (PROCEDURES / FEE_TABLE).read_bytes()
    bpmn = (PROCEDURES / "birth_registration.bpmn").read_bytes()
    response = upload(client, ("birth_registration.bpmn", bpmn), [(FEE_TABLE, table)])
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert FEE_TABLE in page
    assert "no business rule task of this procedure uses a decision of this table" in page
    assert counts() == before

    url = f"/admin/procedures/{procedure('birth_registration').id}"
    refused = client.post(
        f"{url}/dmn",
        data={"csrf_token": csrf(client, url), "dmn": (BytesIO(table), FEE_TABLE)},
        content_type="multipart/form-data",
        headers=EN,
    )
    assert refused.status_code == 422
    assert "no business rule task of this procedure uses a decision of this table" in refused.get_data(as_text=True)
    assert counts() == before
    assert FEE_TABLE not in _tables_shown(client, "birth_registration")

    # The procedure that uses it takes it.
    used = upload(
        client,
        ("household_business.bpmn", (PROCEDURES / "household_business.bpmn").read_bytes()),
        [(FEE_TABLE, table.replace(b"150000", b"160000"))],
    )
    assert used.status_code == 302
    assert procedure("household_business").versions[-1].dmn_files[0]["name"] == FEE_TABLE


def test_problems_name_the_element_and_keep_its_id(demo, client) -> None:
    """An administrator reads which flow is wrong by its name; the id is there for the modeler."""
    as_admin(client)
    typo = (PROCEDURES / "household_business.bpmn").read_bytes()
    wrong = b'name="T\xe1\xbb\xab ch\xe1\xbb\x91i" sourceRef="reception_decision" targetRef="not_accepted">\n'
    assert wrong in typo
    start = typo.index(wrong) + len(wrong)
    typo = typo[:start] + typo[start:].replace(b'decision == "refuse"', b'decsion == "refuse"', 1)
    response = upload(client, ("household_business.bpmn", typo), [(FEE_TABLE, (PROCEDURES / FEE_TABLE).read_bytes())])
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "decsion" in page
    assert "Từ chối (<code>Flow_reception_refuse</code>)" in page

    nameless = (BAD / "condition_typo.bpmn").read_bytes()
    english = upload(client, ("condition_typo.bpmn", nameless)).get_data(as_text=True)
    assert "the flow from gw to refused (<code>f5</code>)" in english
    client.set_cookie("lang", "vi")
    token = csrf(client, "/admin/procedures/upload")
    body, content_type = multipart(
        {"csrf_token": token, "agency": COMMUNE}, [("bpmn", "condition_typo.bpmn", nameless)]
    )
    page = client.post("/admin/procedures/upload", data=body, content_type=content_type).get_data(as_text=True)
    assert "luồng từ gw đến refused (<code>f5</code>)" in page
