"""Forms of the field-report pages: the report itself, the reporter's confirmation and reopening, the feed's
filters (GET, no CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import MultipleFileField
from wtforms import BooleanField, HiddenField, RadioField, SelectField, StringField, TextAreaField, validators
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # new in WTForms 3.3; stubs are 3.2

from forms.base import PortalForm
from forms.validators import Length
from portal.core.filter_forms import FilterForm, FilterSelectField
from portal.models import Agency, ReportStatus
from portal.reports.labels import CATEGORY_LABELS, STATUS_LABELS
from portal.reports.services import MAX_DESCRIPTION, MAX_REASON

PUBLIC_STATUSES = [code for code in STATUS_LABELS if code != ReportStatus.HIDDEN]


def area_choices(agencies: list[Agency], empty: str) -> list[SelectChoice]:
    return [SelectChoice("", empty)] + [SelectChoice(str(a.id), a.name) for a in agencies]


def _choices(empty: object, labels: dict) -> list[SelectChoice]:
    return [SelectChoice("", empty)] + [SelectChoice(code, label) for code, label in labels.items()]


class ReportForm(PortalForm):
    category = SelectField(
        _l("What is the problem about?"),
        choices=_choices(_l("Choose…"), CATEGORY_LABELS),
        validators=[validators.InputRequired(message=_l("Choose what the problem is about."))],
    )
    description = TextAreaField(
        _l("Describe the problem"),
        description=_l("What you saw, since when, and anything that helps find it (up to 2000 characters)."),
        validators=[validators.InputRequired(message=_l("Please describe the problem.")), Length(max=MAX_DESCRIPTION)],
    )
    photos = MultipleFileField(
        _l("Photos"),
        description=_l("1 to 5 photos (JPEG, PNG or WebP, up to 10 MB each). Location data is removed."),
    )
    latitude = HiddenField()
    longitude = HiddenField()
    address = StringField(
        _l("Address or place"),
        description=_l("For example: in front of 12 Le Loi street. Needed if you do not use your location."),
        validators=[validators.Optional(), Length(max=500)],
    )
    area = SelectField(_l("Ward or commune (optional)"), choices=[], validate_choice=True)
    show_name = BooleanField(
        _l("Show my name with the report on the public pages"),
        description=_l(
            "If you leave this unticked, the public pages do not show who sent the report. "
            "Your phone number and e-mail address are never shown."
        ),
    )


class ConfirmForm(PortalForm):
    rating = RadioField(
        _l("How well was the problem solved?"),
        choices=[SelectChoice(str(n), str(n)) for n in range(1, 6)],
        validators=[validators.InputRequired(message=_l("Choose from 1 to 5 stars."))],
    )


class ReopenForm(PortalForm):
    reason = TextAreaField(
        _l("Why is the problem not solved?"),
        validators=[validators.InputRequired(message=_l("Please give a reason.")), Length(max=MAX_REASON)],
    )


class FeedFilterForm(FilterForm):
    category = FilterSelectField(_l("Topic"), choices=_choices(_l("All topics"), CATEGORY_LABELS))
    status = FilterSelectField(
        _l("Status"), choices=_choices(_l("All statuses"), {c: STATUS_LABELS[c] for c in PUBLIC_STATUSES})
    )
    area = FilterSelectField(_l("Ward or commune"), choices=[])
