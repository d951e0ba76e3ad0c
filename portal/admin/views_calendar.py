"""Working calendars: days off and make-up working days, per agency or province-wide."""

from __future__ import annotations

from datetime import date

from flask import abort, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from portal.admin.access import admin_required
from portal.admin.blueprint import bp
from portal.admin.forms import ActionForm, CalendarDayForm, options
from portal.admin.services import agencies as agency_services
from portal.admin.web import attempt, found, saved
from portal.extensions import db
from portal.models import CalendarException
from portal.sla.services import remove_calendar_day, set_calendar_day


def _days(year: int) -> list[CalendarException]:
    stmt = select(CalendarException).where(CalendarException.year == year).order_by(CalendarException.day)
    return list(db.session.scalars(stmt))


def _form() -> CalendarDayForm:
    form = CalendarDayForm()
    form.agency_id.choices = options([(0, "—")] + [(a.id, f"{a.code} — {a.name}") for a in agency_services.agencies()])
    return form


def _page(form: CalendarDayForm, year: int, status: int = 200):
    names = {a.id: a for a in agency_services.agencies()}
    return render_template(
        "admin/calendar.html", form=form, days=_days(year), year=year, agencies=names, action=ActionForm()
    ), status


@bp.get("/calendar")
@admin_required
def calendar():
    year = request.args.get("year", date.today().year, type=int)
    year = min(max(year, 2000), 2100)
    return _page(_form(), year)


@bp.post("/calendar")
@admin_required
def calendar_add():
    form = _form()
    day = form.day.data
    if form.validate_on_submit() and day is not None:  # the day is required: None means the form is invalid
        agency = found(agency_services.get_agency, form.agency_id.data) if form.agency_id.data else None
        result = attempt(
            lambda: set_calendar_day(agency, day, form.kind.data, form.note.data or None, current_user), form
        )
        if result:
            saved()
            return redirect(url_for("admin.calendar", year=day.year))
    return _page(form, form.day.data.year if form.day.data else date.today().year, 422)


@bp.post("/calendar/<int:day_id>/remove")
@admin_required
def calendar_remove(day_id: int):
    row = db.session.get(CalendarException, day_id)
    if row is None:
        abort(404)
    year = row.year
    if ActionForm().validate_on_submit() and attempt(lambda: remove_calendar_day(row, current_user)):
        saved()
    return redirect(url_for("admin.calendar", year=year))
