"""What the API reads and answers, as marshmallow schemas: flask-smorest validates the arguments with them,
serialises the answers through them, and apispec writes them into the OpenAPI document."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from marshmallow import RAISE, Schema, fields, validate

MAX_PAGE = 100
DEFAULT_PAGE = 20

REQUIRED = {"required": _l("This field is required."), "null": _l("This field may not be empty.")}


class Arguments(Schema):
    """Query arguments: an unknown one is refused (a typo would otherwise be silently ignored)."""

    class Meta:
        unknown = RAISE

    error_messages = {  # noqa: RUF012  (marshmallow reads it as a class attribute)
        "unknown": _l("Unknown field."),
        "type": _l("Invalid input type."),
    }


class PageArgs(Arguments):
    cursor = fields.String(
        metadata={"description": "`next_cursor` of the previous page; absent for the first page"},
        validate=validate.Length(max=200, error=_l("Not a cursor this API gave.")),
        error_messages={"invalid": _l("Not a cursor this API gave.")},
    )
    limit = fields.Integer(
        load_default=DEFAULT_PAGE,
        metadata={"description": f"items per page, 1 to {MAX_PAGE}"},
        validate=validate.Range(min=1, max=MAX_PAGE, error=_l("Must be between {min} and {max}.")),
        error_messages={"invalid": _l("Not a whole number.")},
    )


class AgencySchema(Schema):
    code = fields.String(metadata={"description": "unit code, as in dossier codes"})
    name = fields.String()


class ProcedureSchema(Schema):
    key = fields.String(metadata={"description": "the portal's id of the procedure (its BPMN process id)"})
    code = fields.String(metadata={"description": "national catalogue code"})
    name = fields.String()
    name_en = fields.String(allow_none=True)
    field = fields.String(allow_none=True, metadata={"description": "field (lĩnh vực)"})
    agency = fields.Nested(AgencySchema)
    service_level = fields.String(metadata={"enum": ["public_service", "partial_online", "full_online"]})
    deadline = fields.String(metadata={"description": 'legal deadline: "15d", "4h" or "same-day"'})
    deadline_kind = fields.String(metadata={"enum": ["working", "calendar"]})
    fee = fields.Integer(metadata={"description": "VND"})
    accepts_applications = fields.Boolean()


class StepSchema(Schema):
    id = fields.String()
    name = fields.String()
    role = fields.String(allow_none=True, metadata={"description": "group role, or `applicant`"})


class ProcedureDetailSchema(ProcedureSchema):
    documents = fields.List(fields.String(), metadata={"description": "documents the applicant attaches"})
    version = fields.Integer(allow_none=True, metadata={"description": "number of the published version"})
    published_at = fields.DateTime(allow_none=True)
    steps = fields.List(fields.Nested(StepSchema))


class ProcedurePageSchema(Schema):
    items = fields.List(fields.Nested(ProcedureSchema))
    next_cursor = fields.String(allow_none=True, metadata={"description": "null on the last page"})


class StatusSchema(Schema):
    code = fields.Integer(metadata={"description": "national portal status code, 1 to 10"})
    label = fields.String()


class ProcedureRefSchema(Schema):
    key = fields.String()
    code = fields.String()
    name = fields.String()
    version = fields.Integer()


class CurrentStepSchema(Schema):
    id = fields.String(metadata={"description": "BPMN element id"})
    name = fields.String()
    role = fields.String(metadata={"description": "group role, or `applicant` when the citizen must act"})
    since = fields.DateTime()
    due_at = fields.DateTime(allow_none=True)


class DocumentSchema(Schema):
    id = fields.Integer()
    field = fields.String(allow_none=True)
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer()
    sha256 = fields.String()
    uploaded_at = fields.DateTime()


class DossierSchema(Schema):
    code = fields.String()
    status = fields.Nested(StatusSchema)
    procedure = fields.Nested(ProcedureRefSchema)
    agency = fields.Nested(AgencySchema)
    channel = fields.Integer(metadata={"description": "1 in person, 2 online, 3 by post"})
    created_at = fields.DateTime()
    submitted_at = fields.DateTime(allow_none=True)
    received_at = fields.DateTime(allow_none=True)
    appointment_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)
    returned_at = fields.DateTime(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)
    timeliness = fields.String(allow_none=True, metadata={"enum": ["early", "on_time", "late", None]})
    current_steps = fields.List(fields.Nested(CurrentStepSchema))
    documents = fields.List(fields.Nested(DocumentSchema))


class StatisticsSchema(Schema):
    month = fields.String(metadata={"description": "YYYY-MM"})
    fields_ = fields.List(fields.String(), data_key="fields", attribute="fields")
    province = fields.Dict(metadata={"description": "the province's totals, same fields as a row"})
    rows = fields.List(fields.Dict(), metadata={"description": "one per agency and procedure with figures"})


class ProblemSchema(Schema):
    """RFC 9457 problem details."""

    type = fields.String()
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    errors = fields.List(
        fields.Dict(keys=fields.String(), values=fields.String()),
        metadata={"description": "invalid input only: one {field, message} per bad field"},
    )


class AttachmentInSchema(Schema):
    class Meta:
        unknown = RAISE

    error_messages = Arguments.error_messages

    field = fields.String(
        required=True, error_messages=REQUIRED, metadata={"description": "the form's file field it belongs to"}
    )
    filename = fields.String(
        required=True,
        error_messages=REQUIRED,
        validate=validate.Length(min=1, max=200, error=_l("1 to 200 characters.")),
    )
    content_base64 = fields.String(
        required=True, error_messages=REQUIRED, metadata={"description": "the file (PDF, JPEG, PNG, HEIC), base64"}
    )


class CompletionSchema(Schema):
    """A form's values and files: a step's (POST /tasks/{id}/complete), and the base of a submission."""

    class Meta:
        unknown = RAISE

    error_messages = Arguments.error_messages

    data = fields.Dict(
        keys=fields.String(),
        required=True,
        error_messages={**REQUIRED, "invalid": _l("Invalid input type.")},
        metadata={"description": "the form's values, as its JSON Schema describes them"},
    )
    attachments = fields.List(
        fields.Nested(AttachmentInSchema),
        load_default=list,
        validate=validate.Length(max=30, error=_l("At most {max} files.")),
        error_messages={"invalid": _l("Invalid input type.")},
    )


class SubmissionSchema(CompletionSchema):
    """A dossier for a citizen: the procedure, the citizen's ID, the application form's values
    (/procedures/{code}/form), the files."""

    procedure = fields.String(
        required=True, error_messages=REQUIRED, metadata={"description": "key or national code of the procedure"}
    )
    citizen_id = fields.String(
        required=True,
        error_messages=REQUIRED,
        validate=validate.Regexp(r"^\d{12}$", error=_l("A citizen ID number has 12 digits.")),
        metadata={"description": "the applicant's citizen ID (12 digits); the citizen must have an account"},
    )


# -- tasks (portal/api/tasks.py) ---------------------------------------------------------------------------


class TaskListArgs(PageArgs):
    group = fields.Integer(
        metadata={"description": "one of the account's groups (its id); absent: all of them"},
        error_messages={"invalid": _l("Not a whole number.")},
    )
    assigned = fields.String(
        load_default="anyone",
        validate=validate.OneOf(["anyone", "nobody", "me"], error=_l("Must be one of: {choices}.")),
        metadata={"description": "`nobody`: free to claim; `me`: claimed by this account; `anyone` (default)"},
    )


class TaskStepSchema(Schema):
    id = fields.String(metadata={"description": "BPMN element id"})
    name = fields.String()


class TaskGroupSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    agency = fields.String(metadata={"description": "the agency's unit code"})


class DossierRefSchema(Schema):
    code = fields.String()
    url = fields.String(metadata={"description": "GET it for the dossier's status and documents"})


class ProcedureNameSchema(Schema):
    key = fields.String()
    name = fields.String()


class AssigneeSchema(Schema):
    name = fields.String()
    is_this_account = fields.Boolean(metadata={"description": "true when this account claimed it"})


class TaskSchema(Schema):
    id = fields.Integer()
    state = fields.String(metadata={"enum": ["ready", "completed", "cancelled"]})
    step = fields.Nested(TaskStepSchema)
    role = fields.String(metadata={"description": "the group role the step is for"})
    group = fields.Nested(TaskGroupSchema, allow_none=True)
    dossier = fields.Nested(DossierRefSchema)
    procedure = fields.Nested(ProcedureNameSchema)
    assignee = fields.Nested(AssigneeSchema, allow_none=True, metadata={"description": "null: nobody claimed it"})
    created_at = fields.DateTime()
    due_at = fields.DateTime(allow_none=True)
    completed_at = fields.DateTime(allow_none=True)
    url = fields.String()


class TaskDetailSchema(TaskSchema):
    application = fields.Dict(metadata={"description": "the application form's values (file fields: attachment ids)"})
    form = fields.Dict(
        allow_none=True,
        metadata={"description": "JSON Schema (draft 2020-12) of the step's form while it waits; null after"},
    )


class TaskPageSchema(Schema):
    items = fields.List(fields.Nested(TaskSchema))
    next_cursor = fields.String(allow_none=True, metadata={"description": "null on the last page"})


# -- the dossier change feed (portal/api/changes.py) ---------------------------------------------------------


class ChangesArgs(PageArgs):
    cursor = fields.String(
        metadata={"description": "`next_cursor` of the previous answer; absent: from the beginning"},
        validate=validate.Length(max=200, error=_l("Not a cursor this API gave.")),
        error_messages={"invalid": _l("Not a cursor this API gave.")},
    )


class ChangeSchema(Schema):
    code = fields.String()
    status = fields.Nested(StatusSchema)
    changed_seq = fields.Integer(metadata={"description": "position of the change in the feed (commit order)"})
    url = fields.String(metadata={"description": "the dossier: GET /api/v1/dossiers/{code}"})


class ChangePageSchema(Schema):
    items = fields.List(
        fields.Nested(ChangeSchema),
        metadata={"description": "dossiers changed after the cursor, in the order the changes were committed"},
    )
    next_cursor = fields.String(
        required=True,
        metadata={"description": "never null: keep it and ask again with it (the same as asked when nothing changed)"},
    )
    more = fields.Boolean(metadata={"description": "true: more changes wait; ask again at once"})
