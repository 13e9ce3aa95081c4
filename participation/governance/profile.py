"""Who takes part: the participation profile across mechanisms, for a selection of units and years.

For each dimension — age band, gender, neighbourhood of residence, language, channel (online,
assisted, paper) — one table: rows are the categories plus "not stated", columns the
mechanisms (tables de quartier, questionnaires, budget votes, exploratory walks, budget ideas,
FPH applications), cells the *participations* (one check-in, one response, one voter of one
process, one walker of one walk, one idea, one application). A mechanism that does not record a
dimension puts all its participations under "not stated", so that every table's rows partition
the same participations and every table has the same column totals. Which participations fall
in the selection follows the metrics' rule (`metrics` module doc): the resident's declared
neighbourhood when the mechanism asks for it, otherwise the table's, walk's, process's or fund's
(for ideas and FPH applications: the neighbourhood the project is for); the year of the meeting,
response, vote, walk, idea, or of the fund.

**Estimated unique participants**, per mechanism, where it can be estimated honestly: tables
de quartier from the anonymous attendee tokens (the estimate and bounds of `tables.figures`,
over the selected meetings); questionnaires: their responses (one per person and
questionnaire); budget votes: their voters (one per voter and process); walks: their walkers
(as counted on each walk). Ideas and FPH applications are not estimated (an idea or an
application may be several residents'). People are never matched across mechanisms, by design:
nothing links a resident's check-in to their vote or their answers, so a resident taking part in
three mechanisms is three participants here.

**Disclosure control.** Counts of people, below 11 → "s" with secondary suppression, by the
network model of `core.disclosure` (`_protect_table`: `protect_table` plus two rules). The
column totals (participations per mechanism) are the same in the five tables:

- a total that a metric grid publishes for the same selection (`tables.participations`,
  `questionnaires.responses`, `budgets.voters`, `walks.participants`, `budgets.proposals`,
  read with `metrics.Grid.value`) is known to every reader, so it is *locked*: shown, and
  never counted on to protect a cell; a total the grid hides is hidden here too;
- the other totals (FPH applications, or a total a grid hides) are hidden alike in the five
  tables: a total one table hides is hidden in all, until none hides more;
- a mechanism with fewer than 11 participations has its whole column hidden, zeros included
  (as a row of fewer than 11 people is).

An estimate of unique participants is hidden when it is a small count or when its mechanism's
total is hidden (questionnaires, votes and walks: it *is* that total; tables: its upper bound
can equal it).

**What this leaves (for the lead to decide).** Each profile table is protected on the selection
asked for, on its own. Two selections that differ by a little — a commune and one of its
neighbourhoods, 2024–2026 and 2024–2025, the whole contract and one commune when the others
are small — each show their cells, and their difference can be a small count that neither
shows (commune "women, tables: 25", neighbourhood "women, tables: 20": the rest of the commune
had 5). The same holds between a profile table and a metric grid cell that counts
almost the same people (the residence table's questionnaire column against the grid of
`questionnaires.responses` by unit). Closing it needs the profile protected once on a canonical
cube (every unit × year × category × mechanism, as the metric grids are on units × years) and
every selection read from it, showing a selection's cell only when every cube cell it adds up is
shown — at the cost of far more "s" on small selections.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from ..budgets.models import Process, Proposal, VoteRecord
from ..core import disclosure
from ..core.channels import Channel
from ..core.profiles import AGE_BANDS, GENDERS
from ..core.templating import language_name
from ..core.territories import Contract
from ..extensions import db
from ..fph.models import Application, Fund
from ..questionnaires.models import Questionnaire, Response
from ..tables.models import CheckIn, PaperTally, TallyDimension
from ..walks.models import WalkProfileCount
from . import metrics
from .metrics import Unit, contract_units, contract_years, year_of
from .sources import held_meetings, held_walks, in_units

AGE_BAND = "age_band"
GENDER = "gender"
RESIDENCE = "residence"
LANGUAGE = "language"
CHANNEL = "channel"

#: The category key of participations whose profile is not stated (or not asked).
NOT_STATED = None
#: Residence: lives in none of the contract's neighbourhoods.
ELSEWHERE = "elsewhere"

DIMENSIONS = {
    AGE_BAND: _l("Age band"),
    GENDER: _l("Gender"),
    RESIDENCE: _l("Neighbourhood of residence"),
    LANGUAGE: _l("Language"),
    CHANNEL: _l("Channel"),
}
CHANNELS = {Channel.web: _l("online"), Channel.assisted: _l("assisted"), Channel.paper: _l("paper")}


@dataclass(frozen=True)
class Mechanism:
    key: str
    label: object
    #: What one participation is.
    definition: object
    #: The dimensions it records (the others are all "not stated").
    records: frozenset[str]
    #: The metric whose grid publishes the same number of participations for a selection (None: none).
    metric: str | None = None


MECHANISMS: tuple[Mechanism, ...] = (
    Mechanism("tables", _l("Table meetings"),
              _l("a check-in, or a person counted on a paper sign-in sheet, at a table meeting held"),
              frozenset({AGE_BAND, GENDER, RESIDENCE, CHANNEL}), "tables.participations"),
    Mechanism("questionnaires", _l("Questionnaires"),
              _l("a response to a questionnaire (the language is the one it was answered in)"),
              frozenset({AGE_BAND, GENDER, RESIDENCE, LANGUAGE, CHANNEL}), "questionnaires.responses"),
    Mechanism("budget_votes", _l("Budget votes"),
              _l("a voter in a participatory budget (the neighbourhood of their voter code, or the one they gave)"),
              frozenset({RESIDENCE, CHANNEL}), "budgets.voters"),
    Mechanism("walks", _l("Exploratory walks"),
              _l("a walker at an exploratory walk held, as counted by its facilitators"),
              frozenset({AGE_BAND, GENDER}), "walks.participants"),
    Mechanism("budget_proposals", _l("Budget ideas"),
              _l("an idea submitted to a participatory budget (the language of the page it was written on)"),
              frozenset({LANGUAGE, CHANNEL}), "budgets.proposals"),
    Mechanism("fph_applications", _l("FPH applications"),
              _l("an application to an FPH fund, whatever the decision (the language of the page it was written on)"),
              frozenset({LANGUAGE, CHANNEL})),
)

DEFINITION = _l(
    "Participations in each mechanism, by the anonymous profile residents chose to give. \"Not stated\" counts "
    "those who did not say, and every participation in a mechanism that does not ask. A resident who took part "
    "several times, or in several mechanisms, counts each time: people are not matched across mechanisms, by "
    "design. Counts below 11 are shown as \"s\", with the cells that would give them away."
)
UNIQUE_METHODS = {
    "tables": _l("Estimated from the phones that kept the anonymous attendee token: the others are assumed to come "
                 "back as often (within the bounds: at least the busiest meeting, at most one person per "
                 "participation without a token)."),
    "questionnaires": _l("One person per response (someone who answered two questionnaires counts twice)."),
    "budget_votes": _l("One person per voter and process (someone who voted in two budgets counts twice)."),
    "walks": _l("The walkers counted on each walk (someone who walked twice counts twice)."),
}
NOT_ESTIMATED = _l("Not estimated: an idea or an application may come from several residents.")


@dataclass(frozen=True)
class Category:
    #: AgeBand / Gender / Channel value, neighbourhood id, ELSEWHERE, locale code, or NOT_STATED.
    key: object
    label: object


@dataclass(frozen=True)
class DimensionTable:
    key: str
    label: object
    categories: tuple[Category, ...]
    #: rows = categories, columns = `Profile.mechanisms`, protected.
    table: disclosure.Table
    #: Per mechanism: does it record this dimension?
    recorded: tuple[bool, ...]


@dataclass(frozen=True)
class UniqueEstimate:
    mechanism: Mechanism
    #: None when not estimated (or, for tables, when no phone kept a token: only the bounds).
    estimate: disclosure.Cell | None
    low: disclosure.Cell | None
    high: disclosure.Cell | None
    method: object


@dataclass(frozen=True)
class Profile:
    contract_id: int
    #: Indexes into `contract_units(contract)`; None: the whole contract.
    unit_ids: tuple[int, ...] | None
    year_from: int
    year_to: int
    mechanisms: tuple[Mechanism, ...]
    #: Participations per mechanism (the tables' column totals) and their sum, protected.
    participations: disclosure.Line
    dimensions: tuple[DimensionTable, ...]
    unique: tuple[UniqueEstimate, ...]
    definition: object = DEFINITION

    def dimension(self, key: str) -> DimensionTable:
        return next(d for d in self.dimensions if d.key == key)


# --- counting -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Selection:
    contract_id: int
    units: list[Unit]
    unit_ids: tuple[int, ...] | None
    year_from: int
    year_to: int
    now: datetime | None

    def where(self, neighbourhood_id, commune_id):
        return in_units(self.contract_id, self.units, self.unit_ids, neighbourhood_id, commune_id)


@dataclass
class _Counts:
    """One mechanism's participations: the total, and per recorded dimension {category key: n}."""

    total: int
    by: dict[str, dict[object, int]]


