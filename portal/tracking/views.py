"""The public tracking page. Rate-limited: the secret is short enough to read off paper, so guessing must be slow."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import StringField, validators

from forms.base import PortalForm
from forms.validators import Length
from portal.citizen.timeline import external_waits, timeline
from portal.extensions import limiter
from portal.tracking.services import find

bp = Blueprint("tracking", __name__)


class TrackingForm(PortalForm):
    code = StringField(
        _l("Dossier code"),
        description=_l("As on your receipt, e.g. 000.00.31.H56-260302-0001."),
        validators=[validators.InputRequired(message=_l("Please enter the dossier code.")), Length(max=60)],
    )
    secret = StringField(
        _l("Tracking secret"),
        description=_l("The short code printed on your receipt under “Tracking secret”."),
        validators=[
            validators.InputRequired(message=_l("Please enter the tracking secret.")),
            Length(max=20),
        ],
    )


def _tracking_limit() -> str:
    return current_app.config["TRACKING_RATE_LIMIT"]


@bp.route("/track", methods=["GET", "POST"])
@limiter.limit(_tracking_limit, methods=["POST"])
def track():
    form = TrackingForm()
    if request.method == "GET" and request.args.get("code"):
        form.code.data = request.args["code"][:60]  # the receipt's link fills in the code, never the secret
    if not form.validate_on_submit():
        status = 422 if form.errors else 200
        return render_template("tracking/track.html", form=form, dossier=None), status
    dossier = find(form.code.data, form.secret.data)
    if dossier is None:
        # One answer for an unknown code and a wrong secret, so neither can be probed.
        form.form_errors.append(_("No dossier matches this code and secret. Check both on your receipt."))
        return render_template("tracking/track.html", form=form, dossier=None), 404
    rows = timeline(dossier, with_notes=False)  # public: no notes, no names, no documents
    waits = external_waits(dossier)
    return render_template("tracking/track.html", form=form, dossier=dossier, rows=rows, external_waits=waits)
