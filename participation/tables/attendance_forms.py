"""Reading the attendance forms: the anonymous profile of a check-in, and the counts of a paper
sign-in sheet. Pure parsing (posted strings in, values and translated problems out); the rules
that need the database are in attendance.py."""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from flask import session
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..core.numbers import parse_int
from ..core.profiles import AGE_BANDS, GENDERS, AgeBand, Gender
from . import attendance
from .models import NeighbourhoodTable, TallyDimension

#: Fields of the check-in profile (all optional: "" is "I prefer not to say").
AGE, GENDER, RESIDENCE, FIRST = "age_band", "gender", "residence", "first_time"
#: Longest number accepted in a count (a sign-in sheet of a million people is a typo).
MAX_COUNT = 100_000
#: One-time form nonces kept in the signed session: pending (form shown) and used (counted).
NONCES_PENDING = "checkin_nonces"
NONCES_USED = "checkin_used"
NONCES_KEPT = 8


def profile_questions(table: NeighbourhoodTable) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """(field, question, [(value, label)]) of the optional profile, "prefer not to say" last."""
    no = _("I prefer not to say")
    residence = [(str(n.id), n.name) for n in table.neighbourhoods]
    residence.append((attendance.ELSEWHERE, _("Another neighbourhood")))
    return [
        (AGE, _("Your age"), [(a.value, str(AGE_BANDS[a])) for a in AgeBand] + [("", no)]),
        (GENDER, _("Gender"), [(g.value, str(GENDERS[g])) for g in Gender] + [("", no)]),
        (RESIDENCE, _("The neighbourhood where you live"), residence + [("", no)]),
        (FIRST, _("Is this your first table de quartier meeting?"),
         [("yes", _("Yes, the first time")), ("no", _("No, I came before")), ("", no)]),
    ]


@dataclass
class CheckInAnswers:
    age_band: AgeBand | None = None
    gender: Gender | None = None
    residence_id: int | None = None
    #: "another neighbourhood" (not one of the table's)
    residence_elsewhere: bool = False
    first_time: bool | None = None
    remember: bool = False
    #: what was posted, to show the form again as it was
    raw: dict[str, str] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)


def parse_checkin(form, table: NeighbourhoodTable) -> CheckInAnswers:
    """The posted profile; a value that is not one of the options is a problem (a tampered or
    stale form), never a 500."""
    out = CheckInAnswers(remember=form.get("remember") == "1")
    choices = {name: {value for value, _label in options} for name, _q, options in profile_questions(table)}
    for name in (AGE, GENDER, RESIDENCE, FIRST):
        value = str(form.get(name, ""))[:40]
        out.raw[name] = value
        if value not in choices[name]:
            out.problems[name] = _("Choose one of the answers, or “I prefer not to say”.")
    if out.problems:
        return out
    out.age_band = AgeBand(out.raw[AGE]) if out.raw[AGE] else None
    out.gender = Gender(out.raw[GENDER]) if out.raw[GENDER] else None
    residence = out.raw[RESIDENCE]
    out.residence_id = parse_int(residence) if residence not in ("", attendance.ELSEWHERE) else None
    out.residence_elsewhere = residence == attendance.ELSEWHERE
    out.first_time = {"yes": True, "no": False}.get(out.raw[FIRST])
    return out


# --- one-time nonces (a double tap or a retried post counts once) --------------------------


def issue_nonce() -> str:
    nonce = secrets.token_urlsafe(18)
    pending = [n for n in session.get(NONCES_PENDING, []) if isinstance(n, str)][-(NONCES_KEPT - 1):]
    session[NONCES_PENDING] = [*pending, nonce]
    return nonce


def nonce_state(nonce: str) -> str:
    """"fresh" (a form shown and not yet used), "used" (already counted) or "unknown"."""
    if nonce and nonce in session.get(NONCES_USED, []):
        return "used"
    if nonce and nonce in session.get(NONCES_PENDING, []):
        return "fresh"
    return "unknown"


