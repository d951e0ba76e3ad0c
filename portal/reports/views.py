"""The reporter's pages: send a report (/reports/new), its receipt, one's reports and their answers, confirming
or reopening. Another person's report answers 404, like a missing one."""

from __future__ import annotations

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.core.errors import InvalidInput, ServiceError
from portal.core.storage import StorageUnavailable, send_stored
from portal.core.web import page_arg, put_errors_on, unit_of_work
from portal.extensions import limiter
from portal.models import FieldReport, FieldReportPhoto, PhotoKind
from portal.reports import queries, services
from portal.reports.blueprint import bp
from portal.reports.forms import ConfirmForm, ReopenForm, ReportForm, area_choices
from portal.reports.photos import MAX_PHOTO_BYTES


def _creation_limit() -> str:
    return current_app.config["REPORT_RATE_LIMIT"]


def _reopen_days() -> float:
    return float(current_app.config["REPORT_REOPEN_DAYS"])


@bp.route("/reports/new", methods=["GET", "POST"])
@login_required
@limiter.limit(_creation_limit, methods=["POST"])
def new_report():
    if current_user.kind != "citizen":
        abort(403)
    form = ReportForm()
    form.area.choices = area_choices(queries.areas(), _("I do not know"))
    if not form.is_submitted():
        return _form_page(form)
    if form.validate():
        try:
            with unit_of_work():
                report = services.create_report(current_user, _details(form))
        except InvalidInput as error:
            put_errors_on(form, error)
        except StorageUnavailable:
            current_app.logger.warning("file store unavailable for a field report", exc_info=True)
            form.form_errors.append(_("The photos could not be stored just now. Please try again in a minute."))
            return _form_page(form, 503)
        else:
            return redirect(url_for("reports.receipt", code=report.code))
    return _form_page(form, 422)


def _form_page(form: ReportForm, status: int = 200) -> tuple[Response, int]:
    response = current_app.make_response(render_template("reports/new.html", form=form))
    # The page's own script may ask for the device's position (the portal denies it everywhere else).
    response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(self)"
    return response, status


def _details(form: ReportForm) -> services.ReportDetails:
    area = form.area.data or ""
    return services.ReportDetails(
        category=form.category.data or "",
        description=form.description.data or "",
        address=form.address.data or "",
        position=services.parse_position(form.latitude.data, form.longitude.data),
        area_agency_id=int(area) if area.isdigit() else None,
        show_name=bool(form.show_name.data),
        photos=_posted_photos(),
    )


def _posted_photos() -> list[services.UploadedPhoto]:
    photos = []
    for posted in request.files.getlist("photos")[: services.MAX_PHOTOS + 1]:  # one more is enough to refuse
        if not posted.filename:
            continue  # the empty part a browser sends when no file was chosen
        try:
            photos.append(services.UploadedPhoto(posted.filename, posted.stream.read(MAX_PHOTO_BYTES + 1)))
        finally:
            posted.close()
    return photos


@bp.get("/reports/<code>/receipt")
@login_required
def receipt(code: str):
    return render_template("reports/receipt.html", report=_own_or_404(code))


@bp.get("/my/reports")
@login_required
def my_reports():
    return render_template("reports/mine.html", found=queries.own_reports(current_user, page_arg()))


@bp.get("/my/reports/<code>")
@login_required
def my_report(code: str):
    return _detail_page(_own_or_404(code), ConfirmForm(), ReopenForm())


def _detail_page(report: FieldReport, confirm: ConfirmForm, reopen: ReopenForm, status: int = 200):
    days = _reopen_days()
    page = render_template(
        "reports/my_report.html",
        report=report,
        before=[p for p in report.photos if p.kind == PhotoKind.BEFORE],
        after=[p for p in report.photos if p.kind == PhotoKind.AFTER],
        can_confirm=services.can_confirm(report, current_user),
        can_reopen=services.can_reopen(report, current_user, days),
        reopen_until=services.reopen_until(report, days),
        confirm_form=confirm,
        reopen_form=reopen,
    )
    return page, status


@bp.post("/my/reports/<code>/confirm")
@login_required
def confirm(code: str):
    report = _own_or_404(code)
    form = ConfirmForm()
    if form.validate():
        try:
            with unit_of_work():
                services.confirm_solved(report, current_user, int(form.rating.data or 0))
        except InvalidInput as error:
            put_errors_on(form, error)
        except ServiceError as error:
            flash(error.message, "error")
            return redirect(url_for("reports.my_report", code=code))
        else:
            flash(_("Thank you: the report is closed as solved."), "success")
            return redirect(url_for("reports.my_report", code=code))
    return _detail_page(_own_or_404(code), form, ReopenForm(formdata=None), 422)


@bp.post("/my/reports/<code>/reopen")
@login_required
def reopen(code: str):
    report = _own_or_404(code)
    form = ReopenForm()
    if form.validate():
        try:
            with unit_of_work():
                services.reopen(report, current_user, form.reason.data or "", _reopen_days())
        except InvalidInput as error:
            put_errors_on(form, error)
        except ServiceError as error:
            flash(error.message, "error")
            return redirect(url_for("reports.my_report", code=code))
        else:
            flash(_("The report is reopened; the agency will look at it again."), "success")
            return redirect(url_for("reports.my_report", code=code))
    return _detail_page(_own_or_404(code), ConfirmForm(formdata=None), form, 422)


@bp.get("/my/reports/<code>/photos/<int:photo_id>")
@login_required
def my_photo(code: str, photo_id: int):
    return photo_response(queries.own_photo(current_user, code, photo_id))


def _own_or_404(code: str) -> FieldReport:
    report = queries.own_report(current_user, code)
    if report is None:
        abort(404)  # someone else's report looks like a missing one
    return report


def photo_response(photo: FieldReportPhoto | None) -> Response:
    if photo is None:
        abort(404)
    response = send_stored(photo.storage_key, photo.content_type)
    if response is None:
        abort(404)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Disposition"] = f"inline; filename=photo-{photo.id}.jpg"
    return response
