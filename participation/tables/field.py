"""Field mode for tables de quartier: attendance counted on a mediator's tablet with no
connection (kind "attendance_count"), sent later through `field.services.receive`.

What a field count means (see `models.AttendanceSheet`): one paper sign-in sheet or one head
count of part of the room, *added* to the meeting's paper counts. Two devices' counts for one
meeting both count, and a count arriving after the facilitator typed the paper counts is added
to them: nothing one device sends ever replaces another's. The same count sent twice counts
once (the field receipt, and the sheet's own unique client id for the online form). A
facilitator sees the counts received, with who sent them, and removes a wrong one.

The offline form is `tables_admin.field_count`, marked for the outbox."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..core.users import User
from ..extensions import db
from ..field.registry import Applied, FieldForbidden, FieldRejected, OfflineForm, Submission
from . import access, attendance
from .attendance_forms import parse_sheet, sheet_error_message
from .models import Meeting, MeetingStatus, NeighbourhoodTable

FIELD_KIND = KIND = "attendance_count"
FIELD_FORM_VERSION = FORM_VERSION = 1
#: Meetings offered for offline counting: from a week ago (counts typed up later) to two weeks
#: ahead (a tablet prepared before the meeting).
OFFERED_BEFORE = timedelta(days=7)
OFFERED_AHEAD = timedelta(days=14)


class AttendanceCounts:
    kind = KIND
    label = _l("Attendance counts")
    form_version = FORM_VERSION
    versions = frozenset({FORM_VERSION})

    def apply(self, submission: Submission, user: User) -> Applied:
        meeting = submission.target_row("meeting_id", Meeting)
        if meeting is None or not access.can_take_attendance(user, meeting.table):
            raise FieldForbidden(_("You may not count attendance at this meeting."))
        tallies = parse_sheet(submission.fields, meeting.table)
        if tallies.problems:
            raise FieldRejected(next(iter(tallies.problems.values())), fields=tallies.problems)
        try:
            sheet, created = attendance.add_sheet(meeting, client_id=submission.client_id, total=tallies.total,
                                                  breakdowns=tallies.breakdowns, note=tallies.note, entered_by=user)
        except attendance.AttendanceError as e:
            raise FieldRejected(sheet_error_message(e)) from None
        if not created:
            # Already recorded by the online form with this id (the outbox never sends a receipt twice).
            return Applied(_("This count was already received: nothing was added."), ref=f"{KIND}:{sheet.id}")
        return Applied(
            _("%(table)s, %(day)s: %(count)s people added to the attendance.", table=meeting.table.name,
              day=format_date(meeting.starts_at.date(), "medium"), count=tallies.total),
            ref=f"{KIND}:{sheet.id}",
        )

    def offline_forms(self, user: User) -> list[OfflineForm]:
        now = attendance.local_now()
        meetings = db.session.scalars(
            sa.select(Meeting).join(NeighbourhoodTable)
            .where(Meeting.status != MeetingStatus.cancelled, NeighbourhoodTable.active,
                   Meeting.starts_at >= now - OFFERED_BEFORE, Meeting.starts_at <= now + OFFERED_AHEAD)
            .order_by(Meeting.starts_at, Meeting.id)
        )
        return [
            OfflineForm(kind=KIND, title=meeting.table.name,
                        detail=" · ".join(part for part in (meeting.title, format_date(meeting.starts_at.date(), "medium"))
                                          if part),
                        url=url_for("tables_admin.field_count", meeting_id=meeting.id))
            for meeting in meetings if access.can_take_attendance(user, meeting.table)
        ]


ADAPTER = AttendanceCounts()
