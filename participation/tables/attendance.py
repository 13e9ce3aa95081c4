"""Anonymous attendance of a table's meetings: QR check-ins (on the resident's phone, or
"assisted" on a facilitator's tablet), the counts keyed from a paper sign-in sheet, and the
sheets mediators send from field devices (added to those counts, never replacing them).

Nothing here names anyone, nor keeps the time or the address of a check-in (the meeting has
the date); a field sheet names only the staff member who sent it. A phone may keep a random attendee token (a cookie); only its keyed hash per
contract reaches the database, where the unique constraint (meeting, attendee_key) makes the
same phone count once per meeting even under concurrent posts.

Services flush, never commit; the request commits once.
"""
from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from ..core.channels import Channel
from ..core.profiles import AgeBand, Gender
from ..core.secret_codes import keyed_hash
from ..core.users import User
from ..extensions import db
from . import services
from .models import AttendanceSheet, CheckIn, Meeting, MeetingStatus, NeighbourhoodTable, PaperTally, TallyDimension

#: Check-in opens this long before the start (people come early to set up the room)…
OPENS_BEFORE = timedelta(hours=2)
#: …and closes this long after the start, or one hour after a later planned end.
CLOSES_AFTER_START = timedelta(hours=4)
CLOSES_AFTER_END = timedelta(hours=1)
#: The attendee token kept on the phone: random, long enough not to be guessed.
TOKEN_BYTES = 24
#: Residence of someone living outside the table's neighbourhoods (paper tallies only: a
#: check-in has no column for it, see `record_checkin`).
ELSEWHERE = "other"
FIRST_TIME_YES = "yes"


class AttendanceError(ValueError):
    """Input a service refuses; `code` names it for a translated message."""

    def __init__(self, code: str, field: str | None = None):
        super().__init__(code)
        self.code = code
        self.field = field


def local_now() -> datetime:
    """Now, as a naive local wall-clock time comparable with `Meeting.starts_at` (the same
    clock as the meeting pages: `services.local_now`)."""
    return services.local_now()


def checkin_window(meeting: Meeting) -> tuple[datetime, datetime]:
    opens = meeting.starts_at - OPENS_BEFORE
    closes = meeting.starts_at + CLOSES_AFTER_START
    if meeting.ends_at is not None:
        closes = max(closes, meeting.ends_at + CLOSES_AFTER_END)
    return opens, closes


def checkin_state(meeting: Meeting, now: datetime | None = None) -> str:
    """"open", "early" (not yet), "closed" (over) or "cancelled"."""
    if meeting.status is MeetingStatus.cancelled:
        return "cancelled"
    now = now or local_now()
    opens, closes = checkin_window(meeting)
    if now < opens:
        return "early"
    if now > closes:
        return "closed"
    return "open"


def new_attendee_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def attendee_key(contract_id: int, token: str) -> str:
    """What the server keeps of a phone's token: a keyed hash, per contract (the same phone is
    not linkable across two contracts)."""
    return keyed_hash(f"attendee:{contract_id}", token)


def valid_token(token: str | None) -> bool:
    """A token this server could have issued (junk cookies are ignored, never hashed)."""
    return bool(token) and 16 <= len(token) <= 64 and token.isascii() and all(
        ch.isalnum() or ch in "-_" for ch in token
    )