def spend_nonce(nonce: str) -> None:
    session[NONCES_PENDING] = [n for n in session.get(NONCES_PENDING, []) if n != nonce]
    session[NONCES_USED] = [*session.get(NONCES_USED, [])[-(NONCES_KEPT - 1):], nonce]


# --- paper sign-in sheet -----------------------------------------------------------------


def tally_field(dimension: TallyDimension, value: str) -> str:
    return "total" if dimension is TallyDimension.total else f"{dimension.value}-{value}"


@dataclass
class TallyAnswers:
    total: int | None = None
    breakdowns: dict[TallyDimension, dict[str, int]] = field(default_factory=dict)
    raw: dict[str, str] = field(default_factory=dict)
    #: field name or dimension value -> message
    problems: dict[str, str] = field(default_factory=dict)
    #: a field sheet only: which sheet or which part of the room
    note: str = ""


def parse_tallies(form, table: NeighbourhoodTable) -> TallyAnswers:
    """The paper counts: a total (required) and, per breakdown, counts left empty or whole
    numbers ≥ 0 whose sum does not exceed the total."""
    out = TallyAnswers()
    for dimension, values in attendance.tally_categories(table).items():
        counts: dict[str, int] = {}
        for value in values:
            name = tally_field(dimension, value)
            text = str(form.get(name, "")).strip()[:20]
            out.raw[name] = text
            if text == "":
                if dimension is TallyDimension.total:
                    out.problems[name] = _("Type the number of people on the sheet (0 if nobody signed).")
                continue
            number = parse_int(text)
            if number is None or number > MAX_COUNT:
                out.problems[name] = _("Type a whole number, 0 or more (digits only).")
                continue
            counts[value] = number
        if dimension is TallyDimension.total:
            out.total = counts.get("")
        elif counts:
            out.breakdowns[dimension] = counts
    if out.total is not None:
        for dimension, counts in out.breakdowns.items():
            if sum(counts.values()) > out.total and not any(
                tally_field(dimension, v) in out.problems for v in counts
            ):
                out.problems[dimension.value] = _(
                    "These counts add up to %(sum)s, more than the %(total)s people on the sheet.",
                    sum=sum(counts.values()), total=out.total,
                )
    return out


# --- a sheet sent from the field ---------------------------------------------------------

#: The field count's own fields, besides the counts.
NOTE = "note"
CLIENT_ID = "client_id"
MAX_NOTE = 200


def tally_fields(table: NeighbourhoodTable) -> set[str]:
    return {tally_field(d, v) for d, values in attendance.tally_categories(table).items() for v in values}


def parse_sheet(form, table: NeighbourhoodTable) -> TallyAnswers:
    """A field count: the paper counts (same rules) and an optional note. A count for a
    category the table no longer has (its neighbourhoods changed since the form was taken
    offline) is a problem, never silently dropped."""
    out = parse_tallies(form, table)
    note = str(form.get(NOTE, "")).strip()
    out.raw[NOTE] = note[:400]
    if len(note) > MAX_NOTE:
        out.problems[NOTE] = _("Keep the note under %(max)s characters.", max=MAX_NOTE)
    out.note = note[:MAX_NOTE]
    known = tally_fields(table) | {NOTE, CLIENT_ID, "csrf_token"}
    if any(str(form.get(name, "")).strip() for name in form.keys() if name not in known):
        out.problems["form"] = _("This form has changed since it was taken offline (the table's neighbourhoods "
                                  "changed). Enter this count again on the new form.")
    return out


SHEET_ERRORS = {
    "cancelled": _l("This meeting was cancelled: nothing can be counted for it."),
    "not_started": _l("This meeting has not started yet: count the people once it has begun."),
    "other_meeting": _l("This count was already received for another meeting: nothing was added."),
}


def sheet_error_message(error: attendance.AttendanceError) -> str:
    text = SHEET_ERRORS.get(error.code)
    return str(text) if text is not None else _("These counts could not be saved: check them.")
