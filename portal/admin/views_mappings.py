"""The SSO role mapping table: identity-provider attribute value → group."""

from __future__ import annotations

from flask import redirect, render_template, url_for
from flask_login import current_user

from portal.admin.access import admin_required
from portal.admin.blueprint import bp
from portal.admin.forms import ActionForm, MappingForm, options
from portal.admin.services import agencies as agency_services
from portal.admin.services import mappings as services
from portal.admin.web import attempt, found, saved


def _form() -> MappingForm:
    form = MappingForm()
    form.group_id.choices = options(
        [
            (g.id, f"{a.code} — {g.name} ({g.role})")
            for a in agency_services.agencies(active_only=True)
            for g in a.groups
            if g.active
        ]
    )
    return form


def _page(form: MappingForm, status: int = 200):
    return render_template(
        "admin/mappings.html", form=form, mappings=services.mappings(), idps=services.idp_names(), action=ActionForm()
    ), status


@bp.get("/role-mappings")
@admin_required
def mappings():
    return _page(_form())


@bp.post("/role-mappings")
@admin_required
def mapping_add():
    form = _form()
    if form.validate_on_submit():
        values = {name: form[name].data for name in ("idp", "attribute", "value", "group_id")}
        if attempt(lambda: services.add_mapping(values, current_user), form):
            saved()
            return redirect(url_for("admin.mappings"))
    return _page(form, 422)


@bp.post("/role-mappings/<int:mapping_id>/remove")
@admin_required
def mapping_remove(mapping_id: int):
    mapping = found(services.get_mapping, mapping_id)
    if ActionForm().validate_on_submit() and attempt(lambda: services.remove_mapping(mapping, current_user)):
        saved()
    return redirect(url_for("admin.mappings"))
