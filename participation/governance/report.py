"""What governance shows for a selection (contract / commune / neighbourhood, years, défi or
orientation): the same `Report` feeds the dashboard, the CSV / XLSX / data package exports,
the PDF report and the JSON API, so that they can never disagree or protect differently.

Every figure in a `Report` is already protected (see metrics.py); nothing here keeps a raw count.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _

from ..core.numbers import MAX_DIGITS, is_ascii_digits, parse_int
from ..core.territories import Category, Commune, Contract, Indicator, IndicatorSource, Neighbourhood, Scope
from ..extensions import db
from . import metrics as m
from .models import IndicatorValue, scope_key


#: The largest id an integer column holds.
MAX_ID = 2**31 - 1


class BadSelection(ValueError):
    """A selection that cannot be shown; the message is translated and shown to the user."""


@dataclass(frozen=True)
class Selection:
    contract: Contract
    commune: Commune | None
    neighbourhood: Neighbourhood | None
    year_from: int
    year_to: int
    category: Category | None = None

    @property
    def scope(self) -> Scope:
        return Scope(self.contract.id, self.commune.id if self.commune else None,
                      self.neighbourhood.id if self.neighbourhood else None)

    @property
    def years(self) -> list[int]:
        return list(range(self.year_from, self.year_to + 1))

    @property
    def area_label(self) -> str:
        if self.neighbourhood is not None:
            return self.neighbourhood.label
        if self.commune is not None:
            return self.commune.name
        return self.contract.name

    @property
    def category_ids(self) -> list[int] | None:
        """The défi / orientation chosen and everything below it (None: no filter)."""
        if self.category is None:
            return None
        ids, todo = [], [self.category]
        while todo:
            c = todo.pop()
            ids.append(c.id)
            todo.extend(c.children)
        return ids

    def args(self) -> dict:
        """Query arguments that give this selection back (links, exports)."""
        out = {"from": self.year_from, "to": self.year_to}
        if self.commune is not None:
            out["commune"] = self.commune.id
        if self.neighbourhood is not None:
            out["neighbourhood"] = self.neighbourhood.id
        if self.category is not None:
            out["category"] = self.category.id
        return out


def default_years(contract: Contract, today: date | None = None) -> tuple[int, int]:
    year = (today or date.today()).year
    return contract.period_start, max(contract.period_start, min(year, contract.period_end))


def selection_from_args(contract: Contract, args) -> Selection:
    """Read `commune`, `neighbourhood`, `from`, `to`, `category` (all optional). Raises
    `BadSelection` with a translated message for anything that does not belong to the contract."""
    first, last = default_years(contract)

    def number(name: str) -> int | None:
        raw = (args.get(name) or "").strip()
        if not raw:
            return None
        value = parse_int(raw)
        if value is None and is_ascii_digits(raw) and len(raw) <= MAX_DIGITS:
            value = int(raw)  # a number, only beyond any id or year: the checks below say so
        if value is None:
            raise BadSelection(_("“%(value)s” is not a whole number.", value=raw[:20]))
        return value

    year_from, year_to = number("from"), number("to")
    year_from = first if year_from is None else year_from
    year_to = (last if year_to is None else year_to)
    for year in (year_from, year_to):
        if not contract.period_start <= year <= contract.period_end:
            raise BadSelection(_("The contract runs from %(start)s to %(end)s: choose years in between.",
                                 start=contract.period_start, end=contract.period_end))
    if year_from > year_to:
        raise BadSelection(_("The first year comes after the last one."))
    commune = neighbourhood = category = None
    commune_id, neighbourhood_id, category_id = number("commune"), number("neighbourhood"), number("category")

    def get(model, ident):
        # An id beyond the database's integers names nothing (PostgreSQL would refuse the query).
        return db.session.get(model, ident) if ident <= MAX_ID else None

    if commune_id is not None:
        commune = get(Commune, commune_id)
        if commune is None or commune.contract_id != contract.id:
            raise BadSelection(_("This commune is not part of the contract."))
    if neighbourhood_id is not None:
        neighbourhood = get(Neighbourhood, neighbourhood_id)
        if neighbourhood is None or neighbourhood.commune.contract_id != contract.id:
            raise BadSelection(_("This neighbourhood is not part of the contract."))
        if commune is not None and neighbourhood.commune_id != commune.id:
            raise BadSelection(_("This neighbourhood is not in the chosen commune."))
        commune = neighbourhood.commune
    if category_id is not None:
        category = get(Category, category_id)
        if category is None or category.contract_id != contract.id:
            raise BadSelection(_("This défi or orientation is not part of the contract's référentiel."))
    return Selection(contract, commune, neighbourhood, year_from, year_to, category)


# --- the report ----------------------------------------------------------------------------------


@dataclass
class MetricFigures:
    metric: m.Metric
    #: over the selected area and years
    total: m.Value
    by_year: list[tuple[int, m.Value]]
    #: the selected area's units (neighbourhood comparisons), over the selected years
    by_unit: list[tuple[m.Unit, m.Value]]
    #: False: the défi filter does not apply to this mechanism (its items carry no category)
    filtered: bool = True


@dataclass
class IndicatorFigures:
    indicator: Indicator
    metric: m.Metric | None
    by_year: list[tuple[int, m.Value]]
    #: the most recent year of the selection with a shown value
    latest: tuple[int, m.Value] | None
    #: entered values: where they come from
    source_notes: list[str] = field(default_factory=list)
    verbatims: list = field(default_factory=list)

    @property
    def computed(self) -> bool:
        return self.indicator.source is IndicatorSource.computed


@dataclass
class Report:
    selection: Selection
    units: list[m.Unit]
    metrics: list[MetricFigures]
    indicators: list[IndicatorFigures]
    #: published verbatims by category id (None: attached to no défi), newest first
    verbatims: dict[int | None, list] = field(default_factory=dict)
    profile: object | None = None

    def categories(self) -> list[Category]:
        """Défis / orientations that have an indicator or a verbatim in the report, in order."""
        ids = {f.indicator.category_id for f in self.indicators} | set(self.verbatims)
        ids.discard(None)
        if not ids:
            return []
        return list(db.session.scalars(sa.select(Category).where(Category.id.in_(ids))
                                       .order_by(Category.kind, Category.position, Category.code)))


#: The figures every report shows (in this order), when their metric exists.
HEADLINE_METRICS = (
    "tables.meetings", "tables.participations", "questionnaires.responses", "budgets.voters", "budgets.proposals",
    "walks.held", "walks.participants", "walks.observations", "fph.projects_funded", "fph.granted",
    "fph.residents_involved", "followup.raised", "followup.answered", "followup.done", "followup.overdue",
    "followup.answer_days",
)


class _Grids:
    """Each metric's grid computed once per report (and per indicator for tagged questions)."""

    def __init__(self, contract: Contract, units: list[m.Unit], category_ids):
        self.contract, self.units, self.category_ids = contract, units, category_ids
        self._cache: dict = {}

    def get(self, metric: m.Metric, indicator: Indicator | None = None) -> m.Grid:
        key = (metric.key, indicator.id if (indicator is not None and metric.per_indicator) else None)
        if key not in self._cache:
            # A rate of people reuses its numerator's grid (turnout: the voters) rather than rebuilding it.
            numerator = self.get(m.METRICS[metric.numerator]) if metric.numerator else None
            self._cache[key] = m.grid(self.contract, metric, units=self.units, category_ids=self.category_ids,
                                      indicator=indicator, numerator=numerator)
        return self._cache[key]


