"""Follow-up of demands addressed to institutions, shared by every mechanism that makes them.

A table de quartier's **interpellation** and an exploratory walk's **recommendation** are the
same thing to follow: a demand (`FollowUp`) addressed to an `Institution` of the contract's
editable list, moving through one status workflow (`workflow.py`), each step written down as a
`FollowUpEvent`. The mechanism that raised it links to it from its own tables (e.g.
`tables.models.Interpellation`), so this module knows nothing about tables or walks.
"""
from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.content_i18n import Translatable
from ..core.territories import Category, Commune, Contract, Neighbourhood, Scope
from ..core.users import User, utcnow
from ..extensions import db


def _enum(cls, name):
    return sa.Enum(cls, name=name, native_enum=False, create_constraint=True, length=24)


class Kind(enum.Enum):
    #: raised by a table de quartier
    interpellation = "interpellation"
    #: written in an exploratory walk's report
    recommendation = "recommendation"


class Status(enum.Enum):
    draft = "draft"
    sent = "sent"
    answered = "answered"
    in_progress = "in_progress"
    done = "done"
    refused = "refused"


class InstitutionKind(enum.Enum):
    city = "city"
    metropolis = "metropolis"
    landlord = "landlord"
    state = "state"
    caf = "caf"
    department = "department"
    region = "region"
    transport = "transport"
    other = "other"


class Institution(Translatable, db.Model):
    """An institution demands are addressed to (ville, métropole, bailleur X, État, CAF…):
    an editable list per contract."""

    __tablename__ = "followup_institutions"
    __translatable__ = ("name",)

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(sa.ForeignKey("contracts.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[InstitutionKind] = mapped_column(
        _enum(InstitutionKind, "institution_kind"), default=InstitutionKind.other
    )
    #: Days the institution is expected to take to answer (sets the default due date).
    answer_days: Mapped[int] = mapped_column(default=60)
    #: Retired institutions stay on the demands already sent to them, but are not offered.
    active: Mapped[bool] = mapped_column(default=True)

    contract: Mapped[Contract] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("contract_id", "name"),
        sa.CheckConstraint("answer_days > 0", name="answer_days_positive"),
    )

    @property
    def scope(self) -> Scope:
        return Scope(self.contract_id)


class FollowUp(Translatable, db.Model):
    """A demand to an institution, followed until it is done or refused."""

    __tablename__ = "followups"
    __translatable__ = ("title", "body", "answer")

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[Kind] = mapped_column(_enum(Kind, "followup_kind"))
    contract_id: Mapped[int] = mapped_column(sa.ForeignKey("contracts.id", ondelete="CASCADE"), index=True)
    commune_id: Mapped[int | None] = mapped_column(sa.ForeignKey("communes.id", ondelete="CASCADE"))
    neighbourhood_id: Mapped[int | None] = mapped_column(sa.ForeignKey("neighbourhoods.id", ondelete="CASCADE"))
    institution_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("followup_institutions.id", ondelete="SET NULL"), index=True
    )
    #: The défi / orientation it serves (figures per défi).
    category_id: Mapped[int | None] = mapped_column(sa.ForeignKey("categories.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(sa.String(200))
    #: The demand as sent.
    body: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[Status] = mapped_column(_enum(Status, "followup_status"), default=Status.draft, index=True)
    #: The institution's answer, as received (public once answered).
    answer: Mapped[str] = mapped_column(sa.Text, default="")
    sent_on: Mapped[date | None]
    #: When an answer is expected; past it without an answer, the demand is overdue.
    answer_due_on: Mapped[date | None]
    answered_on: Mapped[date | None]
    #: When the institution committed to act by (or the recommendation's due date); past it
    #: while answered / in progress, the demand is overdue.
    action_due_on: Mapped[date | None]
    #: Day it was closed (done or refused).
    closed_on: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    contract: Mapped[Contract] = relationship()
    commune: Mapped[Commune | None] = relationship()
    neighbourhood: Mapped[Neighbourhood | None] = relationship()
    institution: Mapped[Institution | None] = relationship()
    category: Mapped[Category | None] = relationship()
    events: Mapped[list[FollowUpEvent]] = relationship(
        back_populates="followup", order_by="FollowUpEvent.id", cascade="all, delete-orphan"
    )

    __table_args__ = (
        sa.CheckConstraint("neighbourhood_id IS NULL OR commune_id IS NOT NULL", name="scope_chain"),
        sa.CheckConstraint("status = 'draft' OR sent_on IS NOT NULL", name="sent_has_date"),
        sa.CheckConstraint("answered_on IS NULL OR sent_on IS NULL OR answered_on >= sent_on", name="answer_after_sent"),
    )

    @property
    def scope(self) -> Scope:
        return Scope(self.contract_id, self.commune_id, self.neighbourhood_id)

    @property
    def scope_label(self) -> str:
        return (self.neighbourhood or self.commune or self.contract).label


class FollowUpEvent(db.Model):
    """One step of a demand's life: a status change or a note, dated, by whom (staff)."""

    __tablename__ = "followup_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    followup_id: Mapped[int] = mapped_column(sa.ForeignKey("followups.id", ondelete="CASCADE"), index=True)
    #: The day it happened (may be earlier than when it was recorded).
    on: Mapped[date]
    from_status: Mapped[Status | None] = mapped_column(_enum(Status, "followup_from_status"))
    to_status: Mapped[Status | None] = mapped_column(_enum(Status, "followup_to_status"))
    note: Mapped[str] = mapped_column(sa.Text, default="")
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    followup: Mapped[FollowUp] = relationship(back_populates="events")
    user: Mapped[User | None] = relationship()
