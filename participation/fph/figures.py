"""FPH figures for governance: money by source and by défi / orientation, projects funded,
applications received / eligible / refused, the assisted share, residents involved, overdue
bilans. Every figure is one SQL aggregate (GROUP BY), never a Python loop over rows.

What is counted, for a scope (contract, commune or neighbourhood) and an optional period:

- *funds and envelope*: the funds of the scope whose year falls in the period (a
  neighbourhood's funds are those covering it, alone or with others);
- *flows* are counted by the day they happened, for the applications of those funds' scope
  (any year): received (`submitted_on`), granted (`decided_on`, withdrawn grants excluded),
  paid (`Payment.paid_on`), bilans (`received_on`); without a period, everything;
- *overdue bilans* are counted on `today`.

`compute()` gives the raw figures (staff who manage the fund). `for_evaluators()` applies the
disclosure rules before anyone else reads them: an amount about fewer than
`MIN_RECIPIENTS` projects is hidden (with a second one on the same table when the total
would give it away), and counts of people go through `core.disclosure` (fewer than 11 → "s").
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

import sqlalchemy as sa

from ..core.channels import Channel
from ..core.disclosure import MIN_CELL, Cell
from ..core.territories import Category, Scope
from ..extensions import db
from .models import (
    HOLDS_MONEY,
    Application,
    AppStatus,
    Bilan,
    Fund,
    FundingSource,
    Payment,
    fund_neighbourhoods,
)

#: An amount about fewer projects than this is not shown to evaluators (issue 8).
MIN_RECIPIENTS = 3
#: Applications that were found eligible (whatever happened to them afterwards).
WERE_ELIGIBLE = (AppStatus.eligible, AppStatus.scheduled, AppStatus.granted, AppStatus.refused, AppStatus.paid,
                 AppStatus.bilan_received, AppStatus.closed)


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(date(year, 1, 1), date(year, 12, 31))


@dataclass(frozen=True)
class CategoryRow:
    """Granted money for one défi / orientation (`category_id` None: not classified)."""

    category_id: int | None
    code: str
    name: str
    projects: int
    #: None when hidden by `for_evaluators`.
    amount: int | None


@dataclass
class FundFigures:
    funds: int = 0
    envelope: int = 0
    sources: dict = field(default_factory=dict)
    granted: int | None = 0
    granted_projects: int = 0
    paid: int | None = 0
    paid_projects: int = 0
    by_category: list = field(default_factory=list)
    received: int = 0
    eligible: int = 0
    refused: int = 0
    ineligible: int = 0
    assisted: int = 0
    bilans: int = 0
    #: Sum of the participants written in the bilans (raw int, or a disclosure Cell).
    residents_involved: object = 0
    overdue_bilans: int = 0
    #: True once `for_evaluators` applied the disclosure rules.
    protected: bool = False

    @property
    def assisted_share(self) -> float | None:
        return 100.0 * self.assisted / self.received if self.received else None


def _fund_filter(scope: Scope, fund_ids=None):
    clauses = [Fund.contract_id == scope.contract_id]
    if scope.neighbourhood_id is not None:
        covering = sa.select(fund_neighbourhoods.c.fund_id).where(
            fund_neighbourhoods.c.neighbourhood_id == scope.neighbourhood_id)
        clauses.append(sa.or_(Fund.neighbourhood_id == scope.neighbourhood_id, Fund.id.in_(covering)))
    elif scope.commune_id is not None:
        clauses.append(Fund.commune_id == scope.commune_id)
    if fund_ids is not None:
        clauses.append(Fund.id.in_(list(fund_ids)))
    return sa.and_(*clauses)


def _between(column, period: Period | None):
    return sa.true() if period is None else column.between(period.start, period.end)


def compute(scope: Scope, period: Period | None = None, *, fund_ids=None, today: date | None = None) -> FundFigures:
    """The raw figures (see the module docstring for what is counted)."""
    from .services import overdue_clause

    in_scope = _fund_filter(scope, fund_ids)
    funds_in_period = sa.and_(in_scope, sa.true() if period is None
                              else Fund.year.between(period.start.year, period.end.year))
    apps = sa.select(Application.id).join(Fund, Fund.id == Application.fund_id).where(in_scope)
    f = FundFigures()

    f.funds, f.envelope = db.session.execute(
        sa.select(sa.func.count(Fund.id), sa.func.coalesce(sa.func.sum(Fund.envelope), 0)).where(funds_in_period)).one()
    f.sources = {kind: int(total) for kind, total in db.session.execute(
        sa.select(FundingSource.kind, sa.func.sum(FundingSource.amount))
        .join(Fund, Fund.id == FundingSource.fund_id).where(funds_in_period).group_by(FundingSource.kind))}

    granted = sa.and_(Application.id.in_(apps), Application.status.in_(HOLDS_MONEY),
                      _between(Application.decided_on, period))
    f.granted_projects, f.granted = db.session.execute(
        sa.select(sa.func.count(Application.id), sa.func.coalesce(sa.func.sum(Application.granted_amount), 0))
        .where(granted)).one()
    f.by_category = [
        CategoryRow(category_id, code or "", name or "", projects, int(amount))
        for category_id, code, name, projects, amount in db.session.execute(
            sa.select(Application.category_id, Category.code, Category.name, sa.func.count(Application.id),
                      sa.func.sum(Application.granted_amount))
            .outerjoin(Category, Category.id == Application.category_id)
            .where(granted)
            .group_by(Application.category_id, Category.code, Category.name)
            .order_by(sa.func.sum(Application.granted_amount).desc(), Category.code))
    ]
    f.paid_projects, f.paid = db.session.execute(
        sa.select(sa.func.count(sa.distinct(Payment.application_id)), sa.func.coalesce(sa.func.sum(Payment.amount), 0))
        .where(Payment.application_id.in_(apps), _between(Payment.paid_on, period))).one()

    received = sa.and_(Application.id.in_(apps), _between(Application.submitted_on, period))
    counts = sa.select(
        sa.func.count(Application.id),
        sa.func.count(sa.case((Application.status.in_(WERE_ELIGIBLE), 1))),
        sa.func.count(sa.case((Application.status == AppStatus.refused, 1))),
        sa.func.count(sa.case((Application.status == AppStatus.ineligible, 1))),
        sa.func.count(sa.case((Application.channel == Channel.assisted, 1))),
    ).where(received)
    f.received, f.eligible, f.refused, f.ineligible, f.assisted = db.session.execute(counts).one()

    f.bilans, residents = db.session.execute(
        sa.select(sa.func.count(Bilan.id), sa.func.coalesce(sa.func.sum(Bilan.participants), 0))
        .where(Bilan.application_id.in_(apps), _between(Bilan.received_on, period))).one()
    f.residents_involved = int(residents)
    f.overdue_bilans = db.session.scalar(
        sa.select(sa.func.count(Application.id)).where(Application.id.in_(apps), overdue_clause(today)))
    f.granted, f.paid, f.envelope = int(f.granted), int(f.paid), int(f.envelope)
    return f


def _people(count: int) -> Cell:
    return Cell(None) if 0 < count < MIN_CELL else Cell(count)


def _hide_categories(rows: list[CategoryRow], total_shown: bool) -> list[CategoryRow]:
    """Hide the amounts of défis with fewer than MIN_RECIPIENTS projects; when the total is
    shown, hide more (the smallest first) until the hidden ones cover at least two défis and
    MIN_RECIPIENTS projects, so that "total − the others" tells nothing about few projects."""
    hidden = {i for i, r in enumerate(rows) if 0 < r.projects < MIN_RECIPIENTS}
    if hidden and total_shown:
        others = sorted((i for i in range(len(rows)) if i not in hidden and rows[i].projects > 0),
                        key=lambda i: (rows[i].projects, rows[i].amount or 0))
        while others and (len(hidden) < 2 or sum(rows[i].projects for i in hidden) < MIN_RECIPIENTS):
            hidden.add(others.pop(0))
    return [replace(r, amount=None) if i in hidden else r for i, r in enumerate(rows)]


def for_evaluators(f: FundFigures) -> FundFigures:
    """The figures as shown to evaluators and in exports: amounts about fewer than
    MIN_RECIPIENTS projects hidden (None), residents involved as a disclosure Cell."""
    granted = f.granted if f.granted_projects == 0 or f.granted_projects >= MIN_RECIPIENTS else None
    paid = f.paid if f.paid_projects == 0 or f.paid_projects >= MIN_RECIPIENTS else None
    residents = f.residents_involved if isinstance(f.residents_involved, Cell) else _people(f.residents_involved)
    return replace(f, granted=granted, paid=paid, by_category=_hide_categories(f.by_category, granted is not None),
                   residents_involved=residents, protected=True)
