"""Indicators of a contract's référentiel ("share of residents who feel safe in the evening"),
attached to a challenge or an orientation, with their baseline and target. Their values are
computed from what the app collects (a metric of governance/metrics.py; questions are tagged
with the indicator in the questionnaire builder) or entered by hand (governance.models
.IndicatorValue). Services flush; the view commits."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _

from ..core.numbers import parse_int
from ..core.territories import Category, Commune, Contract, Direction, Indicator, IndicatorSource, Neighbourhood
from ..extensions import db
from ..governance.forms import SHARE_METRIC
from ..governance.models import IndicatorValue, Verbatim, scope_key
from ..questionnaires.models import Question
from .services import RuleError


def save_indicator(indicator: Indicator, contract: Contract, data: dict) -> Indicator:
    """`data`: the form's data. Fields it lacks keep their value (the source, the metric, the
    baseline and target came after the first version of the form)."""
    category = None
    if data.get("category"):
        category = db.session.get(Category, parse_int(data["category"])) if parse_int(data["category"]) is not None else None
        if category is None or category.contract_id != contract.id or category.parent_id is not None:
            raise RuleError("parent")
    code = data["code"].strip()
    clash = db.session.scalar(sa.select(Indicator.id).where(
        Indicator.contract_id == contract.id, Indicator.code == code, Indicator.id != (indicator.id or 0)))
    if clash:
        raise RuleError("code")
    indicator.contract = contract
    indicator.category = category
    indicator.code = code
    indicator.name = data["name"].strip()
    indicator.description = (data.get("description") or "").strip()
    indicator.unit = (data.get("unit") or "").strip()
    if "source" in data:
        _save_measure(indicator, data)
    db.session.add(indicator)
    db.session.flush()
    return indicator


def _save_measure(indicator: Indicator, data: dict) -> None:
    """Source, metric, scale, direction, baseline and target (already validated by the form)."""
    indicator.source = IndicatorSource(data["source"])
    computed = indicator.source is IndicatorSource.computed
    indicator.metric = (data.get("metric") or None) if computed else None
    # Option codes mean something for the share of respondents only.
    indicator.option_codes = data.get("option_codes_list") if indicator.metric == SHARE_METRIC else None
    indicator.scale = (data.get("scale") or "").strip()
    indicator.direction = Direction(data.get("direction") or Direction.up.value)
    indicator.baseline, indicator.baseline_year = data.get("baseline"), data.get("baseline_year")
    indicator.target, indicator.target_year = data.get("target"), data.get("target_year")
    indicator.period_years = data.get("period") or 1


def form_data(indicator: Indicator) -> dict:
    """The indicator's values as the form's data (to fill it, or to keep what a POST lacks)."""
    return {
        "code": indicator.code, "name": indicator.name, "description": indicator.description, "unit": indicator.unit,
        "category": str(indicator.category_id or ""), "source": indicator.source.value, "metric": indicator.metric or "",
        "option_codes": ", ".join(str(c) for c in indicator.option_codes or []), "scale": indicator.scale,
        "direction": indicator.direction.value, "baseline": indicator.baseline, "baseline_year": indicator.baseline_year,
        "target": indicator.target, "target_year": indicator.target_year, "period_years": str(indicator.period_years),
    }


def tagged_questions(indicator: Indicator) -> int:
    """How many questions (all versions) carry this indicator: they lose the tag if it is deleted."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(Question).where(Question.indicator_id == indicator.id))


def entered_values(indicator: Indicator) -> int:
    """How many values were entered for it: they go with it if it is deleted."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(IndicatorValue)
                             .where(IndicatorValue.indicator_id == indicator.id))


def attached_verbatims(indicator: Indicator) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Verbatim).where(Verbatim.indicator_id == indicator.id))


def contract_indicators(contract: Contract) -> list[Indicator]:
    return list(db.session.scalars(sa.select(Indicator).where(Indicator.contract_id == contract.id).order_by(Indicator.code)))


def delete_indicator(indicator: Indicator) -> None:
    """Tagged questions and verbatims lose the link, entered values go (said explicitly: SQLite
    does not enforce ON DELETE)."""
    db.session.execute(sa.update(Question).where(Question.indicator_id == indicator.id).values(indicator_id=None))
    db.session.execute(sa.update(Verbatim).where(Verbatim.indicator_id == indicator.id).values(indicator_id=None))
    db.session.execute(sa.delete(IndicatorValue).where(IndicatorValue.indicator_id == indicator.id))
    db.session.delete(indicator)
    db.session.flush()


# --- values entered by hand ------------------------------------------------------------------------


def scope_choices(contract: Contract) -> list[tuple[str, str]]:
    """Where a value may be given: the whole contract, each commune, each neighbourhood (keys
    of `governance.models.scope_key`)."""
    choices = [("contract", _("%(contract)s: the whole contract", contract=contract.name))]
    for commune in contract.communes:
        choices.append((scope_key(commune.id, None), _("%(commune)s: the whole commune", commune=commune.name)))
        choices.extend((scope_key(commune.id, n.id), f"{n.name} ({commune.name})") for n in commune.neighbourhoods)
    return choices


def resolve_scope(contract: Contract, key: str) -> tuple[int | None, int | None]:
    """(commune id, neighbourhood id) of a scope key of this contract; RuleError("scope") else."""
    if key == "contract":
        return None, None
    kind, _sep, raw_id = (key or "").partition(":")
    object_id = parse_int(raw_id)
    if kind == "commune" and object_id is not None:
        commune = db.session.get(Commune, object_id)
        if commune is not None and commune.contract_id == contract.id:
            return commune.id, None
    if kind == "neighbourhood" and object_id is not None:
        neighbourhood = db.session.get(Neighbourhood, object_id)
        if neighbourhood is not None and neighbourhood.commune.contract_id == contract.id:
            return neighbourhood.commune_id, neighbourhood.id
    raise RuleError("scope")


def values_of(indicator: Indicator) -> list[IndicatorValue]:
    """Newest year first; in a year, the contract, then communes and neighbourhoods by name."""
    rows = list(db.session.scalars(sa.select(IndicatorValue).where(IndicatorValue.indicator_id == indicator.id)))
    order = {key: i for i, (key, _label) in enumerate(scope_choices(indicator.contract))}
    return sorted(rows, key=lambda v: (-v.year, order.get(v.scope_key, len(order))))


def save_value(indicator: Indicator, key: str, year: int, value: float, source_note: str) -> tuple[IndicatorValue, bool]:
    """Add the value of a place and a year, or replace the one already there (True: added).
    Two people saving the same place and year at once: the database's unique constraint
    refuses the second insert (IntegrityError, for the view to report)."""
    if indicator.source is not IndicatorSource.entered:
        raise RuleError("entered")
    commune_id, neighbourhood_id = resolve_scope(indicator.contract, key)
    skey = scope_key(commune_id, neighbourhood_id)
    row = db.session.scalar(sa.select(IndicatorValue).where(
        IndicatorValue.indicator_id == indicator.id, IndicatorValue.scope_key == skey, IndicatorValue.year == year))
    created = row is None
    if created:
        row = IndicatorValue(indicator_id=indicator.id, commune_id=commune_id, neighbourhood_id=neighbourhood_id,
                             scope_key=skey, year=year)
        db.session.add(row)
    row.value = value
    row.source_note = source_note.strip()
    row.entered_on = date.today()
    db.session.flush()
    return row, created


def delete_value(value: IndicatorValue) -> None:
    db.session.delete(value)
    db.session.flush()
