"""Governance: values entered by hand for the référentiel's indicators, residents' words
(verbatims) attached to indicators and défis, and the evaluators' API tokens.

Nothing here names a resident. A verbatim is a copy of a moderated quote with its
neighbourhood and year only: it keeps no link to the answer, observation or minutes it came
from, so that it cannot lead back to a response.
"""
from __future__ import annotations

import enum
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.territories import Category, Commune, Contract, Indicator, Neighbourhood, Scope
from ..core.users import User
from ..extensions import db


def _enum(cls, name):
    return sa.Enum(cls, name=name, native_enum=False, create_constraint=True, length=24)


def scope_key(commune_id: int | None, neighbourhood_id: int | None) -> str:
    """One string per scope of a contract ("contract", "commune:3", "neighbourhood:12"), so that
    a unique constraint holds where NULLs would not be compared."""
    if neighbourhood_id is not None:
        return f"neighbourhood:{neighbourhood_id}"
    if commune_id is not None:
        return f"commune:{commune_id}"
    return "contract"


class IndicatorValue(db.Model):
    """A value of an entered indicator for one year and one scope (the contract, a commune or a
    neighbourhood), with where it comes from ("INSEE, Filosofi 2024")."""

    __tablename__ = "indicator_values"

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[int] = mapped_column(sa.ForeignKey("indicators.id", ondelete="CASCADE"), index=True)
    commune_id: Mapped[int | None] = mapped_column(sa.ForeignKey("communes.id", ondelete="CASCADE"))
    neighbourhood_id: Mapped[int | None] = mapped_column(sa.ForeignKey("neighbourhoods.id", ondelete="CASCADE"))
    #: See `scope_key`.
    scope_key: Mapped[str] = mapped_column(sa.String(40))
    year: Mapped[int]
    value: Mapped[float]
    source_note: Mapped[str] = mapped_column(sa.String(300))
    entered_on: Mapped[date] = mapped_column(default=date.today)

    indicator: Mapped[Indicator] = relationship()
    commune: Mapped[Commune | None] = relationship()
    neighbourhood: Mapped[Neighbourhood | None] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("indicator_id", "scope_key", "year"),
        sa.CheckConstraint("neighbourhood_id IS NULL OR commune_id IS NOT NULL", name="scope_chain"),
        sa.CheckConstraint("year >= 1990 AND year <= 2100", name="year_range"),
    )


class VerbatimOrigin(enum.Enum):
    questionnaire = "questionnaire"
    table = "table"
    walk = "walk"
    fph = "fph"
    budget = "budget"
    other = "other"


class VerbatimStatus(enum.Enum):
    #: proposed, not shown anywhere yet
    pending = "pending"
    #: checked by a moderator (nothing that identifies anyone): shown and exported
    published = "published"
    rejected = "rejected"


class Verbatim(db.Model):
    """A resident's words shown next to a figure: attached to an indicator and/or a défi or
    orientation. Shown and exported only once published."""

    __tablename__ = "verbatims"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(sa.ForeignKey("contracts.id", ondelete="CASCADE"), index=True)
    indicator_id: Mapped[int | None] = mapped_column(sa.ForeignKey("indicators.id", ondelete="SET NULL"), index=True)
    category_id: Mapped[int | None] = mapped_column(sa.ForeignKey("categories.id", ondelete="SET NULL"), index=True)
    commune_id: Mapped[int | None] = mapped_column(sa.ForeignKey("communes.id", ondelete="SET NULL"))
    neighbourhood_id: Mapped[int | None] = mapped_column(sa.ForeignKey("neighbourhoods.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(sa.Text)
    #: Language the words were said in.
    locale: Mapped[str] = mapped_column(sa.String(8), default="fr")
    year: Mapped[int]
    origin: Mapped[VerbatimOrigin] = mapped_column(_enum(VerbatimOrigin, "verbatim_origin"))
    status: Mapped[VerbatimStatus] = mapped_column(_enum(VerbatimStatus, "verbatim_status"),
                                                   default=VerbatimStatus.pending)

    contract: Mapped[Contract] = relationship()
    indicator: Mapped[Indicator | None] = relationship()
    category: Mapped[Category | None] = relationship()
    commune: Mapped[Commune | None] = relationship()
    neighbourhood: Mapped[Neighbourhood | None] = relationship()

    __table_args__ = (sa.CheckConstraint("year >= 1990 AND year <= 2100", name="year_range"),)

    @property
    def scope(self) -> Scope:
        return Scope(self.contract_id, self.commune_id, self.neighbourhood_id)


class ApiToken(db.Model):
    """A read-only key to the governance API for one evaluator and one contract. Only its
    SHA-256 is stored; the token is shown once, when made."""

    __tablename__ = "governance_api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    contract_id: Mapped[int] = mapped_column(sa.ForeignKey("contracts.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(sa.String(100), default="")
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_on: Mapped[date] = mapped_column(default=date.today)
    last_used_on: Mapped[date | None]
    revoked_on: Mapped[date | None]

    user: Mapped[User] = relationship()
    contract: Mapped[Contract] = relationship()

    @property
    def active(self) -> bool:
        return self.revoked_on is None