def build_report(selection: Selection, *, with_profile: bool = True) -> Report:
    contract = selection.contract
    units = m.contract_units(contract)
    chosen = m.unit_ids_in(units, selection.commune.id if selection.commune else None,
                           selection.neighbourhood.id if selection.neighbourhood else None)
    grids = _Grids(contract, units, selection.category_ids)
    years = selection.years
    shown_units = list(range(len(units))) if chosen is None else chosen

    figures = []
    for key in HEADLINE_METRICS:
        metric = m.METRICS.get(key)
        if metric is None:
            continue
        g = grids.get(metric)
        figures.append(MetricFigures(
            metric=metric,
            total=g.value(chosen, years),
            by_year=[(y, g.value(chosen, [y])) for y in years],
            by_unit=[(units[u], g.value([u], years)) for u in shown_units],
            filtered=selection.category is None or metric.by_category,
        ))

    verbatim_rows = _verbatims(selection)
    by_indicator: dict[int, list] = {}
    by_category: dict[int | None, list] = {}
    for v in verbatim_rows:
        if v.indicator_id is not None:
            by_indicator.setdefault(v.indicator_id, []).append(v)
        by_category.setdefault(v.category_id if v.category_id is not None else
                               (v.indicator.category_id if v.indicator is not None else None), []).append(v)

    indicators = []
    for indicator in _indicators(selection):
        if indicator.source is IndicatorSource.computed and indicator.metric in m.METRICS:
            metric = m.METRICS[indicator.metric]
            g = grids.get(metric, indicator)
            by_year = [(y, g.value(chosen, [y])) for y in years]
            notes: list[str] = []
        else:
            metric = None
            by_year, notes = _entered(indicator, selection)
        latest = next(((y, v) for y, v in reversed(by_year) if v.shown), None)
        indicators.append(IndicatorFigures(indicator, metric, by_year, latest, notes, by_indicator.get(indicator.id, [])))

    profile = None
    if with_profile:
        try:
            from . import profile as profile_module
        except ImportError:  # pragma: no cover - the profile lands with its own module
            profile_module = None
        if profile_module is not None:
            # The profile reuses the grids built without a défi filter (it has none).
            plain = ({key: g for (key, ind), g in grids._cache.items() if ind is None}
                     if selection.category is None else None)
            profile = profile_module.build_profile(contract, chosen, selection.year_from, selection.year_to,
                                                   units=units, grids=plain)
    return Report(selection, [units[u] for u in shown_units], figures, indicators, by_category, profile)


