"""The form that registers a webhook endpoint (CSRF through PortalForm)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectMultipleField, StringField
from wtforms.validators import URL, InputRequired, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from forms.base import PortalForm
from forms.validators import Length
from portal.admin.forms import REQUIRED


class WebhookForm(PortalForm):
    url = StringField(
        _l("Address (URL)"),
        validators=[
            InputRequired(message=REQUIRED),
            Length(max=500),
            URL(require_tld=False, message=_l("Enter an http:// or https:// address.")),
        ],
    )
    description = StringField(_l("Description"), validators=[Optional(), Length(max=255)])
    events = SelectMultipleField(
        _l("Events"),
        validators=[InputRequired(message=_l("Choose at least one event."))],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )

    def validate_url(self, field: StringField) -> None:
        from wtforms.validators import ValidationError

        if not (field.data or "").lower().startswith(("http://", "https://")):
            raise ValidationError(_l("Enter an http:// or https:// address."))
