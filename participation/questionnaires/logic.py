"""Rules of answering a questionnaire, with no database and no request: which sections and
questions are shown given the answers so far, and how one question's raw form values become a
canonical answer (or a problem with a code that the views turn into a translated message).

Raw values are what a form sends, as a mapping of field name → list of strings (a
`MultiDict.to_dict(flat=False)`). Field names carry the question's id: `q<id>` for the main
value (option codes, a number, a text, a date), and `q<id>_<part>` for the rest: `_other`
(the "other, please specify" text), `_o<option id>` (a rank), `_photo` and `_caption`,
`_lat`, `_lng` and `_place`.

Conditions: a section or question with a `condition_code` is shown only if the answer to that
earlier question includes one of `condition_values` (option codes). Sections and questions are
walked in order and only the answers of shown questions count, so conditions cascade and the
answer to a hidden question is dropped, never stored.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Mapping, Union

from .models import Kind, Status
from ..core.numbers import parse_int

RawForm = Mapping[str, list[str]]

SHORT_TEXT_MAX = 300
LONG_TEXT_MAX = 5000
OTHER_TEXT_MAX = 300
CAPTION_MAX = 300
PLACE_MAX = 300
NUMBER_MAX_CHARS = 32
SINGLE_CHOICE_KINDS = frozenset({Kind.single, Kind.scale, Kind.yes_no})
FIELD_NAME = re.compile(r"q(\d+)(?:_([a-z]+\d*))?")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_DAY_FIRST = re.compile(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})")
_TYPED_SEPARATORS = re.compile(r"[\s,;]+")


# --- canonical values ------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    """Single, multiple, scale, yes/no: the chosen option codes, and the "other" text."""

    codes: tuple[str, ...]
    other: str = ""


@dataclass(frozen=True)
class Ranking:
    """Option codes from first to last (options left unranked are not listed)."""

    codes: tuple[str, ...]


@dataclass(frozen=True)
class Photo:
    sha256: str
    caption: str = ""


@dataclass(frozen=True)
class Point:
    latitude: float | None
    longitude: float | None
    place: str = ""


Value = Union[Choice, Ranking, Photo, Point, float, str, date]


@dataclass(frozen=True)
class Problem:
    code: str
    params: dict = field(default_factory=dict)


# --- field names -----------------------------------------------------------------------


def field_name(question, part: str = "") -> str:
    return f"q{question.id}_{part}" if part else f"q{question.id}"


def rank_field(question, option) -> str:
    return field_name(question, f"o{option.id}")


def question_id_of(name: str) -> int | None:
    """The question id a raw field belongs to, or None for any other field."""
    match = FIELD_NAME.fullmatch(name)
    return int(match.group(1)) if match else None


def _values(raw: RawForm, name: str) -> list[str]:
    values = raw.get(name) or []
    if isinstance(values, str):
        values = [values]
    return [v.replace("\x00", "") for v in values]


def _first(raw: RawForm, name: str) -> str:
    return next(iter(_values(raw, name)), "").strip()


# --- parsing ---------------------------------------------------------------------------


def parse(question, raw: RawForm) -> tuple[Value | None, Problem | None]:
    """One question's answer from the raw form: (value or None, problem or None).

    An empty answer to a required question is the problem "required"; whether that matters
    (the question may be hidden) is for the caller to decide.
    """
    value, problem = _PARSERS[question.kind](question, raw)
    if problem is None and value is None and question.required:
        problem = Problem("required")
    return value, problem


def _find_option(question, code: str):
    for option in question.options:
        if option.code == code:
            return option
    folded = code.casefold()
    for option in question.options:
        if option.code.casefold() == folded:
            return option
    return None


def _parse_choice(question, raw):
    typed = [v.strip() for v in _values(raw, field_name(question)) if v.strip()]
    options = []
    for code in typed:
        option = _find_option(question, code)
        if option is None:
            return None, Problem("invalid_choice", {"code": code[:32]})
        if option not in options:
            options.append(option)
    if not options:
        return None, None
    if question.kind in SINGLE_CHOICE_KINDS and len(options) > 1:
        return None, Problem("one_choice")
    if question.kind == Kind.multiple:
        if question.max_choices and len(options) > question.max_choices:
            return None, Problem("too_many", {"max": question.max_choices})
        if len(options) > 1 and any(o.is_dont_know for o in options):
            return None, Problem("dont_know_alone")
    other = ""
    if any(o.is_other for o in options):
        other = _first(raw, field_name(question, "other"))
        if not other:
            return None, Problem("other_missing")
        if len(other) > OTHER_TEXT_MAX:
            return None, Problem("too_long", {"max": OTHER_TEXT_MAX})
    return Choice(tuple(o.code for o in options), other), None


def _parse_ranking(question, raw):
    ranks: dict[int, str] = {}
    count = len(question.options)
    for option in question.options:
        typed = _first(raw, rank_field(question, option))
        if not typed:
            continue
        rank = parse_int(typed)  # not int(): 5,000 digits are a ValueError there (a 500)
        if rank is None or not 1 <= rank <= count:
            return None, Problem("rank_format", {"max": count})
        if rank in ranks:
            return None, Problem("rank_duplicate", {"rank": rank})
        ranks[rank] = option.code
    if not ranks:
        return None, None
    return Ranking(tuple(ranks[r] for r in sorted(ranks))), None


def parse_number(typed: str) -> float | None:
    """A number as people type it: "2", "2,5", "1 200", "٣". None if it is not one."""
    typed = typed.strip().replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
    typed = typed.replace(",", ".").replace("٫", ".")
    if not typed or len(typed) > NUMBER_MAX_CHARS or "_" in typed:
        return None
    try:
        number = float(typed)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _parse_number(question, raw):
    typed = _first(raw, field_name(question))
    if not typed:
        return None, None
    number = parse_number(typed)
    if number is None:
        return None, Problem("number_format")
    if question.min_value is not None and number < question.min_value:
        return None, Problem("too_small", {"min": question.min_value})
    if question.max_value is not None and number > question.max_value:
        return None, Problem("too_large", {"max": question.max_value})
    return number, None


def _parse_text(question, raw):
    text = _first(raw, field_name(question))
    if not text:
        return None, None
    limit = SHORT_TEXT_MAX if question.kind == Kind.short_text else LONG_TEXT_MAX
    if len(text) > limit:
        return None, Problem("too_long", {"max": limit})
    return text, None


def parse_date(typed: str) -> date | None:
    """2026-03-01 (what a date field sends) or 1/3/2026 (what a paper form says)."""
    typed = typed.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", typed):
            day = date.fromisoformat(typed)
        else:
            match = _DAY_FIRST.fullmatch(typed)
            if not match:
                return None
            day = date(int(match.group(3)), int(match.group(2)), int(match.group(1)))
    except ValueError:
        return None
    return day if 1900 <= day.year <= 2100 else None


def _parse_date(question, raw):
    typed = _first(raw, field_name(question))
    if not typed:
        return None, None
    day = parse_date(typed)
    return (day, None) if day else (None, Problem("date_format"))


def _parse_photo(question, raw):
    sha = _first(raw, field_name(question, "photo")).lower()
    if not sha:
        return None, None
    if not _SHA256.fullmatch(sha):
        return None, Problem("photo_invalid")
    caption = _first(raw, field_name(question, "caption"))
    if len(caption) > CAPTION_MAX:
        return None, Problem("too_long", {"max": CAPTION_MAX})
    return Photo(sha, caption), None


def _parse_location(question, raw):
    lat_typed = _first(raw, field_name(question, "lat"))
    lng_typed = _first(raw, field_name(question, "lng"))
    place = _first(raw, field_name(question, "place"))
    if not (lat_typed or lng_typed or place):
        return None, None
    if len(place) > PLACE_MAX:
        return None, Problem("too_long", {"max": PLACE_MAX})
    if not (lat_typed or lng_typed):
        return Point(None, None, place), None
    if not (lat_typed and lng_typed):
        return None, Problem("location_incomplete")
    lat, lng = parse_number(lat_typed), parse_number(lng_typed)
    if lat is None or lng is None or not (-90 <= lat <= 90 and -180 <= lng <= 180):
        return None, Problem("location_range")
    # About 100 m: a point shows a place in the neighbourhood, never a home.
    return Point(round(lat, 3), round(lng, 3), place), None


_PARSERS = {
    Kind.single: _parse_choice,
    Kind.multiple: _parse_choice,
    Kind.scale: _parse_choice,
    Kind.yes_no: _parse_choice,
    Kind.ranking: _parse_ranking,
    Kind.number: _parse_number,
    Kind.short_text: _parse_text,
    Kind.long_text: _parse_text,
    Kind.date: _parse_date,
    Kind.photo: _parse_photo,
    Kind.location: _parse_location,
}


def parse_all(questions, raw: RawForm) -> tuple[dict[str, Value], dict[str, Problem]]:
    """Every question's value and problem, keyed by question code."""
    values, problems = {}, {}
    for question in questions:
        value, problem = parse(question, raw)
        if value is not None:
            values[question.code] = value
        if problem is not None:
            problems[question.code] = problem
    return values, problems