def _key(value) -> object:
    return value.value if hasattr(value, "value") else value


def _grouped(base, column) -> dict[object, int]:
    """{value: rows} over a subquery's column, stated values only (one GROUP BY)."""
    rows = db.session.execute(sa.select(column, sa.func.count()).select_from(base).where(column.is_not(None))
                              .group_by(column))
    return {_key(value): int(n) for value, n in rows}


def _add(into: dict, more: dict) -> dict:
    for k, n in more.items():
        into[k] = into.get(k, 0) + int(n or 0)
    return into


def _rows_mechanism(base, dimensions: Sequence[str]) -> _Counts:
    """A mechanism with one row per participation: `base` is a subquery with a column per dimension."""
    total = int(db.session.scalar(sa.select(sa.func.count()).select_from(base)) or 0)
    return _Counts(total, {d: _grouped(base, base.c[d]) for d in dimensions})


def _tables_meetings(sel: _Selection):
    held = held_meetings(sel.contract_id, sel.year_from, sel.year_to, sel.now)
    return sa.select(held.c.id).where(sel.where(held.c.neighbourhood_id, held.c.commune_id))


def _tables(sel: _Selection) -> _Counts:
    meetings = _tables_meetings(sel)
    checkins = sa.select(CheckIn).where(CheckIn.meeting_id.in_(meetings)).subquery()
    n_checkins = int(db.session.scalar(sa.select(sa.func.count()).select_from(checkins)) or 0)
    paper = {(d, v): int(n or 0) for d, v, n in db.session.execute(
        sa.select(PaperTally.dimension, PaperTally.value, sa.func.sum(PaperTally.count))
        .where(PaperTally.meeting_id.in_(meetings))
        .group_by(PaperTally.dimension, PaperTally.value)
    )}
    on_paper = int(sum(n for (d, _v), n in paper.items() if d is TallyDimension.total))

    def paper_counts(dimension: TallyDimension) -> dict:
        return {v: int(n) for (d, v), n in paper.items() if d is dimension}

    residence = _grouped(checkins, checkins.c.residence_id)
    elsewhere = int(db.session.scalar(
        sa.select(sa.func.count()).select_from(checkins).where(checkins.c.residence_elsewhere.is_(True))) or 0)
    if elsewhere:
        residence[ELSEWHERE] = residence.get(ELSEWHERE, 0) + elsewhere
    for value, n in paper_counts(TallyDimension.residence).items():
        key = int(value) if value.isdigit() else ELSEWHERE  # "other" on the sheet: lives elsewhere
        residence[key] = residence.get(key, 0) + n
    return _Counts(n_checkins + on_paper, {
        AGE_BAND: _add(_grouped(checkins, checkins.c.age_band), paper_counts(TallyDimension.age_band)),
        GENDER: _add(_grouped(checkins, checkins.c.gender), paper_counts(TallyDimension.gender)),
        RESIDENCE: residence,
        CHANNEL: _add(_grouped(checkins, checkins.c.channel), {Channel.paper.value: on_paper}),
    })


