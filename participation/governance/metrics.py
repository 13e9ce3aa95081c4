"""Computed figures of the référentiel, for a whole contract at once, and their protection.

A *metric* is one SQL `GROUP BY` over a mechanism's rows, for a contract and a span of years,
giving one value per *unit* and year. Units partition the contract: each neighbourhood (QPV),
then per commune "several neighbourhoods or the whole commune" (a table spanning two QPV, a
commune-wide budget), then "the whole contract". Where a participation is counted:

- the resident's declared neighbourhood when the mechanism asks for it (questionnaires,
  budget votes), otherwise the neighbourhood of the table, walk, process or fund;
- the year of the day it happened (meeting, answer, vote, walk) or of the fund.

Protection is decided once per metric on the *canonical grid* (every unit × every year of the
contract's period) and every figure a page or an export shows is read from that one grid:

- counts of people (`PEOPLE`): `core.disclosure.protect_table` (below 11 → "s", secondary
  suppression over units, years and their totals);
- amounts (`AMOUNT`): shown when at least 3 recipients share them, with the same secondary
  suppression computed on the recipient counts;
- rates (`RATE`): shown when their numerator and denominator are, and neither the numerator
  nor what is left of the denominator is a small count of people. A rate whose numerators are a
  count of people published by another metric (turnout: the voters) takes them from that
  metric's protected grid, on the same units and years: it is shown only where they are (or
  where the figures shown give their sum), so that "rate × population" cannot give back a
  number of people that metric hides;
- counts of things (`COUNT`: meetings, observations, demands) and delays (`DAYS`) name nobody
  and are shown as they are.

A total over a selection (some units, some years) that is not itself a total of the grid is
shown only when every grid cell it adds up is shown: it is then computed from shown figures and
reveals nothing more. This is why a commune's figure may be "s" while the contract's is not.
"""
from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..core import disclosure
from ..core.territories import Commune, Contract, Indicator, Neighbourhood
from ..extensions import db

PEOPLE = "people"
COUNT = "count"
AMOUNT = "amount"
RATE = "rate"
MEAN = "mean"
DAYS = "days"

#: Fewer recipients than this share an amount: the amount is shown as "s".
MIN_RECIPIENTS = 3

#: A row of a metric's query: (neighbourhood id or None, commune id or None, year, value, extra).
#: `extra`: recipients (AMOUNT), denominator (RATE), people (MEAN: value is their sum); None
#: otherwise. DAYS rows are one per item.
Row = tuple


@dataclass(frozen=True)
class Metric:
    key: str
    mechanism: str
    kind: str
    label: object
    unit: object
    definition: object
    compute: Callable[..., Sequence[Row]]
    #: The query takes `category_ids` (défi / orientation filter): the items carry a category.
    by_category: bool = False
    #: The query takes `indicator` (questionnaire results of the questions tagged with it).
    per_indicator: bool = False
    #: RATE: the key of the PEOPLE metric whose cells are this rate's numerators; the query then
    #: gives the denominators only (see `grid`).
    numerator: str | None = None


METRICS: dict[str, Metric] = {}


def metric(key: str, mechanism: str, kind: str, label, unit, definition, *, by_category: bool = False,
           per_indicator: bool = False, numerator: str | None = None):
    """Register the decorated query as a metric."""

    def register(fn):
        METRICS[key] = Metric(key, mechanism, kind, label, unit, definition, fn, by_category, per_indicator,
                              numerator)
        return fn

    return register


def year_of(column):
    return sa.cast(sa.extract("year", column), sa.Integer)


def in_years(column, year_from: int, year_to: int):
    """SQL condition: the day (DATE) or time (naive DATETIME, a wall-clock time) `column` falls in
    the years `year_from`..`year_to`, the same rows as `year_of(column) BETWEEN year_from AND
    year_to`. A range on the column itself, unlike the extracted year, can use an index and is well
    estimated by the planner (which then aggregates in memory instead of sorting on disk)."""
    if isinstance(column.type, sa.DateTime):
        return sa.and_(column >= datetime(year_from, 1, 1), column < datetime(year_to + 1, 1, 1))
    return sa.and_(column >= date(year_from, 1, 1), column < date(year_to + 1, 1, 1))


