"""Agencies, their departments and groups."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.file import FileField, FileRequired
from wtforms import PasswordField

from forms.base import PortalForm
from portal.admin.access import admin_required
from portal.admin.blueprint import bp
from portal.admin.forms import REQUIRED, ActionForm, AgencyForm, DepartmentForm, GroupForm, options
from portal.admin.services import agencies as services
from portal.admin.services import signing_keys
from portal.admin.web import attempt, found, saved, status_code
from portal.documents import signing
from portal.models import Agency


class SigningKeyForm(PortalForm):
    file = FileField(
        _l("Key file (.p12 or .pfx)"),
        description=_l("The agency's private key and certificate, with the certificate chain, as PKCS#12."),
        validators=[FileRequired(message=REQUIRED)],
    )
    password = PasswordField(
        _l("Password of the key file"), description=_l("Used once to open the file; the portal does not keep it.")
    )


def _values(form) -> dict:  # noqa: ANN001
    return {name: form[name].data for name in form.data if name != "csrf_token"}


@bp.get("/agencies")
@admin_required
def agencies():
    return render_template("admin/agencies.html", agencies=services.agencies(), action=ActionForm())


def _agency_form(agency: Agency | None) -> AgencyForm:
    form = AgencyForm(obj=agency) if request.method == "GET" and agency else AgencyForm()
    if request.method == "GET" and agency:
        form.parent_id.data = agency.parent_id or 0
    others = [a for a in services.agencies() if agency is None or a.id != agency.id]
    form.parent_id.choices = options([(0, "—")] + [(a.id, f"{a.code} — {a.name}") for a in others])
    return form


@bp.route("/agencies/new", methods=["GET", "POST"])
@bp.route("/agencies/<int:agency_id>", methods=["GET", "POST"])
@admin_required
def agency(agency_id: int | None = None):
    existing = found(services.get_agency, agency_id) if agency_id else None
    form = _agency_form(existing)
    if form.validate_on_submit():
        saved_agency = attempt(lambda: services.save_agency(existing, _values(form), current_user), form)
        if saved_agency:
            saved()
            return redirect(url_for("admin.agency", agency_id=saved_agency.id))
    return _page(existing, form), status_code(form)


def _page(agency: Agency | None, form: AgencyForm, **forms: PortalForm) -> str:
    """The agency page; `forms` replace the blank department and signing key forms (one shown with errors)."""
    key, keys = signing_keys.keys_of(agency) if agency else (None, [])
    return render_template(
        "admin/agency.html",
        agency=agency,
        form=form,
        department_form=forms.get("department_form") or DepartmentForm(formdata=None),
        key_form=forms.get("key_form") or SigningKeyForm(formdata=None),
        signing_key=key,
        signing_keys=keys,
        file_key=agency is not None and signing.has_file_key(agency.code),
        expiring_days=signing_keys.EXPIRING_DAYS,
        action=ActionForm(),
    )


@bp.post("/agencies/<int:agency_id>/active")
@admin_required
def agency_active(agency_id: int):
    existing = found(services.get_agency, agency_id)
    if ActionForm().validate_on_submit():
        attempt(lambda: services.set_agency_active(existing, request.form.get("active") == "1", current_user))
    return redirect(url_for("admin.agencies"))


@bp.post("/agencies/<int:agency_id>/departments")
@bp.post("/agencies/<int:agency_id>/departments/<int:department_id>")
@admin_required
def department(agency_id: int, department_id: int | None = None):
    existing = found(services.get_agency, agency_id)
    dept = found(services.get_department, existing, department_id) if department_id else None
    form = DepartmentForm()
    if form.validate_on_submit() and attempt(
        lambda: services.save_department(existing, dept, _values(form), current_user), form
    ):
        saved()
        return redirect(url_for("admin.agency", agency_id=agency_id))
    return _page(existing, _agency_form(existing), department_form=form), 422


@bp.post("/agencies/<int:agency_id>/signing-key")
@admin_required
def signing_key(agency_id: int):
    """Install a PKCS#12 as the agency's signing key; refusals (422) say what is wrong, nothing is stored."""
    existing = found(services.get_agency, agency_id)
    form = SigningKeyForm()
    if form.validate_on_submit():
        data = form.file.data.read(signing_keys.MAX_BYTES + 1)  # more than the limit is refused whole
        password = form.password.data or ""
        installed = attempt(lambda: signing_keys.install_key(existing, data, password, current_user), form)
        if installed:
            flash(_("The signing key is installed: documents of this agency are now signed with it."), "success")
            if not signing_keys.key_state(installed).trusted:
                flash(
                    _(
                        "The portal does not trust this certificate's issuer: documents signed with it will not be "
                        "shown as valid on /verify until its root certificate is added to the trust roots."
                    ),
                    "error",
                )
            return redirect(url_for("admin.agency", agency_id=agency_id, _anchor="signing-key"))
        existing = found(services.get_agency, agency_id)  # reloaded: the refused install was rolled back
    return _page(existing, _agency_form(existing), key_form=form), 422


@bp.post("/agencies/<int:agency_id>/departments/<int:department_id>/active")
@admin_required
def department_active(agency_id: int, department_id: int):
    existing = found(services.get_agency, agency_id)
    dept = found(services.get_department, existing, department_id)
    if ActionForm().validate_on_submit():
        attempt(lambda: services.set_department_active(dept, request.form.get("active") == "1", current_user))
    return redirect(url_for("admin.agency", agency_id=agency_id))


@bp.route("/agencies/<int:agency_id>/groups/new", methods=["GET", "POST"])
@bp.route("/agencies/<int:agency_id>/groups/<int:group_id>", methods=["GET", "POST"])
@admin_required
def group(agency_id: int, group_id: int | None = None):
    existing = found(services.get_agency, agency_id)
    grp = found(services.get_group, group_id, existing) if group_id else None
    form = GroupForm(obj=grp) if request.method == "GET" and grp else GroupForm()
    if request.method == "GET" and grp:
        form.department_id.data = grp.department_id or 0
    form.department_id.choices = options([(0, "—")] + [(d.id, d.name) for d in existing.departments if d.active])
    if form.validate_on_submit():
        result = attempt(lambda: services.save_group(existing, grp, _values(form), current_user), form)
        if result:
            saved()
            return redirect(url_for("admin.agency", agency_id=agency_id))
    return render_template("admin/group.html", agency=existing, group=grp, form=form), status_code(form)


@bp.post("/agencies/<int:agency_id>/groups/<int:group_id>/active")
@admin_required
def group_active(agency_id: int, group_id: int):
    existing = found(services.get_agency, agency_id)
    grp = found(services.get_group, group_id, existing)
    if ActionForm().validate_on_submit():
        attempt(lambda: services.set_group_active(grp, request.form.get("active") == "1", current_user))
    return redirect(url_for("admin.agency", agency_id=agency_id))