def _questionnaires(sel: _Selection) -> _Counts:
    year = year_of(Response.submitted_on)
    place = sa.func.coalesce(Response.neighbourhood_id, Questionnaire.neighbourhood_id)
    base = (
        sa.select(Response.age_band.label(AGE_BAND), Response.gender.label(GENDER),
                  Response.neighbourhood_id.label(RESIDENCE), Response.locale.label(LANGUAGE),
                  Response.channel.label(CHANNEL))
        .join(Questionnaire, Questionnaire.id == Response.questionnaire_id)
        .where(Questionnaire.contract_id == sel.contract_id, year.between(sel.year_from, sel.year_to),
               sel.where(place, Questionnaire.commune_id))
    ).subquery()
    return _rows_mechanism(base, (AGE_BAND, GENDER, RESIDENCE, LANGUAGE, CHANNEL))


def _budget_votes(sel: _Selection) -> _Counts:
    year = year_of(VoteRecord.voted_on)
    place = sa.func.coalesce(VoteRecord.neighbourhood_id, Process.neighbourhood_id)
    base = (
        sa.select(VoteRecord.neighbourhood_id.label(RESIDENCE), VoteRecord.channel.label(CHANNEL))
        .join(Process, Process.id == VoteRecord.process_id)
        .where(Process.contract_id == sel.contract_id, year.between(sel.year_from, sel.year_to),
               sel.where(place, Process.commune_id))
    ).subquery()
    return _rows_mechanism(base, (RESIDENCE, CHANNEL))


