"""Forms of the administration pages (CSRF on every one that changes something)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired, MultipleFileField
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # new in WTForms 3.3; stubs are 3.2
from wtforms.validators import Email, InputRequired, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from forms.base import PortalForm
from forms.validators import Length, NumberRange
from portal.core.filter_forms import TOO_LONG, FilterDateField, FilterForm
from portal.core.presentation import SERVICE_LEVEL_LABELS
from portal.models import SERVICE_LEVELS

REQUIRED = _l("This field is required.")
ROLE_CODE = r"^[A-Za-z_][A-Za-z0-9_-]{0,59}$"


def options(pairs: list[tuple]) -> list[SelectChoice]:
    """SelectField choices (WTForms 3.3 deprecates plain tuples)."""
    return [SelectChoice(value, label) for value, label in pairs]


def _required() -> InputRequired:
    return InputRequired(message=REQUIRED)


class ActionForm(PortalForm):
    """A button that changes something (publish, retire, deactivate…): only the CSRF token."""


class UploadForm(PortalForm):
    bpmn = FileField(_l("BPMN file (.bpmn)"), validators=[FileRequired(message=REQUIRED)])
    dmn = MultipleFileField(_l("Decision tables (.dmn), optional"))
    agency = SelectField(_l("Handling agency"), choices=[], validate_choice=True)


class DmnUploadForm(PortalForm):
    dmn = MultipleFileField(_l("Decision tables (.dmn)"), validators=[FileRequired(message=REQUIRED)])


class CatalogueForm(PortalForm):
    code = StringField(_l("Code in the national catalogue"), validators=[_required(), Length(max=40)])
    name = StringField(_l("Name (Vietnamese)"), validators=[_required(), Length(max=500)])
    name_en = StringField(_l("Name (English)"), validators=[Optional(), Length(max=500)])
    field = StringField(_l("Field"), validators=[Optional(), Length(max=255)])
    agency_id = SelectField(_l("Handling agency"), coerce=int, choices=[])
    service_level = SelectField(
        _l("Service level"), choices=options([(level, SERVICE_LEVEL_LABELS[level]) for level in SERVICE_LEVELS])
    )
    deadline = StringField(
        _l("Legal deadline"),
        description=_l("same-day, a number of days (15d) or of hours (4h)"),
        validators=[_required(), Length(max=20)],
    )
    deadline_kind = SelectField(
        _l("Deadline counted in"), choices=options([("working", _l("working time")), ("calendar", _l("calendar time"))])
    )
    fee = IntegerField(_l("Fee (VND)"), validators=[_required(), NumberRange(min=0, max=10**12)])
    documents = TextAreaField(
        _l("Required documents"), description=_l("One document a line."), validators=[Optional(), Length(max=5000)]
    )
    published = BooleanField(_l("Shown in the catalogue"))


class AgencyForm(PortalForm):
    code = StringField(
        _l("Unit code"),
        validators=[
            _required(),
            Length(max=40),
            Regexp(r"^[A-Za-z0-9.\-]+$", message=_l("Letters, digits, dots and hyphens only.")),
        ],
    )
    name = StringField(_l("Name (Vietnamese)"), validators=[_required(), Length(max=255)])
    name_en = StringField(_l("Name (English)"), validators=[Optional(), Length(max=255)])
    level = SelectField(_l("Level"), choices=options([("province", _l("Province")), ("commune", _l("Commune"))]))
    parent_id = SelectField(_l("Parent agency"), coerce=int, choices=[])


class DepartmentForm(PortalForm):
    code = StringField(_l("Code"), validators=[_required(), Length(max=40)])
    name = StringField(_l("Name (Vietnamese)"), validators=[_required(), Length(max=255)])
    name_en = StringField(_l("Name (English)"), validators=[Optional(), Length(max=255)])


class GroupForm(PortalForm):
    role = StringField(
        _l("Role code"),
        description=_l("The lane id or candidateGroups value BPMN steps use, e.g. reception"),
        validators=[_required(), Regexp(ROLE_CODE, message=_l("Letters, digits, _ and -, starting with a letter."))],
    )
    name = StringField(_l("Name (Vietnamese)"), validators=[_required(), Length(max=255)])
    name_en = StringField(_l("Name (English)"), validators=[Optional(), Length(max=255)])
    department_id = SelectField(_l("Department"), coerce=int, choices=[])
    is_leadership = BooleanField(_l("Leadership group (sees the unit's figures)"))


class PersonForm(PortalForm):
    full_name = StringField(_l("Full name"), validators=[_required(), Length(max=255)])
    email = StringField(
        _l("Email"), validators=[_required(), Length(max=255), Email(message=_l("Not a valid email address."))]
    )
    is_admin = BooleanField(_l("Administrator"))


class PersonEditForm(PortalForm):
    full_name = StringField(_l("Full name"), validators=[_required(), Length(max=255)])
    is_admin = BooleanField(_l("Administrator"))


class MembershipForm(PortalForm):
    group_id = SelectField(_l("Group"), coerce=int, choices=[])


class CalendarDayForm(PortalForm):
    agency_id = SelectField(_l("Agency"), coerce=int, choices=[])
    day = DateField(_l("Day"), validators=[_required()])
    kind = SelectField(_l("Kind"), choices=options([("off", _l("Day off")), ("work", _l("Make-up working day"))]))
    note = StringField(_l("Note"), validators=[Optional(), Length(max=255)])


class MappingForm(PortalForm):
    idp = StringField(
        _l("Identity provider"),
        validators=[_required(), Regexp(r"^[a-z0-9_-]{1,40}$", message=_l("a-z, 0-9, - and _ only."))],
    )
    attribute = StringField(_l("Attribute"), validators=[_required(), Length(max=255)])
    value = StringField(_l("Value"), validators=[_required(), Length(max=255)])
    group_id = SelectField(_l("Group"), coerce=int, choices=[])


class AuditFilterForm(FilterForm):
    action = StringField(_l("Action"), validators=[Optional(), Length(max=60, message=TOO_LONG)])
    actor = StringField(_l("Who"), validators=[Optional(), Length(max=255, message=TOO_LONG)])
    since = FilterDateField(_l("From"), validators=[Optional()])
    until = FilterDateField(_l("To"), validators=[Optional()])


class ServiceAccountForm(PortalForm):
    """A new client of the REST API (portal/api/accounts.py); its token is shown once, after saving."""

    name = StringField(_l("Name"), validators=[_required(), Length(max=200)])
    scopes = SelectMultipleField(
        _l("Permissions"),
        choices=[],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validators=[InputRequired(message=_l("Choose at least one permission."))],
    )
    agency_ids = SelectMultipleField(
        _l("Agencies whose dossiers it may read"), coerce=int, choices=[], validators=[Optional()]
    )
    group_ids = SelectMultipleField(
        _l("Groups whose tasks it may act on"), coerce=int, choices=[], validators=[Optional()]
    )
    expires_on = DateField(
        _l("Expires on"), description=_l("Leave empty for a token without expiry."), validators=[Optional()]
    )
