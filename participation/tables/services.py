"""Tables de quartier: creating tables, planning meetings, their agenda and minutes.

Services take domain objects, enforce the rules, flush and never commit (the request commits
once). A broken rule raises `TableError`, whose `code` names a translated message
(`labels.error_message`).

Meeting times are local wall-clock times (the contract's time zone, Europe/Paris): what the
poster and the facilitator say. They become aware datetimes only to be formatted or written
in UTC into a calendar file (`local_tz`, `aware`).
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

from ..core.territories import Commune, Neighbourhood, Scope
from ..core.users import Role, RoleGrant, User
from ..extensions import db
from . import access
from .models import AgendaItem, Meeting, MeetingStatus, MinutesStatus, NeighbourhoodTable

#: Roles that make a staff account eligible as one of a table's facilitators.
FACILITATOR_ROLES = frozenset({Role.admin, Role.facilitator, Role.mediator})


class TableError(ValueError):
    """A request that breaks a rule; `code` names it for a translated message."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


# --- time ------------------------------------------------------------------------------


def local_tz() -> ZoneInfo:
    return ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "Europe/Paris")


def local_now() -> datetime:
    """Now, as a naive local wall-clock time (comparable with `Meeting.starts_at`)."""
    return datetime.now(local_tz()).replace(tzinfo=None, microsecond=0)


def aware(wall_clock: datetime) -> datetime:
    """A meeting's local wall-clock time as an aware datetime (for formatting and UTC)."""
    return wall_clock.replace(tzinfo=local_tz())


# --- tables ----------------------------------------------------------------------------


def narrowest_scope(neighbourhoods) -> Scope:
    """One neighbourhood → that neighbourhood; several in one commune → the commune; else the
    contract. Neighbourhoods of two contracts are refused."""
    neighbourhoods = list(neighbourhoods)
    if not neighbourhoods:
        raise TableError("no_neighbourhood")
    contracts = {n.commune.contract_id for n in neighbourhoods}
    if len(contracts) != 1:
        raise TableError("two_contracts")
    if len({n.id for n in neighbourhoods}) == 1:
        return neighbourhoods[0].scope
    communes = {n.commune_id for n in neighbourhoods}
    contract_id = contracts.pop()
    return Scope(contract_id, communes.pop()) if len(communes) == 1 else Scope(contract_id)


def managed_neighbourhoods(user: User) -> list[Neighbourhood]:
    """Neighbourhoods where the user may create a table (managers' scopes), by commune."""
    query = sa.select(Neighbourhood).join(Commune).order_by(Commune.contract_id, Commune.name, Neighbourhood.name)
    if not user.is_superadmin:
        contract_ids = {s.contract_id for s in _manager_scopes(user)}
        if not contract_ids:
            return []
        query = query.where(Commune.contract_id.in_(contract_ids))
    return [n for n in db.session.scalars(query) if access.can_create_in(user, n)]


def _manager_scopes(user: User) -> list[Scope]:
    return [g.scope for g in user.grants if g.role in access.MANAGERS]


def set_neighbourhoods(table: NeighbourhoodTable, neighbourhoods, user: User | None = None) -> None:
    """The table's neighbourhoods, and its scope: the narrowest one covering them all.

    With `user`, a neighbourhood the user does not manage is refused, unless the table already
    had it (someone with a wider role added it; leaving it does not widen anything)."""
    neighbourhoods = list({n.id: n for n in neighbourhoods}.values())
    scope = narrowest_scope(neighbourhoods)
    if table.contract_id is not None and table.id is not None and scope.contract_id != table.contract_id:
        raise TableError("two_contracts")
    if user is not None:
        already = {n.id for n in table.neighbourhoods}
        if any(n.id not in already and not access.can_create_in(user, n) for n in neighbourhoods):
            raise TableError("neighbourhood_not_managed")
    table.contract_id = scope.contract_id
    table.commune_id = scope.commune_id
    table.neighbourhood_id = scope.neighbourhood_id
    table.neighbourhoods = sorted(neighbourhoods, key=lambda n: n.name)