def _walks(sel: _Selection) -> _Counts:
    held = held_walks(sel.contract_id, sel.year_from, sel.year_to)
    # Only walks with a count of walkers: a sign-in sheet's breakdown never exceeds its walk's count.
    counted = (sa.select(held.c.id).where(held.c.participants.is_not(None),
                                          sel.where(held.c.neighbourhood_id, held.c.commune_id)))
    total = int(db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(held.c.participants), 0)).where(held.c.id.in_(counted))) or 0)
    rows = db.session.execute(
        sa.select(WalkProfileCount.dimension, WalkProfileCount.value, sa.func.sum(WalkProfileCount.count))
        .where(WalkProfileCount.walk_id.in_(counted))
        .group_by(WalkProfileCount.dimension, WalkProfileCount.value)
    ).all()
    by: dict[str, dict] = {AGE_BAND: {}, GENDER: {}}
    for dimension, value, n in rows:
        if dimension in by:
            by[dimension][value] = int(n or 0)
    return _Counts(total, by)


def _budget_proposals(sel: _Selection) -> _Counts:
    year = year_of(Proposal.submitted_on)
    place = sa.func.coalesce(Proposal.neighbourhood_id, Process.neighbourhood_id)
    base = (
        sa.select(Proposal.original_locale.label(LANGUAGE), Proposal.channel.label(CHANNEL))
        .join(Process, Process.id == Proposal.process_id)
        .where(Process.contract_id == sel.contract_id, year.between(sel.year_from, sel.year_to),
               sel.where(place, Process.commune_id))
    ).subquery()
    return _rows_mechanism(base, (LANGUAGE, CHANNEL))


def _fph_applications(sel: _Selection) -> _Counts:
    place = sa.func.coalesce(Application.neighbourhood_id, Fund.neighbourhood_id)
    base = (
        sa.select(Application.original_locale.label(LANGUAGE), Application.channel.label(CHANNEL))
        .join(Fund, Fund.id == Application.fund_id)
        .where(Fund.contract_id == sel.contract_id, Fund.year.between(sel.year_from, sel.year_to),
               sel.where(place, Fund.commune_id))
    ).subquery()
    return _rows_mechanism(base, (LANGUAGE, CHANNEL))


_COUNTERS = {
    "tables": _tables,
    "questionnaires": _questionnaires,
    "budget_votes": _budget_votes,
    "walks": _walks,
    "budget_proposals": _budget_proposals,
    "fph_applications": _fph_applications,
}