def _indicators(selection: Selection) -> list[Indicator]:
    query = sa.select(Indicator).where(Indicator.contract_id == selection.contract.id)
    ids = selection.category_ids
    if ids is not None:
        query = query.where(Indicator.category_id.in_(ids))
    return list(db.session.scalars(query.order_by(Indicator.code)))


def _entered(indicator: Indicator, selection: Selection) -> tuple[list[tuple[int, m.Value]], list[str]]:
    """Entered values exist per scope: the selection's own scope only (a commune's rate is not
    the sum of its neighbourhoods')."""
    key = scope_key(selection.commune.id if selection.commune else None,
                    selection.neighbourhood.id if selection.neighbourhood else None)
    rows = {v.year: v for v in db.session.scalars(
        sa.select(IndicatorValue).where(IndicatorValue.indicator_id == indicator.id, IndicatorValue.scope_key == key,
                                        IndicatorValue.year.between(selection.year_from, selection.year_to)))}
    by_year = [(y, m.Value(rows[y].value) if y in rows else m.NA) for y in selection.years]
    notes = sorted({v.source_note for v in rows.values() if v.source_note})
    return by_year, notes


def _verbatims(selection: Selection) -> list:
    from . import verbatims

    return list(verbatims.published_verbatims(
        selection.contract.id,
        commune_id=selection.commune.id if selection.commune else None,
        neighbourhood_id=selection.neighbourhood.id if selection.neighbourhood else None,
        year_from=selection.year_from, year_to=selection.year_to, category_ids=selection.category_ids))


# --- one long table, for CSV, XLSX, the data package and the API -----------------------------------

#: Columns of `report_rows` (also the data package's schema: see exports).
COLUMNS = ("section", "code", "label", "unit", "kind", "level", "area_code", "area", "year", "value")


def report_rows(report: Report) -> list[dict]:
    """Every figure of the report as one row each. `year` is empty for a total over the selected
    years; `value` is a number, "s" (suppressed) or empty (no value)."""
    sel = report.selection
    area_level = "neighbourhood" if sel.neighbourhood else "commune" if sel.commune else "contract"
    area_code = (sel.neighbourhood.qpv_code if sel.neighbourhood else sel.commune.insee_code if sel.commune
                 else sel.contract.slug)
    area = sel.area_label
    rows: list[dict] = []

    def add(section, code, label, unit, kind, level, acode, aname, year, value):
        rows.append({"section": section, "code": code, "label": str(label), "unit": str(unit), "kind": kind,
                     "level": level, "area_code": acode, "area": aname, "year": "" if year is None else year,
                     "value": _cell(value)})

    for f in report.metrics:
        mt = f.metric
        add("figures", mt.key, mt.label, mt.unit, mt.kind, area_level, area_code, area, None, f.total)
        for year, value in f.by_year:
            add("figures", mt.key, mt.label, mt.unit, mt.kind, area_level, area_code, area, year, value)
        for unit, value in f.by_unit:
            add("comparison", mt.key, mt.label, mt.unit, mt.kind, unit.level, unit.code, unit.label, None, value)
    for f in report.indicators:
        ind = f.indicator
        kind = f.metric.kind if f.metric else "entered"
        for year, value in f.by_year:
            add("indicators", ind.code, ind.name, ind.unit, kind, area_level, area_code, area, year, value)
    return rows


def _cell(value: m.Value):
    if value.suppressed:
        return value.text
    if value.number is None:
        return ""
    if isinstance(value.number, float) and value.number.is_integer():
        return int(value.number)  # 28, not 28.0, in every format
    return value.number