def eligible_facilitators(contract_ids) -> list[User]:
    """Enabled staff accounts holding a facilitator, admin or mediator role in these contracts."""
    contract_ids = list(contract_ids)
    if not contract_ids:
        return []
    return list(db.session.scalars(
        sa.select(User).where(
            User.is_enabled,
            User.id.in_(sa.select(RoleGrant.user_id).where(
                RoleGrant.contract_id.in_(contract_ids), RoleGrant.role.in_(FACILITATOR_ROLES))),
        ).order_by(User.name, User.id)
    ))


def set_facilitators(table: NeighbourhoodTable, users) -> None:
    users = list({u.id: u for u in users}.values())
    # those already named stay allowed (an account that lost its role can still be removed)
    allowed = {u.id for u in eligible_facilitators([table.contract_id])} | {u.id for u in table.facilitators}
    if any(u.id not in allowed for u in users):
        raise TableError("facilitator_elsewhere")
    table.facilitators = users


def create_table(name: str, neighbourhoods, *, description: str = "", usual_place: str = "", facilitators=(),
                 original_locale: str = "fr", user: User | None = None) -> NeighbourhoodTable:
    if not name.strip():
        raise TableError("no_name")
    table = NeighbourhoodTable(name=name.strip(), description=description.strip(), usual_place=usual_place.strip(),
                               original_locale=original_locale, active=True)
    set_neighbourhoods(table, neighbourhoods, user)
    if user is not None and not access.can_create_in(user, table.scope):
        raise TableError("neighbourhood_not_managed")
    db.session.add(table)
    set_facilitators(table, facilitators)
    db.session.flush()
    return table


def update_table(table: NeighbourhoodTable, *, name: str, description: str, usual_place: str, active: bool,
                 neighbourhoods, facilitators, user: User | None = None) -> None:
    if not name.strip():
        raise TableError("no_name")
    table.name = name.strip()
    table.description = description.strip()
    table.usual_place = usual_place.strip()
    table.active = active
    set_neighbourhoods(table, neighbourhoods, user)
    set_facilitators(table, facilitators)
    db.session.flush()


# --- meetings ----------------------------------------------------------------------------


def _times(day: date, starts: time, ends: time | None) -> tuple[datetime, datetime | None]:
    starts_at = datetime.combine(day, starts.replace(second=0, microsecond=0))
    ends_at = datetime.combine(day, ends.replace(second=0, microsecond=0)) if ends else None
    if ends_at is not None and ends_at <= starts_at:
        raise TableError("end_before_start")
    return starts_at, ends_at


def _interpreted(codes) -> list[str]:
    languages = current_app.config["LANGUAGES"]
    codes = [c for c in dict.fromkeys(codes or ()) if c]
    if any(c not in languages for c in codes):
        raise TableError("unknown_language")
    return [c for c in languages if c in codes]  # the switcher's order


def create_meeting(table: NeighbourhoodTable, *, day: date, starts: time, ends: time | None = None, title: str = "",
                   place: str = "", address: str = "", accessibility: str = "", interpreted=(),
                   original_locale: str = "fr") -> Meeting:
    starts_at, ends_at = _times(day, starts, ends)
    meeting = Meeting(
        table=table, title=title.strip(), starts_at=starts_at, ends_at=ends_at,
        place=(place.strip() or table.usual_place), address=address.strip(), accessibility=accessibility.strip(),
        interpreted=_interpreted(interpreted), status=MeetingStatus.planned, minutes_status=MinutesStatus.draft,
        original_locale=original_locale,
    )
    db.session.add(meeting)
    db.session.flush()
    return meeting


def update_meeting(meeting: Meeting, *, day: date, starts: time, ends: time | None, title: str, place: str,
                   address: str, accessibility: str, interpreted, status: MeetingStatus) -> None:
    meeting.starts_at, meeting.ends_at = _times(day, starts, ends)
    meeting.title = title.strip()
    meeting.place = place.strip()
    meeting.address = address.strip()
    meeting.accessibility = accessibility.strip()
    meeting.interpreted = _interpreted(interpreted)
    meeting.status = status
    db.session.flush()


