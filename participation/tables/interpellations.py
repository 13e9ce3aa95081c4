"""A table's interpellations: the table side of the shared follow-up workflow."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import orm

from ..core.territories import Category
from ..extensions import db
from ..followup import services, workflow
from ..followup.models import FollowUp, Kind
from .models import Interpellation, InterpellationLink, InterpellationMeeting, Meeting, NeighbourhoodTable


def open_for_table(table) -> list[FollowUp]:
    """Interpellations of the table still waiting for the institution (to report on at meetings)."""
    return list(db.session.scalars(
        sa.select(FollowUp).join(Interpellation, Interpellation.followup_id == FollowUp.id)
        .where(Interpellation.table_id == table.id, FollowUp.status.in_(workflow.OPEN))
        .order_by(FollowUp.sent_on, FollowUp.id)
    ))


def for_table(table) -> list[FollowUp]:
    """Every interpellation of the table, drafts included (back office), newest first."""
    return list(db.session.scalars(
        sa.select(FollowUp).join(Interpellation, Interpellation.followup_id == FollowUp.id)
        .where(Interpellation.table_id == table.id)
        .order_by(FollowUp.created_at.desc(), FollowUp.id.desc())
    ))


def meeting_links(followup_ids) -> dict[int, list[InterpellationMeeting]]:
    """followup id -> the meetings where it was raised or reported back on (in date order)."""
    ids = list(followup_ids)
    if not ids:
        return {}
    rows = db.session.scalars(
        sa.select(InterpellationMeeting).join(Meeting, Meeting.id == InterpellationMeeting.meeting_id)
        .where(InterpellationMeeting.followup_id.in_(ids))
        .options(orm.contains_eager(InterpellationMeeting.meeting))
        .order_by(Meeting.starts_at, InterpellationMeeting.link)
    )
    out: dict[int, list[InterpellationMeeting]] = {}
    for row in rows:
        out.setdefault(row.followup_id, []).append(row)
    return out


def raise_interpellation(table, title: str, *, body: str = "", institution=None, category_id: int | None = None,
                         meeting: Meeting | None = None, original_locale: str = "fr", user=None) -> FollowUp:
    """A new interpellation of the table (a draft of the shared follow-up), with the meeting
    where it was raised. The institution and the défi must belong to the table's contract."""
    if meeting is not None and meeting.table_id != table.id:
        raise services.FollowUpError("meeting_elsewhere")
    if category_id is not None and db.session.scalar(
        sa.select(Category.contract_id).where(Category.id == category_id)
    ) != table.contract_id:
        raise services.FollowUpError("category_elsewhere")
    item = services.create(Kind.interpellation, table.scope, title, body=body, institution=institution,
                           category_id=category_id, original_locale=original_locale, user=user)
    link = Interpellation(followup_id=item.id, table_id=table.id)
    if meeting is not None:
        link.meetings.append(InterpellationMeeting(meeting_id=meeting.id, link=InterpellationLink.raised))
    db.session.add(link)
    db.session.flush()
    return item


def report_back(interpellation: Interpellation, meeting: Meeting, note: str, *, user=None) -> bool:
    """Record that the table was told where the demand stands, at `meeting` (a dated public
    note on the follow-up). False if that meeting was already recorded for it."""
    if meeting.table_id != interpellation.table_id:
        raise services.FollowUpError("meeting_elsewhere")
    key = (interpellation.followup_id, meeting.id, InterpellationLink.reported)
    exists = db.session.get(InterpellationMeeting, key)
    if exists is not None:
        return False
    interpellation.meetings.append(InterpellationMeeting(meeting_id=meeting.id, link=InterpellationLink.reported))
    services.add_note(interpellation.followup, note, on=meeting.starts_at.date(), user=user)
    db.session.flush()
    return True


def _facilitates(user, followup) -> bool:
    """A facilitator listed on the table that raised this interpellation may move it."""
    from .access import can_manage

    if followup.kind is not Kind.interpellation:
        return False
    table = db.session.scalar(
        sa.select(NeighbourhoodTable).join(Interpellation, Interpellation.table_id == NeighbourhoodTable.id)
        .where(Interpellation.followup_id == followup.id)
    )
    return table is not None and can_manage(user, table)


_registered = False


def register() -> None:
    """Let a table's listed facilitators manage its interpellations on the shared follow-up
    pages (called when the routes are imported; registering twice does nothing)."""
    global _registered
    from ..followup import access as followup_access

    if not _registered:
        followup_access.register_manager_check(_facilitates)
        _registered = True
