"""Results of one questionnaire version, computed in SQL, with small counts suppressed.

Every figure is a `GROUP BY` over `questionnaire_answers` alone: the answer rows repeat their
response's neighbourhood, channel, language and day, so one question's results, filtered and
grouped by neighbourhood, read one table through the (question, neighbourhood, option) index.
Only the breakdowns by age band and gender join the responses.

Storage invariant relied on: a choice answer is one row per chosen option (a ranking: one row
per ranked option, with its rank), so that counting rows per option counts respondents.

Figures then go through `core.disclosure`: fewer than 11 people → "s", with secondary
suppression where a shown total would reveal a cell. A statistic is published only when it
cannot reveal a suppressed cell: a scale's mean when every one of its cells is shown (the mean
is then computable from the page anyway), a ranking's average rank when every count behind it
is at least 11, the median / minimum / maximum of numbers over at least 11 answers.
Filters (period, neighbourhood, channel, language) are applied table by table: comparing two
overlapping filters could still narrow a suppressed cell, which is why results are for staff
(admins, facilitators, evaluators) and never public.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

from ..core.channels import Assistance, Channel
from ..core.disclosure import MIN_CELL, Cell, Line, Table, protect_line, protect_table
from ..core.territories import Neighbourhood
from ..extensions import db
from .models import AgeBand, Answer, Gender, Kind, Moderation, Question, QuestionnaireVersion, Response
from ..core.numbers import is_ascii_digits

#: Kinds where every respondent is in exactly one column (the cells add up to the total).
SINGLE_VALUED = frozenset({Kind.single, Kind.scale, Kind.yes_no, Kind.ranking})
#: What a question can be compared by (the keys of `option_counts(by=...)`).
GROUPINGS = ("neighbourhood", "channel", "locale", "age_band", "gender")
MAX_VERBATIMS = 30
MAX_PHOTOS = 30


@dataclass(frozen=True)
class Filters:
    """Which answers count. Empty fields do not filter."""

    neighbourhood_ids: tuple[int, ...] = ()
    date_from: date | None = None
    date_to: date | None = None
    channel: Channel | None = None
    locale: str | None = None

    def clauses(self, model) -> list:
        """WHERE clauses on `Answer` or `Response` (both carry the same four columns)."""
        out = []
        if self.neighbourhood_ids:
            out.append(model.neighbourhood_id.in_(self.neighbourhood_ids))
        if self.date_from:
            out.append(model.submitted_on >= self.date_from)
        if self.date_to:
            out.append(model.submitted_on <= self.date_to)
        if self.channel:
            out.append(model.channel == self.channel)
        if self.locale:
            out.append(model.locale == self.locale)
        return out

    @property
    def active(self) -> bool:
        return bool(self.neighbourhood_ids or self.date_from or self.date_to or self.channel or self.locale)


def protect_count(n: int, min_cell: int = MIN_CELL) -> Cell:
    """A lone count of people (no total that could reveal it)."""
    return Cell(None) if 0 < n < min_cell else Cell(n)


# --- counting options -----------------------------------------------------------------------


@dataclass
class OptionCounts:
    """Respondents per (group, option) and per group. Groups are the values of `by` (None:
    not stated), or the single group None when not grouped. Ranking: first places."""

    question: Question
    by: str | None
    groups: list
    counts: dict = field(default_factory=dict)
    answered: dict = field(default_factory=dict)

    def row(self, group) -> list[int]:
        return [self.counts.get((group, o.id), 0) for o in self.question.options]


def _group_column(by: str | None):
    return {
        None: None,
        "neighbourhood": Answer.neighbourhood_id,
        "channel": Answer.channel,
        "locale": Answer.locale,
        "age_band": Response.age_band,
        "gender": Response.gender,
    }[by]


_RESPONSE_COLUMN = {"neighbourhood": Response.neighbourhood_id, "channel": Response.channel, "locale": Response.locale,
                    "age_band": Response.age_band, "gender": Response.gender}


def _group_order(by: str | None, keys) -> list:
    keys = set(keys)
    if by == "channel":
        ordered = [c for c in Channel if c in keys]
    elif by == "age_band":
        ordered = [a for a in AgeBand if a in keys]
    elif by == "gender":
        ordered = [g for g in Gender if g in keys]
    elif by == "neighbourhood":
        names = neighbourhood_names(k for k in keys if k is not None)
        ordered = sorted((k for k in keys if k is not None), key=lambda k: names.get(k, ""))
    else:
        ordered = sorted(k for k in keys if k is not None)
    return ordered + ([None] if None in keys else [])


def option_counts(question: Question, filters: Filters = Filters(), by: str | None = None) -> OptionCounts:
    """Respondents per option of a choice question (first places of a ranking), optionally per
    neighbourhood, channel, language, age band or gender. One `GROUP BY` on the answers (the
    profile groupings join the responses); a multiple choice adds the distinct respondents."""
    if by not in (None, *GROUPINGS):
        raise ValueError(f"cannot group by {by!r}")
    group_col = _group_column(by)
    where = [Answer.question_id == question.id, Answer.option_id.is_not(None), *filters.clauses(Answer)]
    if question.kind == Kind.ranking:
        where.append(Answer.rank == 1)
    grouped = [group_col] if group_col is not None else []
    stmt = sa.select(*grouped, Answer.option_id, sa.func.count()).where(*where).group_by(*grouped, Answer.option_id)
    if by in ("age_band", "gender"):
        stmt = stmt.join(Response, Response.id == Answer.response_id)
    result = OptionCounts(question, by, [])
    for row in db.session.execute(stmt):
        group, option_id, n = row if grouped else (None, *row)
        result.counts[(group, option_id)] = n
        result.answered[group] = result.answered.get(group, 0) + n
    if question.kind not in SINGLE_VALUED:
        # Several rows per person: count the responses that have one (a semi-join, which
        # PostgreSQL hashes; COUNT(DISTINCT) would sort every answer).
        on_response = [_RESPONSE_COLUMN[by]] if by else []
        answered = (
            sa.select(*on_response, sa.func.count())
            .where(Response.version_id == question.version_id, *filters.clauses(Response),
                   sa.exists().where(Answer.response_id == Response.id, Answer.question_id == question.id,
                                     Answer.option_id.is_not(None)))
            .group_by(*on_response)
        )
        rows = db.session.execute(answered).all()
        result.answered = {(row[0] if on_response else None): row[-1] for row in rows if row[-1]}
    result.groups = _group_order(by, result.answered)
    return result


def neighbourhood_names(ids) -> dict[int, str]:
    ids = list(ids)
    if not ids:
        return {}
    return dict(db.session.execute(sa.select(Neighbourhood.id, Neighbourhood.name).where(Neighbourhood.id.in_(ids))).all())


# --- one question -----------------------------------------------------------------------------


@dataclass
class QuestionResult:
    question: Question
    #: Respondents who answered the question.
    answered: Cell
    #: Choice kinds: one cell per option of `question.options` (a ranking: first places).
    line: Line | None = None
    #: Scale: mean of the points, "don't know" left out (None: not published).
    mean: float | None = None
    #: Ranking: average rank per option (None: not published).
    average_ranks: list = field(default_factory=list)
    #: Number: (statistic, value or None when not published).
    stats: list = field(default_factory=list)
    #: Date: (first day of the month, cell) per month, in order.
    months: list = field(default_factory=list)
    months_line: Line | None = None
    #: Free text: the published texts a moderator selected.
    verbatims: list = field(default_factory=list)
    #: Photo: the published photos (answers), for staff.
    photos: list = field(default_factory=list)

    @property
    def suppressed_somewhere(self) -> bool:
        lines = [x for x in (self.line, self.months_line) if x is not None]
        return self.answered.suppressed or any(x.any_suppressed for x in lines)


def _scale_points(question: Question) -> dict[int, float]:
    points, position = {}, 0
    for option in question.options:
        if option.is_dont_know or option.is_other:
            continue
        position += 1
        points[option.id] = float(option.code) if is_ascii_digits(option.code) else float(position)
    return points


def _scale_mean(question: Question, counts: dict[int, int], line: Line) -> float | None:
    points = _scale_points(question)
    published = {o.id: cell for o, cell in zip(question.options, line.cells, strict=True)}
    if any(published[oid].suppressed for oid in points):
        return None
    n = sum(counts.get(oid, 0) for oid in points)
    if n < MIN_CELL:
        return None
    return sum(points[oid] * counts.get(oid, 0) for oid in points) / n


def _choice(question: Question, filters: Filters) -> QuestionResult:
    oc = option_counts(question, filters)
    counts = {oid: n for (_g, oid), n in oc.counts.items()}
    total = oc.answered.get(None, 0)
    line = protect_line(oc.row(None), total, additive=question.kind in SINGLE_VALUED)
    result = QuestionResult(question, line.total, line=line)
    if question.kind == Kind.scale:
        result.mean = _scale_mean(question, counts, line)
    if question.kind == Kind.ranking:
        result.average_ranks = _average_ranks(question, filters)
    return result


def _average_ranks(question: Question, filters: Filters) -> list:
    rows = db.session.execute(
        sa.select(Answer.option_id, Answer.rank, sa.func.count())
        .where(Answer.question_id == question.id, Answer.rank.is_not(None), *filters.clauses(Answer))
        .group_by(Answer.option_id, Answer.rank)
    )
    by_option: dict[int, list[tuple[int, int]]] = {}
    for option_id, rank, n in rows:
        by_option.setdefault(option_id, []).append((rank, n))
    out = []
    for option in question.options:
        dist = by_option.get(option.id, [])
        n = sum(c for _r, c in dist)
        # An average over a few people, or with a rank held by few, would tell what they did.
        safe = n >= MIN_CELL and all(c >= MIN_CELL for _r, c in dist)
        out.append(sum(r * c for r, c in dist) / n if safe else None)
    return out


def _median(histogram: list[tuple[float, int]], n: int) -> float:
    """Median from (value, count) sorted by value."""
    lower, upper = (n - 1) // 2, n // 2
    seen, low_value = 0, None
    for value, count in histogram:
        if low_value is None and seen + count > lower:
            low_value = value
        if seen + count > upper:
            return (low_value + value) / 2
        seen += count
    raise ValueError("empty histogram")


def _number(question: Question, filters: Filters) -> QuestionResult:
    where = [Answer.question_id == question.id, Answer.number.is_not(None), *filters.clauses(Answer)]
    n, mean, low, high = db.session.execute(
        sa.select(sa.func.count(), sa.func.avg(Answer.number), sa.func.min(Answer.number), sa.func.max(Answer.number))
        .where(*where)
    ).one()
    result = QuestionResult(question, protect_count(n))
    if n < MIN_CELL:
        result.stats = [("mean", None), ("median", None), ("min", None), ("max", None)]
        return result
    histogram = db.session.execute(
        sa.select(Answer.number, sa.func.count()).where(*where).group_by(Answer.number).order_by(Answer.number)
    ).all()
    # An extreme is one person's own answer (the biggest household…): shown only when at least
    # MIN_CELL people gave that same value.
    low = low if histogram[0][1] >= MIN_CELL else None
    high = high if histogram[-1][1] >= MIN_CELL else None
    result.stats = [("mean", float(mean)), ("median", _median(histogram, n)), ("min", low), ("max", high)]
    return result


def _date(question: Question, filters: Filters) -> QuestionResult:
    year, month = sa.extract("year", Answer.day), sa.extract("month", Answer.day)
    rows = db.session.execute(
        sa.select(year, month, sa.func.count())
        .where(Answer.question_id == question.id, Answer.day.is_not(None), *filters.clauses(Answer))
        .group_by(year, month)
        .order_by(year, month)
    ).all()
    months = [date(int(y), int(m), 1) for y, m, _n in rows]
    total = sum(n for *_ym, n in rows)
    line = protect_line([n for *_ym, n in rows], total)
    result = QuestionResult(question, line.total, months_line=line)
    result.months = list(zip(months, line.cells, strict=True))
    return result


def _count_where(question: Question, filters: Filters, *conditions) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).where(Answer.question_id == question.id, *conditions, *filters.clauses(Answer))
    )


def _text(question: Question, filters: Filters) -> QuestionResult:
    n = _count_where(question, filters, Answer.text.is_not(None))
    result = QuestionResult(question, protect_count(n))
    if n >= MIN_CELL:
        result.verbatims = list(db.session.scalars(
            sa.select(Answer.text)
            .where(Answer.question_id == question.id, Answer.moderation == Moderation.published,
                   Answer.featured.is_(True), *filters.clauses(Answer))
            .order_by(Answer.id)
            .limit(MAX_VERBATIMS)
        ))
    return result


def _photo(question: Question, filters: Filters) -> QuestionResult:
    n = _count_where(question, filters, Answer.photo_sha256.is_not(None))
    result = QuestionResult(question, protect_count(n))
    if n >= MIN_CELL:
        result.photos = list(db.session.scalars(
            sa.select(Answer)
            .where(Answer.question_id == question.id, Answer.photo_sha256.is_not(None),
                   Answer.moderation == Moderation.published, *filters.clauses(Answer))
            .order_by(Answer.id)
            .limit(MAX_PHOTOS)
        ))
    return result


def _location(question: Question, filters: Filters) -> QuestionResult:
    return QuestionResult(question, protect_count(_count_where(question, filters, Answer.latitude.is_not(None))))


def question_result(question: Question, filters: Filters = Filters()) -> QuestionResult:
    if question.is_choice:
        return _choice(question, filters)
    return {
        Kind.number: _number,
        Kind.date: _date,
        Kind.short_text: _text,
        Kind.long_text: _text,
        Kind.photo: _photo,
        Kind.location: _location,
    }[question.kind](question, filters)


# --- comparisons ------------------------------------------------------------------------------


@dataclass
class Comparison:
    question: Question
    by: str
    groups: list
    table: Table


def compare(question: Question, filters: Filters = Filters(), by: str = "neighbourhood") -> Comparison:
    """A choice question's options per group (neighbourhood by default), suppressed as a table
    whose column totals keep the pattern of the question's own results."""
    oc = option_counts(question, filters, by=by)
    additive = question.kind in SINGLE_VALUED
    rows = [oc.row(g) for g in oc.groups]
    totals = [oc.answered[g] for g in oc.groups]
    col_totals = [sum(r[c] for r in rows) for c in range(len(question.options))]
    margin = protect_line(col_totals, sum(totals), additive=additive)
    if not rows:
        return Comparison(question, by, [], Table((), margin))
    return Comparison(question, by, oc.groups, protect_table(rows, totals, rows_additive=additive, margin=margin))


