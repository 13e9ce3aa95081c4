"""Public pages of tables de quartier: a table, a meeting (agenda, published minutes, the
interpellations to report on), and the meeting as an iCalendar file ("add to my calendar").

Inactive tables are not public (404). Minutes are public only once validated and published;
drafts never appear, not even their existence. Meeting times are local wall-clock times
(Europe/Paris): pages show them in the page's language, the calendar file in UTC.
"""
from __future__ import annotations

from datetime import datetime, timezone

from flask import Response, abort, request, url_for
from flask_babel import format_date, format_time, gettext as _

from ..core.content_i18n import preload
from ..core.htmx import render
from ..core.i18n import current_locale
from ..core.permissions import public
from ..core.templating import language_name, tr
from ..extensions import db
from . import interpellations, services
from .labels import MEETING_STATUSES
from .models import Meeting, MeetingStatus, NeighbourhoodTable
from .views import bp


# --- template helpers ------------------------------------------------------------------------


@bp.app_template_global()
def meeting_day(meeting: Meeting) -> str:
    """e.g. "mardi 1 décembre 2026" / "الثلاثاء، 1 ديسمبر 2026"."""
    return format_date(services.aware(meeting.starts_at), "full")


@bp.app_template_global()
def meeting_hours(meeting: Meeting) -> str:
    start = format_time(services.aware(meeting.starts_at), "short")
    if meeting.ends_at is None:
        return _("from %(start)s", start=start)
    return _("%(start)s to %(end)s", start=start, end=format_time(services.aware(meeting.ends_at), "short"))


@bp.app_template_global()
def meeting_status_label(meeting: Meeting) -> str:
    return str(MEETING_STATUSES[meeting.status])


# --- pages -----------------------------------------------------------------------------------

#: Ids are 32-bit integers in PostgreSQL: a larger one in a URL is simply not found.
MAX_ID = 2**31 - 1


def get_or_404(model, ident: int):
    if not 0 < ident <= MAX_ID:
        abort(404)
    return db.get_or_404(model, ident)



def _active_table(table_id: int) -> NeighbourhoodTable:
    table = get_or_404(NeighbourhoodTable, table_id)
    if not table.active:
        abort(404)
    return table


def _public_meeting(meeting_id: int) -> Meeting:
    meeting = get_or_404(Meeting, meeting_id)
    if not meeting.table.active:
        abort(404)
    return meeting


@bp.get("/t/<int:table_id>")
@public
def table(table_id):
    item = _active_table(table_id)
    now = services.local_now()
    upcoming = services.upcoming(item, now)
    with_minutes = [m for m in services.past(item, now) if services.minutes_public(m)]
    open_items = interpellations.open_for_table(item)
    preload([item, *upcoming, *with_minutes, *open_items], current_locale())
    return render("tables/table.html", table=item, upcoming=upcoming, with_minutes=with_minutes,
                  interpellations=open_items)


@bp.get("/t/m/<int:meeting_id>")
@public
def meeting(meeting_id):
    item = _public_meeting(meeting_id)
    open_items = interpellations.open_for_table(item.table)
    minutes = services.minutes_public(item)
    preload([item.table, item, *item.items, *open_items], current_locale())
    return render("tables/meeting.html", meeting=item, table=item.table, minutes=minutes,
                  interpellations=open_items, is_past=(item.ends_at or item.starts_at) < services.local_now(),
                  interpreted_languages=[(code, language_name(code)) for code in item.interpreted or ()],
                  MeetingStatus=MeetingStatus)


@bp.get("/t/m/<int:meeting_id>.ics")
@public
def meeting_ics(meeting_id):
    item = _public_meeting(meeting_id)
    url = url_for("tables.meeting", meeting_id=item.id, _external=True)
    body = calendar(item, url, host=request.host.split(":")[0] or "participation")
    response = Response(body, mimetype="text/calendar")
    response.charset = "utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="meeting-{item.id}.ics"'
    return response


# --- iCalendar (RFC 5545) ------------------------------------------------------------------


def ics_escape(text: str) -> str:
    """TEXT value escaping: backslash, semicolon, comma, and line breaks as \\n."""
    text = str(text).replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return text.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def fold(line: str) -> str:
    """Lines of at most 75 octets, continued with CRLF + one space, never cutting a UTF-8 character."""
    out, current, size = [], "", 0
    for char in line:
        width = len(char.encode("utf-8"))
        limit = 75 if not out else 74  # a continuation line starts with the space
        if size + width > limit:
            out.append(current)
            current, size = "", 0
        current += char
        size += width
    out.append(current)
    return "\r\n ".join(out)


def _utc(wall_clock: datetime) -> str:
    return services.aware(wall_clock).astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def calendar(meeting: Meeting, url: str, host: str = "participation", now: datetime | None = None) -> str:
    """The meeting as a VCALENDAR with one VEVENT (times in UTC), in the page's language."""
    table = meeting.table
    title = str(tr(meeting, "title")) or str(tr(table, "name"))
    summary = title if title == str(tr(table, "name")) else f"{tr(table, 'name')} — {title}"
    if meeting.status is MeetingStatus.cancelled:
        summary = _("Cancelled: %(title)s", title=summary)
    description = [str(tr(item, "title")) for item in meeting.items]
    if meeting.interpreted:
        description.append(_("Interpretation: %(languages)s",
                             languages=", ".join(language_name(c) for c in meeting.interpreted)))
    if meeting.accessibility:
        description.append(str(tr(meeting, "accessibility")))
    description.append(url)
    location = ", ".join(p for p in (str(tr(meeting, "place")), meeting.address) if p)
    stamp = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    ends_at = meeting.ends_at or services.default_end(meeting.starts_at)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//participation//tables de quartier//FR",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:table-meeting-{meeting.id}@{host}",
        f"DTSTAMP:{stamp}",
        f"DTSTART:{_utc(meeting.starts_at)}",
        f"DTEND:{_utc(ends_at)}",
        f"SUMMARY:{ics_escape(summary)}",
    ]
    if location:
        lines.append(f"LOCATION:{ics_escape(location)}")
    lines += [
        f"DESCRIPTION:{ics_escape(chr(10).join(description))}",
        f"URL:{url}",
        "STATUS:" + {MeetingStatus.cancelled: "CANCELLED"}.get(meeting.status, "CONFIRMED"),
        f"SEQUENCE:{1 if meeting.status is MeetingStatus.cancelled else 0}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "".join(fold(line) + "\r\n" for line in lines)