# --- typed codes (paper entry) ---------------------------------------------------------


def typed_codes(typed: str) -> list[str]:
    """Option codes as a clerk types them: separated by spaces, commas or semicolons."""
    return [c for c in _TYPED_SEPARATORS.split(typed.strip()) if c]


def raw_from_typed(question, typed: str) -> tuple[dict[str, list[str]], Problem | None]:
    """The raw fields of a choice or ranking question from typed codes ("shops green");
    for a ranking, the codes from first to last."""
    codes = typed_codes(typed)
    if question.kind != Kind.ranking:
        return {field_name(question): codes}, None
    raw: dict[str, list[str]] = {}
    for rank, code in enumerate(codes, 1):
        option = _find_option(question, code)
        if option is None:
            return {}, Problem("invalid_choice", {"code": code[:32]})
        name = rank_field(question, option)
        if name in raw:
            return {}, Problem("rank_duplicate", {"rank": rank})
        raw[name] = [str(rank)]
    return raw, None


# --- conditions ------------------------------------------------------------------------


def answer_codes(value: Value | None) -> frozenset[str]:
    if isinstance(value, (Choice, Ranking)):
        return frozenset(value.codes)
    return frozenset()


def condition_met(item, answers: Mapping[str, Value]) -> bool:
    """True if a section or question has no condition, or if the answer to the question it
    names includes one of its values."""
    if not item.condition_code:
        return True
    wanted = frozenset(item.condition_values or ())
    return bool(wanted & answer_codes(answers.get(item.condition_code)))