def upcoming(table: NeighbourhoodTable, now: datetime | None = None) -> list[Meeting]:
    """Meetings not over yet (cancelled ones included: people must learn they are cancelled)."""
    now = now or local_now()
    return [m for m in table.meetings if (m.ends_at or m.starts_at) >= now]


def past(table: NeighbourhoodTable, now: datetime | None = None) -> list[Meeting]:
    """Meetings over, most recent first."""
    now = now or local_now()
    return [m for m in reversed(table.meetings) if (m.ends_at or m.starts_at) < now]


# --- agenda ------------------------------------------------------------------------------


def _renumber(meeting: Meeting) -> None:
    for position, item in enumerate(sorted(meeting.items, key=lambda i: (i.position, i.id or 0))):
        item.position = position


def add_item(meeting: Meeting, title: str, description: str = "", original_locale: str = "fr") -> AgendaItem:
    if not title.strip():
        raise TableError("no_title")
    position = max((i.position for i in meeting.items), default=-1) + 1
    item = AgendaItem(meeting=meeting, position=position, title=title.strip(), description=description.strip(),
                      original_locale=original_locale)
    db.session.add(item)
    db.session.flush()
    return item


def update_item(item: AgendaItem, title: str, description: str) -> None:
    if not title.strip():
        raise TableError("no_title")
    item.title = title.strip()
    item.description = description.strip()
    db.session.flush()


def move_item(item: AgendaItem, direction: str) -> bool:
    """One place up or down; False when it is already first / last."""
    meeting = item.meeting
    _renumber(meeting)
    items = sorted(meeting.items, key=lambda i: i.position)
    index = items.index(item)
    other = index - 1 if direction == "up" else index + 1
    if direction not in ("up", "down") or not 0 <= other < len(items):
        return False
    items[index].position, items[other].position = items[other].position, items[index].position
    db.session.flush()
    return True


def delete_item(item: AgendaItem) -> None:
    meeting = item.meeting
    meeting.items.remove(item)
    db.session.flush()
    _renumber(meeting)
    db.session.flush()


# --- minutes -----------------------------------------------------------------------------


def save_minutes(meeting: Meeting, texts: dict[int, tuple[str, str]]) -> None:
    """Summary and decisions per agenda item (by item id; other ids are ignored).

    Editing published minutes keeps them published: only managers (who may publish) edit them,
    so a second validation would be a formality; the page tells them changes are public at once."""
    for item in meeting.items:
        if item.id in texts:
            summary, decisions = texts[item.id]
            item.summary = (summary or "").strip()
            item.decisions = (decisions or "").strip()
    db.session.flush()


def has_minutes(meeting: Meeting) -> bool:
    return any(item.summary or item.decisions for item in meeting.items)


def publish_minutes(meeting: Meeting, user: User | None, on: date | None = None) -> None:
    """Validate the minutes: from now on they are on the public meeting page."""
    if not meeting.items or not has_minutes(meeting):
        raise TableError("minutes_empty")
    if meeting.status is MeetingStatus.cancelled:
        raise TableError("meeting_cancelled")
    if meeting.minutes_status is MinutesStatus.published:
        raise TableError("already_published")
    meeting.minutes_status = MinutesStatus.published
    meeting.minutes_published_on = on or date.today()
    meeting.minutes_validated_by = user
    if meeting.status is MeetingStatus.planned and meeting.starts_at <= local_now():
        meeting.status = MeetingStatus.held
    db.session.flush()


def withdraw_minutes(meeting: Meeting) -> None:
    """Take the minutes off the public page (back to draft), e.g. to correct a serious error."""
    if meeting.minutes_status is not MinutesStatus.published:
        raise TableError("not_published")
    meeting.minutes_status = MinutesStatus.draft
    meeting.minutes_published_on = None
    meeting.minutes_validated_by = None
    db.session.flush()


def minutes_public(meeting: Meeting) -> bool:
    return meeting.minutes_status is MinutesStatus.published


def default_end(starts_at: datetime) -> datetime:
    """For calendars only, when no end time was given: two hours."""
    return starts_at + timedelta(hours=2)