# --- units ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Unit:
    level: str  # "neighbourhood" | "commune" | "contract"
    contract_id: int
    commune_id: int | None
    neighbourhood_id: int | None
    #: QPV code, INSEE code of the commune, or the contract's slug.
    code: str
    name: str
    commune_name: str = ""

    @property
    def label(self) -> str:
        if self.level == "neighbourhood":
            return f"{self.name} ({self.commune_name})"
        if self.level == "commune":
            return _("%(commune)s: several neighbourhoods or the whole commune", commune=self.name)
        return _("%(contract)s: the whole contract", contract=self.name)


def contract_units(contract: Contract) -> list[Unit]:
    rows = db.session.execute(
        sa.select(Commune.id, Commune.insee_code, Commune.name, Neighbourhood.id, Neighbourhood.qpv_code,
                  Neighbourhood.name)
        .select_from(Commune).outerjoin(Neighbourhood, Neighbourhood.commune_id == Commune.id)
        .where(Commune.contract_id == contract.id).order_by(Commune.name, Commune.id, Neighbourhood.name)
    ).all()
    units, communes = [], {}
    for cid, insee, cname, nid, qpv, nname in rows:
        communes.setdefault(cid, (insee, cname))
        if nid is not None:
            units.append(Unit("neighbourhood", contract.id, cid, nid, qpv, nname, cname))
    for cid, (insee, cname) in communes.items():
        units.append(Unit("commune", contract.id, cid, None, insee, cname))
    units.append(Unit("contract", contract.id, None, None, contract.slug, contract.name))
    return units


# --- values -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Value:
    """A published figure: `number` is None when suppressed ("s") or not applicable ("—")."""

    number: float | None
    suppressed: bool = False

    @property
    def text(self) -> str:
        if self.suppressed:
            return disclosure.SUPPRESSED
        if self.number is None:
            return ""
        if isinstance(self.number, float):
            return str(int(self.number)) if self.number.is_integer() else f"{self.number:.2f}".rstrip("0")
        return str(self.number)

    @property
    def shown(self) -> bool:
        return self.number is not None


S = Value(None, suppressed=True)
NA = Value(None)


@dataclass
class Grid:
    """A metric's protected values over every unit × year of a contract (see the module doc)."""

    metric: Metric
    units: list[Unit]
    years: list[int]
    #: (unit index, year) → Value
    cells: dict[tuple[int, int], Value] = field(default_factory=dict)
    #: unit index → Value over every year; year → Value over every unit; the grand total
    unit_totals: dict[int, Value] = field(default_factory=dict)
    year_totals: dict[int, Value] = field(default_factory=dict)
    grand: Value = NA
    #: RATE: the protected numerators and denominators (counts of people), to add up selections.
    num: Grid | None = None
    den: Grid | None = None
    #: DAYS: the delays themselves (never published, only their medians).
    samples: dict[tuple[int, int], list[float]] = field(default_factory=dict)

    def value(self, unit_ids: Sequence[int] | None = None, years: Sequence[int] | None = None) -> Value:
        """The figure over some units (indexes; None: all) and some years (None: all)."""
        all_units = unit_ids is None or set(unit_ids) >= set(range(len(self.units)))
        all_years = years is None or set(years) >= set(self.years)
        uids = list(range(len(self.units))) if unit_ids is None else list(unit_ids)
        ys = list(self.years) if years is None else [y for y in years if y in self.years]
        kind = self.metric.kind
        if kind == DAYS:
            delays = [d for u in uids for y in ys for d in self.samples.get((u, y), [])]
            return Value(round(statistics.median(delays), 1)) if delays else NA
        if kind in (RATE, MEAN):
            num, den = self.num.value(unit_ids, years), self.den.value(unit_ids, years)
            if num.suppressed or den.suppressed:
                return S
            if kind == MEAN:
                if not den.number:
                    return NA
                return S if den.number < disclosure.MIN_CELL else Value(round(num.number / den.number, 2))
            return _rate(num.number or 0, den.number or 0)
        if all_units and all_years:
            return self.grand
        if all_units and len(ys) == 1:
            return self.year_totals[ys[0]]
        if all_years and len(uids) == 1:
            return self.unit_totals[uids[0]]
        if all_units:
            return _sum([self.year_totals[y] for y in ys])
        if all_years:
            return _sum([self.unit_totals[u] for u in uids])
        return _sum([self.cells[(u, y)] for u in uids for y in ys])


def _sum(values: list[Value]) -> Value:
    if any(v.suppressed for v in values):
        return S
    numbers = [v.number for v in values if v.number is not None]
    return Value(sum(numbers)) if numbers else Value(0)