# --- categories ---------------------------------------------------------------------------------


def _categories(dimension: str, sel: _Selection, seen: set) -> list[Category]:
    """The rows of a dimension: every category that may be stated (so that zeros show who is not
    reached), those seen, then "not stated"."""
    if dimension == AGE_BAND:
        cats = [Category(a.value, label) for a, label in AGE_BANDS.items()]
    elif dimension == GENDER:
        cats = [Category(g.value, label) for g, label in GENDERS.items()]
    elif dimension == CHANNEL:
        cats = [Category(c.value, label) for c, label in CHANNELS.items()]
    elif dimension == LANGUAGE:
        from flask import current_app

        codes = list(current_app.config.get("LANGUAGES", {}))
        codes += sorted(str(c) for c in seen if c not in codes)
        cats = [Category(code, LazyString(language_name, code)) for code in codes]
    else:  # residence: the selection's neighbourhoods, then any other one seen, then elsewhere
        chosen = None if sel.unit_ids is None else set(sel.unit_ids)
        cats = [
            Category(u.neighbourhood_id, u.label) for i, u in enumerate(sel.units)
            if u.level == "neighbourhood" and (chosen is None or i in chosen or u.neighbourhood_id in seen)
        ]
        cats.append(Category(ELSEWHERE, _l("Somewhere else")))
    return [*cats, Category(NOT_STATED, _l("Not stated"))]


def _normalise(dimension: str, counts: dict, sel: _Selection) -> dict:
    """Residence: a neighbourhood that is not the contract's is "somewhere else"."""
    if dimension != RESIDENCE:
        return counts
    hoods = {u.neighbourhood_id for u in sel.units if u.level == "neighbourhood"}
    out: dict = {}
    for key, n in counts.items():
        key = key if key in hoods else ELSEWHERE
        out[key] = out.get(key, 0) + n
    return out


# --- protection -----------------------------------------------------------------------------------


def _protect_table(counts: list[list[int]], hidden_cols: set[int], locked_cols: set[int]) -> disclosure.Table:
    """`core.disclosure.protect_table` with what a profile table needs on top (same network model):

    - *locked* column totals: the mechanisms' participations that a metric grid already publishes
      for this selection. A reader knows them, so protection may not rely on hiding them (the
      stock function may hide a column total "when nothing else helps");
    - a mechanism with fewer than 11 participations has its whole column hidden, zeros included,
      as a row (or a table) of fewer than 11 people is: "0 assisted" would tell how its few came.

    `hidden_cols`: column totals to hide (hidden by a grid, or by another dimension's table)."""
    d, min_cell = disclosure, disclosure.MIN_CELL
    n_rows, n_cols = len(counts), len(counts[0]) if counts else 0
    row_totals = [sum(row) for row in counts]
    col_totals = [sum(row[c] for row in counts) for c in range(n_cols)]
    grand = sum(row_totals)

    def percent(value, total):
        return 100.0 * value / total if value is not None and total else None

    if grand == 0:
        zero = tuple(d.Cell(0) for _ in range(n_cols))
        return d.Table(tuple(d.Line(zero, d.Cell(0)) for _ in counts), d.Line(zero, d.Cell(0)))
    if grand < min_cell:
        none = tuple(d.Cell(None) for _ in range(n_cols))
        return d.Table(tuple(d.Line(none, d.Cell(None)) for _ in counts), d.Line(none, d.Cell(None)))
    small_cols = {c for c in range(n_cols) if d._is_small(col_totals[c], min_cell)}
    edges, primary = [], set()
    for r, row in enumerate(counts):
        for c, value in enumerate(row):
            if d._is_small(value, min_cell) or d._is_small(row_totals[r], min_cell) or c in small_cols:
                primary.add(len(edges))
            edges.append(d._Edge((r, c), f"r{r}", f"c{c}", value, d.CELL))
    for r, total in enumerate(row_totals):
        if d._is_small(total, min_cell):
            primary.add(len(edges))
        edges.append(d._Edge(("row", r), f"r{r}", "margin-col", total, d.TOTAL))
    for c, total in enumerate(col_totals):
        locked = c in locked_cols
        if not locked and (c in hidden_cols or c in small_cols):
            primary.add(len(edges))
        edges.append(d._Edge(("col", c), "margin", f"c{c}", total, d.TOTAL, tier=d.LOCKED if locked else 1))
    # The sum of every mechanism's participations is published by nobody else: it may go when,
    # with the locked totals, it would give away a hidden one ("all participations − the others").
    edges.append(d._Edge("grand", "margin", "margin-col", grand, d.CELL, tier=1))
    conserving = {f"c{c}" for c in range(n_cols)} | {f"r{r}" for r in range(n_rows)} | {"margin", "margin-col"}
    network = d._Network(edges, conserving)
    chosen = network.protect(primary)
    hidden = {edges[i].key for i in chosen}
    if network.leaks(chosen):  # nothing protects it: every row hidden, zeros included (as protect_table)
        hidden |= {(r, c) for r in range(n_rows) for c in range(n_cols)} | {("row", r) for r in range(n_rows)}
    rows = []
    for r, row in enumerate(counts):
        total = None if ("row", r) in hidden else row_totals[r]
        whole = d._is_small(row_totals[r], min_cell)
        rows.append(d.Line(tuple(
            d.Cell(None) if (r, c) in hidden or whole or c in small_cols else d.Cell(value, percent(value, total))
            for c, value in enumerate(row)), d.Cell(total)))
    grand_shown = None if "grand" in hidden else grand
    columns = tuple(d.Cell(None) if ("col", c) in hidden else d.Cell(total, percent(total, grand_shown))
                    for c, total in enumerate(col_totals))
    return d.Table(tuple(rows), d.Line(columns, d.Cell(grand_shown)))


