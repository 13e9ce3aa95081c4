"""Participatory budgets: processes and their phases, proposals, voter codes, the vote
(who voted, kept apart from the ballot box), paper ballots, follow-up milestones.

Ballot secrecy: `VoteRecord` (who voted: a code, a browser or a paper hand-out; channel; day)
and `Ballot` (choices, a random id, a receipt) share no key. A ballot is found again for a
change only through `locator`, an HMAC of the voter's own secret (the code printed on the
slip, never stored in clear), so the database alone cannot join them.
"""
from __future__ import annotations

import enum
import secrets
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.channels import Assistance, Channel
from ..core.content_i18n import Translatable
from ..core.territories import Category, Commune, Contract, Neighbourhood, Scope
from ..core.users import User, utcnow
from ..extensions import db
from .rules import Method, Outcome


def _enum(cls, name):
    return sa.Enum(cls, name=name, native_enum=False, create_constraint=True, length=24)


class Phase(enum.Enum):
    proposals = "proposals"
    feasibility = "feasibility"
    vote = "vote"
    results = "results"
    implementation = "implementation"
    closed = "closed"


PHASE_ORDER = list(Phase)

#: What each phase allows by default (adhocracy4's "phases are data"); a process's
#: `ProcessPhase` rows carry their own copy, editable per process.
DEFAULT_ACTIONS = {
    Phase.proposals: {"submit"},
    Phase.feasibility: set(),
    Phase.vote: {"vote"},
    Phase.results: set(),
    Phase.implementation: set(),
    Phase.closed: set(),
}


#: The voting methods and outcome rules are those of the pure rules module (one definition).
VotingMethod = Method
OutcomeRule = Outcome


class VoteMode(enum.Enum):
    #: single-use voter codes handed out on QR slips (one vote per code)
    codes = "codes"
    #: one vote per browser: explicitly weaker, for low-stakes votes
    open = "open"


class Eligibility(enum.Enum):
    self_declared = "self_declared"
    verified = "verified"


class Feasibility(enum.Enum):
    pending = "pending"
    feasible = "feasible"
    unfeasible = "unfeasible"


class MilestoneStatus(enum.Enum):
    planned = "planned"
    in_progress = "in_progress"
    done = "done"
    delayed = "delayed"
    cancelled = "cancelled"