def _rate(num: float, den: float) -> Value:
    if not den:
        return NA
    rest = den - num
    if disclosure._is_small(int(num), disclosure.MIN_CELL) or disclosure._is_small(int(rest), disclosure.MIN_CELL):
        return S
    return Value(round(100.0 * num / den, 1))


def _unit_index(units: list[Unit]) -> Callable[[int | None, int | None], int]:
    by_n = {u.neighbourhood_id: i for i, u in enumerate(units) if u.level == "neighbourhood"}
    by_c = {u.commune_id: i for i, u in enumerate(units) if u.level == "commune"}
    whole = len(units) - 1

    def index(neighbourhood_id, commune_id) -> int:
        if neighbourhood_id in by_n:
            return by_n[neighbourhood_id]
        return by_c.get(commune_id, whole)

    return index


def contract_years(contract: Contract) -> list[int]:
    return list(range(contract.period_start, contract.period_end + 1))


def grid(contract: Contract, m: Metric, *, units: list[Unit] | None = None, category_ids=None,
         indicator: Indicator | None = None, numerator: Grid | None = None) -> Grid:
    """The metric over the contract's whole period, protected (see the module doc).

    `numerator`: for a rate with `Metric.numerator`, that metric's grid over the same units, if
    already computed (otherwise it is computed here)."""
    units = units if units is not None else contract_units(contract)
    years = contract_years(contract)
    kwargs = {}
    if m.by_category:
        kwargs["category_ids"] = category_ids
    if m.per_indicator:
        kwargs["indicator"] = indicator
    rows = m.compute(contract.id, years[0], years[-1], **kwargs)
    index = _unit_index(units)
    g = Grid(m, units, years)
    if m.numerator is not None:
        return _rate_of_people(contract, g, rows, index, numerator)
    raw: dict[tuple[int, int], list[float]] = {}
    extra: dict[tuple[int, int], float] = {}
    for nid, cid, year, value, more in rows:
        if year not in years or value is None:
            continue
        key = (index(nid, cid), int(year))
        raw.setdefault(key, []).append(value)
        if more is not None:
            extra[key] = extra.get(key, 0) + more
    n_units = len(units)
    total = {k: sum(v) for k, v in raw.items()}
    if m.kind == DAYS:
        g.samples = raw
        return g
    if m.kind == COUNT:
        for u in range(n_units):
            for y in years:
                g.cells[(u, y)] = Value(_int(total.get((u, y), 0)))
            g.unit_totals[u] = Value(_int(sum(total.get((u, y), 0) for y in years)))
        for y in years:
            g.year_totals[y] = Value(_int(sum(total.get((u, y), 0) for u in range(n_units))))
        g.grand = Value(_int(sum(total.values())))
        return g
    if m.kind in (RATE, MEAN):
        people = Metric(m.key, m.mechanism, PEOPLE, m.label, m.unit, m.definition, m.compute)
        g.num, g.den = Grid(people, units, years), Grid(people, units, years)
        if m.kind == RATE:
            _fill(g.num, _protect_people([[int(total.get((u, y), 0)) for y in years] for u in range(n_units)]),
                  lambda u, y: total.get((u, y), 0))
        else:  # a sum of scores: only the number of people behind it is protected
            _fill(g.num, _protect_people([[0 for _y in years] for _u in range(n_units)]),
                  lambda u, y: total.get((u, y), 0))
        _fill(g.den, _protect_people([[int(extra.get((u, y), 0)) for y in years] for u in range(n_units)]),
              lambda u, y: extra.get((u, y), 0))
        _fill_rates(g)
        return g
    if m.kind == PEOPLE:
        table = _protect_people([[int(total.get((u, y), 0)) for y in years] for u in range(n_units)])
        _fill(g, table, lambda u, y: total.get((u, y), 0))
        return g
    if m.kind == AMOUNT:
        pattern = _protect_people([[int(extra.get((u, y), 0)) for y in years] for u in range(n_units)],
                                  min_cell=MIN_RECIPIENTS)
        _fill(g, pattern, lambda u, y: total.get((u, y), 0))
        return g
    raise ValueError(m.kind)


def _fill_rates(g: Grid) -> None:
    """A RATE or MEAN grid's own cells and totals, from its numerators and denominators."""
    for u in range(len(g.units)):
        for y in g.years:
            g.cells[(u, y)] = g.value([u], [y])
        g.unit_totals[u] = g.value([u], None)
    for y in g.years:
        g.year_totals[y] = g.value(None, [y])
    g.grand = g.value(None, None)


