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

**Disclosure control: one cube, protected once.** As the metric grids are (`metrics` module
doc), the profile is protected once per contract, whatever the selection: per dimension and
mechanism, a cube of every unit × year × category, with per year each commune's and the
contract's category totals. Its units' and years' participations are the metric grid's (locked
when the grid shows them, hidden when it hides them; FPH applications, which have no metric,
get a grid of their own here), so every dimension's table hides the same totals. Counts of
people below 11 are "s", and every figure of a unit-year, commune-year or year of fewer than 11
participations, zeros included. Secondary suppression uses the network model of
`core.disclosure` on linked tables until none hides more: per year, the units × categories with
the communes as a level between units and contract (`_protect_year`); per unit, per commune and
for the contract, years × categories against the grid's totals over every year
(`_protect_over_years`). A selection's figure adds up the finest protected figures it needs
(per year: the contract's, a commune's, or its units'), shown only if every one of them is;
totals over several years are never protected on their own, only added up. So subtracting two
selections (a commune and its other neighbourhoods, 2023–2025 and 2024–2025) gives nothing a
profile hides. Row totals and the grand total are added up from shown figures only, and
percentages computed from them.

**Unique participants** are per selection by nature (distinct tokens do not add up): the tables'
estimate and bounds are shown only when the selection's participations are shown and at least
11, and when no selection one may ask for that contains it or lies within it (the contract, a
commune, a neighbourhood, over a span of years) has between 1 and 10 participations more or
fewer. The other estimates are the participations themselves.

**What this leaves (for the lead to decide).** The network model guarantees that no hidden
figure can be recomputed from one linked table and its published totals; it does not solve
the three-way system (unit × year × category) as a whole: a hidden unit-year total, pinned
neither by the year's table nor by the unit's, could in rare cases be narrowed down by reading
both, or by reading two dimensions' tables (age and gender share it). Two tables' estimates of
unique participants for overlapping selections that are not nested are not compared.
"""
from __future__ import annotations

import heapq
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
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


# --- counting: every participation of the contract, by unit, year and category ------------------

#: (unit index into `contract_units`, year)
Key = tuple[int, int]
#: A check-in's residence "somewhere else" as the query returns it (`_normalise` maps it).
_ELSEWHERE_ROW = -1


def _key(value) -> object:
    return value.value if hasattr(value, "value") else value


@dataclass
class _Raw:
    """One mechanism's participations over the whole contract: per (unit, year) the total, and per
    recorded dimension and (unit, year) {stated category key: n}."""

    total: dict[Key, int] = field(default_factory=dict)
    by: dict[str, dict[Key, dict[object, int]]] = field(default_factory=dict)

    def add_total(self, at: Key | None, n) -> None:
        if at is not None and n:
            self.total[at] = self.total.get(at, 0) + int(n)

    def add(self, dimension: str, at: Key | None, value, n) -> None:
        if at is None or value is None or not n:
            return
        cell = self.by.setdefault(dimension, {}).setdefault(at, {})
        key = _key(value)
        cell[key] = cell.get(key, 0) + int(n)


@dataclass(frozen=True)
class _Scope:
    """What the counting queries need: the contract, its years, where a row falls."""

    contract_id: int
    years: tuple[int, ...]
    now: datetime | None
    unit_of: Callable[[int | None, int | None], int]

    def at(self, neighbourhood_id, commune_id, year) -> Key | None:
        if year is None or int(year) not in self.years:
            return None
        return self.unit_of(neighbourhood_id, commune_id), int(year)


def _grouped(base, dimensions: Sequence[str]):
    """(neighbourhood id, commune id, year, dimension, value, rows) for each dimension of a
    subquery with columns nid, cid, year and one per dimension: one query. PostgreSQL groups
    by GROUPING SETS (one set per dimension); SQLite, which has none, groups by every dimension
    at once and the rows are added up by the caller (same result)."""
    place = (base.c.nid, base.c.cid, base.c.year)
    columns = [base.c[d] for d in dimensions]
    n = len(columns)
    if db.engine.dialect.name == "postgresql":
        # Room to hash every grouping set at once (the default 4 MB sorts them on disk), for
        # this transaction only: a governance request reads, it does not hold the memory long.
        db.session.execute(sa.text("SET LOCAL work_mem = '64MB'"))
        flags = [sa.func.grouping(c) for c in columns]
        query = (sa.select(*place, *columns, *flags, sa.func.count())
                 .group_by(sa.func.grouping_sets(*(sa.tuple_(*place, c) for c in columns))))
        for row in db.session.execute(query):
            d = next(i for i in range(n) if row[3 + n + i] == 0)
            yield row[0], row[1], row[2], dimensions[d], row[3 + d], row[-1]
    else:
        query = sa.select(*place, *columns, sa.func.count()).group_by(*place, *columns)
        for row in db.session.execute(query):
            for i, d in enumerate(dimensions):
                yield row[0], row[1], row[2], d, row[3 + i], row[-1]


def _rows_mechanism(scope: _Scope, base, dimensions: Sequence[str]) -> _Raw:
    """A mechanism with one row per participation (`base`: see `_grouped`)."""
    raw = _Raw()
    for nid, cid, year, dimension, value, n in _grouped(base, dimensions):
        at = scope.at(nid, cid, year)
        if dimension == dimensions[0]:  # each set partitions the rows: the first one gives the totals
            raw.add_total(at, n)
        raw.add(dimension, at, value, n)
    return raw


def _tables(scope: _Scope) -> _Raw:
    held = held_meetings(scope.contract_id, scope.years[0], scope.years[-1], scope.now)
    residence = sa.case((CheckIn.residence_id.is_not(None), CheckIn.residence_id),
                        (CheckIn.residence_elsewhere.is_(True), _ELSEWHERE_ROW), else_=sa.null())
    base = (
        sa.select(held.c.neighbourhood_id.label("nid"), held.c.commune_id.label("cid"), held.c.year.label("year"),
                  CheckIn.age_band.label(AGE_BAND), CheckIn.gender.label(GENDER), residence.label(RESIDENCE),
                  CheckIn.channel.label(CHANNEL))
        .select_from(CheckIn).join(held, held.c.id == CheckIn.meeting_id)
    ).subquery()
    raw = _rows_mechanism(scope, base, (AGE_BAND, GENDER, RESIDENCE, CHANNEL))
    place = (held.c.neighbourhood_id, held.c.commune_id, held.c.year)
    paper = db.session.execute(
        sa.select(*place, PaperTally.dimension, PaperTally.value, sa.func.sum(PaperTally.count))
        .select_from(PaperTally).join(held, held.c.id == PaperTally.meeting_id)
        .group_by(*place, PaperTally.dimension, PaperTally.value)
    )
    for nid, cid, year, dimension, value, n in paper:
        at = scope.at(nid, cid, year)
        if dimension is TallyDimension.total:
            raw.add_total(at, n)
            raw.add(CHANNEL, at, Channel.paper.value, n)
        elif dimension is TallyDimension.residence:  # "other" on the sheet: lives elsewhere
            raw.add(RESIDENCE, at, int(value) if value.isdigit() else _ELSEWHERE_ROW, n)
        elif dimension in (TallyDimension.age_band, TallyDimension.gender):
            raw.add(dimension.value, at, value, n)
    return raw


def _questionnaires(scope: _Scope) -> _Raw:
    year = year_of(Response.submitted_on)
    base = (
        sa.select(sa.func.coalesce(Response.neighbourhood_id, Questionnaire.neighbourhood_id).label("nid"),
                  Questionnaire.commune_id.label("cid"), year.label("year"), Response.age_band.label(AGE_BAND),
                  Response.gender.label(GENDER), Response.neighbourhood_id.label(RESIDENCE),
                  Response.locale.label(LANGUAGE), Response.channel.label(CHANNEL))
        .select_from(Response).join(Questionnaire, Questionnaire.id == Response.questionnaire_id)
        .where(Questionnaire.contract_id == scope.contract_id, year.between(scope.years[0], scope.years[-1]))
    ).subquery()
    return _rows_mechanism(scope, base, (AGE_BAND, GENDER, RESIDENCE, LANGUAGE, CHANNEL))


def _budget_votes(scope: _Scope) -> _Raw:
    year = year_of(VoteRecord.voted_on)
    base = (
        sa.select(sa.func.coalesce(VoteRecord.neighbourhood_id, Process.neighbourhood_id).label("nid"),
                  Process.commune_id.label("cid"), year.label("year"), VoteRecord.neighbourhood_id.label(RESIDENCE),
                  VoteRecord.channel.label(CHANNEL))
        .select_from(VoteRecord).join(Process, Process.id == VoteRecord.process_id)
        .where(Process.contract_id == scope.contract_id, year.between(scope.years[0], scope.years[-1]))
    ).subquery()
    return _rows_mechanism(scope, base, (RESIDENCE, CHANNEL))


def _walks(scope: _Scope) -> _Raw:
    held = held_walks(scope.contract_id, scope.years[0], scope.years[-1])
    # Only walks with a count of walkers: a sign-in sheet's breakdown never exceeds its walk's count.
    counted = held.c.participants.is_not(None)
    place = (held.c.neighbourhood_id, held.c.commune_id, held.c.year)
    raw = _Raw()
    for nid, cid, year, n in db.session.execute(
            sa.select(*place, sa.func.sum(held.c.participants)).where(counted).group_by(*place)):
        raw.add_total(scope.at(nid, cid, year), n)
    for nid, cid, year, dimension, value, n in db.session.execute(
            sa.select(*place, WalkProfileCount.dimension, WalkProfileCount.value, sa.func.sum(WalkProfileCount.count))
            .select_from(WalkProfileCount).join(held, held.c.id == WalkProfileCount.walk_id).where(counted)
            .group_by(*place, WalkProfileCount.dimension, WalkProfileCount.value)):
        if dimension in (AGE_BAND, GENDER):
            raw.add(dimension, scope.at(nid, cid, year), value, n)
    return raw


def _budget_proposals(scope: _Scope) -> _Raw:
    year = year_of(Proposal.submitted_on)
    base = (
        sa.select(sa.func.coalesce(Proposal.neighbourhood_id, Process.neighbourhood_id).label("nid"),
                  Process.commune_id.label("cid"), year.label("year"), Proposal.original_locale.label(LANGUAGE),
                  Proposal.channel.label(CHANNEL))
        .select_from(Proposal).join(Process, Process.id == Proposal.process_id)
        .where(Process.contract_id == scope.contract_id, year.between(scope.years[0], scope.years[-1]))
    ).subquery()
    return _rows_mechanism(scope, base, (LANGUAGE, CHANNEL))


def _fph_applications(scope: _Scope) -> _Raw:
    base = (
        sa.select(sa.func.coalesce(Application.neighbourhood_id, Fund.neighbourhood_id).label("nid"),
                  Fund.commune_id.label("cid"), Fund.year.label("year"), Application.original_locale.label(LANGUAGE),
                  Application.channel.label(CHANNEL))
        .select_from(Application).join(Fund, Fund.id == Application.fund_id)
        .where(Fund.contract_id == scope.contract_id, Fund.year.between(scope.years[0], scope.years[-1]))
    ).subquery()
    return _rows_mechanism(scope, base, (LANGUAGE, CHANNEL))


_COUNTERS = {
    "tables": _tables,
    "questionnaires": _questionnaires,
    "budget_votes": _budget_votes,
    "walks": _walks,
    "budget_proposals": _budget_proposals,
    "fph_applications": _fph_applications,
}


# --- categories ---------------------------------------------------------------------------------


def _categories(dimension: str, units: list[Unit], seen_languages: set) -> list[Category]:
    """The categories of a dimension over the whole contract: every category that may be stated
    (so that zeros show who is not reached), then "not stated". Residence: every neighbourhood of
    the contract, then elsewhere; language: the site's languages, then any other one seen."""
    if dimension == AGE_BAND:
        cats = [Category(a.value, label) for a, label in AGE_BANDS.items()]
    elif dimension == GENDER:
        cats = [Category(g.value, label) for g, label in GENDERS.items()]
    elif dimension == CHANNEL:
        cats = [Category(c.value, label) for c, label in CHANNELS.items()]
    elif dimension == LANGUAGE:
        codes = list(_site_languages())
        codes += sorted(str(c) for c in seen_languages if str(c) not in codes)
        cats = [Category(code, LazyString(language_name, code)) for code in codes]
    else:
        cats = [Category(u.neighbourhood_id, u.label) for u in units if u.level == "neighbourhood"]
        cats.append(Category(ELSEWHERE, _l("Somewhere else")))
    return [*cats, Category(NOT_STATED, _l("Not stated"))]


def _site_languages() -> list[str]:
    from flask import current_app

    return list(current_app.config.get("LANGUAGES", {}))


def _normalise(dimension: str, key, hoods: set):
    """Residence: a neighbourhood that is not the contract's is "somewhere else"."""
    if dimension == RESIDENCE:
        return key if key in hoods else ELSEWHERE
    if dimension == LANGUAGE:
        return str(key)
    return key


# --- protection: the cube, protected once -----------------------------------------------------------


def _small(n: int) -> bool:
    return 0 < n < disclosure.MIN_CELL


#: Hiding a total of the cube costs more than hiding a cell: a total is what the larger
#: selections show.
_TOTAL_COST = 1000


class _CycleNetwork:
    """The network model of `core.disclosure._Network` (a table's figures are edges between its
    row and column nodes, every node conserving; a hidden figure is safe when it lies on a cycle
    of hidden figures along which it can move by one while every hidden count stays at least 1),
    with a search that scales to the profile's tables (77 units × 68 neighbourhoods of residence):
    each pinned primary gets the cheapest cycle through it (Dijkstra: figures already hidden cost
    nothing, a cell its value, a total more) instead of one candidate at a time. A figure on a
    cycle stays safe when more are hidden, so one pass over the primaries suffices.

    Edges are given as `(u, v, value, is_cell)` between integer nodes, at most one edge between
    two nodes (as in a table); only the figures that may move are given: the hidden ones and
    those that may be hidden (a figure published elsewhere, or 0, cannot move and is left out)."""

    def __init__(self, n_nodes: int, edges: list[tuple[int, int, int, bool]], costs: list[int]):
        self.values, self.costs, self.arcs = [e[2] for e in edges], costs, []
        for u, v, value, is_cell in edges:
            # u→v: z grows (a cell's count, a total's −count); v→u: z shrinks. A hidden count
            # may grow, and shrink when it is at least 2 (it stays at least 1).
            arcs = []
            if is_cell or value >= 2:
                arcs.append((u, v))
            if not is_cell or value >= 2:
                arcs.append((v, u))
            self.arcs.append(arcs)
        self.out = [0] * n_nodes
        self.into = [0] * n_nodes

    def _add(self, i: int) -> None:
        for a, b in self.arcs[i]:
            self.out[a] |= 1 << b
            self.into[b] |= 1 << a

    def _remove(self, i: int) -> None:
        for a, b in self.arcs[i]:
            self.out[a] &= ~(1 << b)
            self.into[b] &= ~(1 << a)

    def _reaches(self, start: int, goal: int) -> bool:
        """Is there a path of hidden figures from start to goal? (Breadth-first from both ends,
        the smaller side first, on bit sets.)"""
        out, into = self.out, self.into
        ahead = ahead_seen = 1 << start
        behind = behind_seen = 1 << goal
        while ahead and behind:
            new = 0
            if ahead.bit_count() <= behind.bit_count():
                while ahead:
                    low = ahead & -ahead
                    new |= out[low.bit_length() - 1]
                    ahead ^= low
                if new & behind_seen:
                    return True
                ahead = new & ~ahead_seen
                ahead_seen |= ahead
            else:
                while behind:
                    low = behind & -behind
                    new |= into[low.bit_length() - 1]
                    behind ^= low
                if new & ahead_seen:
                    return True
                behind = new & ~behind_seen
                behind_seen |= behind
        return False

    def _pinned(self, i: int) -> bool:
        """Can a reader recompute hidden figure i (is it on no cycle of hidden figures)?"""
        self._remove(i)
        try:
            return not any(self._reaches(b, a) for a, b in self.arcs[i])
        finally:
            self._add(i)

    def _components(self, adjacency) -> list[int]:
        """Strongly connected components of the graph of every figure that may be hidden
        (Tarjan, iterative): a figure whose ends lie in two of them is on no cycle, ever."""
        n = len(adjacency)
        index, low, comp = [-1] * n, [0] * n, [-1] * n
        stack, on_stack, counter, n_comp = [], [False] * n, 0, 0
        for root in range(n):
            if index[root] != -1:
                continue
            work = [(root, 0)]
            while work:
                v, pos = work.pop()
                if pos == 0:
                    index[v] = low[v] = counter
                    counter += 1
                    stack.append(v)
                    on_stack[v] = True
                for p in range(pos, len(adjacency[v])):
                    w = adjacency[v][p][0]
                    if index[w] == -1:
                        work.append((v, p + 1))
                        work.append((w, 0))
                        break
                    if on_stack[w]:
                        low[v] = min(low[v], index[w])
                else:
                    if low[v] == index[v]:
                        while True:
                            w = stack.pop()
                            on_stack[w] = False
                            comp[w] = n_comp
                            if w == v:
                                break
                        n_comp += 1
                    if work:
                        parent = work[-1][0]
                        low[parent] = min(low[parent], low[v])
        return comp

    def _cycle(self, i: int, chosen: set[int], adjacency) -> list[int] | None:
        best: tuple[int, list[int]] | None = None
        for a, b in self.arcs[i]:
            dist, prev, heap = {b: 0}, {}, [(0, b)]
            while heap:
                d, x = heapq.heappop(heap)
                if x == a:
                    break
                if d > dist[x]:
                    continue
                for y, j in adjacency[x]:
                    if j == i:
                        continue
                    nd = d + (0 if j in chosen else self.costs[j])
                    if nd < dist.get(y, nd + 1):
                        dist[y], prev[y] = nd, (x, j)
                        heapq.heappush(heap, (nd, y))
            if a in dist and (best is None or dist[a] < best[0]):
                path, x = [], a
                while x != b:
                    x, j = prev[x]
                    path.append(j)
                best = (dist[a], path)
        return None if best is None else best[1]

    def protect(self, primary: set[int], safe: set[int] = frozenset()) -> tuple[set[int], set[int]]:
        """The figures to hide (`primary` and the secondary ones), and those that stay pinned
        whatever is hidden. `safe`: primaries already found on a cycle of figures that are all
        still hidden (not checked again)."""
        chosen = set(primary)
        for i in chosen:
            self._add(i)
        adjacency = components = None
        pinned: set[int] = set()
        for i in sorted(primary):
            if i in safe or not self._pinned(i):
                continue
            if adjacency is None:
                adjacency = [[] for _ in self.out]
                for j, value in enumerate(self.values):
                    if j in primary or value > 0:
                        for a, b in self.arcs[j]:
                            adjacency[a].append((b, j))
                components = self._components(adjacency)
            if len(self.arcs[i]) == 1 and components[self.arcs[i][0][0]] != components[self.arcs[i][0][1]]:
                pinned.add(i)  # it may move one way only, and nothing leads back: on no cycle, ever
                continue
            path = self._cycle(i, chosen, adjacency)
            if path is None:  # no cycle even with every figure hidden
                pinned.add(i)
                continue
            for j in path:
                if j not in chosen:
                    chosen.add(j)
                    self._add(j)
        return chosen, pinned


def _flow_protect(n_nodes: int, edges: list[tuple[object, int, int, int, bool, int]], safe: set,
                  ) -> tuple[set, bool]:
    """Secondary suppression on a circulation: `edges` are (key, from node, to node, count,
    hidden, cost of hiding it) — every figure of a table is a flow (a cell from its row to its
    column, a column total from its column to the margin, the grand total from the margin to the
    row totals' node, a row total from there to its row), so that every node balances. Only the
    figures that may move are given: hidden ones and those that may be hidden. Returns the keys
    to hide and whether a hidden non-zero figure stays pinned whatever is hidden. `safe`: keys
    already found safe by a previous call on the same table (updated)."""
    network = _CycleNetwork(n_nodes, [(a, b, value, True) for _k, a, b, value, _h, _c in edges],
                            [cost for *_rest, cost in edges])
    primary = {i for i, e in enumerate(edges) if e[4]}
    chosen, pinned = network.protect(primary, {i for i in primary if edges[i][0] in safe})
    safe.update(edges[i][0] for i in chosen - pinned)
    return {edges[i][0] for i in chosen}, any(edges[i][3] > 0 for i in pinned)


@dataclass
class _Totals:
    """A mechanism's participations per unit × year, and which of them the metric grid publishes
    (shown exactly as counted here; otherwise hidden). A commune's figure is shown, as the grid
    shows it, only when all of its units' are."""

    t: dict[Key, int]
    units: int
    years: list[int]
    #: the unit indexes of each commune (its neighbourhoods and its commune-wide unit)
    communes: list[list[int]]
    cell: dict[Key, bool] = field(default_factory=dict)
    unit: list[bool] = field(default_factory=list)
    year: dict[int, bool] = field(default_factory=dict)
    grand_shown: bool = False

    def at(self, u: int, y: int) -> int:
        return self.t.get((u, y), 0)

    def unit_total(self, u: int) -> int:
        return sum(self.at(u, y) for y in self.years)

    def year_total(self, y: int) -> int:
        return sum(self.at(u, y) for u in range(self.units))

    @property
    def grand(self) -> int:
        return sum(self.t.values())

    def commune_at(self, c: int, y: int) -> tuple[int, bool]:
        members = self.communes[c]
        return sum(self.at(u, y) for u in members), all(self.cell[u, y] for u in members)

    def commune_total(self, c: int) -> tuple[int, bool]:
        members = self.communes[c]
        return sum(self.unit_total(u) for u in members), all(self.unit[u] for u in members)

    def value(self, uids: list[int], ys: list[int], all_units: bool, all_years: bool) -> int | None:
        """The participations of a selection, as the grid shows them (None: hidden)."""
        if all_units and all_years:
            parts = [(self.grand, self.grand_shown)]
        elif all_units:
            parts = [(self.year_total(y), self.year[y]) for y in ys]
        elif all_years:
            parts = [(self.unit_total(u), self.unit[u]) for u in uids]
        else:
            parts = [(self.at(u, y), self.cell[u, y]) for u in uids for y in ys]
        return None if not all(shown for _n, shown in parts) else sum(n for n, _shown in parts)


def _published(grid: metrics.Grid, totals: _Totals) -> _Totals:
    def agrees(value: metrics.Value, n: int) -> bool:
        return value.shown and value.number == n

    years = totals.years
    totals.cell = {(u, y): agrees(grid.cells[u, y], totals.at(u, y)) for u in range(totals.units) for y in years}
    totals.unit = [agrees(grid.unit_totals[u], totals.unit_total(u)) for u in range(totals.units)]
    totals.year = {y: agrees(grid.year_totals[y], totals.year_total(y)) for y in years}
    totals.grand_shown = agrees(grid.grand, totals.grand)
    return totals


#: FPH applications have no metric: their participations per unit × year are protected here as
#: a metric grid of people would be.
_FPH_APPLICATIONS = metrics.Metric("profile.fph_applications", "fph", metrics.PEOPLE, _l("FPH applications"),
                                   _l("applications"), "", lambda *args, **kwargs: [])


def _own_grid(t: dict[Key, int], units: list[Unit], years: list[int]) -> metrics.Grid:
    g = metrics.Grid(_FPH_APPLICATIONS, units, years)
    counts = [[t.get((u, y), 0) for y in years] for u in range(len(units))]
    metrics._fill(g, metrics._protect_people(counts), lambda u, y: t.get((u, y), 0))
    return g


@dataclass
class _Cube:
    """One dimension of one mechanism over every unit × year × category of the contract, and per
    year its communes' and the contract's category totals, protected once. A selection over
    several years adds up the figures of each year, shown only if every one of them is."""

    #: (unit, year) → counts per category ("not stated" last), and the hidden categories
    x: dict[Key, list[int]]
    hx: dict[Key, set[int]]
    #: (commune index, year) → over the commune's units
    s: dict[Key, list[int]]
    hs: dict[Key, set[int]]
    #: year → over every unit
    c: dict[int, list[int]]
    hc: dict[int, set[int]]
    communes: list[list[int]]

    def value(self, k: int, uids: list[int], ys: list[int], all_units: bool) -> int | None:
        if all_units:
            parts = [(self.c[y][k], k in self.hc[y]) for y in ys]
        else:
            chosen, parts = set(uids), []
            for ci, members in enumerate(self.communes):
                if chosen >= set(members):
                    parts += [(self.s[ci, y][k], k in self.hs[ci, y]) for y in ys]
                    chosen -= set(members)
            parts += [(self.x[u, y][k], k in self.hx[u, y]) for u in sorted(chosen) for y in ys]
        return None if any(hidden for _n, hidden in parts) else sum(n for n, _hidden in parts)


def _protect_year(cube: _Cube, totals: _Totals, y: int, n_cats: int, safe: set) -> tuple[set, bool]:
    """One year of a cube as one network with the communes as a level between the units and the
    contract: a unit's cell flows into its commune's category total, which flows into the
    contract's (the contract-wide unit's cells go straight to the contract's). The units' and the
    year's participations are the grid's (fixed when shown); the category totals may be hidden.
    Returns the keys of the hidden figures (("x", unit, k), ("s", commune, k), ("c", k)), and
    whether a hidden non-zero figure stays pinned whatever is hidden."""
    n_units = totals.units
    # Nodes: 0 the row totals' node, 1 the margin, units 2.., then (commune, category), then categories.
    unit_node = {u: 2 + u for u in range(n_units)}
    commune_of = {u: ci for ci, members in enumerate(cube.communes) for u in members}
    first_s = 2 + n_units
    first_c = first_s + len(cube.communes) * n_cats
    edges = []

    def edge(key, a, b, value, hidden, cost):
        if hidden or value > 0:
            edges.append((key, a, b, value, hidden, cost))

    grand = totals.year_total(y)
    if not totals.year[y]:
        edge("grand", 1, 0, grand, True, 0)
    for u in range(n_units):
        if not totals.cell[u, y]:
            edge(("t", u), 0, unit_node[u], totals.at(u, y), True, 0)
        ci = commune_of.get(u)
        for k, value in enumerate(cube.x[u, y]):
            to = first_c + k if ci is None else first_s + ci * n_cats + k
            edge(("x", u, k), unit_node[u], to, value, k in cube.hx[u, y], 1 + value)
    for ci in range(len(cube.communes)):
        for k, value in enumerate(cube.s[ci, y]):
            edge(("s", ci, k), first_s + ci * n_cats + k, first_c + k, value, k in cube.hs[ci, y],
                 _TOTAL_COST + value)
    for k, value in enumerate(cube.c[y]):
        edge(("c", k), first_c + k, 1, value, k in cube.hc[y], 2 * _TOTAL_COST + value)
    if not any(e[4] for e in edges):
        return set(), False
    return _flow_protect(first_c + n_cats, edges, safe)


def _protect_over_years(rows: list[list[int]], hidden: set[tuple[int, int]], row_totals: list[tuple[int, bool]],
                        grand: tuple[int, bool], safe: set) -> set[tuple[int, int]]:
    """Years × categories of one unit, one commune or the contract, with the grid's totals per
    year and over every year (fixed when shown). The category totals over every year are not
    published on their own: each is the sum of the years', hidden when one of them is; so only
    cells are hidden to protect, until the hidden totals are those of the columns with a hidden
    cell. Returns the hidden cells (row, category)."""
    n_rows, n_cats = len(rows), len(rows[0]) if rows else 0
    hidden = set(hidden)
    while True:
        # Nodes: 0 the row totals' node, 1 the margin, rows 2.., categories after.
        edges = []
        if not grand[1]:
            edges.append(("grand", 1, 0, grand[0], True, 0))
        for j, (total, shown) in enumerate(row_totals):
            if not shown:
                edges.append((("t", j), 0, 2 + j, total, True, 0))
            for k, value in enumerate(rows[j]):
                if (j, k) in hidden or value > 0:
                    edges.append(((j, k), 2 + j, 2 + n_rows + k, value, (j, k) in hidden, 1 + value))
        columns = {k for _j, k in hidden}
        for k in columns:
            edges.append((("col", k), 2 + n_rows + k, 1, sum(row[k] for row in rows), True, 0))
        if not any(e[4] for e in edges):
            return hidden
        keys, leak = _flow_protect(2 + n_rows + n_cats, edges, safe)
        if leak:
            return {(j, k) for j in range(n_rows) for k in range(n_cats)}
        more = {key for key in keys if isinstance(key[0], int)} - hidden
        if not more:
            return hidden
        hidden |= more


#: Protected cubes by their exact inputs (see `_protect_cube_once`), most recent last.
_CUBES: OrderedDict[tuple, _Cube] = OrderedDict()
_CUBES_LOCK = threading.Lock()
_CUBES_MAX = 256  # a contract has ~25 cubes: the last ten contracts asked for


def _cube_key(x: dict[Key, list[int]], totals: _Totals, n_cats: int) -> tuple:
    return (n_cats, tuple(sorted((k, tuple(v)) for k, v in x.items())),
            tuple(sorted(totals.t.items())), totals.units, tuple(totals.years),
            tuple(tuple(c) for c in totals.communes), tuple(sorted(totals.cell.items())), tuple(totals.unit),
            tuple(sorted(totals.year.items())), totals.grand_shown)


def _protect_cube_once(x: dict[Key, list[int]], totals: _Totals, n_cats: int) -> _Cube:
    """`_protect_cube`, remembered by its exact inputs (the counts and what the grids publish):
    protection is a function of them alone, so the dashboard and each download of the same
    data protect a cube once per worker. Any change in the data changes the key."""
    key = _cube_key(x, totals, n_cats)
    with _CUBES_LOCK:
        cube = _CUBES.get(key)
        if cube is not None:
            _CUBES.move_to_end(key)
            return cube
    cube = _protect_cube(x, totals, n_cats)
    with _CUBES_LOCK:
        _CUBES[key] = cube
        while len(_CUBES) > _CUBES_MAX:
            _CUBES.popitem(last=False)
    return cube


def _protect_cube(x: dict[Key, list[int]], totals: _Totals, n_cats: int) -> _Cube:
    """Protect a cube as linked tables, each by the network model, until none hides more:

    - per year, the units × categories with the communes' and the contract's category totals
      (`_protect_year`);
    - per unit, per commune and for the contract, years × categories (`_protect_over_years`),
      so that the grid's totals over every year give nothing away either.

    A figure hidden in one table is hidden in the others it is part of. Small counts (1 to 10)
    are hidden, and every figure of a unit, commune or contract-year of fewer than 11
    participations, zeros included."""
    n_units, years, communes = totals.units, totals.years, totals.communes
    units, cats = range(n_units), range(n_cats)
    s = {(ci, y): [sum(x[u, y][k] for u in members) for k in cats]
         for ci, members in enumerate(communes) for y in years}
    c = {y: [sum(x[u, y][k] for u in units) for k in cats] for y in years}

    def small_in(values: list[int], total: int) -> set[int]:
        return set(cats) if _small(total) else {k for k in cats if _small(values[k])}

    cube = _Cube(x, {(u, y): small_in(x[u, y], totals.at(u, y)) for u in units for y in years},
                 s, {(ci, y): small_in(s[ci, y], totals.commune_at(ci, y)[0]) for ci in range(len(communes))
                     for y in years},
                 c, {y: small_in(c[y], totals.year_total(y)) for y in years}, communes)
    safe_year = {y: set() for y in years}
    safe_unit = {u: set() for u in units}
    safe_commune = {ci: set() for ci in range(len(communes))}
    safe_contract: set = set()
    dirty_years, dirty_units, dirty_communes, dirty_contract = set(years), set(units), set(range(len(communes))), True
    while dirty_years or dirty_units or dirty_communes or dirty_contract:
        for y in sorted(dirty_years):
            keys, leak = _protect_year(cube, totals, y, n_cats, safe_year[y])
            if leak:  # nothing protects it: every figure of the year goes
                keys = ({("x", u, k) for u in units for k in cats} | {("s", ci, k) for ci in range(len(communes))
                        for k in cats} | {("c", k) for k in cats})
            for key in keys:
                if key[0] == "x" and key[2] not in cube.hx[key[1], y]:
                    cube.hx[key[1], y].add(key[2])
                    dirty_units.add(key[1])
                elif key[0] == "s" and key[2] not in cube.hs[key[1], y]:
                    cube.hs[key[1], y].add(key[2])
                    dirty_communes.add(key[1])
                elif key[0] == "c" and key[1] not in cube.hc[y]:
                    cube.hc[y].add(key[1])
                    dirty_contract = True
        dirty_years = set()

        def over_years(rows_of, hidden_of, row_totals, grand, safe):
            hidden = {(j, k) for j, y in enumerate(years) for k in hidden_of(y)}
            for j, k in _protect_over_years([rows_of(y) for y in years], hidden, row_totals, grand, safe) - hidden:
                hidden_of(years[j]).add(k)
                dirty_years.add(years[j])

        for u in sorted(dirty_units):
            over_years(lambda y: x[u, y], lambda y: cube.hx[u, y],
                       [(totals.at(u, y), totals.cell[u, y]) for y in years],
                       (totals.unit_total(u), totals.unit[u]), safe_unit[u])
        dirty_units = set()
        for ci in sorted(dirty_communes):
            over_years(lambda y: s[ci, y], lambda y: cube.hs[ci, y], [totals.commune_at(ci, y) for y in years],
                       totals.commune_total(ci), safe_commune[ci])
        dirty_communes = set()
        if dirty_contract:
            over_years(lambda y: c[y], lambda y: cube.hc[y], [(totals.year_total(y), totals.year[y]) for y in years],
                       (totals.grand, totals.grand_shown), safe_contract)
            dirty_contract = False
    return cube


def _widen(cube: _Cube, totals: _Totals, n_cats: int) -> _Cube:
    """A mechanism that does not record a dimension: its one-category cube ("not stated") widened
    to the dimension's categories, all 0 (hidden where their unit, commune or year is small)."""
    ns = n_cats - 1

    def line(row: list[int]) -> list[int]:
        return [0] * ns + row

    def hidden(one: set[int], total: int) -> set[int]:
        return (set(range(ns)) if _small(total) else set()) | ({ns} if one else set())

    return _Cube(
        {key: line(row) for key, row in cube.x.items()},
        {key: hidden(h, totals.at(*key)) for key, h in cube.hx.items()},
        {key: line(row) for key, row in cube.s.items()},
        {key: hidden(h, totals.commune_at(*key)[0]) for key, h in cube.hs.items()},
        {y: line(row) for y, row in cube.c.items()},
        {y: hidden(h, totals.year_total(y)) for y, h in cube.hc.items()},
        cube.communes,
    )


@dataclass
class _Protected:
    """Everything a selection reads: per mechanism its totals, per dimension its categories and
    per (dimension, mechanism) its protected cube."""

    units: list[Unit]
    years: list[int]
    totals: dict[str, _Totals]
    categories: dict[str, list[Category]]
    cubes: dict[tuple[str, str], _Cube]


def _protected(contract: Contract, units: list[Unit], years: list[int], grids: dict[str, metrics.Grid] | None,
               now: datetime | None) -> _Protected:
    scope = _Scope(contract.id, tuple(years), now, metrics._unit_index(units))
    raw = {m.key: _COUNTERS[m.key](scope) for m in MECHANISMS}
    # A breakdown is never above its total (services refuse it); if old data had one, the
    # total grows so that every dimension adds up to the same participations.
    for r in raw.values():
        for by in r.by.values():
            for at, counts in by.items():
                r.total[at] = max(r.total.get(at, 0), sum(counts.values()))
    n_units = len(units)
    communes = [[i for i, u in enumerate(units) if u.commune_id == cid and u.level != "contract"]
                for cid in dict.fromkeys(u.commune_id for u in units if u.level == "commune")]
    totals = {}
    for m in MECHANISMS:
        if m.metric is None:
            grid = _own_grid(raw[m.key].total, units, years)
        else:
            grid = (grids or {}).get(m.metric) or metrics.grid(contract, metrics.METRICS[m.metric], units=units)
        totals[m.key] = _published(grid, _Totals(raw[m.key].total, n_units, years, communes))

    hoods = {u.neighbourhood_id for u in units if u.level == "neighbourhood"}
    seen = {str(k) for r in raw.values() for counts in r.by.get(LANGUAGE, {}).values() for k, n in counts.items() if n}
    categories = {d: _categories(d, units, seen) for d in DIMENSIONS}
    cubes = {}
    for m in MECHANISMS:
        t = totals[m.key]
        alone = _protect_cube_once({(u, y): [t.at(u, y)] for u in range(n_units) for y in years}, t, 1)
        for dimension in DIMENSIONS:
            cats = categories[dimension]
            if dimension not in m.records:
                cubes[dimension, m.key] = _widen(alone, t, len(cats))
                continue
            index = {c.key: k for k, c in enumerate(cats)}
            by = raw[m.key].by.get(dimension, {})
            x = {}
            for u in range(n_units):
                for y in years:
                    row = [0] * len(cats)
                    for key, n in by.get((u, y), {}).items():
                        k = index.get(_normalise(dimension, key, hoods))
                        if k is not None and k != len(cats) - 1:
                            row[k] += n
                    row[-1] = t.at(u, y) - sum(row)  # not stated (or not one of the categories)
                    x[u, y] = row
            cubes[dimension, m.key] = _protect_cube_once(x, t, len(cats))
    return _Protected(units, years, totals, categories, cubes)


# --- unique participants ------------------------------------------------------------------------


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


def _tables_meetings(sel: _Selection):
    held = held_meetings(sel.contract_id, sel.year_from, sel.year_to, sel.now)
    return sa.select(held.c.id).where(sel.where(held.c.neighbourhood_id, held.c.commune_id))


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


def _near_another(totals: _Totals, units: list[Unit], uids: list[int], years: list[int]) -> bool:
    """Does a selection one may ask for (the contract, a commune or a neighbourhood, over a span
    of years) that contains this one or lies within it differ from it by 1 to 10 participations?
    Two estimates of unique participants that far apart would describe those few people."""
    mine_units, mine_years = set(uids), set(years)
    mine = sum(totals.at(u, y) for u in uids for y in years)
    scopes = [set(range(len(units)))]
    scopes += [{i for i, v in enumerate(units) if v.commune_id == cid}
               for cid in dict.fromkeys(u.commune_id for u in units if u.level == "commune")]
    scopes += [{i} for i, u in enumerate(units) if u.level == "neighbourhood"]
    period = totals.years
    for scope in scopes:
        for a in range(len(period)):
            for b in range(a, len(period)):
                span = set(period[a:b + 1])
                if (scope <= mine_units and span <= mine_years) or (scope >= mine_units and span >= mine_years):
                    other = sum(totals.at(u, y) for u in scope for y in span)
                    if _small(abs(other - mine)):
                        return True
    return False


# --- the profile ----------------------------------------------------------------------------------


def build_profile(contract: Contract, unit_ids: Sequence[int] | None = None, year_from: int | None = None,
                  year_to: int | None = None, *, units: list[Unit] | None = None,
                  grids: dict[str, metrics.Grid] | None = None, now: datetime | None = None) -> Profile:
    """The protected participation profile of the units `unit_ids` (indexes into `units`, by
    default `contract_units(contract)`; None: the whole contract — see `metrics.unit_ids_in`) over
    the years `year_from`..`year_to` (within the contract's period; default: all of it).

    `grids`: the metric grids already built for the same contract and `units`, without a défi
    filter (by metric key), reused; the missing ones are built here. `now`: the clock deciding
    which planned table meetings have started (tests)."""
    units = units if units is not None else contract_units(contract)
    period = contract_years(contract)
    year_from = max(year_from if year_from is not None else period[0], period[0])
    year_to = min(year_to if year_to is not None else period[-1], period[-1])
    ids = None if unit_ids is None or set(unit_ids) >= set(range(len(units))) else tuple(sorted(set(unit_ids)))
    years = [y for y in period if year_from <= y <= year_to]
    uids = list(range(len(units))) if ids is None else list(ids)
    all_units, all_years = ids is None, bool(years) and set(years) >= set(period)
    p = _protected(contract, units, period, grids, now)
    d = disclosure

    def percent(value, total):
        return 100.0 * value / total if value is not None and total else None

    def line(values: list[int | None]) -> tuple[list[d.Cell], d.Cell]:
        """Cells and their total, computed only from shown figures."""
        total = None if any(v is None for v in values) else sum(values)
        return [d.Cell(v, percent(v, total)) for v in values], d.Cell(total)

    columns = [p.totals[m.key].value(uids, years, all_units, all_years) for m in MECHANISMS]
    cells, grand = line(columns)
    participations = d.Line(tuple(cells), grand)

    chosen_hoods = {units[u].neighbourhood_id for u in uids if units[u].level == "neighbourhood"}
    site_languages = set(_site_languages())
    dimensions = []
    for dimension in DIMENSIONS:
        categories, rows = [], []
        for k, cat in enumerate(p.categories[dimension]):
            values = [p.cubes[dimension, m.key].value(k, uids, years, all_units) for m in MECHANISMS]
            always = (cat.key in (NOT_STATED, ELSEWHERE) or dimension not in (RESIDENCE, LANGUAGE)
                      or (dimension == RESIDENCE and cat.key in chosen_hoods)
                      or (dimension == LANGUAGE and cat.key in site_languages))
            if not always and not any(values):
                # Another neighbourhood, or a language of no page: listed when a cell shows someone,
                # so that whether it is listed depends on shown figures only.
                continue
            row_cells, total = line(values)
            categories.append(cat)
            rows.append(d.Line(tuple(row_cells), total))
        dimensions.append(DimensionTable(dimension, DIMENSIONS[dimension], tuple(categories),
                                         d.Table(tuple(rows), participations),
                                         tuple(dimension in m.records for m in MECHANISMS)))

    sel = _Selection(contract.id, units, ids, year_from, year_to, now)
    unique = []
    for j, m in enumerate(MECHANISMS):
        column = participations.cells[j]
        if m.key == "tables":
            t = p.totals[m.key]
            shown = column.value == 0 or (column.value is not None and column.value >= d.MIN_CELL
                                          and not _near_another(t, units, uids, years))
            raw = sum(t.at(u, y) for u in uids for y in years)
            estimate, low, high = _tables_unique(sel, raw, shown) if years else (None, d.Cell(0), d.Cell(0))
            unique.append(UniqueEstimate(m, estimate, low, high, UNIQUE_METHODS[m.key]))
        elif m.key in UNIQUE_METHODS:
            unique.append(UniqueEstimate(m, column, column, column, UNIQUE_METHODS[m.key]))
        else:
            unique.append(UniqueEstimate(m, None, None, None, NOT_ESTIMATED))
    return Profile(contract.id, ids, year_from, year_to, MECHANISMS, participations, tuple(dimensions), tuple(unique))
