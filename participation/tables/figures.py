"""Attendance figures of tables de quartier, ready for governance (COPIL, Assises): meetings
held, participations, the anonymous profile, and an estimate of unique vs. repeat participants.

Everything is a SQL aggregate. The figures here are exact; what is *shown* to readers goes
through `core.disclosure` (`protected()`), since they are counts of people.

**Unique participants: an estimate, with bounds.** Only phones that chose to keep the anonymous
attendee token can be recognised from one meeting to the next. Over the period:

- K = distinct tokens, T = check-ins made with a token, O = other participations (check-ins
  without a token, paper sign-in sheet);
- lower bound = the larger of K and the busiest meeting's participations (people at one
  meeting are different people; everyone without a token might have come before);
- upper bound = K + O (everyone without a token is a different person each time);
- estimate = K + O × K / T: people without a token are assumed to come back as often as
  those with one (if T = 0, no estimate, only the bounds). It is kept within the bounds.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from ..core import disclosure
from ..core.channels import Channel
from ..core.profiles import AgeBand, Gender
from ..core.territories import Scope
from ..extensions import db
from . import attendance as attendance_service
from .models import CheckIn, Meeting, MeetingStatus, NeighbourhoodTable, PaperTally, TallyDimension

#: The category counting people who did not say (or were not counted on paper).
NOT_STATED = ""


@dataclass(frozen=True)
class MeetingFigure:
    meeting_id: int
    starts_at: datetime
    participations: int


@dataclass(frozen=True)
class Estimate:
    low: int
    high: int
    #: None when no check-in kept a token (nothing to estimate repeat visits from).
    estimate: int | None
    distinct_tokens: int
    tokened_checkins: int
    other_participations: int


@dataclass(frozen=True)
class AttendanceFigures:
    date_from: date | None
    date_to: date | None
    meetings_held: int
    web: int
    assisted: int
    paper: int
    per_meeting: tuple[MeetingFigure, ...]
    #: dimension name -> {category: count}; each includes NOT_STATED so that it adds up to
    #: `participations`. Categories: AgeBand / Gender values, neighbourhood ids (str) and
    #: attendance.ELSEWHERE, "yes" / "no" for first time.
    profile: dict[str, dict[str, int]] = field(default_factory=dict)
    unique: Estimate | None = None

    @property
    def participations(self) -> int:
        return self.web + self.assisted + self.paper


def _meeting_filter(target, date_from: date | None, date_to: date | None):
    """Meetings of the table, or of every table inside the scope, not cancelled, in the period."""
    clauses = [Meeting.status != MeetingStatus.cancelled]
    if isinstance(target, NeighbourhoodTable):
        clauses.append(Meeting.table_id == target.id)
    else:
        scope: Scope = target
        tables = sa.select(NeighbourhoodTable.id).where(NeighbourhoodTable.contract_id == scope.contract_id)
        if scope.commune_id is not None:
            tables = tables.where(NeighbourhoodTable.commune_id == scope.commune_id)
        if scope.neighbourhood_id is not None:
            tables = tables.where(NeighbourhoodTable.neighbourhood_id == scope.neighbourhood_id)
        clauses.append(Meeting.table_id.in_(tables))
    if date_from is not None:
        clauses.append(Meeting.starts_at >= datetime.combine(date_from, time.min))
    if date_to is not None:
        clauses.append(Meeting.starts_at < datetime.combine(date_to + timedelta(days=1), time.min))
    return sa.and_(*clauses)


def attendance(target, date_from: date | None = None, date_to: date | None = None,
               now: datetime | None = None) -> AttendanceFigures:
    """Attendance of a table (a `NeighbourhoodTable`) or of every table inside a `Scope`.

    A meeting counts as held when it is marked held, or planned and already started (the
    facilitator may not have marked it); cancelled meetings count for nothing."""
    now = now or attendance_service.local_now()
    where = _meeting_filter(target, date_from, date_to)
    meetings = sa.select(Meeting.id).where(where)
    held = db.session.scalar(
        sa.select(sa.func.count()).select_from(Meeting).where(
            where, sa.or_(Meeting.status == MeetingStatus.held, Meeting.starts_at <= now)
        )
    )
    by_channel = dict(db.session.execute(
        sa.select(CheckIn.channel, sa.func.count()).where(CheckIn.meeting_id.in_(meetings)).group_by(CheckIn.channel)
    ).all())
    paper_total = int(db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(PaperTally.count), 0))
        .where(PaperTally.meeting_id.in_(meetings), PaperTally.dimension == TallyDimension.total)
    ))
    per_meeting = _per_meeting(where)
    web, assisted = by_channel.get(Channel.web, 0), by_channel.get(Channel.assisted, 0)
    participations = web + assisted + paper_total
    return AttendanceFigures(
        date_from=date_from, date_to=date_to, meetings_held=held, web=web, assisted=assisted, paper=paper_total,
        per_meeting=per_meeting, profile=_profile(meetings, participations),
        unique=_unique(meetings, participations, per_meeting),
    )


def _per_meeting(where) -> tuple[MeetingFigure, ...]:
    checkins = (
        sa.select(CheckIn.meeting_id, sa.func.count().label("n")).group_by(CheckIn.meeting_id).subquery()
    )
    paper = (
        sa.select(PaperTally.meeting_id, sa.func.sum(PaperTally.count).label("n"))
        .where(PaperTally.dimension == TallyDimension.total).group_by(PaperTally.meeting_id).subquery()
    )
    rows = db.session.execute(
        sa.select(Meeting.id, Meeting.starts_at,
                  sa.func.coalesce(checkins.c.n, 0) + sa.func.coalesce(paper.c.n, 0))
        .outerjoin(checkins, checkins.c.meeting_id == Meeting.id)
        .outerjoin(paper, paper.c.meeting_id == Meeting.id)
        .where(where).order_by(Meeting.starts_at, Meeting.id)
    )
    return tuple(MeetingFigure(mid, starts, int(n)) for mid, starts, n in rows)


def _profile(meetings, participations: int) -> dict[str, dict[str, int]]:
    """Check-ins and paper tallies summed per category, with "not stated" making up the rest."""
    out: dict[str, dict[str, int]] = {}
    columns = {
        TallyDimension.age_band: CheckIn.age_band,
        TallyDimension.gender: CheckIn.gender,
        TallyDimension.residence: CheckIn.residence_id,
        TallyDimension.first_time: CheckIn.first_time,
    }
    paper_rows = db.session.execute(
        sa.select(PaperTally.dimension, PaperTally.value, sa.func.sum(PaperTally.count))
        .where(PaperTally.meeting_id.in_(meetings), PaperTally.dimension != TallyDimension.total)
        .group_by(PaperTally.dimension, PaperTally.value)
    ).all()
    for dimension, column in columns.items():
        counts: dict[str, int] = {}
        rows = db.session.execute(
            sa.select(column, sa.func.count()).where(CheckIn.meeting_id.in_(meetings), column.is_not(None))
            .group_by(column)
        )
        for value, n in rows:
            counts[_category(value)] = counts.get(_category(value), 0) + n
        if dimension is TallyDimension.residence:
            elsewhere = db.session.scalar(
                sa.select(sa.func.count()).where(CheckIn.meeting_id.in_(meetings), CheckIn.residence_elsewhere)
            )
            if elsewhere:
                counts[attendance_service.ELSEWHERE] = counts.get(attendance_service.ELSEWHERE, 0) + elsewhere
        for dim, value, n in paper_rows:
            if dim is dimension:
                counts[value] = counts.get(value, 0) + int(n)
        if dimension is TallyDimension.first_time:
            # Paper sheets count first-timers only: the others there are "not stated".
            counts.setdefault(attendance_service.FIRST_TIME_YES, 0)
            counts.setdefault("no", 0)
        counts[NOT_STATED] = max(participations - sum(counts.values()), 0)
        out[dimension.value] = counts
    return out


def _category(value) -> str:
    if isinstance(value, bool):
        return attendance_service.FIRST_TIME_YES if value else "no"
    if isinstance(value, (AgeBand, Gender)):
        return value.value
    return str(value)


def _unique(meetings, participations: int, per_meeting) -> Estimate:
    tokened = db.session.execute(
        sa.select(sa.func.count(sa.distinct(CheckIn.attendee_key)), sa.func.count(CheckIn.attendee_key))
        .where(CheckIn.meeting_id.in_(meetings))
    ).one()
    distinct, with_token = int(tokened[0]), int(tokened[1])
    other = participations - with_token
    busiest = max((m.participations for m in per_meeting), default=0)
    low, high = max(distinct, busiest), distinct + other
    estimate = None
    if with_token:
        estimate = min(max(round(distinct + other * distinct / with_token), low), high)
    return Estimate(low=low, high=high, estimate=estimate, distinct_tokens=distinct, tokened_checkins=with_token,
                    other_participations=other)


# --- what readers see -------------------------------------------------------------------


@dataclass(frozen=True)
class ProtectedFigures:
    """The figures as shown (small counts of people suppressed)."""

    raw: AttendanceFigures
    participations: disclosure.Line
    per_meeting: disclosure.Line
    profile: dict[str, tuple[list[str], disclosure.Line]]
    unique_low: disclosure.Cell
    unique_high: disclosure.Cell
    unique_estimate: disclosure.Cell | None


def _person_cell(n: int) -> disclosure.Cell:
    return disclosure.Cell(None) if 0 < n < disclosure.MIN_CELL else disclosure.Cell(n)


def protected(figures: AttendanceFigures) -> ProtectedFigures:
    """Counts of people through `core.disclosure`: fewer than 11 → "s", with secondary
    suppression inside each line (a line's cells add up to its total)."""
    total = figures.participations
    profile = {}
    for name, counts in figures.profile.items():
        categories = list(counts)
        profile[name] = (categories, disclosure.protect_line([counts[c] for c in categories], total))
    unique = figures.unique
    return ProtectedFigures(
        raw=figures,
        participations=disclosure.protect_line([figures.web, figures.assisted, figures.paper], total),
        per_meeting=disclosure.protect_line([m.participations for m in figures.per_meeting], total),
        profile=profile,
        unique_low=_person_cell(unique.low),
        unique_high=_person_cell(unique.high),
        unique_estimate=None if unique.estimate is None else _person_cell(unique.estimate),
    )