def _rate_of_people(contract: Contract, g: Grid, rows: Sequence[Row], index, people: Grid | None = None) -> Grid:
    """A rate whose numerators are the cells of another metric counting people (`Metric.numerator`;
    the rate's own rows give the denominators, in `extra`).

    The numerators are read from that metric's protected grid, on the same units and years: a
    cell counts where the rate has a denominator, and a sum of cells is known only from the
    figures that grid shows (its cells, or one of its totals less shown cells). So a rate is
    shown only where its number of people is, and "rate × denominator" gives back nothing the
    other metric hides, not even through a total or the secondary suppression of either grid."""
    units, years = g.units, g.years
    if people is None:
        people = grid(contract, METRICS[g.metric.numerator], units=units)
    if people.metric.key != g.metric.numerator or people.units != units or people.years != years:
        raise ValueError(f"{g.metric.key}: the numerators must be {g.metric.numerator} over the same grid")
    den: dict[tuple[int, int], float] = {}
    for nid, cid, year, _value, more in rows:
        if year in years and more:
            key = (index(nid, cid), int(year))
            den[key] = den.get(key, 0) + more
    n_units = len(units)
    counted = {(u, y) for (u, y), d in den.items() if d > 0}
    num = Grid(people.metric, units, years)
    for u in range(n_units):
        for y in years:
            num.cells[(u, y)] = people.cells[(u, y)] if (u, y) in counted else Value(0)

    def part(total: Value, cells: list[tuple[int, int]]) -> Value:
        """The sum of the counted cells among `cells`, from figures `people` shows, else S."""
        kept = _sum([people.cells[c] for c in cells if c in counted])
        if kept.shown:
            return kept
        left = _sum([people.cells[c] for c in cells if c not in counted])
        return Value(_int(total.number - left.number)) if total.shown and left.shown else S

    for u in range(n_units):
        num.unit_totals[u] = part(people.unit_totals[u], [(u, y) for y in years])
    for y in years:
        num.year_totals[y] = part(people.year_totals[y], [(u, y) for u in range(n_units)])
    every = [(u, y) for u in range(n_units) for y in years]
    num.grand = next((v for v in (_sum(list(num.unit_totals.values())), _sum(list(num.year_totals.values())),
                                  part(people.grand, every)) if v.shown), S)
    g.num = num
    g.den = Grid(people.metric, units, years)
    _fill(g.den, _protect_people([[int(den.get((u, y), 0)) for y in years] for u in range(n_units)]),
          lambda u, y: den.get((u, y), 0))
    _fill_rates(g)
    return g


def _int(x: float):
    return int(x) if float(x).is_integer() else x


def _protect_people(counts: list[list[int]], min_cell: int = disclosure.MIN_CELL) -> disclosure.Table:
    return disclosure.protect_table(counts, [sum(row) for row in counts], min_cell=min_cell)


def _fill(g: Grid, table: disclosure.Table, amount: Callable[[int, int], float]) -> None:
    """Values from the grid's amounts, suppressed where the protected table is."""
    years = g.years

    def shown(cell: disclosure.Cell, number: float) -> Value:
        return S if cell.suppressed else Value(_int(number))

    for u, line in enumerate(table.rows):
        for j, y in enumerate(years):
            g.cells[(u, y)] = shown(line.cells[j], amount(u, y))
        g.unit_totals[u] = shown(line.total, sum(amount(u, y) for y in years))
    for j, y in enumerate(years):
        g.year_totals[y] = shown(table.columns.cells[j], sum(amount(u, y) for u in range(len(g.units))))
    g.grand = shown(table.columns.total, sum(amount(u, y) for u in range(len(g.units)) for y in years))


# --- selections -------------------------------------------------------------------------------


def unit_ids_in(units: list[Unit], commune_id: int | None, neighbourhood_id: int | None) -> list[int] | None:
    """Indexes of the units inside a commune or a neighbourhood (None: the whole contract)."""
    if neighbourhood_id is not None:
        return [i for i, u in enumerate(units) if u.neighbourhood_id == neighbourhood_id]
    if commune_id is not None:
        return [i for i, u in enumerate(units) if u.commune_id == commune_id]
    return None


from . import sources  # noqa: E402,F401  (registers the metrics)