def _protect(matrices: list[list[list[int]]], hidden: set[int], locked: set[int]) -> list[disclosure.Table]:
    """Every dimension's table, the column totals they share hidden alike: a total one table
    hides is hidden in all, until none hides more."""
    hidden = set(hidden)
    while True:
        tables = [_protect_table(rows, hidden, locked) for rows in matrices]
        more = {c for t in tables for c, cell in enumerate(t.columns.cells) if cell.suppressed}
        if more <= hidden:
            return tables
        hidden |= more


def _small(n: int) -> bool:
    return 0 < n < disclosure.MIN_CELL


def _tables_unique(sel: _Selection, participations: int, shown: bool):
    """The attendee-token estimate of `tables.figures` (K + O × K / T within its bounds), over the
    selected meetings, in SQL."""
    meetings = _tables_meetings(sel)
    distinct, with_token = db.session.execute(
        sa.select(sa.func.count(sa.distinct(CheckIn.attendee_key)), sa.func.count(CheckIn.attendee_key))
        .where(CheckIn.meeting_id.in_(meetings))
    ).one()
    distinct, with_token = int(distinct), int(with_token)
    per_meeting = sa.union_all(
        sa.select(CheckIn.meeting_id.label("mid"), sa.literal(1).label("n")).where(CheckIn.meeting_id.in_(meetings)),
        sa.select(PaperTally.meeting_id.label("mid"), PaperTally.count.label("n"))
        .where(PaperTally.meeting_id.in_(meetings), PaperTally.dimension == TallyDimension.total),
    ).subquery()
    by_meeting = sa.select(sa.func.sum(per_meeting.c.n).label("n")).group_by(per_meeting.c.mid).subquery()
    busiest = int(db.session.scalar(sa.select(sa.func.coalesce(sa.func.max(by_meeting.c.n), 0))) or 0)
    other = participations - with_token
    low, high = max(distinct, busiest), distinct + other
    estimate = None
    if with_token:
        estimate = min(max(round(distinct + other * distinct / with_token), low), high)

    def cell(n: int) -> disclosure.Cell:
        return disclosure.Cell(None) if not shown or _small(n) else disclosure.Cell(n)

    return (None if estimate is None else cell(estimate)), cell(low), cell(high)


