"""The governance dashboard (evaluators, facilitators, admins): one contract, commune or
neighbourhood, a span of years and a défi or orientation; headline figures, their trends, the
neighbourhoods side by side, and the référentiel's indicators with residents' own words.

Everything shown comes from `report.build_report`, already protected: this module only picks
what the caller may see, formats numbers for the page's language and draws the charts. A
facilitator of one commune lands on that commune (the whole contract is not theirs to see).
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import abort, request
from flask_babel import format_decimal, format_percent
from flask_babel import gettext as _
from flask_login import current_user

from ..core import disclosure
from ..core import permissions as perm
from ..core.charts import Bar, bar_chart
from ..core.content_i18n import preload
from ..core.htmx import render
from ..core.i18n import current_locale, text_direction
from ..core.permissions import staff_required
from ..core.territories import Category, CategoryKind, Commune, Contract, Direction
from ..extensions import db
from . import access
from . import metrics as m
from .report import BadSelection, build_report, default_years, selection_from_args
from .views import bp

NO_VALUE = "—"


# --- numbers for the page's language ----------------------------------------------------------


def format_value(value: m.Value, kind: str | None = None, unit: str = "") -> str:
    """A protected figure as the page shows it: "s" stays "s", no value is "—"."""
    if value.suppressed:
        return disclosure.SUPPRESSED
    if value.number is None:
        return NO_VALUE
    return format_number(value.number, kind, unit)


def format_number(number: float, kind: str | None = None, unit: str = "") -> str:
    if kind == m.RATE:
        return format_percent(number / 100, "#,##0.#%")
    text = format_decimal(number, "#,##0.##")
    if kind == m.AMOUNT or (kind is None and unit):
        # "12 %", "300 €" never break; "1 200 participations" may, on a phone.
        return f"{text}{chr(0xa0) if len(unit) <= 3 else ' '}{unit}" if unit else text
    return text


# --- who sees what ---------------------------------------------------------------------------


def _readable_grants(contract: Contract) -> list:
    return [g for g in current_user.grants if g.contract_id == contract.id and g.role in access.READERS]


def _default_area(contract: Contract) -> dict:
    """Where a reader who did not choose lands: the whole contract if it is theirs, else the
    first commune or neighbourhood they read."""
    if access.can_view(current_user, contract.scope):
        return {}
    grants = sorted(_readable_grants(contract), key=lambda g: (g.neighbourhood_id is not None, g.id))
    if not grants:
        abort(403)
    g = grants[0]
    if g.neighbourhood_id is not None:
        return {"neighbourhood": str(g.neighbourhood_id)}
    return {"commune": str(g.commune_id)}


@dataclass
class Choices:
    """The filter form's options: only the places the caller may read."""

    whole_contract: bool
    communes: list
    #: (commune, [neighbourhoods]) in commune order
    neighbourhoods: list
    any_wider: bool
    years: list[int]
    challenges: list
    orientations: list


def _choices(contract: Contract) -> Choices:
    user = current_user
    communes = list(db.session.scalars(sa.select(Commune).where(Commune.contract_id == contract.id)
                                       .order_by(Commune.name)))
    readable_communes = [c for c in communes if access.can_view(user, c.scope)]
    groups = []
    for c in communes:
        if c in readable_communes:
            groups.append((c, list(c.neighbourhoods)))
        else:
            own = [n for n in c.neighbourhoods if access.can_view(user, n.scope)]
            if own:
                groups.append((c, own))
    categories = list(db.session.scalars(
        sa.select(Category).where(Category.contract_id == contract.id)
        .order_by(Category.kind, Category.position, Category.code)))
    preload(categories, current_locale())
    challenges = [c for c in categories if c.kind is CategoryKind.challenge]
    # Orientations each followed by their sub-themes (and a défi's sub-themes after it).
    ordered_orientations = []
    for o in (c for c in categories if c.kind is CategoryKind.orientation):
        ordered_orientations.append(o)
        ordered_orientations.extend(o.children)
    with_subs = []
    for ch in challenges:
        with_subs.append(ch)
        with_subs.extend(ch.children)
    whole = access.can_view(user, contract.scope)
    return Choices(whole, readable_communes, groups, whole or bool(readable_communes),
                   list(range(contract.period_start, contract.period_end + 1)), with_subs, ordered_orientations)


# --- what the page draws -----------------------------------------------------------------------


@dataclass
class Trend:
    figures: object  # report.MetricFigures
    chart: object
    chart_id: str


