"""The API's description: an OpenAPI 3.1 document generated from the code, listing every operation, and its
reference page served by the portal itself (no CDN, scripts only from the portal)."""

from __future__ import annotations

import re

from openapi_spec_validator import OpenAPIV31SpecValidator, validate

API_ONLY = {"api-docs.openapi_json", "api_docs.reference"}  # the description and its page, not operations


def _operations(app) -> set[tuple[str, str]]:
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1") and rule.endpoint not in API_ONLY:
            path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
            found |= {(method.lower(), path) for method in rule.methods - {"HEAD", "OPTIONS"}}
    return found


def test_the_document_is_valid_openapi_3_1_and_lists_every_operation(app, client) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"] == "3.1.0"
    validate(spec, cls=OpenAPIV31SpecValidator)
    documented = {(method, path) for path, item in spec["paths"].items() for method in item if method != "parameters"}
    assert documented == _operations(app)
    assert len(documented) >= 5
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            assert "401" in operation["responses"], path
            assert "application/problem+json" in operation["responses"]["401"]["content"], path
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    listing = spec["paths"]["/api/v1/procedures"]["get"]
    assert {p["name"] for p in listing["parameters"]} == {"cursor", "limit", "If-None-Match"}
    submission = spec["paths"]["/api/v1/dossiers"]["post"]
    assert "Idempotency-Key" in {p["name"] for p in submission["parameters"]}
    assert "application/json" in submission["requestBody"]["content"]


def test_the_reference_page_loads_everything_from_the_portal(app, client) -> None:
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sources
    assert all(s.startswith("/") and not s.startswith("//") for s in sources), sources
    assert "<script>" not in page  # no inline script: the policy keeps script-src 'self'
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy
    assert "style-src 'self';" in policy
    for source in sources:
        if source.startswith("/static/"):
            served = client.get(source)
            assert served.status_code == 200, source
            served.close()
    assert 'data-spec-url="/api/v1/openapi.json"' in page
