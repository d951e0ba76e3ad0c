"""Officers and administrators: accounts, groups, deactivation, password links."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.admin.access import admin_required
from portal.admin.blueprint import bp
from portal.admin.forms import ActionForm, MembershipForm, PersonEditForm, PersonForm, options
from portal.admin.services import agencies as agency_services
from portal.admin.services import people as services
from portal.admin.web import attempt, found, saved, status_code
from portal.catalogue.services import localized
from portal.core.web import page_arg
from portal.models import User


@bp.get("/people")
@admin_required
def people():
    query = request.args.get("q", "")[:100]
    page = page_arg()
    rows, total = services.staff(query, page)
    return render_template(
        "admin/people.html", people=rows, total=total, query=query, page=page, page_size=services.PAGE_SIZE
    )


@bp.route("/people/new", methods=["GET", "POST"])
@admin_required
def person_new():
    form = PersonForm()
    if form.validate_on_submit():
        values = {"full_name": form.full_name.data, "email": form.email.data, "is_admin": form.is_admin.data}
        user = attempt(lambda: services.create_person(values, current_user), form)
        if user:
            flash(
                _("The account is created; a link to choose a password was mailed to %(email)s.", email=user.email),
                "success",
            )
            return redirect(url_for("admin.person", user_id=user.id))
    return render_template("admin/person_new.html", form=form), status_code(form)


def _membership_form() -> MembershipForm:
    form = MembershipForm()
    form.group_id.choices = options(
        [
            (g.id, f"{a.code} — {localized(g)} ({g.role})")
            for a in agency_services.agencies(active_only=True)
            for g in a.groups
            if g.active
        ]
    )
    return form


def _person_page(user: User, form: PersonEditForm, membership_form: MembershipForm, status: int = 200):
    return render_template(
        "admin/person.html", person=user, form=form, membership_form=membership_form, action=ActionForm()
    ), status


@bp.route("/people/<int:user_id>", methods=["GET", "POST"])
@admin_required
def person(user_id: int):
    user = found(services.get_person, user_id)
    form = PersonEditForm(obj=user) if request.method == "GET" else PersonEditForm()
    if form.validate_on_submit():
        values = {"full_name": form.full_name.data, "is_admin": form.is_admin.data}
        if attempt(lambda: services.update_person(user, values, current_user), form):
            saved()
            return redirect(url_for("admin.person", user_id=user.id))
    return _person_page(user, form, _membership_form(), status_code(form))


@bp.post("/people/<int:user_id>/groups")
@admin_required
def person_add_group(user_id: int):
    user = found(services.get_person, user_id)
    form = _membership_form()
    if form.validate_on_submit():
        group = found(agency_services.get_group, form.group_id.data)
        if attempt(lambda: services.add_membership(user, group, current_user), form):
            saved()
            return redirect(url_for("admin.person", user_id=user.id))
    return _person_page(user, PersonEditForm(obj=user, formdata=None), form, 422)


@bp.post("/people/<int:user_id>/groups/<int:membership_id>/remove")
@admin_required
def person_remove_group(user_id: int, membership_id: int):
    user = found(services.get_person, user_id)
    if ActionForm().validate_on_submit() and attempt(
        lambda: services.remove_membership(user, membership_id, current_user)
    ):
        saved()
    return redirect(url_for("admin.person", user_id=user.id))


@bp.post("/people/<int:user_id>/active")
@admin_required
def person_active(user_id: int):
    user = found(services.get_person, user_id)
    active = request.form.get("active") == "1"
    if ActionForm().validate_on_submit() and attempt(lambda: services.set_person_active(user, active, current_user)):
        flash(_("The account is active again.") if active else _("The account is deactivated."), "success")
    return redirect(url_for("admin.person", user_id=user.id))


@bp.post("/people/<int:user_id>/reset")
@admin_required
def person_reset(user_id: int):
    user = found(services.get_person, user_id)
    if ActionForm().validate_on_submit() and attempt(lambda: services.send_reset_link(user, current_user)):
        flash(_("A link to choose a new password was mailed to %(email)s.", email=user.email), "success")
    return redirect(url_for("admin.person", user_id=user.id))