class Process(Translatable, db.Model):
    __tablename__ = "budget_processes"
    __translatable__ = ("title", "description")

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(sa.ForeignKey("contracts.id", ondelete="CASCADE"), index=True)
    commune_id: Mapped[int | None] = mapped_column(sa.ForeignKey("communes.id", ondelete="CASCADE"))
    neighbourhood_id: Mapped[int | None] = mapped_column(sa.ForeignKey("neighbourhoods.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    #: Whole euros.
    envelope: Mapped[int]
    phase: Mapped[Phase] = mapped_column(_enum(Phase, "budget_phase"), default=Phase.proposals)

    method: Mapped[VotingMethod] = mapped_column(_enum(VotingMethod, "voting_method"), default=VotingMethod.approval)
    outcome_rule: Mapped[OutcomeRule] = mapped_column(_enum(OutcomeRule, "outcome_rule"), default=OutcomeRule.greedy)
    min_picks: Mapped[int | None]
    max_picks: Mapped[int | None]
    #: Knapsack: a ballot must spend at least this share of the envelope (percent).
    min_share_percent: Mapped[int | None]
    points: Mapped[int | None]
    max_points_per_project: Mapped[int | None]
    top_k: Mapped[int | None]

    vote_mode: Mapped[VoteMode] = mapped_column(_enum(VoteMode, "vote_mode"), default=VoteMode.codes)
    eligibility: Mapped[Eligibility] = mapped_column(_enum(Eligibility, "eligibility"), default=Eligibility.self_declared)
    min_age: Mapped[int] = mapped_column(default=16)
    #: Voters must live in the process's scope (declared, or checked when the code is handed out).
    residence_required: Mapped[bool] = mapped_column(default=True)
    #: Set when the vote opens: from then on the voting rules cannot change.
    rules_frozen_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    contract: Mapped[Contract] = relationship()
    commune: Mapped[Commune | None] = relationship()
    neighbourhood: Mapped[Neighbourhood | None] = relationship()
    phases: Mapped[list[ProcessPhase]] = relationship(
        back_populates="process", order_by="ProcessPhase.position", cascade="all, delete-orphan"
    )
    proposals: Mapped[list[Proposal]] = relationship(back_populates="process", cascade="all, delete-orphan")

    __table_args__ = (
        sa.CheckConstraint("envelope > 0", name="envelope_positive"),
        sa.CheckConstraint("neighbourhood_id IS NULL OR commune_id IS NOT NULL", name="scope_chain"),
        sa.CheckConstraint("min_age >= 0 AND min_age < 120", name="min_age_range"),
    )

    @property
    def scope(self) -> Scope:
        return Scope(self.contract_id, self.commune_id, self.neighbourhood_id)

    @property
    def scope_label(self) -> str:
        return (self.neighbourhood or self.commune or self.contract).label

    def allows(self, action: str) -> bool:
        for p in self.phases:
            if p.phase == self.phase:
                return action in p.actions
        return action in DEFAULT_ACTIONS[self.phase]


class ProcessPhase(db.Model):
    __tablename__ = "budget_phases"

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[int] = mapped_column(sa.ForeignKey("budget_processes.id", ondelete="CASCADE"), index=True)
    phase: Mapped[Phase] = mapped_column(_enum(Phase, "budget_phase"))
    position: Mapped[int]
    starts_on: Mapped[date | None]
    ends_on: Mapped[date | None]
    allows_submit: Mapped[bool] = mapped_column(default=False)
    allows_comment: Mapped[bool] = mapped_column(default=False)
    allows_vote: Mapped[bool] = mapped_column(default=False)

    process: Mapped[Process] = relationship(back_populates="phases")

    __table_args__ = (
        sa.UniqueConstraint("process_id", "phase"),
        sa.CheckConstraint("ends_on IS NULL OR starts_on IS NULL OR ends_on >= starts_on", name="date_order"),
    )

    @property
    def actions(self) -> set[str]:
        return {a for a, on in (("submit", self.allows_submit), ("comment", self.allows_comment), ("vote", self.allows_vote)) if on}


class Proposal(Translatable, db.Model):
    __tablename__ = "budget_proposals"
    __translatable__ = ("title", "description")

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[int] = mapped_column(sa.ForeignKey("budget_processes.id", ondelete="CASCADE"), index=True)
    #: Short public number ("#12"), per process.
    number: Mapped[int]
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text)
    category_id: Mapped[int | None] = mapped_column(sa.ForeignKey("categories.id", ondelete="SET NULL"))
    neighbourhood_id: Mapped[int | None] = mapped_column(sa.ForeignKey("neighbourhoods.id", ondelete="SET NULL"))
    address: Mapped[str] = mapped_column(sa.String(300), default="")
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    #: Whole euros, as estimated by the author.
    estimated_cost: Mapped[int | None]
    #: Whole euros, after the services' study; the cost used by the vote.
    revised_cost: Mapped[int | None]
    feasibility: Mapped[Feasibility] = mapped_column(_enum(Feasibility, "feasibility"), default=Feasibility.pending)
    feasibility_reason: Mapped[str] = mapped_column(sa.Text, default="")
    channel: Mapped[Channel] = mapped_column(_enum(Channel, "channel"), default=Channel.web)
    #: The mediator who typed it in on a resident's behalf (channel assisted or paper).
    entered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: Assisted channel: the kinds of help the mediator gave (`core.channels.Assistance`),
    #: counted apart like the questionnaires' (`services.proposal_channels`).
    helped_read_aloud: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    helped_translated: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    helped_written_for: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    #: Optional contact, kept only with consent; never shown publicly nor exported.
    contact_name: Mapped[str] = mapped_column(sa.String(200), default="")
    contact: Mapped[str] = mapped_column(sa.String(254), default="")
    contact_consent: Mapped[bool] = mapped_column(default=False)
    hidden_reason: Mapped[str] = mapped_column(sa.Text, default="")
    is_hidden: Mapped[bool] = mapped_column(default=False)
    merged_into_id: Mapped[int | None] = mapped_column(sa.ForeignKey("budget_proposals.id", ondelete="SET NULL"))
    #: Set when the results are computed (the vote closes); the follow-up lists these.
    is_selected: Mapped[bool] = mapped_column(default=False)
    #: Day only: no precise time is kept about residents' contributions.
    submitted_on: Mapped[date] = mapped_column(default=date.today)
    #: Keyed hash of the form's one-time nonce and of the idea's text: the same form sent again
    #: after a lost answer finds this idea instead of publishing a second one.
    nonce_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)

    process: Mapped[Process] = relationship(back_populates="proposals")
    category: Mapped[Category | None] = relationship()
    neighbourhood: Mapped[Neighbourhood | None] = relationship()
    merged_into: Mapped[Proposal | None] = relationship(remote_side=[id])
    photos: Mapped[list[ProposalPhoto]] = relationship(
        back_populates="proposal", order_by="ProposalPhoto.position", cascade="all, delete-orphan"
    )
    milestones: Mapped[list[Milestone]] = relationship(
        back_populates="proposal", order_by="Milestone.happened_on", cascade="all, delete-orphan"
    )

    __table_args__ = (
        sa.UniqueConstraint("process_id", "number"),
        sa.CheckConstraint("estimated_cost IS NULL OR estimated_cost >= 0", name="estimated_cost_positive"),
        sa.CheckConstraint("revised_cost IS NULL OR revised_cost >= 0", name="revised_cost_positive"),
        sa.CheckConstraint("contact = '' OR contact_consent", name="contact_needs_consent"),
        sa.CheckConstraint(
            "channel = 'assisted' OR NOT (helped_read_aloud OR helped_translated OR helped_written_for)",
            name="help_only_when_assisted",
        ),
    )

    @property
    def assistance(self) -> frozenset[Assistance]:
        return frozenset(a for a, flag in ((Assistance.read_aloud, self.helped_read_aloud),
                                           (Assistance.translated, self.helped_translated),
                                           (Assistance.written_for, self.helped_written_for)) if flag)

    @property
    def cost(self) -> int | None:
        return self.revised_cost if self.revised_cost is not None else self.estimated_cost

    @property
    def on_ballot(self) -> bool:
        return self.feasibility == Feasibility.feasible and not self.is_hidden and self.merged_into_id is None

    @property
    def scope(self) -> Scope:
        return self.process.scope