@dataclass
class Plan:
    """What is shown given some answers: visible sections (in order) with their visible
    questions, and the answers of visible questions only."""

    sections: list[tuple[object, list]]
    answers: dict[str, Value]

    @property
    def questions(self) -> list:
        return [q for _section, questions in self.sections for q in questions]

    def questions_of(self, section) -> list:
        for s, questions in self.sections:
            if s is section:
                return questions
        return []


def plan(sections, values: Mapping[str, Value]) -> Plan:
    """Walk the sections and questions in order; a section with no visible question is
    skipped (it would be an empty screen)."""
    shown: list[tuple[object, list]] = []
    answers: dict[str, Value] = {}
    for section in sections:
        if not condition_met(section, answers):
            continue
        questions = []
        for question in section.questions:
            if not condition_met(question, answers):
                continue
            questions.append(question)
            if question.code in values:
                answers[question.code] = values[question.code]
        if questions:
            shown.append((section, questions))
    return Plan(shown, answers)


def depends_on_same_section(question) -> bool:
    """A question whose condition is on a question of its own section: the server cannot
    know before the section is sent, so the page shows it (with a note) and JavaScript
    hides it while the condition is not met."""
    code = question.condition_code
    return bool(code) and any(q.code == code for q in question.section.questions if q is not question)


def check(sections, raw: RawForm) -> tuple[Plan, dict[str, Problem]]:
    """Parse everything, find what is visible, keep the problems of visible questions."""
    questions = [q for s in sections for q in s.questions]
    values, problems = parse_all(questions, raw)
    shown = plan(sections, values)
    visible = {q.code for q in shown.questions}
    return shown, {code: p for code, p in problems.items() if code in visible}


def not_applicable(sections, values: Mapping[str, Value], shown: Plan) -> list[str]:
    """Codes of questions that have an answer but are hidden by a condition (on paper a
    resident may answer a question meant to be skipped)."""
    visible = {q.code for q in shown.questions}
    return [q.code for s in sections for q in s.questions if q.code in values and q.code not in visible]


# --- profile ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    age_band: str | None = None
    gender: str | None = None
    residence_id: int | None = None


def parse_profile(raw: RawForm, *, age_bands=(), genders=(), residence_ids=()) -> tuple[Profile, dict[str, Problem]]:
    """The optional profile answers ("" is "prefer not to say"). Only the lists passed are
    asked: an empty list means the question is not asked and its field is ignored."""
    problems: dict[str, Problem] = {}
    age = _first(raw, "p_age") if age_bands else ""
    if age and age not in age_bands:
        problems["p_age"], age = Problem("invalid_choice", {"code": age[:32]}), ""
    gender = _first(raw, "p_gender") if genders else ""
    if gender and gender not in genders:
        problems["p_gender"], gender = Problem("invalid_choice", {"code": gender[:32]}), ""
    residence = _first(raw, "p_residence") if residence_ids else ""
    residence_id = None
    if residence and residence != "elsewhere":
        if parse_int(residence) in residence_ids:
            residence_id = int(residence)
        else:
            problems["p_residence"] = Problem("invalid_choice", {"code": residence[:32]})
    return Profile(age or None, gender or None, residence_id), problems


# --- opening ---------------------------------------------------------------------------


def is_open(questionnaire, today: date) -> bool:
    """Open to answers today: status open and within its dates (both inclusive)."""
    return questionnaire.status == Status.open and within_dates(questionnaire, today)


def was_open_on(questionnaire, day: date, today: date) -> bool:
    """Could an answer collected on `day` be given then? Open within its dates, or closed since its
    closing day passed (a manual close leaves no date: then it is "no", as for a live answer)."""
    if questionnaire.status == Status.draft or not within_dates(questionnaire, day):
        return False
    if questionnaire.status == Status.open:
        return True
    return questionnaire.closes_on is not None and questionnaire.closes_on < today


def within_dates(questionnaire, day: date) -> bool:
    """`day` falls within the questionnaire's opening and closing days (both inclusive)."""
    if questionnaire.opens_on and day < questionnaire.opens_on:
        return False
    return not (questionnaire.closes_on and day > questionnaire.closes_on)