def _trends(report, rtl: bool) -> tuple[list[Trend], list]:
    """A chart per headline figure that has anything to show in these years; the others are
    only listed (a page of empty charts hides the ones that matter)."""
    trends, quiet = [], []
    for f in report.metrics:
        active = any(v.suppressed or v.number for _y, v in f.by_year)
        if not active:
            quiet.append(f)
            continue
        mt = f.metric
        bars = [Bar(str(year), None if v.suppressed else (v.number or 0),
                    format_value(v, mt.kind, str(mt.unit)) if v.shown or v.suppressed else _("no value"))
                for year, v in f.by_year]
        chart_id = "gv-chart-" + mt.key.replace(".", "-")
        title = _("%(figure)s, per year", figure=mt.label)
        trends.append(Trend(f, bar_chart(bars, title=title, chart_id=chart_id, rtl=rtl,
                                         maximum=100 if mt.kind == m.RATE else None), chart_id))
    return trends, quiet


@dataclass
class Theme:
    """A défi or orientation of the report (None: indicators and words attached to none) with
    its indicators and the residents' words about it that no indicator of it already shows."""

    category: Category | None
    indicators: list
    verbatims: list


def _themes(report, categories: list) -> list[Theme]:
    shown = {v.id for f in report.indicators for v in f.verbatims}
    themes = []
    for category in [*categories, None]:
        cid = category.id if category is not None else None
        indicators = [f for f in report.indicators if f.indicator.category_id == cid]
        words = [v for v in report.verbatims.get(cid, []) if v.id not in shown]
        if indicators or words:
            themes.append(Theme(category, indicators, words))
    return themes


def latest(f) -> tuple[int, m.Value] | None:
    """The indicator's most recent figure: its latest shown value, else its latest hidden one
    ("s" says more than "no value yet")."""
    if f.latest is not None:
        return f.latest
    return next(((y, v) for y, v in reversed(f.by_year) if v.suppressed), None)


def progress(f) -> str | None:
    """How the indicator's latest value stands against its baseline and target, given its
    direction: "reached", "better", "worse", "same", or None when it cannot be told."""
    ind = f.indicator
    if f.latest is None or f.latest[1].number is None:
        return None
    latest = f.latest[1].number
    up = ind.direction is not Direction.down
    if ind.target is not None and (latest >= ind.target if up else latest <= ind.target):
        return "reached"
    if ind.baseline is None:
        return None
    if latest == ind.baseline:
        return "same"
    return "better" if (latest > ind.baseline) == up else "worse"


def place_of(verbatim) -> str:
    if verbatim.neighbourhood is not None:
        return verbatim.neighbourhood.label
    if verbatim.commune is not None:
        return verbatim.commune.name
    return _("the whole contract")


def show(cell: disclosure.Cell | None) -> str:
    """A protected count of the profile ("s" stays "s"; None: not estimated, "—")."""
    if cell is None:
        return NO_VALUE
    if cell.suppressed:
        return disclosure.SUPPRESSED
    return format_decimal(cell.value)


def active_mechanisms(profile) -> list[int]:
    """Columns of the profile's tables worth a column on a phone: mechanisms with participations
    (or hidden ones) in the selection."""
    return [j for j, c in enumerate(profile.participations.cells) if c.suppressed or c.value]


# --- the page ----------------------------------------------------------------------------------


@bp.get("/<int:contract_id>")
@staff_required
def dashboard(contract_id: int):
    # (ids are 32-bit in PostgreSQL: a larger one is simply not found)
    contract = db.session.get(Contract, contract_id) if 0 < contract_id < 2**31 else None
    if contract is None:
        abort(404)
    args = {k: v for k, v in request.args.items() if k in ("commune", "neighbourhood", "from", "to", "category")}
    if not (args.get("commune") or "").strip() and not (args.get("neighbourhood") or "").strip():
        args.update(_default_area(contract))
    choices = _choices(contract)
    perm.ensure(choices.any_wider or any(ns for _c, ns in choices.neighbourhoods))
    rtl = text_direction() == "rtl"
    error = selection = report = None
    try:
        selection = selection_from_args(contract, args)
    except BadSelection as exc:
        error = str(exc)
    if selection is not None:
        perm.ensure(access.can_view(current_user, selection.scope))
        report = build_report(selection)
        categories = report.categories()
        indicators = [f.indicator for f in report.indicators]
        preload([*categories, *indicators, *([selection.category] if selection.category else [])], current_locale())
    first, last = default_years(contract)
    context = dict(
        contract=contract, choices=choices, error=error, selection=selection, report=report, args=args,
        year_from=selection.year_from if selection else _int_or(args.get("from"), first),
        year_to=selection.year_to if selection else _int_or(args.get("to"), last),
        min_cell=disclosure.MIN_CELL, suppressed=disclosure.SUPPRESSED,
        format_value=format_value, format_number=format_number, show=show, progress=progress, latest=latest,
        place_of=place_of, Direction=Direction, CategoryKind=CategoryKind,
    )
    if report is not None:
        trends, quiet = _trends(report, rtl)
        context.update(trends=trends, quiet=quiet, themes=_themes(report, categories), profile=report.profile,
                       profile_columns=active_mechanisms(report.profile) if report.profile is not None else [])
    return render("governance/dashboard.html", status=400 if error else 200, **context)


def _int_or(raw, default: int) -> int:
    raw = (raw or "").strip()
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 4 else default