class ProposalPhoto(db.Model):
    __tablename__ = "budget_proposal_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(sa.ForeignKey("budget_proposals.id", ondelete="CASCADE"), index=True)
    #: Content hash of the re-encoded, EXIF-free JPEG in the photo store.
    sha256: Mapped[str] = mapped_column(sa.String(64))
    width: Mapped[int]
    height: Mapped[int]
    caption: Mapped[str] = mapped_column(sa.String(300), default="")
    position: Mapped[int] = mapped_column(default=0)

    proposal: Mapped[Proposal] = relationship(back_populates="photos")


class VoterCodeBatch(db.Model):
    __tablename__ = "budget_code_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[int] = mapped_column(sa.ForeignKey("budget_processes.id", ondelete="CASCADE"), index=True)
    neighbourhood_id: Mapped[int | None] = mapped_column(sa.ForeignKey("neighbourhoods.id", ondelete="SET NULL"))
    size: Mapped[int]
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    neighbourhood: Mapped[Neighbourhood | None] = relationship()


class VoterCode(db.Model):
    """A single-use code printed on a QR slip. Only its keyed hash is stored."""

    __tablename__ = "budget_voter_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[int] = mapped_column(sa.ForeignKey("budget_processes.id", ondelete="CASCADE"), index=True)
    batch_id: Mapped[int] = mapped_column(sa.ForeignKey("budget_code_batches.id", ondelete="CASCADE"), index=True)
    #: HMAC-SHA256 of the code under the app's secret (hex).
    code_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)

    batch: Mapped[VoterCodeBatch] = relationship()


class VoteRecord(db.Model):
    """Who voted — never what. One row per voter and process, enforced by the database."""

    __tablename__ = "budget_vote_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[int] = mapped_column(sa.ForeignKey("budget_processes.id", ondelete="CASCADE"))
    #: "code:<id>", "browser:<hmac>" or "paper:<token id>".
    voter_key: Mapped[str] = mapped_column(sa.String(80))
    channel: Mapped[Channel] = mapped_column(_enum(Channel, "channel"))
    neighbourhood_id: Mapped[int | None] = mapped_column(sa.ForeignKey("neighbourhoods.id", ondelete="SET NULL"))
    #: Paper channel: the polling point where the paper ballot was handed out.
    polling_point_id: Mapped[int | None] = mapped_column(sa.ForeignKey("budget_polling_points.id", ondelete="SET NULL"))
    voted_on: Mapped[date] = mapped_column(default=date.today)

    __table_args__ = (sa.UniqueConstraint("process_id", "voter_key"),)


def new_ballot_id() -> str:
    return secrets.token_hex(16)


class Ballot(db.Model):
    """The ballot box: choices and a random id. No voter, no code, no time."""

    __tablename__ = "budget_ballots"

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True, default=new_ballot_id)
    process_id: Mapped[int] = mapped_column(sa.ForeignKey("budget_processes.id", ondelete="CASCADE"), index=True)
    #: HMAC of the voter's own secret: lets that voter replace their ballot, nothing more.
    locator: Mapped[str] = mapped_column(sa.String(64))
    #: HMAC of the form's one-time nonce: a retried submission is recognised, not doubled.
    nonce_hash: Mapped[str | None] = mapped_column(sa.String(64))
    #: Shown to the voter and published with the anonymised ballots.
    receipt: Mapped[str] = mapped_column(sa.String(16))
    channel: Mapped[Channel] = mapped_column(_enum(Channel, "channel"))
    #: A paper ballot that breaks the rules is kept, marked invalid.
    is_valid: Mapped[bool] = mapped_column(default=True)

    choices: Mapped[list[BallotChoice]] = relationship(back_populates="ballot", cascade="all, delete-orphan")

    __table_args__ = (
        sa.UniqueConstraint("process_id", "locator"),
        sa.UniqueConstraint("process_id", "receipt"),
        sa.UniqueConstraint("nonce_hash"),
    )