# --- the profile ----------------------------------------------------------------------------------


def build_profile(contract: Contract, unit_ids: Sequence[int] | None = None, year_from: int | None = None,
                  year_to: int | None = None, *, units: list[Unit] | None = None,
                  grids: dict[str, metrics.Grid] | None = None, now: datetime | None = None) -> Profile:
    """The protected participation profile of the units `unit_ids` (indexes into `units`, by
    default `contract_units(contract)`; None: the whole contract — see `metrics.unit_ids_in`) over
    the years `year_from`..`year_to` (within the contract's period; default: all of it).

    `grids`: the metric grids already built for the same contract and `units`, without a défi
    filter (by metric key), reused to hide what they hide and lock what they show; the missing
    ones are built here. `now`: the clock deciding which planned table meetings have started
    (tests)."""
    units = units if units is not None else contract_units(contract)
    period = contract_years(contract)
    year_from = max(year_from if year_from is not None else period[0], period[0])
    year_to = min(year_to if year_to is not None else period[-1], period[-1])
    ids = None if unit_ids is None or set(unit_ids) >= set(range(len(units))) else tuple(sorted(set(unit_ids)))
    sel = _Selection(contract.id, units, ids, year_from, year_to, now)
    years = [y for y in period if year_from <= y <= year_to]

    counts = {m.key: _COUNTERS[m.key](sel) if years else _Counts(0, {}) for m in MECHANISMS}
    # A breakdown is never above its total (services refuse it); if old data had one, the
    # total grows so that every table keeps the same column totals.
    for c in counts.values():
        c.total = max([c.total, *(sum(v.values()) for v in c.by.values())])
    col_totals = [counts[m.key].total for m in MECHANISMS]

    # What the metric grids publish for this selection is known to every reader (locked here);
    # what they hide stays hidden.
    hidden, locked = set(), set()
    for j, m in enumerate(MECHANISMS):
        if m.metric is None or not years:
            continue
        grid = (grids or {}).get(m.metric) or metrics.grid(contract, metrics.METRICS[m.metric], units=units)
        value = grid.value(None if ids is None else list(ids), years)
        if value.suppressed:
            hidden.add(j)
        elif value.number == col_totals[j]:
            locked.add(j)

    layouts, matrices = [], []
    for dimension in DIMENSIONS:
        stated = {m.key: _normalise(dimension, counts[m.key].by.get(dimension, {}), sel) for m in MECHANISMS}
        seen = {k for s in stated.values() for k, n in s.items() if n}
        categories = _categories(dimension, sel, seen)
        keys = [c.key for c in categories]
        rows = []
        for cat in categories:
            row = []
            for m in MECHANISMS:
                if cat.key is NOT_STATED:
                    known = sum(n for k, n in stated[m.key].items() if k in keys)
                    row.append(counts[m.key].total - known)
                else:
                    row.append(stated[m.key].get(cat.key, 0))
            rows.append(row)
        layouts.append((dimension, tuple(categories)))
        matrices.append(rows)

    tables = _protect(matrices, hidden, locked)
    participations = tables[0].columns
    dimensions = tuple(
        DimensionTable(dimension, DIMENSIONS[dimension], categories, table,
                       tuple(dimension in m.records for m in MECHANISMS))
        for (dimension, categories), table in zip(layouts, tables)
    )

    unique = []
    for j, m in enumerate(MECHANISMS):
        column = participations.cells[j]
        if m.key == "tables":
            estimate, low, high = _tables_unique(sel, counts[m.key].total, not column.suppressed)
            unique.append(UniqueEstimate(m, estimate, low, high, UNIQUE_METHODS[m.key]))
        elif m.key in UNIQUE_METHODS:
            unique.append(UniqueEstimate(m, column, column, column, UNIQUE_METHODS[m.key]))
        else:
            unique.append(UniqueEstimate(m, None, None, None, NOT_ESTIMATED))
    return Profile(contract.id, ids, year_from, year_to, MECHANISMS, participations, dimensions, tuple(unique))
