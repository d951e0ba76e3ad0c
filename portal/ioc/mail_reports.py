"""The weekly and monthly email reports to each agency's leaders (the `ioc.reports` Celery beat job).

Each run reports the last period that is over: the week (Monday to Sunday) before the current one, or the month
before the current one. The leaders of an agency (active members of its active leadership groups, with an email
address) get their agency's report; the leaders of a province-level agency get the whole province's. A message
holds the key figures of the printable report (portal/ioc/report.py) beside the previous period's, a link to the
printable report, and the report's tables as XLSX attachments; it is written in the recipient's language.

Messages go through the outbox (portal/notifications/outbox.py): written in a transaction, sent by a worker after
the commit. The outbox row is the record of what was sent: its idempotency key names the report, the period,
the agency and the person, so a run repeated for the same period (a second beat tick, a retried job, a run by
hand) finds the rows and writes nothing, and two runs at the same time cannot both write one (unique key). A
period with nothing to report in it or in the period before is not sent.

The attachment is not stored with the row (the outbox holds text): the worker makes it again from the key when it
sends the message. A period that is over does not change, so it is the table the figures in the text come from.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.catalogue.services import localized
from portal.core.presentation import number
from portal.core.time import utcnow
from portal.core.web import unit_of_work
from portal.extensions import db
from portal.models import Agency, Group, Membership, Notification, User
from portal.models import NotificationChannel as Ch
from portal.notifications.attachments import MailAttachment, register
from portal.notifications.content import Content, locale_of, portal_link
from portal.notifications.outbox import notify
from portal.stats.export import XLSX_MIMETYPE, file_name, to_xlsx
from portal.stats.figures import BadPeriod, Period

from . import report as service
from .access import LeaderScope

log = logging.getLogger(__name__)

KIND = "ioc_report"
KINDS = ("week", "month")
_KEY = re.compile(r"^ioc-report\.(?P<kind>week|month)\.(?P<period>[0-9Q.-]+)\.a(?P<agency>\d+)\.u\d+\.")


def period_for(kind: str, today: date) -> Period:
    """The last week or month that is over on `today` (local)."""
    if kind == "week":
        start = today - timedelta(days=today.weekday() + 7)
        return Period.custom(start, start + timedelta(days=6))
    if kind == "month":
        before = today.replace(day=1) - timedelta(days=1)
        return Period.month(before.year, before.month)
    raise ValueError(f"unknown report kind {kind!r}")


def report_key(kind: str, period: Period, agency_id: int) -> str:
    """The outbox key of one report (the outbox adds `.u<user id>.<channel>`)."""
    return f"ioc-report.{kind}.{period.key}.a{agency_id}"


def _period_from_key(kind: str, text: str) -> Period:
    if kind == "week":
        start, _sep, end = text.partition("..")
        return Period.custom(date.fromisoformat(start), date.fromisoformat(end))
    return Period.parse(text)


def leaders_by_agency() -> dict[int, list[int]]:
    """Active agencies → the ids of their leaders who can be mailed."""
    rows = db.session.execute(
        select(Group.agency_id, User.id)
        .join(Membership, Membership.group_id == Group.id)
        .join(User, User.id == Membership.user_id)
        .join(Agency, Agency.id == Group.agency_id)
        .where(
            Agency.active,
            Group.active,
            Group.is_leadership,
            User.active,
            User.kind == "officer",
            User.email.is_not(None),
            User.email != "",
        )
        .distinct()
        .order_by(Group.agency_id, User.id)
    )
    out: dict[int, list[int]] = defaultdict(list)
    for agency_id, user_id in rows:
        out[int(agency_id)].append(int(user_id))
    return dict(out)


@dataclass(frozen=True)
class Summary:
    kind: str
    period: Period
    agency_id: int
    current: service.Counts
    previous: service.Counts


def send_reports(kind: str, now: datetime | None = None) -> int:
    """One run: write every report of the last `kind` period not written yet. Returns the messages written."""
    if kind not in KINDS:
        raise ValueError(f"unknown report kind {kind!r}")
    now = now or utcnow()
    period = period_for(kind, service.local_today(now))
    plan = leaders_by_agency()
    written = 0
    for agency_id, user_ids in plan.items():
        key = report_key(kind, period, agency_id)
        wanted = {f"{key}.u{user_id}.{Ch.EMAIL}": user_id for user_id in user_ids}
        done = set(
            db.session.scalars(select(Notification.idempotency_key).where(Notification.idempotency_key.in_(wanted)))
        )
        todo = [user_id for full_key, user_id in wanted.items() if full_key not in done]
        if not todo:
            continue
        agency = db.session.get(Agency, agency_id)
        if agency is None:
            continue
        scope = service.scope_for(agency)
        current = service.totals(scope, period, now)
        previous = service.totals(scope, period.previous(), now)
        if current.empty and previous.empty:
            continue
        summary = Summary(kind, period, agency_id, current, previous)
        db.session.rollback()  # end the reads; each message gets its own transaction
        for user_id in todo:
            try:
                with unit_of_work():
                    written += _write(user_id, summary, key)
            except IntegrityError:  # another run wrote this one first (and its transaction was rolled back)
                continue
    db.session.rollback()
    return written


def _write(user_id: int, summary: Summary, key: str) -> int:
    user = db.session.get(User, user_id)
    agency = db.session.get(Agency, summary.agency_id)
    if user is None or agency is None:
        return 0
    rows = notify(user, KIND, lambda: content(summary, agency), channels=(Ch.EMAIL,), key=key)
    db.session.flush()  # a duplicate key fails here, inside the unit of work
    return len(rows)


# -- what it says ----------------------------------------------------------------------------------------


def report_link(period: Period, agency: Agency) -> str:
    args: dict[str, object] = {}
    if period.kind == "custom":
        args.update(since=period.start.isoformat(), until=period.end.isoformat())
    else:
        args["period"] = period.key
    if agency.level != "province":
        args["agency"] = agency.id
    return portal_link("ioc.report", **args)


def _signed(value: float) -> str:
    if not value:
        return "±0"
    return ("+" if value > 0 else "−") + number(abs(value))


def compare(value: int, before: int) -> str:
    return _(
        "%(value)s (previous period: %(before)s; %(change)s)",
        value=number(value),
        before=number(before),
        change=_signed(value - before),
    )


def _pct(share: float | None) -> str:
    return "–" if share is None else f"{number(round(share * 100, 1))} %"


def compare_share(value: float | None, before: float | None) -> str:
    if value is None or before is None:
        change = "–"
    else:
        change = _("%(n)s percentage points", n=_signed(round((value - before) * 100, 1)))
    return _(
        "%(value)s (previous period: %(before)s; %(change)s)", value=_pct(value), before=_pct(before), change=change
    )


def scope_label(agency: Agency) -> str:
    if agency.level == "province":
        return _("%(province)s (every agency)", province=localized(agency))
    return localized(agency)


def content(summary: Summary, agency: Agency) -> Content:
    """The message, in the language that is current (the outbox renders it in the recipient's)."""
    period, cur, prev = summary.period, summary.current, summary.previous
    title = service.period_title(period)
    who = scope_label(agency)
    if summary.kind == "week":
        subject = _("Weekly report, %(period)s: %(scope)s", period=service.period_span(period), scope=who)
    else:
        subject = _("Monthly report, %(period)s: %(scope)s", period=title, scope=who)
    return Content(
        subject=subject,
        paragraphs=[
            _(
                "The key figures of %(scope)s for %(period)s, beside those of the period before (%(previous)s).",
                scope=who,
                period=service.period_span(period),
                previous=service.period_span(period.previous()),
            ),
            _("The report's tables are attached as a spreadsheet; the printable report is at the link below."),
        ],
        facts=[
            (_("Newly received"), compare(cur.received_new, prev.received_new)),
            (_("of which online"), compare(cur.received_online, prev.received_online)),
            (_("Carried over from the previous period"), compare(cur.carried_over, prev.carried_over)),
            (_("Handled in the period"), compare(cur.finished, prev.finished)),
            (_("Handled late"), compare(cur.finished_late, prev.finished_late)),
            (_("On-time rate"), compare_share(cur.on_time_share, prev.on_time_share)),
            (_("Being handled at the end of the period"), compare(cur.open_end, prev.open_end)),
            (_("of which overdue"), compare(cur.open_overdue, prev.open_overdue)),
            (
                _("Not accepted or stopped"),
                compare(
                    cur.not_accepted + cur.refused_at_reception + cur.stopped,
                    prev.not_accepted + prev.refused_at_reception + prev.stopped,
                ),
            ),
            (
                _("Withdrawn by the applicant"),
                compare(
                    cur.withdrawn + cur.withdrawn_before_reception, prev.withdrawn + prev.withdrawn_before_reception
                ),
            ),
            (_("Satisfaction rate"), compare_share(cur.satisfaction_share, prev.satisfaction_share)),
        ],
        links=[(_("Printable report"), report_link(period, agency))],
        summary=subject,
    )


# -- the attachment, made again when the message is sent -----------------------------------------------------


def attachments(row: Notification) -> list[MailAttachment]:
    match = _KEY.match(row.idempotency_key)
    if match is None:
        return []
    try:
        period = _period_from_key(match["kind"], match["period"])
    except (BadPeriod, ValueError):
        log.warning("report message %s names no period it can be made for", row.id)
        return []
    agency = db.session.get(Agency, int(match["agency"]))
    if agency is None:
        return []
    scope: LeaderScope = service.scope_for(agency)
    with force_locale(locale_of(row.user)):
        report = service.build_report(scope, period, utcnow())
        tables = service.report_tables(report)
        return [MailAttachment(file_name(t, period.key, "xlsx"), XLSX_MIMETYPE, to_xlsx(t)) for t in tables.values()]


register(KIND, attachments)
