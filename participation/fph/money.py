"""The only code that moves a fund's committed sum, its envelope, or an application's paid
total. Each move is one conditional UPDATE: under concurrent requests the database applies
them one at a time and re-checks the condition, so the envelope is never over-committed and
payments never exceed a grant (the CHECK constraints in `models.py` are the last guard).

Each function returns False when the move would break the rule; nothing is changed then.
"""
from __future__ import annotations

import sqlalchemy as sa

from ..extensions import db
from .models import Application, Fund


def _apply(stmt) -> bool:
    return db.session.execute(stmt, execution_options={"synchronize_session": False}).rowcount == 1


def commit_grant(fund: Fund, amount: int) -> bool:
    """Reserve `amount` of the envelope for a grant."""
    if amount <= 0:
        return False
    ok = _apply(
        sa.update(Fund)
        .where(Fund.id == fund.id, Fund.committed + amount <= Fund.envelope)
        .values(committed=Fund.committed + amount)
    )
    db.session.refresh(fund, ["committed", "envelope"])
    return ok


def release_grant(fund: Fund, amount: int) -> bool:
    """Give `amount` back to the envelope (a grant withdrawn or lowered)."""
    if amount <= 0:
        return False
    ok = _apply(
        sa.update(Fund).where(Fund.id == fund.id, Fund.committed >= amount).values(committed=Fund.committed - amount)
    )
    db.session.refresh(fund, ["committed", "envelope"])
    return ok


def set_envelope(fund: Fund, envelope: int) -> bool:
    """Change the envelope (the sources' total); refused below what is already granted."""
    if envelope < 0:
        return False
    ok = _apply(sa.update(Fund).where(Fund.id == fund.id, Fund.committed <= envelope).values(envelope=envelope))
    db.session.refresh(fund, ["committed", "envelope"])
    return ok


def add_payment(application: Application, amount: int) -> bool:
    """Count an instalment against the grant."""
    if amount <= 0:
        return False
    ok = _apply(
        sa.update(Application)
        .where(
            Application.id == application.id,
            Application.granted_amount.is_not(None),
            Application.paid_total + amount <= Application.granted_amount,
        )
        .values(paid_total=Application.paid_total + amount)
    )
    db.session.refresh(application, ["paid_total", "granted_amount"])
    return ok
