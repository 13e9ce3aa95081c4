"""Figures on demands to institutions, for governance (raised, answered, done, refused, overdue,
median answer time), aggregated in SQL.

What is counted: demands that are not drafts and were **sent in the period** (`sent_on`), inside
the scope (a scope covers what lies inside it, as grants do). Of those: `sent` still wait for an
answer, `answered` got one (answered, in progress, done or refused), `done` and `refused` are
closed so, `overdue` are overdue today. The median counts the days from sending to the answer.
"""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from ..core.territories import Category, Scope
from ..extensions import db
from . import workflow
from .models import FollowUp, Kind, Status
from .services import Figures, overdue_clause


def _scope_clauses(scope: Scope) -> list:
    clauses = [FollowUp.contract_id == scope.contract_id]
    if scope.commune_id is not None:
        clauses.append(FollowUp.commune_id == scope.commune_id)
    if scope.neighbourhood_id is not None:
        clauses.append(FollowUp.neighbourhood_id == scope.neighbourhood_id)
    return clauses


def _category_ids(category_id: int) -> list[int]:
    """The category and its sub-themes (demands may be filed under either)."""
    children = db.session.scalars(sa.select(Category.id).where(Category.parent_id == category_id))
    return [category_id, *children]


def _answer_days():
    """Days from sending to the answer, as one SQL column (date arithmetic differs by database)."""
    if db.session.get_bind().dialect.name == "sqlite":
        return sa.cast(sa.func.julianday(FollowUp.answered_on) - sa.func.julianday(FollowUp.sent_on), sa.Integer)
    return FollowUp.answered_on - FollowUp.sent_on  # PostgreSQL: date - date is a whole number of days


def median(values: list) -> float | None:
    """The median of values already sorted (None when there are none)."""
    n = len(values)
    if n == 0:
        return None
    middle = n // 2
    return float(values[middle]) if n % 2 else (values[middle - 1] + values[middle]) / 2


def figures(scope: Scope, *, kind: Kind | None = None, date_from: date | None = None, date_to: date | None = None,
            category_id: int | None = None, today: date | None = None) -> Figures:
    today = today or date.today()
    where = [*_scope_clauses(scope), FollowUp.status != Status.draft, FollowUp.sent_on.is_not(None)]
    if kind is not None:
        where.append(FollowUp.kind == kind)
    if date_from is not None:
        where.append(FollowUp.sent_on >= date_from)
    if date_to is not None:
        where.append(FollowUp.sent_on <= date_to)
    if category_id is not None:
        where.append(FollowUp.category_id.in_(_category_ids(category_id)))
    by_status = dict(db.session.execute(
        sa.select(FollowUp.status, sa.func.count(FollowUp.id)).where(*where).group_by(FollowUp.status)
    ).all())
    overdue = db.session.scalar(sa.select(sa.func.count(FollowUp.id)).where(*where, overdue_clause(today))) or 0
    days = _answer_days()
    answer_days = list(db.session.scalars(
        sa.select(days).where(*where, FollowUp.answered_on.is_not(None)).order_by(days)
    ))
    return Figures(
        raised=sum(by_status.values()),
        sent=by_status.get(Status.sent, 0),
        answered=sum(n for status, n in by_status.items() if status in workflow.ANSWERED),
        done=by_status.get(Status.done, 0),
        refused=by_status.get(Status.refused, 0),
        overdue=overdue,
        median_answer_days=median(answer_days),
    )