class BallotChoice(db.Model):
    __tablename__ = "budget_ballot_choices"

    ballot_id: Mapped[str] = mapped_column(sa.ForeignKey("budget_ballots.id", ondelete="CASCADE"), primary_key=True)
    proposal_id: Mapped[int] = mapped_column(sa.ForeignKey("budget_proposals.id", ondelete="CASCADE"), primary_key=True)
    #: 1 for approval / knapsack, points for cumulative, rank for ranked.
    value: Mapped[int]

    ballot: Mapped[Ballot] = relationship(back_populates="choices")

    __table_args__ = (sa.CheckConstraint("value >= 1", name="value_positive"),)


class PollingPoint(db.Model):
    __tablename__ = "budget_polling_points"

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[int] = mapped_column(sa.ForeignKey("budget_processes.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    neighbourhood_id: Mapped[int | None] = mapped_column(sa.ForeignKey("neighbourhoods.id", ondelete="SET NULL"))

    tokens: Mapped[list[PaperToken]] = relationship(back_populates="polling_point")


class PaperToken(db.Model):
    """The identity-free number printed on one paper ballot."""

    __tablename__ = "budget_paper_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[int] = mapped_column(sa.ForeignKey("budget_processes.id", ondelete="CASCADE"), index=True)
    polling_point_id: Mapped[int] = mapped_column(sa.ForeignKey("budget_polling_points.id", ondelete="CASCADE"), index=True)
    token: Mapped[str] = mapped_column(sa.String(16), unique=True)
    #: Set when the ballot was handed to a voter at the polling point.
    handed_out: Mapped[bool] = mapped_column(default=False)

    polling_point: Mapped[PollingPoint] = relationship(back_populates="tokens")


class PaperEntry(db.Model):
    """One official's keying of one paper ballot; two matching entries make it count."""

    __tablename__ = "budget_paper_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_id: Mapped[int] = mapped_column(sa.ForeignKey("budget_paper_tokens.id", ondelete="CASCADE"), index=True)
    official_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    #: Canonical JSON of the choices ({} for a blank ballot), or "invalid" for a spoilt one.
    content: Mapped[str] = mapped_column(sa.Text)
    entered_at: Mapped[datetime] = mapped_column(default=utcnow)

    official: Mapped[User] = relationship()

    __table_args__ = (sa.UniqueConstraint("token_id", "official_id"),)


class Milestone(db.Model):
    __tablename__ = "budget_milestones"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(sa.ForeignKey("budget_proposals.id", ondelete="CASCADE"), index=True)
    happened_on: Mapped[date]
    status: Mapped[MilestoneStatus] = mapped_column(_enum(MilestoneStatus, "milestone_status"))
    text: Mapped[str] = mapped_column(sa.Text)
    photo_sha256: Mapped[str | None] = mapped_column(sa.String(64))

    proposal: Mapped[Proposal] = relationship(back_populates="milestones")


class ProposalComment(db.Model):
    """A resident's comment on a proposal, during a phase that allows comments. No account:
    a first name or pseudonym at most; the day, not the time."""

    __tablename__ = "budget_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(sa.ForeignKey("budget_proposals.id", ondelete="CASCADE"), index=True)
    author_name: Mapped[str] = mapped_column(sa.String(80), default="")
    body: Mapped[str] = mapped_column(sa.Text)
    channel: Mapped[Channel] = mapped_column(_enum(Channel, "channel"), default=Channel.web)
    #: Language it was written in (for the "original language" note).
    locale: Mapped[str] = mapped_column(sa.String(8), default="fr")
    is_hidden: Mapped[bool] = mapped_column(default=False)
    hidden_reason: Mapped[str] = mapped_column(sa.Text, default="")
    posted_on: Mapped[date] = mapped_column(default=date.today)
    #: Keyed hash of the form's one-time nonce and of the text: a retried send is not doubled.
    nonce_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)

    proposal: Mapped[Proposal] = relationship()

    __table_args__ = (sa.CheckConstraint("length(body) > 0", name="body_not_empty"),)
