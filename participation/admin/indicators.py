"""Indicators of a contract's référentiel ("share of residents who feel safe in the evening"),
attached to a challenge or an orientation; questions are tagged with them so that governance
can follow them across questionnaires and years. Services flush; the view commits."""
from __future__ import annotations

import sqlalchemy as sa

from ..core.territories import Category, Contract, Indicator
from ..extensions import db
from ..questionnaires.models import Question
from .services import RuleError
from ..core.numbers import parse_int


def save_indicator(indicator: Indicator, contract: Contract, data: dict) -> Indicator:
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
    db.session.add(indicator)
    db.session.flush()
    return indicator


def tagged_questions(indicator: Indicator) -> int:
    """How many questions (all versions) carry this indicator: they lose the tag if it is deleted."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(Question).where(Question.indicator_id == indicator.id))


def contract_indicators(contract: Contract) -> list[Indicator]:
    return list(db.session.scalars(sa.select(Indicator).where(Indicator.contract_id == contract.id).order_by(Indicator.code)))


def delete_indicator(indicator: Indicator) -> None:
    """Tagged questions lose the tag (said explicitly: SQLite does not enforce ON DELETE)."""
    db.session.execute(sa.update(Question).where(Question.indicator_id == indicator.id).values(indicator_id=None))
    db.session.delete(indicator)
    db.session.flush()
