"""Territories (contract → commune → neighbourhood) and each contract's référentiel.

A `Scope` is the (contract, commune, neighbourhood) triple that roles are granted on and
that every scoped object can be located by; a wider scope leaves the narrower ids empty.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .content_i18n import Translatable


@dataclass(frozen=True)
class Scope:
    contract_id: int
    commune_id: int | None = None
    neighbourhood_id: int | None = None

    def covers(self, other: "Scope") -> bool:
        """True if `other` lies inside this scope (roles are inherited downwards)."""
        if self.contract_id != other.contract_id:
            return False
        if self.commune_id is not None and self.commune_id != other.commune_id:
            return False
        if self.neighbourhood_id is not None and self.neighbourhood_id != other.neighbourhood_id:
            return False
        return True

    @property
    def level(self) -> str:
        if self.neighbourhood_id is not None:
            return "neighbourhood"
        if self.commune_id is not None:
            return "commune"
        return "contract"


class Contract(db.Model):
    """A contrat de ville, signed per intercommunality for a period."""

    __tablename__ = "contracts"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Used in public URLs (/c/<slug>).
    slug: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    region: Mapped[str] = mapped_column(sa.String(100), default="")
    period_start: Mapped[int]
    period_end: Mapped[int]
    #: Language its staff write content in; content translations fall back to it.
    default_locale: Mapped[str] = mapped_column(sa.String(8), default="fr")

    communes: Mapped[list[Commune]] = relationship(
        back_populates="contract", order_by="Commune.name", cascade="all, delete-orphan"
    )
    categories: Mapped[list[Category]] = relationship(
        back_populates="contract", cascade="all, delete-orphan"
    )

    __table_args__ = (sa.CheckConstraint("period_end >= period_start", name="period_order"),)

    @property
    def scope(self) -> Scope:
        return Scope(self.id)

    @property
    def label(self) -> str:
        return self.name


class Commune(db.Model):
    __tablename__ = "communes"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(sa.ForeignKey("contracts.id", ondelete="CASCADE"), index=True)
    #: INSEE code of the commune (5 characters, e.g. 13055 for Marseille, 2A004 for Ajaccio).
    insee_code: Mapped[str] = mapped_column(sa.String(5))
    name: Mapped[str] = mapped_column(sa.String(200))

    contract: Mapped[Contract] = relationship(back_populates="communes")
    neighbourhoods: Mapped[list[Neighbourhood]] = relationship(
        back_populates="commune", order_by="Neighbourhood.name", cascade="all, delete-orphan"
    )

    __table_args__ = (sa.UniqueConstraint("contract_id", "insee_code"),)

    @property
    def scope(self) -> Scope:
        return Scope(self.contract_id, self.id)

    @property
    def label(self) -> str:
        return self.name


class Neighbourhood(db.Model):
    """A quartier prioritaire (QPV)."""

    __tablename__ = "neighbourhoods"

    id: Mapped[int] = mapped_column(primary_key=True)
    commune_id: Mapped[int] = mapped_column(sa.ForeignKey("communes.id", ondelete="CASCADE"), index=True)
    #: Official QPV code (e.g. QN01306M); a QPV spanning two communes is attached to its main one.
    qpv_code: Mapped[str] = mapped_column(sa.String(16), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    population: Mapped[int | None]

    commune: Mapped[Commune] = relationship(back_populates="neighbourhoods")

    __table_args__ = (sa.CheckConstraint("population IS NULL OR population >= 0", name="population_positive"),)

    @property
    def contract_id(self) -> int:
        return self.commune.contract_id

    @property
    def scope(self) -> Scope:
        return Scope(self.commune.contract_id, self.commune_id, self.id)

    @property
    def label(self) -> str:
        return f"{self.name} ({self.commune.name})"


class CategoryKind(enum.Enum):
    #: A strategic "défi" (or axis, pillar: contracts name them differently).
    challenge = "challenge"
    orientation = "orientation"
    #: A sub-theme of a challenge or an orientation.
    subtheme = "subtheme"


class Category(Translatable, db.Model):
    """An entry of a contract's référentiel, editable as data."""

    __tablename__ = "categories"
    __translatable__ = ("name", "description")

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(sa.ForeignKey("contracts.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("categories.id", ondelete="CASCADE"), index=True)
    kind: Mapped[CategoryKind] = mapped_column(
        sa.Enum(CategoryKind, name="category_kind", native_enum=False, create_constraint=True, length=16)
    )
    #: Short reference used in exports ("D1", "O3.2"…), unique within the contract.
    code: Mapped[str] = mapped_column(sa.String(16))
    name: Mapped[str] = mapped_column(sa.String(300))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    position: Mapped[int] = mapped_column(default=0)

    contract: Mapped[Contract] = relationship(back_populates="categories")
    parent: Mapped[Category | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Category]] = relationship(
        back_populates="parent", order_by="Category.position", cascade="all, delete-orphan"
    )

    __table_args__ = (sa.UniqueConstraint("contract_id", "code"),)

    @property
    def scope(self) -> Scope:
        return Scope(self.contract_id)


class IndicatorSource(enum.Enum):
    #: computed from what the app collects (`metric` names how: see governance/metrics.py)
    computed = "computed"
    #: entered by hand, year by year, with a source note (INSEE, a survey, the bailleur…)
    entered = "entered"


class Direction(enum.Enum):
    #: a higher value is better (turnout, share who feel safe)
    up = "up"
    #: a lower value is better (unemployment rate, days to answer)
    down = "down"


class Indicator(Translatable, db.Model):
    """An indicator of a contract's référentiel (e.g. "share of residents who feel safe"),
    attached to a défi or an orientation, with its baseline and target. Its values are either
    computed from the app's data (`metric`) or entered by hand (`IndicatorValue`)."""

    __tablename__ = "indicators"
    __translatable__ = ("name", "description")

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(sa.ForeignKey("contracts.id", ondelete="CASCADE"), index=True)
    category_id: Mapped[int | None] = mapped_column(sa.ForeignKey("categories.id", ondelete="SET NULL"))
    #: Short reference used in exports ("I1.2"), unique within the contract.
    code: Mapped[str] = mapped_column(sa.String(16))
    name: Mapped[str] = mapped_column(sa.String(300))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    #: Free text: "%", "residents", "€"…
    unit: Mapped[str] = mapped_column(sa.String(32), default="")
    source: Mapped[IndicatorSource] = mapped_column(
        sa.Enum(IndicatorSource, name="indicator_source", native_enum=False, create_constraint=True, length=16),
        default=IndicatorSource.entered,
    )
    #: Computed indicators: the key of a metric in governance/metrics.py ("tables.participations").
    metric: Mapped[str | None] = mapped_column(sa.String(64))
    #: Computed from tagged questions: the option codes counted as the indicator ("4", "5" on a
    #: satisfaction scale; "yes"); empty: the mean of a scale or number question.
    option_codes: Mapped[list | None] = mapped_column(sa.JSON)
    #: Free text describing the scale ("0 to 100 %", "1 (bad) to 5 (good)").
    scale: Mapped[str] = mapped_column(sa.String(100), default="")
    direction: Mapped[Direction] = mapped_column(
        sa.Enum(Direction, name="indicator_direction", native_enum=False, create_constraint=True, length=8),
        default=Direction.up,
    )
    baseline: Mapped[float | None]
    baseline_year: Mapped[int | None]
    target: Mapped[float | None]
    target_year: Mapped[int | None]
    #: How often it is measured, in years (1: every year; 3: at mid-term and the end…).
    period_years: Mapped[int] = mapped_column(default=1)

    contract: Mapped[Contract] = relationship()
    category: Mapped[Category | None] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("contract_id", "code"),
        sa.CheckConstraint("period_years >= 1 AND period_years <= 10", name="period_years_range"),
        sa.CheckConstraint("source = 'entered' OR metric IS NOT NULL", name="computed_has_metric"),
    )

    @property
    def scope(self) -> Scope:
        return Scope(self.contract_id)


def neighbourhoods_in(scope: Scope) -> list[Neighbourhood]:
    """The neighbourhoods (QPV) inside a scope, by name."""
    query = sa.select(Neighbourhood).join(Commune).where(Commune.contract_id == scope.contract_id)
    if scope.commune_id:
        query = query.where(Neighbourhood.commune_id == scope.commune_id)
    if scope.neighbourhood_id:
        query = query.where(Neighbourhood.id == scope.neighbourhood_id)
    return list(db.session.scalars(query.order_by(Neighbourhood.name)))


def top_categories(contract: Contract) -> list[Category]:
    """The référentiel's challenges and orientations (sub-themes hang below them), in order."""
    return list(
        db.session.scalars(
            sa.select(Category)
            .where(Category.contract_id == contract.id, Category.parent_id.is_(None))
            .order_by(Category.kind, Category.position)
        )
    )
