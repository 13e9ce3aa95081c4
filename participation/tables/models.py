"""Tables de quartier: open residents' assemblies, their meetings, anonymous attendance,
minutes per agenda item, and the interpellations they send (followed in `followup`).

Attendance never names anyone. A resident checks in from their own phone (one `CheckIn`,
with an optional anonymous profile), or the facilitator keys the counts of a paper sign-in
sheet (`PaperTally`), or a mediator sends the count of a sheet from a field device
(`AttendanceSheet`, added to the others). To estimate unique vs. repeat participants over a
period, a phone may keep a random attendee token; the server stores only a keyed hash of it per
contract (`attendee_key`), which says "the same phone came again" and nothing about who holds it.
"""
from __future__ import annotations

import enum
import secrets
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.channels import Channel
from ..core.content_i18n import Translatable
from ..core.profiles import AgeBand, Gender
from ..core.territories import Commune, Contract, Neighbourhood, Scope
from ..core.users import User, utcnow
from ..extensions import db
from ..followup.models import FollowUp


def _enum(cls, name):
    return sa.Enum(cls, name=name, native_enum=False, create_constraint=True, length=24)


def new_checkin_key() -> str:
    return secrets.token_urlsafe(12)


table_neighbourhoods = sa.Table(
    "table_neighbourhoods",
    db.metadata,
    sa.Column("table_id", sa.ForeignKey("neighbourhood_tables.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("neighbourhood_id", sa.ForeignKey("neighbourhoods.id", ondelete="CASCADE"), primary_key=True),
)

table_facilitators = sa.Table(
    "table_facilitators",
    db.metadata,
    sa.Column("table_id", sa.ForeignKey("neighbourhood_tables.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("user_id", sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
)


class NeighbourhoodTable(Translatable, db.Model):
    """A table de quartier. It belongs to one or more neighbourhoods; its scope (for roles and
    listings) is the narrowest one covering them all, kept by `services.set_neighbourhoods`."""

    __tablename__ = "neighbourhood_tables"
    __translatable__ = ("name", "description")

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(sa.ForeignKey("contracts.id", ondelete="CASCADE"), index=True)
    commune_id: Mapped[int | None] = mapped_column(sa.ForeignKey("communes.id", ondelete="CASCADE"))
    neighbourhood_id: Mapped[int | None] = mapped_column(sa.ForeignKey("neighbourhoods.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    #: Usual meeting place, offered when a meeting is planned.
    usual_place: Mapped[str] = mapped_column(sa.String(200), default="")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    contract: Mapped[Contract] = relationship()
    commune: Mapped[Commune | None] = relationship()
    neighbourhood: Mapped[Neighbourhood | None] = relationship()
    neighbourhoods: Mapped[list[Neighbourhood]] = relationship(
        secondary=table_neighbourhoods, order_by="Neighbourhood.name"
    )
    #: Staff accounts that run this table (besides facilitators of its scope).
    facilitators: Mapped[list[User]] = relationship(secondary=table_facilitators, order_by="User.name")
    meetings: Mapped[list[Meeting]] = relationship(
        back_populates="table", order_by="Meeting.starts_at", cascade="all, delete-orphan"
    )

    __table_args__ = (sa.CheckConstraint("neighbourhood_id IS NULL OR commune_id IS NOT NULL", name="scope_chain"),)

    @property
    def scope(self) -> Scope:
        return Scope(self.contract_id, self.commune_id, self.neighbourhood_id)

    @property
    def scope_label(self) -> str:
        return (self.neighbourhood or self.commune or self.contract).label


class MeetingStatus(enum.Enum):
    planned = "planned"
    held = "held"
    cancelled = "cancelled"


class MinutesStatus(enum.Enum):
    #: being written
    draft = "draft"
    #: validated by a facilitator: public
    published = "published"


class Meeting(Translatable, db.Model):
    __tablename__ = "table_meetings"
    __translatable__ = ("title", "place", "accessibility")

    id: Mapped[int] = mapped_column(primary_key=True)
    table_id: Mapped[int] = mapped_column(sa.ForeignKey("neighbourhood_tables.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(sa.String(200), default="")
    #: Local wall-clock time of the meeting (the contract's time zone, Europe/Paris).
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime | None]
    place: Mapped[str] = mapped_column(sa.String(200), default="")
    address: Mapped[str] = mapped_column(sa.String(300), default="")
    #: Step-free access, hearing loop, childcare… as free text.
    accessibility: Mapped[str] = mapped_column(sa.Text, default="")
    #: Languages interpreted at the meeting (locale codes, e.g. ["ar", "tr"]).
    interpreted: Mapped[list] = mapped_column(sa.JSON, default=list)
    status: Mapped[MeetingStatus] = mapped_column(_enum(MeetingStatus, "meeting_status"), default=MeetingStatus.planned)
    #: Secret part of the check-in QR shown in the room: the public meeting page alone
    #: does not let anyone check in from home.
    checkin_key: Mapped[str] = mapped_column(sa.String(32), default=new_checkin_key)
    minutes_status: Mapped[MinutesStatus] = mapped_column(
        _enum(MinutesStatus, "minutes_status"), default=MinutesStatus.draft
    )
    minutes_published_on: Mapped[date | None]
    minutes_validated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    table: Mapped[NeighbourhoodTable] = relationship(back_populates="meetings")
    items: Mapped[list[AgendaItem]] = relationship(
        back_populates="meeting", order_by="AgendaItem.position", cascade="all, delete-orphan"
    )
    minutes_validated_by: Mapped[User | None] = relationship()

    __table_args__ = (sa.CheckConstraint("ends_at IS NULL OR ends_at >= starts_at", name="time_order"),)

    @property
    def scope(self) -> Scope:
        return self.table.scope


class AgendaItem(Translatable, db.Model):
    """A point on a meeting's agenda, and its minutes (summary, decisions)."""

    __tablename__ = "table_agenda_items"
    __translatable__ = ("title", "description", "summary", "decisions")

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("table_meetings.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    #: Minutes: what was said.
    summary: Mapped[str] = mapped_column(sa.Text, default="")
    #: Minutes: what was decided.
    decisions: Mapped[str] = mapped_column(sa.Text, default="")

    meeting: Mapped[Meeting] = relationship(back_populates="items")


class CheckIn(db.Model):
    """One resident who checked in from their phone. No name, no time, no address."""

    __tablename__ = "table_checkins"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("table_meetings.id", ondelete="CASCADE"), index=True)
    age_band: Mapped[AgeBand | None] = mapped_column(_enum(AgeBand, "checkin_age_band"))
    gender: Mapped[Gender | None] = mapped_column(_enum(Gender, "checkin_gender"))
    residence_id: Mapped[int | None] = mapped_column(sa.ForeignKey("neighbourhoods.id", ondelete="SET NULL"))
    #: Lives in a neighbourhood that is not one of the table's (residence_id is then empty).
    residence_elsewhere: Mapped[bool] = mapped_column(default=False)
    #: True: first table meeting ever; None: did not say.
    first_time: Mapped[bool | None]
    #: Keyed hash (per contract) of the attendee token kept on the phone, if it kept one.
    attendee_key: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    #: web: on their own phone; assisted: a facilitator checked them in on a tablet.
    channel: Mapped[Channel] = mapped_column(_enum(Channel, "checkin_channel"), default=Channel.web)
    #: Keyed hash of the check-in form's one-time nonce: the same form posted twice at once (a
    #: double tap before the first answer came back) counts once. Random, links to no one.
    nonce_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)

    __table_args__ = (
        #: the same phone counts once per meeting (rows without a token are not constrained)
        sa.UniqueConstraint("meeting_id", "attendee_key"),
        sa.CheckConstraint("NOT (residence_elsewhere AND residence_id IS NOT NULL)", name="one_residence"),
    )


class TallyDimension(enum.Enum):
    total = "total"
    age_band = "age_band"
    gender = "gender"
    residence = "residence"
    first_time = "first_time"


class AttendanceSheet(db.Model):
    """A count sent from a field device (mediators' tablets, often offline): one paper sign-in
    sheet, or one head count of part of the room.

    A sheet *adds* to the meeting's paper counts (its rows in `PaperTally`), it never replaces
    anything: two mediators who each counted one side of the room send two sheets and both
    count, and a sheet arriving after the facilitator typed the counts is added to them. The
    same sheet sent again counts once (`client_id`, given by the device when it was queued).
    Two people who counted the same people are seen on the attendance page, which lists the
    sheets with who sent them, and a facilitator removes the wrong one."""

    __tablename__ = "table_attendance_sheets"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("table_meetings.id", ondelete="CASCADE"), index=True)
    #: The id the device gave the sheet when it was queued (or the form, online): sent twice,
    #: counted once.
    client_id: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: Which sheet or which part of the room ("Entrance table", "Back of the room"), so that
    #: the facilitator can tell two sheets apart.
    note: Mapped[str] = mapped_column(sa.String(200), default="")
    #: The staff member who sent it (shown to the facilitator, never on public pages).
    entered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: Day only, like every attendance record.
    received_on: Mapped[date] = mapped_column(default=date.today)

    entered_by: Mapped[User | None] = relationship()

    __table_args__ = (
        #: the target of the tallies' (sheet, meeting) key: a sheet's counts belong to its meeting
        sa.UniqueConstraint("id", "meeting_id"),
    )


class PaperTally(db.Model):
    """Counts keyed from a paper sign-in sheet: the total, and optionally the number of people
    per age band, gender, neighbourhood of residence, and first-timers.

    Rows without a sheet are the counts the facilitator typed on the attendance page (one set
    per meeting, replaced when saved again); rows with a sheet belong to one `AttendanceSheet`
    sent from the field and are added. Every figure sums all rows, so each counts once."""

    __tablename__ = "table_paper_tallies"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("table_meetings.id", ondelete="CASCADE"), index=True)
    #: The field sheet these counts came from; None for the counts typed on the attendance page.
    sheet_id: Mapped[int | None]
    dimension: Mapped[TallyDimension] = mapped_column(_enum(TallyDimension, "tally_dimension"))
    #: The category counted ("" for the total; an AgeBand / Gender value; a neighbourhood id;
    #: "yes" for first-timers).
    value: Mapped[str] = mapped_column(sa.String(32), default="")
    count: Mapped[int]

    __table_args__ = (
        sa.ForeignKeyConstraint(["sheet_id", "meeting_id"],
                                ["table_attendance_sheets.id", "table_attendance_sheets.meeting_id"],
                                ondelete="CASCADE"),
        #: one typed count per category and meeting…
        sa.Index("uq_table_paper_tallies_typed", "meeting_id", "dimension", "value", unique=True,
                 sqlite_where=sa.text("sheet_id IS NULL"), postgresql_where=sa.text("sheet_id IS NULL")),
        #: …and one per category and field sheet
        sa.UniqueConstraint("sheet_id", "dimension", "value"),
        sa.CheckConstraint("count >= 0", name="count_positive"),
    )


class InterpellationLink(enum.Enum):
    #: the demand was raised (decided) at this meeting
    raised = "raised"
    #: the table was told where it stands at this meeting
    reported = "reported"


class Interpellation(db.Model):
    """A table's interpellation: the table side of a `FollowUp` of kind interpellation."""

    __tablename__ = "table_interpellations"

    followup_id: Mapped[int] = mapped_column(sa.ForeignKey("followups.id", ondelete="CASCADE"), primary_key=True)
    table_id: Mapped[int] = mapped_column(sa.ForeignKey("neighbourhood_tables.id", ondelete="CASCADE"), index=True)

    followup: Mapped[FollowUp] = relationship()
    table: Mapped[NeighbourhoodTable] = relationship()
    meetings: Mapped[list[InterpellationMeeting]] = relationship(
        back_populates="interpellation", cascade="all, delete-orphan"
    )


class InterpellationMeeting(db.Model):
    """A meeting where an interpellation was raised or reported back on."""

    __tablename__ = "table_interpellation_meetings"

    followup_id: Mapped[int] = mapped_column(
        sa.ForeignKey("table_interpellations.followup_id", ondelete="CASCADE"), primary_key=True
    )
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("table_meetings.id", ondelete="CASCADE"), primary_key=True)
    link: Mapped[InterpellationLink] = mapped_column(_enum(InterpellationLink, "interpellation_link"), primary_key=True)

    interpellation: Mapped[Interpellation] = relationship(back_populates="meetings")
    meeting: Mapped[Meeting] = relationship()