# --- respondents -----------------------------------------------------------------------------


@dataclass
class Breakdown:
    key: str
    groups: list
    line: Line


@dataclass
class Respondents:
    total: Cell
    breakdowns: list[Breakdown]


PROFILE_COLUMNS = {"channel": Response.channel, "locale": Response.locale, "neighbourhood": Response.neighbourhood_id,
                   "age_band": Response.age_band, "gender": Response.gender}
HELP_COLUMNS = (Response.helped_read_aloud, Response.helped_translated, Response.helped_written_for)


def respondents(version: QuestionnaireVersion, filters: Filters = Filters()) -> Respondents:
    """Who answered: by channel (always all three), language, neighbourhood, age band and
    gender ("not stated" included, so that each breakdown adds up to the total); and the kinds
    of help given on the assisted channel (several per response: not additive).

    One scan of the responses, grouped by all five at once: the groups (at most a few thousand
    combinations) are then added up per breakdown."""
    cols = list(PROFILE_COLUMNS.values())
    helped = [sa.func.sum(sa.case((col.is_(True), 1), else_=0)) for col in HELP_COLUMNS]
    rows = db.session.execute(
        sa.select(*cols, sa.func.count(), *helped)
        .where(Response.version_id == version.id, *filters.clauses(Response))
        .group_by(*cols)
    ).all()
    counts: dict[str, dict] = {key: {} for key in PROFILE_COLUMNS}
    help_counts, assisted = [0, 0, 0], 0
    for row in rows:
        n = row[len(cols)]
        for key, value in zip(PROFILE_COLUMNS, row[: len(cols)], strict=True):
            counts[key][value] = counts[key].get(value, 0) + n
        if row[0] == Channel.assisted:
            assisted += n
            help_counts = [a + (b or 0) for a, b in zip(help_counts, row[len(cols) + 1:], strict=True)]
    total = sum(counts["channel"].values())
    breakdowns = []
    for key in PROFILE_COLUMNS:
        groups = {"channel": list(Channel), "age_band": [*AgeBand, None], "gender": [*Gender, None]}.get(key)
        groups = groups or _group_order(key, counts[key])  # every channel, band, gender even if empty
        breakdowns.append(Breakdown(key, groups, protect_line([counts[key].get(g, 0) for g in groups], total)))
    help_line = protect_line(help_counts, assisted, additive=False)
    if breakdowns[0].line.cells[list(Channel).index(Channel.assisted)].suppressed:
        # The assisted count is hidden in the channel line: not here either, nor any percentage.
        help_line = Line(tuple(Cell(c.value) for c in help_line.cells), Cell(None))
    breakdowns.insert(1, Breakdown("help", list(Assistance), help_line))
    # The number of respondents is published with every breakdown line above.
    return Respondents(breakdowns[0].line.total, breakdowns)


@dataclass
class Results:
    version: QuestionnaireVersion
    filters: Filters
    respondents: Respondents
    questions: list[QuestionResult]


def results(version: QuestionnaireVersion, filters: Filters = Filters()) -> Results:
    return Results(version, filters, respondents(version, filters), [question_result(q, filters) for q in version.questions])