def record_checkin(
    meeting: Meeting,
    *,
    age_band: AgeBand | None = None,
    gender: Gender | None = None,
    residence_id: int | None = None,
    residence_elsewhere: bool = False,
    first_time: bool | None = None,
    token: str | None = None,
    channel: Channel = Channel.web,
    nonce: str | None = None,
) -> CheckIn | None:
    """Count one person at the meeting. Returns None when this phone (token) was already
    counted at this meeting: the database refuses the second row, in a savepoint, so the
    request carries on; the same for the same form (`nonce`) posted twice at once. A
    neighbourhood id outside the table's neighbourhoods is not stored; "another neighbourhood"
    is `residence_elsewhere`."""
    if meeting.status is MeetingStatus.cancelled:
        raise AttendanceError("cancelled")
    allowed = {n.id for n in meeting.table.neighbourhoods}
    if residence_id is not None and residence_id not in allowed:
        residence_id = None
    if residence_id is not None:
        residence_elsewhere = False
    key = attendee_key(meeting.table.contract_id, token) if token and valid_token(token) else None
    nonce_hash = keyed_hash("checkin-nonce", nonce) if nonce else None
    checkin = CheckIn(
        meeting_id=meeting.id, age_band=age_band, gender=gender, residence_id=residence_id,
        residence_elsewhere=residence_elsewhere, first_time=first_time, attendee_key=key, channel=channel,
        nonce_hash=nonce_hash,
    )
    if key is not None and db.session.scalar(
        sa.select(CheckIn.id).where(CheckIn.meeting_id == meeting.id, CheckIn.attendee_key == key)
    ):
        return None
    if nonce_hash is not None and db.session.scalar(sa.select(CheckIn.id).where(CheckIn.nonce_hash == nonce_hash)):
        return None
    try:
        with db.session.begin_nested():
            db.session.add(checkin)
            db.session.flush()
    except IntegrityError:
        # The same phone or the same form, counted meanwhile by a concurrent request.
        return None
    return checkin


@dataclass(frozen=True)
class Counts:
    """Live counts of one meeting, for the facilitator (exact: staff who run the meeting)."""

    web: int
    assisted: int
    #: every paper count: typed on the attendance page and sent from the field
    paper: int
    #: of `paper`, the sheets sent from field devices
    field: int = 0

    @property
    def checkins(self) -> int:
        return self.web + self.assisted

    @property
    def total(self) -> int:
        return self.web + self.assisted + self.paper


def counts(meeting: Meeting) -> Counts:
    by_channel = dict(db.session.execute(
        sa.select(CheckIn.channel, sa.func.count()).where(CheckIn.meeting_id == meeting.id).group_by(CheckIn.channel)
    ).all())
    typed, field = db.session.execute(
        sa.select(
            sa.func.coalesce(sa.func.sum(PaperTally.count).filter(PaperTally.sheet_id.is_(None)), 0),
            sa.func.coalesce(sa.func.sum(PaperTally.count).filter(PaperTally.sheet_id.is_not(None)), 0),
        ).where(PaperTally.meeting_id == meeting.id, PaperTally.dimension == TallyDimension.total)
    ).one()
    return Counts(web=by_channel.get(Channel.web, 0), assisted=by_channel.get(Channel.assisted, 0),
                  paper=int(typed) + int(field), field=int(field))


def paper_tallies(meeting: Meeting) -> dict[TallyDimension, dict[str, int]]:
    """The counts typed on the attendance page (not the field sheets), by dimension then
    category ("" for the total)."""
    out: dict[TallyDimension, dict[str, int]] = {d: {} for d in TallyDimension}
    rows = db.session.execute(
        sa.select(PaperTally.dimension, PaperTally.value, PaperTally.count)
        .where(PaperTally.meeting_id == meeting.id, PaperTally.sheet_id.is_(None))
    )
    for dimension, value, count in rows:
        out[dimension][value] = count
    return out


def tally_categories(table: NeighbourhoodTable) -> dict[TallyDimension, list[str]]:
    """The categories a paper breakdown may count, per dimension."""
    return {
        TallyDimension.total: [""],
        TallyDimension.age_band: [a.value for a in AgeBand],
        TallyDimension.gender: [g.value for g in Gender],
        TallyDimension.residence: [*(str(n.id) for n in table.neighbourhoods), ELSEWHERE],
        TallyDimension.first_time: [FIRST_TIME_YES],
    }


def _tally_rows(meeting: Meeting, total: int, breakdowns: Mapping[TallyDimension, Mapping[str, int]]) -> list[PaperTally]:
    """The rows of one set of paper counts, checked: every count ≥ 0, known categories, no
    breakdown adding up to more than the total."""
    categories = tally_categories(meeting.table)
    if total < 0:
        raise AttendanceError("negative", "total")
    rows = [PaperTally(meeting_id=meeting.id, dimension=TallyDimension.total, value="", count=total)]
    for dimension, values in breakdowns.items():
        if dimension is TallyDimension.total:
            continue
        for value, count in values.items():
            if value not in categories[dimension]:
                raise AttendanceError("category", dimension.value)
            if count < 0:
                raise AttendanceError("negative", dimension.value)
        if sum(values.values()) > total:
            raise AttendanceError("over_total", dimension.value)
        rows.extend(
            PaperTally(meeting_id=meeting.id, dimension=dimension, value=value, count=count)
            for value, count in values.items()
        )
    return rows


