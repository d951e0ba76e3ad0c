"""The operations of REST API v1 (/api/v1/…). Thin: arguments are checked by flask-smorest, loading is in
queries.py, each answer is serialised through its schema (which the OpenAPI document shows)."""

from __future__ import annotations

from typing import Any

from flask import jsonify, url_for
from flask_babel import gettext as _
from flask_smorest import Blueprint
from marshmallow import RAISE

from portal.api import queries, submissions
from portal.api.auth import add_etag, authenticate, current_account, note_call, requires
from portal.api.form_schema import form_schema
from portal.api.idempotency import IDEMPOTENCY_KEY, answer_once
from portal.api.problems import ApiProblem
from portal.api.schemas import (
    DossierSchema,
    PageArgs,
    ProblemSchema,
    ProcedureDetailSchema,
    ProcedurePageSchema,
    StatisticsSchema,
    SubmissionSchema,
)
from portal.catalogue.services import localized
from portal.models import Procedure

blp = Blueprint(
    "api",
    __name__,
    url_prefix="/api/v1",
    description="MotCua REST API v1: catalogue, forms, dossiers, statistics",
)
blp.before_request(authenticate)
# after_request functions run in reverse order: the ETag first (it may turn a 200 into a 304), then the audit
# line, which so records the status the client got.
blp.after_request(note_call)
blp.after_request(add_etag)

# Documented on every operation: the problems any of them may answer.
COMMON_ERRORS = {
    401: "no usable token",
    403: "the account lacks the operation's scope",
    422: "invalid arguments (one `errors` entry per field)",
    429: "the account's rate limit; see Retry-After",
}


def documented(*extra: int) -> Any:
    """Problem answers (and 304) in the operation's documentation."""
    responses: dict[int | str, Any] = {
        code: {"description": text, "content": {"application/problem+json": {"schema": ProblemSchema}}}
        for code, text in COMMON_ERRORS.items()
    }
    for code in extra:
        responses[code] = {
            "description": "not found" if code == 404 else "see detail",
            "content": {"application/problem+json": {"schema": ProblemSchema}},
        }
    responses[304] = {"description": "not modified (If-None-Match matched the ETag)"}
    return blp.doc(responses=responses)  # If-None-Match itself: portal/api/__init__.py ConditionalGets


def _procedure(p: Procedure) -> dict[str, Any]:
    return {
        "key": p.key,
        "code": p.code,
        "name": p.name,
        "name_en": p.name_en,
        "field": p.field,
        "agency": {"code": p.agency.code, "name": p.agency.name},
        "service_level": p.service_level,
        "deadline": p.deadline,
        "deadline_kind": p.deadline_kind,
        "fee": p.fee,
        "accepts_applications": p.service_level != "public_service",
    }


@blp.route("/procedures")
@requires("catalogue:read")
@blp.arguments(
    PageArgs, location="query", as_kwargs=True, unknown=RAISE
)  # webargs ignores unknown query keys by default
@blp.response(200, ProcedurePageSchema)
@documented()
def procedures(limit: int, cursor: str | None = None):
    """The catalogue: published procedures, a page at a time (cursor pagination)."""
    page = queries.catalogue_page(cursor, limit)
    return {"items": [_procedure(p) for p in page.items], "next_cursor": page.next_cursor}


@blp.route("/procedures/<code>")
@requires("catalogue:read")
@blp.response(200, ProcedureDetailSchema)
@documented(404, 409)
def procedure(code: str):
    """One procedure: its facts, documents to attach, and the steps of its published version."""
    found = queries.published_procedure(code)
    version = queries.published_version(found)
    steps = []
    if version is not None:
        steps = [{"id": s.id, "name": localized(s), "role": s.role} for s in queries.model_of(version).steps.values()]
    return {
        **_procedure(found),
        "accepts_applications": version is not None and found.service_level != "public_service",
        "documents": [str(d) for d in (found.documents or [])],
        "version": version.number if version else None,
        "published_at": version.published_at if version else None,
        "steps": steps,
    }


@blp.route("/procedures/<code>/form")
@requires("catalogue:read")
@blp.response(200, {"type": "object", "description": "JSON Schema (draft 2020-12) of the application form"})
@documented(404, 409)
def procedure_form(code: str):
    """The application form of the procedure's published version, as JSON Schema draft 2020-12."""
    found = queries.published_procedure(code)
    version = queries.published_version(found)
    step = queries.model_of(version).submit_step if version is not None else None
    if version is None or step is None:
        raise ApiProblem(404, None, _("This procedure takes no applications online."))
    schema = form_schema(
        step.form,
        title=localized(found),
        schema_id=url_for("api.procedure_form", code=found.key, _external=True) + f"?version={version.number}",
    )
    return jsonify(schema)


@blp.route("/dossiers/<code>")
@requires("dossiers:read")
@blp.response(200, DossierSchema)
@documented(404)
def dossier(code: str):
    """A dossier's status (1–10), procedure, dates, the steps it waits at, and its documents (no contents).
    Only dossiers of the agencies the account was given; any other code is a 404."""
    return queries.dossier_body(queries.visible_dossier(code, current_account()))


@blp.route("/statistics/<month>")
@requires("stats:read")
@blp.response(200, StatisticsSchema)
@documented(404)
def statistics(month: str):
    """A month's figures (YYYY-MM), the same as the public open data (/open-data/statistics/YYYY-MM.json)."""
    from portal.stats.figures import BadPeriod, Period
    from portal.stats.views import OPEN_DATA_COLUMNS, open_data

    try:
        period = Period.parse(month)
    except BadPeriod:
        period = None
    if period is None or period.kind != "month":
        raise ApiProblem(422, "invalid-input", None, [{"field": "month", "message": _("Write the month as YYYY-MM.")}])
    records, total = open_data(period)
    return {"month": period.key, "fields": list(OPEN_DATA_COLUMNS), "province": total, "rows": records}


@blp.route("/dossiers", methods=["POST"])
@requires("dossiers:submit")
@blp.arguments(SubmissionSchema, location="json", unknown=RAISE)
@blp.response(201, DossierSchema)
@blp.doc(
    parameters=[IDEMPOTENCY_KEY],
    responses={
        code: {"description": text, "content": {"application/problem+json": {"schema": ProblemSchema}}}
        for code, text in {
            **COMMON_ERRORS,
            400: "malformed JSON, or no Idempotency-Key",
            403: "the account lacks dossiers:submit, or may not submit to the procedure's agency",
            404: "no published procedure with this code",
            413: "the body is over the size limit",
            422: "invalid input (one `errors` entry per field), or the key was used for another request",
        }.items()
    },
)
def submit_dossier(body: dict[str, Any]):
    """Submit a dossier for a citizen identified by citizen ID, with its files, exactly once per Idempotency-Key.
    Answers 201 with the dossier (as GET /dossiers/{code}) and its Location; a retry answers the same, with
    `Idempotent-Replayed: true`."""
    account = current_account()

    def work() -> tuple[int, str, str | None]:
        dossier = submissions.submit(account, body)
        return 201, DossierSchema().dumps(queries.dossier_body(dossier)), url_for("api.dossier", code=dossier.code)

    return answer_once(account, body, work)


from portal.api import changes, tasks  # noqa: E402,F401  (their routes join blp)
