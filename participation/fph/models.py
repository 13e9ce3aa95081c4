"""FPH (fonds de participation des habitants): a yearly fund for residents' micro-projects,
applications, the residents' committee that decides them, payments and bilans.

Money is in whole euros. Two sums are kept by the database itself, so that no interleaving
of requests can break them: `Fund.committed` (sum granted) may never exceed
`Fund.envelope`, and `Application.paid_total` may never exceed `Application.granted_amount`.
Both are CHECK constraints; services move them with one conditional `UPDATE … WHERE
committed + :amount <= envelope` so a refused grant is a clear message, not an error.
"""
from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.channels import Channel
from ..core.content_i18n import Translatable
from ..core.territories import Category, Commune, Contract, Neighbourhood, Scope
from ..core.users import User, utcnow
from ..extensions import db


def _enum(cls, name):
    return sa.Enum(cls, name=name, native_enum=False, create_constraint=True, length=24)


DEFAULT_CEILING = 1500

fund_neighbourhoods = sa.Table(
    "fph_fund_neighbourhoods",
    db.metadata,
    sa.Column("fund_id", sa.ForeignKey("fph_funds.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("neighbourhood_id", sa.ForeignKey("neighbourhoods.id", ondelete="CASCADE"), primary_key=True),
)


class DecisionMode(enum.Enum):
    #: members present and not recused vote for / against / abstain; simple majority of votes cast
    vote = "vote"
    #: the committee decides by consensus, recorded as such
    consensus = "consensus"


class Fund(Translatable, db.Model):
    """One year's fund for a neighbourhood or a group of neighbourhoods."""

    __tablename__ = "fph_funds"
    __translatable__ = ("name", "rules")

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(sa.ForeignKey("contracts.id", ondelete="CASCADE"), index=True)
    commune_id: Mapped[int | None] = mapped_column(sa.ForeignKey("communes.id", ondelete="CASCADE"))
    neighbourhood_id: Mapped[int | None] = mapped_column(sa.ForeignKey("neighbourhoods.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(sa.String(200))
    year: Mapped[int]
    #: Sum of the funding sources (kept by `services`); grants can never exceed it.
    envelope: Mapped[int] = mapped_column(default=0)
    #: Sum granted so far (decisions minus cancellations), moved atomically by `services`.
    committed: Mapped[int] = mapped_column(default=0)
    #: Most a single project may receive.
    ceiling: Mapped[int] = mapped_column(default=DEFAULT_CEILING)
    rules: Mapped[str] = mapped_column(sa.Text, default="")
    decision_mode: Mapped[DecisionMode] = mapped_column(_enum(DecisionMode, "fph_decision_mode"), default=DecisionMode.vote)
    #: Voting members who must be present for the committee to decide.
    quorum: Mapped[int] = mapped_column(default=3)
    #: A bilan is expected this many days after the project's end date.
    bilan_days: Mapped[int] = mapped_column(default=60)
    #: Residents may apply online.
    accepting: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    contract: Mapped[Contract] = relationship()
    commune: Mapped[Commune | None] = relationship()
    neighbourhood: Mapped[Neighbourhood | None] = relationship()
    neighbourhoods: Mapped[list[Neighbourhood]] = relationship(secondary=fund_neighbourhoods, order_by="Neighbourhood.name")
    sources: Mapped[list[FundingSource]] = relationship(back_populates="fund", order_by="FundingSource.id", cascade="all, delete-orphan")
    members: Mapped[list[CommitteeMember]] = relationship(back_populates="fund", order_by="CommitteeMember.name", cascade="all, delete-orphan")
    applications: Mapped[list[Application]] = relationship(back_populates="fund", order_by="Application.id", cascade="all, delete-orphan")
    sessions: Mapped[list[CommitteeSession]] = relationship(back_populates="fund", order_by="CommitteeSession.held_on", cascade="all, delete-orphan")

    __table_args__ = (
        sa.CheckConstraint("neighbourhood_id IS NULL OR commune_id IS NOT NULL", name="scope_chain"),
        sa.CheckConstraint("committed >= 0", name="committed_positive"),
        #: the envelope can never be over-committed, whatever the application code does
        sa.CheckConstraint("committed <= envelope", name="within_envelope"),
        sa.CheckConstraint("ceiling > 0", name="ceiling_positive"),
        sa.CheckConstraint("quorum >= 1", name="quorum_positive"),
        sa.CheckConstraint("bilan_days >= 0", name="bilan_days_positive"),
    )

    @property
    def scope(self) -> Scope:
        return Scope(self.contract_id, self.commune_id, self.neighbourhood_id)

    @property
    def scope_label(self) -> str:
        return (self.neighbourhood or self.commune or self.contract).label

    @property
    def available(self) -> int:
        return self.envelope - self.committed


class SourceKind(enum.Enum):
    #: État (BOP 147, politique de la ville)
    state = "state"
    commune = "commune"
    #: abattement de TFPB (landlords' property-tax allowance)
    tfpb = "tfpb"
    other = "other"


class FundingSource(db.Model):
    __tablename__ = "fph_sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    fund_id: Mapped[int] = mapped_column(sa.ForeignKey("fph_funds.id", ondelete="CASCADE"), index=True)
    kind: Mapped[SourceKind] = mapped_column(_enum(SourceKind, "fph_source_kind"))
    #: e.g. "Bailleur Habitat 31 (TFPB)".
    label: Mapped[str] = mapped_column(sa.String(200), default="")
    amount: Mapped[int]

    fund: Mapped[Fund] = relationship(back_populates="sources")

    __table_args__ = (sa.CheckConstraint("amount >= 0", name="amount_positive"),)


class MemberRole(enum.Enum):
    chair = "chair"
    #: resident member (the committee is mostly residents)
    resident = "resident"
    #: local actor (association, school, social centre…)
    partner = "partner"
    secretary = "secretary"
    #: attends, does not vote (e.g. the commune's project officer)
    observer = "observer"


#: Roles that vote and count for the quorum.
VOTING_ROLES = frozenset({MemberRole.chair, MemberRole.resident, MemberRole.partner, MemberRole.secretary})


class CommitteeMember(db.Model):
    """A member of a fund's committee. Most are residents without an account; `user` links a
    staff account when the member has one."""

    __tablename__ = "fph_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    fund_id: Mapped[int] = mapped_column(sa.ForeignKey("fph_funds.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    role: Mapped[MemberRole] = mapped_column(_enum(MemberRole, "fph_member_role"), default=MemberRole.resident)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    active: Mapped[bool] = mapped_column(default=True)

    fund: Mapped[Fund] = relationship(back_populates="members")
    user: Mapped[User | None] = relationship()

    @property
    def votes(self) -> bool:
        return self.role in VOTING_ROLES


class AppStatus(enum.Enum):
    submitted = "submitted"
    eligible = "eligible"
    ineligible = "ineligible"
    #: on a committee session's agenda
    scheduled = "scheduled"
    granted = "granted"
    refused = "refused"
    #: at least one instalment paid
    paid = "paid"
    bilan_received = "bilan_received"
    closed = "closed"
    #: withdrawn by the applicants (a grant withdrawn gives its money back to the envelope)
    withdrawn = "withdrawn"


#: Statuses in which the application holds money of the envelope.
HOLDS_MONEY = frozenset({AppStatus.granted, AppStatus.paid, AppStatus.bilan_received, AppStatus.closed})


class Application(Translatable, db.Model):
    """A residents' micro-project asking for money (no association needed)."""

    __tablename__ = "fph_applications"
    __translatable__ = ("title", "audience", "description")

    id: Mapped[int] = mapped_column(primary_key=True)
    fund_id: Mapped[int] = mapped_column(sa.ForeignKey("fph_funds.id", ondelete="CASCADE"), index=True)
    #: Short public reference, e.g. "FPH-2026-007" (unique per fund).
    reference: Mapped[str] = mapped_column(sa.String(24))
    #: What: the project's name.
    title: Mapped[str] = mapped_column(sa.String(200))
    #: For whom.
    audience: Mapped[str] = mapped_column(sa.String(300), default="")
    description: Mapped[str] = mapped_column(sa.Text, default="")
    #: Where.
    place: Mapped[str] = mapped_column(sa.String(200), default="")
    #: When.
    starts_on: Mapped[date | None]
    ends_on: Mapped[date | None]
    neighbourhood_id: Mapped[int | None] = mapped_column(sa.ForeignKey("neighbourhoods.id", ondelete="SET NULL"))
    #: The défi / orientation it serves (figures by défi).
    category_id: Mapped[int | None] = mapped_column(sa.ForeignKey("categories.id", ondelete="SET NULL"))
    amount_requested: Mapped[int]
    #: Informal collective or association name, if any (public).
    collective: Mapped[str] = mapped_column(sa.String(200), default="")
    #: Contact: personal data, staff only, never exported (the retention purge is issue 9's).
    contact_name: Mapped[str] = mapped_column(sa.String(120), default="")
    contact_phone: Mapped[str] = mapped_column(sa.String(40), default="")
    contact_email: Mapped[str] = mapped_column(sa.String(254), default="")
    channel: Mapped[Channel] = mapped_column(_enum(Channel, "fph_channel"), default=Channel.web)
    #: Kinds of help given when a mediator entered it (Assistance values).
    assistance: Mapped[list] = mapped_column(sa.JSON, default=list)
    entered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: Keyed hash of the secret in the applicants' private link (follow the application, send
    #: the bilan): the link itself is shown once and never stored.
    follow_key_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    status: Mapped[AppStatus] = mapped_column(_enum(AppStatus, "fph_app_status"), default=AppStatus.submitted, index=True)
    #: Why not eligible / refused (shown to the applicants).
    status_reason: Mapped[str] = mapped_column(sa.Text, default="")
    granted_amount: Mapped[int | None]
    conditions: Mapped[str] = mapped_column(sa.Text, default="")
    #: Sum of the instalments paid, moved atomically by `services`.
    paid_total: Mapped[int] = mapped_column(default=0)
    submitted_on: Mapped[date]
    decided_on: Mapped[date | None]
    bilan_due_on: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    fund: Mapped[Fund] = relationship(back_populates="applications")
    neighbourhood: Mapped[Neighbourhood | None] = relationship()
    category: Mapped[Category | None] = relationship()
    entered_by: Mapped[User | None] = relationship()
    lines: Mapped[list[BudgetLine]] = relationship(back_populates="application", order_by="BudgetLine.position", cascade="all, delete-orphan")
    payments: Mapped[list[Payment]] = relationship(back_populates="application", order_by="Payment.paid_on", cascade="all, delete-orphan")
    bilan: Mapped[Bilan | None] = relationship(back_populates="application", cascade="all, delete-orphan")

    __table_args__ = (
        sa.UniqueConstraint("fund_id", "reference"),
        sa.CheckConstraint("amount_requested > 0", name="requested_positive"),
        sa.CheckConstraint("granted_amount IS NULL OR granted_amount > 0", name="granted_positive"),
        sa.CheckConstraint("paid_total >= 0", name="paid_positive"),
        #: payments never exceed the grant
        sa.CheckConstraint("paid_total <= COALESCE(granted_amount, 0)", name="paid_within_grant"),
        sa.CheckConstraint("ends_on IS NULL OR starts_on IS NULL OR ends_on >= starts_on", name="date_order"),
    )

    @property
    def scope(self) -> Scope:
        return self.fund.scope


class BudgetLine(db.Model):
    __tablename__ = "fph_budget_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("fph_applications.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    label: Mapped[str] = mapped_column(sa.String(200))
    amount: Mapped[int]

    application: Mapped[Application] = relationship(back_populates="lines")

    __table_args__ = (sa.CheckConstraint("amount >= 0", name="amount_positive"),)


class SessionStatus(enum.Enum):
    planned = "planned"
    #: decisions are being recorded
    open = "open"
    #: decisions final, minutes generated
    closed = "closed"


class CommitteeSession(db.Model):
    __tablename__ = "fph_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    fund_id: Mapped[int] = mapped_column(sa.ForeignKey("fph_funds.id", ondelete="CASCADE"), index=True)
    held_on: Mapped[date]
    place: Mapped[str] = mapped_column(sa.String(200), default="")
    status: Mapped[SessionStatus] = mapped_column(_enum(SessionStatus, "fph_session_status"), default=SessionStatus.planned)
    #: Generated from the decisions when the session is closed, then editable.
    minutes: Mapped[str] = mapped_column(sa.Text, default="")

    fund: Mapped[Fund] = relationship(back_populates="sessions")
    agenda: Mapped[list[AgendaEntry]] = relationship(back_populates="session", order_by="AgendaEntry.position", cascade="all, delete-orphan")
    attendance: Mapped[list[SessionAttendance]] = relationship(back_populates="session", cascade="all, delete-orphan")
    recusals: Mapped[list[Recusal]] = relationship(back_populates="session", cascade="all, delete-orphan")
    decisions: Mapped[list[Decision]] = relationship(back_populates="session", cascade="all, delete-orphan")

    @property
    def scope(self) -> Scope:
        return self.fund.scope


class SessionAttendance(db.Model):
    """A committee member present at a session."""

    __tablename__ = "fph_session_attendance"

    session_id: Mapped[int] = mapped_column(sa.ForeignKey("fph_sessions.id", ondelete="CASCADE"), primary_key=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("fph_members.id", ondelete="CASCADE"), primary_key=True)

    session: Mapped[CommitteeSession] = relationship(back_populates="attendance")
    member: Mapped[CommitteeMember] = relationship()


class AgendaEntry(db.Model):
    __tablename__ = "fph_agenda"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("fph_sessions.id", ondelete="CASCADE"), index=True)
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("fph_applications.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)

    session: Mapped[CommitteeSession] = relationship(back_populates="agenda")
    application: Mapped[Application] = relationship()

    __table_args__ = (sa.UniqueConstraint("session_id", "application_id"),)


class Recusal(db.Model):
    """A member who declared a conflict of interest on an application: does not vote on it and
    does not count for its quorum."""

    __tablename__ = "fph_recusals"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("fph_sessions.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("fph_members.id", ondelete="CASCADE"))
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("fph_applications.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(sa.String(300), default="")

    session: Mapped[CommitteeSession] = relationship(back_populates="recusals")
    member: Mapped[CommitteeMember] = relationship()
    application: Mapped[Application] = relationship()

    __table_args__ = (sa.UniqueConstraint("session_id", "member_id", "application_id"),)


class Outcome(enum.Enum):
    granted = "granted"
    refused = "refused"
    #: postponed to a later session (e.g. more information needed)
    deferred = "deferred"


class Decision(db.Model):
    __tablename__ = "fph_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("fph_sessions.id", ondelete="CASCADE"), index=True)
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("fph_applications.id", ondelete="CASCADE"), index=True)
    outcome: Mapped[Outcome] = mapped_column(_enum(Outcome, "fph_outcome"))
    #: Votes (None when decided by consensus).
    votes_for: Mapped[int | None]
    votes_against: Mapped[int | None]
    abstentions: Mapped[int | None]
    amount: Mapped[int | None]
    conditions: Mapped[str] = mapped_column(sa.Text, default="")
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    session: Mapped[CommitteeSession] = relationship(back_populates="decisions")
    application: Mapped[Application] = relationship()

    __table_args__ = (
        #: one decision per application per session: a double-click cannot decide twice
        sa.UniqueConstraint("session_id", "application_id"),
        sa.CheckConstraint("outcome != 'granted' OR amount > 0", name="granted_has_amount"),
        sa.CheckConstraint(
            "(votes_for IS NULL OR votes_for >= 0) AND (votes_against IS NULL OR votes_against >= 0)"
            " AND (abstentions IS NULL OR abstentions >= 0)",
            name="votes_positive",
        ),
    )


class Payment(db.Model):
    """One instalment paid to a granted project."""

    __tablename__ = "fph_payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("fph_applications.id", ondelete="CASCADE"), index=True)
    paid_on: Mapped[date]
    amount: Mapped[int]
    note: Mapped[str] = mapped_column(sa.String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    application: Mapped[Application] = relationship(back_populates="payments")

    __table_args__ = (sa.CheckConstraint("amount > 0", name="amount_positive"),)


class Bilan(Translatable, db.Model):
    """What the project did: a short report, how many took part, what was spent."""

    __tablename__ = "fph_bilans"
    __translatable__ = ("summary",)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        sa.ForeignKey("fph_applications.id", ondelete="CASCADE"), unique=True
    )
    summary: Mapped[str] = mapped_column(sa.Text, default="")
    participants: Mapped[int | None]
    spent: Mapped[int | None]
    received_on: Mapped[date]
    channel: Mapped[Channel] = mapped_column(_enum(Channel, "fph_bilan_channel"), default=Channel.web)

    application: Mapped[Application] = relationship(back_populates="bilan")
    photos: Mapped[list[BilanPhoto]] = relationship(back_populates="bilan", order_by="BilanPhoto.id", cascade="all, delete-orphan")

    __table_args__ = (
        sa.CheckConstraint("participants IS NULL OR participants >= 0", name="participants_positive"),
        sa.CheckConstraint("spent IS NULL OR spent >= 0", name="spent_positive"),
    )


class BilanPhoto(db.Model):
    """A photo of the project (EXIF stripped, re-encoded), public once a facilitator has
    checked it (no recognisable faces without consent, no number plates)."""

    __tablename__ = "fph_bilan_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    bilan_id: Mapped[int] = mapped_column(sa.ForeignKey("fph_bilans.id", ondelete="CASCADE"), index=True)
    sha: Mapped[str] = mapped_column(sa.String(64))
    #: Alternative text.
    caption: Mapped[str] = mapped_column(sa.String(300), default="")
    published: Mapped[bool] = mapped_column(default=False)

    bilan: Mapped[Bilan] = relationship(back_populates="photos")