def save_paper_tallies(meeting: Meeting, total: int, breakdowns: Mapping[TallyDimension, Mapping[str, int]]) -> None:
    """Replace the paper counts typed for the meeting: the total and the optional breakdowns (a
    category left out is "not counted"). Every count is ≥ 0 and no breakdown adds up to more
    than the total; otherwise nothing is written. The sheets sent from the field are kept."""
    rows = _tally_rows(meeting, total, breakdowns)
    db.session.execute(
        sa.delete(PaperTally).where(PaperTally.meeting_id == meeting.id, PaperTally.sheet_id.is_(None))
    )
    db.session.add_all(rows)
    db.session.flush()


# --- sheets sent from the field ----------------------------------------------------------


def add_sheet(
    meeting: Meeting,
    *,
    client_id: str,
    total: int,
    breakdowns: Mapping[TallyDimension, Mapping[str, int]],
    note: str = "",
    entered_by: User | None = None,
) -> tuple[AttendanceSheet, bool]:
    """Add one sheet (a paper sign-in sheet or a head count, from a field device) to the
    meeting's counts: (sheet, True), or (the sheet already received, False) when the same
    `client_id` came before (the same sheet counts once). Never replaces another count.

    Refused (`AttendanceError`): a cancelled meeting, a meeting that has not started yet (a
    count for it is a mistake of meeting), counts `save_paper_tallies` would refuse, and a
    `client_id` already used for another meeting."""
    existing = db.session.scalar(sa.select(AttendanceSheet).where(AttendanceSheet.client_id == client_id))
    if existing is not None:
        if existing.meeting_id != meeting.id:
            raise AttendanceError("other_meeting")
        return existing, False
    state = checkin_state(meeting)
    if state == "cancelled":
        raise AttendanceError("cancelled")
    if state == "early":
        raise AttendanceError("not_started")
    rows = _tally_rows(meeting, total, breakdowns)
    sheet = AttendanceSheet(meeting_id=meeting.id, client_id=client_id, note=note.strip()[:200],
                            entered_by_id=entered_by.id if entered_by is not None else None)
    try:
        with db.session.begin_nested():
            db.session.add(sheet)
            db.session.flush()
            for row in rows:
                row.sheet_id = sheet.id
            db.session.add_all(rows)
            db.session.flush()
    except IntegrityError:
        # The same sheet, sent meanwhile by a concurrent request (a retry racing the first try).
        existing = db.session.scalar(sa.select(AttendanceSheet).where(AttendanceSheet.client_id == client_id))
        if existing is None or existing.meeting_id != meeting.id:
            raise
        return existing, False
    return sheet, True


@dataclass(frozen=True)
class SheetLine:
    sheet: AttendanceSheet
    total: int


def sheets(meeting: Meeting) -> list[SheetLine]:
    """The sheets sent from the field for this meeting, in the order they arrived, with their totals."""
    rows = db.session.execute(
        sa.select(AttendanceSheet, PaperTally.count)
        .join(PaperTally, sa.and_(PaperTally.sheet_id == AttendanceSheet.id,
                                  PaperTally.dimension == TallyDimension.total))
        .where(AttendanceSheet.meeting_id == meeting.id)
        .order_by(AttendanceSheet.id)
    )
    return [SheetLine(sheet, count) for sheet, count in rows]


def remove_sheet(sheet: AttendanceSheet) -> None:
    """Take a wrong sheet out of the counts (e.g. two people counted the same people). Its
    receipt stays: the same sheet sent again is still "already received", never re-added."""
    db.session.execute(sa.delete(PaperTally).where(PaperTally.sheet_id == sheet.id))
    db.session.delete(sheet)
    db.session.flush()


def renew_checkin_key(meeting: Meeting) -> str:
    """A new secret for the room's QR code: the old code stops working."""
    from .models import new_checkin_key

    meeting.checkin_key = new_checkin_key()
    db.session.flush()
    return meeting.checkin_key
