"""The retention schedule: every kind of personal or linkable data the app holds, how long it is
kept and what the purge does with it, and the purge itself.

The schedule is data: the public privacy notice renders it (so the notice cannot say something
the purge does not do), `flask privacy purge` and a scheduler call `purge()`.

The purge keeps the anonymised aggregates: a "who voted" row loses its voter key but keeps its
process, channel, neighbourhood, polling point and day, so turnout and every governance figure
read from it stay the same; a contact is blanked while the proposal or application stays; a
table's attendee keys are replaced by random ones, consistently within a contract, so the
unique-participant estimates stay the same. Ballots and anonymous answers are never touched.

Inventory of what is *not* purged, and why (kept in `KEPT` for the notice):
- staff accounts: needed while the person works on a contract; erased on request (rights page);
- ballots, anonymous answers, check-ins' profiles, paper tallies: no person can be found in them;
- the content residents chose to publish (ideas, projects, comments signed with a first name or a
  pseudonym, walk observations and photos checked by a moderator): public by choice, hidden on
  request through moderation;
- field receipts: a device's random submission id and a content hash, no person.

Periods have defaults, overridden by configuration or the environment (`RETENTION_<KEY>`, a whole
number in the class's unit, e.g. `RETENTION_BUDGET_VOTE_RECORDS=4` months).
"""
from __future__ import annotations

import os
import re
import secrets
import time as _time
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Callable

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale, gettext as _, lazy_gettext as _l

from ..budgets.models import Phase, Process, ProcessPhase, Proposal, VoteRecord
from ..core.territories import Contract
from ..core.users import StaffSession
from ..extensions import db
from ..fph.models import Application, CommitteeMember, CommitteeSession, Fund
from ..questionnaires.models import AnswerCode, AnswerCodeUse, Questionnaire, Response, Status as QStatus
from ..tables.models import CheckIn, Meeting, NeighbourhoodTable

#: Marker of a value the purge replaced: "purged:<something unlinkable>".
PURGED = "purged:"
#: Phases in which a process's vote is over.
AFTER_VOTE = (Phase.results, Phase.implementation, Phase.closed)

MONTHS, DAYS, HOURS = "months", "days", "hours"


@dataclass(frozen=True)
class Cutoff:
    """The day the purge runs, and the class's period."""

    today: date
    amount: int
    unit: str

    @property
    def day(self) -> date:
        """Data whose start event is on or before this day has been kept its full period."""
        if self.unit == MONTHS:
            return months_before(self.today, self.amount)
        if self.unit == DAYS:
            return self.today - timedelta(days=self.amount)
        return self.today - timedelta(hours=self.amount)

    @property
    def moment(self) -> datetime:
        if self.unit == HOURS:
            return datetime.combine(self.today, time()) - timedelta(hours=self.amount)
        return datetime.combine(self.day, time())

    @property
    def last_full_year(self) -> int:
        """The last year whose 31 December is on or before the cut-off day."""
        day = self.day
        return day.year if (day.month, day.day) == (12, 31) else day.year - 1


def months_before(day: date, months: int) -> date:
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    for d in (day.day, 30, 29, 28):  # 31 March minus one month is 28/29 February
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class DataClass:
    key: str
    what: object
    why: object
    #: The event the period counts from.
    start: object
    default: int
    unit: str
    #: What the purge does.
    action: object
    #: fn(cutoff, dry_run) -> {contract id or None: rows}
    run: Callable[[Cutoff, bool], dict] = field(repr=False)
    #: Which table the audit event names.
    entity: str = ""

    @property
    def setting(self) -> str:
        return f"RETENTION_{self.key.upper()}"

    def period(self) -> int:
        """The configured period (config, then environment, then the default); a bad value
        falls back to the default rather than purging on a typo."""
        raw = current_app.config.get(self.setting)
        if raw is None:
            raw = os.environ.get(self.setting)
        try:
            value = int(raw) if raw is not None else self.default
        except (TypeError, ValueError):
            value = self.default
        return value if value >= 0 else self.default

    def period_timedelta(self) -> timedelta:
        """For display (Babel rounds a month to 30 days, a year to 365)."""
        n = self.period()
        return timedelta(days=30 * n) if self.unit == MONTHS else timedelta(**{self.unit: n})


# --- the classes ------------------------------------------------------------------------------


def _counts(rows) -> dict:
    return {cid: int(n) for cid, n in rows if n}


def _vote_end():
    """Per process, the day its vote ended: the last vote recorded, else the vote phase's planned
    end (the definition governance uses for "the year the vote ended")."""
    last_vote = (sa.select(sa.func.max(VoteRecord.voted_on)).where(VoteRecord.process_id == Process.id)
                 .correlate(Process).scalar_subquery())
    planned = (sa.select(ProcessPhase.ends_on)
               .where(ProcessPhase.process_id == Process.id, ProcessPhase.phase == Phase.vote)
               .correlate(Process).scalar_subquery())
    return sa.func.coalesce(last_vote, planned)


def _vote_over(cutoff: Cutoff):
    return sa.and_(Process.phase.in_(AFTER_VOTE), _vote_end() <= cutoff.day)


def _budget_contacts(cutoff: Cutoff, dry_run: bool) -> dict:
    held = sa.or_(Proposal.contact != "", Proposal.contact_name != "", Proposal.contact_consent.is_(True))
    # The form promises "deleted at the end of the process": a closed process loses them at once.
    due = sa.or_(_vote_over(cutoff), Process.phase == Phase.closed)
    # correlate(None): the id list is its own query, not correlated with the UPDATE's table.
    ids = sa.select(Proposal.id).join(Process, Process.id == Proposal.process_id).where(held, due).correlate(None)
    counts = _counts(db.session.execute(
        sa.select(Process.contract_id, sa.func.count()).select_from(Proposal)
        .join(Process, Process.id == Proposal.process_id).where(held, due).group_by(Process.contract_id)))
    if not dry_run and counts:
        db.session.execute(sa.update(Proposal).where(Proposal.id.in_(ids))
                           .values(contact="", contact_name="", contact_consent=False)
                           .execution_options(synchronize_session=False))
    return counts


def _vote_records(cutoff: Cutoff, dry_run: bool) -> dict:
    due = sa.and_(VoteRecord.voter_key.not_like(PURGED + "%"), _vote_over(cutoff))
    counts = _counts(db.session.execute(
        sa.select(Process.contract_id, sa.func.count()).select_from(VoteRecord)
        .join(Process, Process.id == VoteRecord.process_id).where(due).group_by(Process.contract_id)))
    if not dry_run and counts:
        ids = sa.select(VoteRecord.id).join(Process, Process.id == VoteRecord.process_id).where(due).correlate(None)
        # "purged:<row id>": unique per process as the constraint wants, and linked to nothing.
        db.session.execute(sa.update(VoteRecord).where(VoteRecord.id.in_(ids))
                           .values(voter_key=sa.literal(PURGED) + sa.cast(VoteRecord.id, sa.String))
                           .execution_options(synchronize_session=False))
    return counts


def _fph_contacts(cutoff: Cutoff, dry_run: bool) -> dict:
    held = sa.or_(Application.contact_name != "", Application.contact_phone != "", Application.contact_email != "")
    due = sa.and_(held, Fund.year <= cutoff.last_full_year)
    counts = _counts(db.session.execute(
        sa.select(Fund.contract_id, sa.func.count()).select_from(Application)
        .join(Fund, Fund.id == Application.fund_id).where(due).group_by(Fund.contract_id)))
    if not dry_run and counts:
        ids = sa.select(Application.id).join(Fund, Fund.id == Application.fund_id).where(due).correlate(None)
        db.session.execute(sa.update(Application).where(Application.id.in_(ids))
                           .values(contact_name="", contact_phone="", contact_email="")
                           .execution_options(synchronize_session=False))
    return counts


def member_label(member_id: int, locale: str) -> str:
    with force_locale(locale):
        return _("Member #%(id)s", id=member_id)


def _fph_members(cutoff: Cutoff, dry_run: bool) -> dict:
    rows = db.session.execute(
        sa.select(CommitteeMember, Fund.contract_id, Contract.default_locale)
        .join(Fund, Fund.id == CommitteeMember.fund_id).join(Contract, Contract.id == Fund.contract_id)
        .where(Fund.year <= cutoff.last_full_year).order_by(CommitteeMember.id)
    ).all()
    counts: dict = {}
    for member, contract_id, locale in rows:
        label = member_label(member.id, locale)
        if member.name == label:
            continue
        counts[contract_id] = counts.get(contract_id, 0) + 1
        if dry_run:
            continue
        # The fund's minutes were generated with the names: replace them there too.
        pattern = re.compile(r"(?<!\w)" + re.escape(member.name) + r"(?!\w)")
        for session in db.session.scalars(sa.select(CommitteeSession).where(CommitteeSession.fund_id == member.fund_id)):
            if member.name and member.name in (session.minutes or ""):
                session.minutes = pattern.sub(label, session.minutes)
        member.name = label
    if not dry_run:
        db.session.flush()
    return counts


def _attendee_keys(cutoff: Cutoff, dry_run: bool) -> dict:
    meetings = sa.select(Meeting.id).join(NeighbourhoodTable, NeighbourhoodTable.id == Meeting.table_id)
    counts: dict = {}
    contracts = db.session.scalars(sa.select(Contract.id).where(Contract.period_end <= cutoff.last_full_year))
    for contract_id in list(contracts):
        of_contract = meetings.where(NeighbourhoodTable.contract_id == contract_id)
        due = sa.and_(CheckIn.meeting_id.in_(of_contract), CheckIn.attendee_key.is_not(None),
                      CheckIn.attendee_key.not_like(PURGED + "%"))
        n = db.session.scalar(sa.select(sa.func.count()).select_from(CheckIn).where(due))
        if not n:
            continue
        counts[contract_id] = n
        if dry_run:
            continue
        # One random value per old key: "the same phone came again" still holds between the
        # contract's meetings (the unique-participant estimates do not move), but nothing
        # computable from the phone's token finds these rows any more.
        for old in list(db.session.scalars(sa.select(CheckIn.attendee_key).where(due).distinct())):
            db.session.execute(sa.update(CheckIn).where(due, CheckIn.attendee_key == old)
                               .values(attendee_key=PURGED + secrets.token_hex(16))
                               .execution_options(synchronize_session=False))
    return counts


def _answer_codes(cutoff: Cutoff, dry_run: bool) -> dict:
    last_answer = (sa.select(sa.func.max(Response.submitted_on)).where(Response.questionnaire_id == Questionnaire.id)
                   .correlate(Questionnaire).scalar_subquery())
    closed = sa.and_(Questionnaire.status == QStatus.closed,
                     sa.func.coalesce(Questionnaire.closes_on, last_answer) <= cutoff.day)
    due_q = sa.select(Questionnaire.id).where(closed)
    counts = _counts(db.session.execute(
        sa.select(Questionnaire.contract_id, sa.func.count()).select_from(AnswerCode)
        .join(Questionnaire, Questionnaire.id == AnswerCode.questionnaire_id).where(closed)
        .group_by(Questionnaire.contract_id)))
    if not dry_run and counts:
        codes = sa.select(AnswerCode.id).where(AnswerCode.questionnaire_id.in_(due_q))
        db.session.execute(sa.delete(AnswerCodeUse).where(AnswerCodeUse.code_id.in_(codes))
                           .execution_options(synchronize_session=False))
        db.session.execute(sa.delete(AnswerCode).where(AnswerCode.questionnaire_id.in_(due_q))
                           .execution_options(synchronize_session=False))
    return counts


def _staff_sessions(cutoff: Cutoff, dry_run: bool) -> dict:
    # A session never revoked ended with its shift (STAFF_SESSION_HOURS after it began), far
    # inside any period of months.
    due = sa.func.coalesce(StaffSession.revoked_at, StaffSession.created_at) < cutoff.moment
    n = db.session.scalar(sa.select(sa.func.count()).select_from(StaffSession).where(due))
    if not dry_run and n:
        db.session.execute(sa.delete(StaffSession).where(due).execution_options(synchronize_session=False))
    return {None: n} if n else {}


def _audit_events(cutoff: Cutoff, dry_run: bool) -> dict:
    from ..core.audit import AuditEvent

    due = AuditEvent.at < cutoff.moment
    counts = _counts(db.session.execute(
        sa.select(AuditEvent.contract_id, sa.func.count()).where(due).group_by(AuditEvent.contract_id)))
    if not dry_run and counts:
        db.session.execute(sa.delete(AuditEvent).where(due).execution_options(synchronize_session=False))
    return counts


def _field_photos(cutoff: Cutoff, dry_run: bool) -> dict:
    from ..field.models import StagedPhoto
    from ..field.services import purge_staged

    if dry_run:
        n = db.session.scalar(sa.select(sa.func.count()).select_from(StagedPhoto)
                              .where(StagedPhoto.received_on < cutoff.day))
    else:
        # purge_staged counts back from the real today; this keeps the cut-off of `cutoff`.
        n = purge_staged(max((date.today() - cutoff.day).days, 0))
    return {None: n} if n else {}


def _unsent_photos(cutoff: Cutoff, dry_run: bool) -> dict:
    from ..questionnaires.models import Answer
    from ..questionnaires.services import photo_store, purge_unsent_photos

    # Files: their age is the file's, counted from now like purge_unsent_photos does.
    if dry_run:
        store = photo_store()
        limit = _time.time() - cutoff.amount * 3600
        old = {p.stem for p in store.directory.glob("??/*.jpg") if p.stat().st_mtime < limit}
        kept = set(db.session.scalars(sa.select(Answer.photo_sha256).where(Answer.photo_sha256.in_(list(old))))) if old else set()
        n = len(old - kept)
    else:
        n = purge_unsent_photos(timedelta(hours=cutoff.amount))
    return {None: n} if n else {}


SCHEDULE: list[DataClass] = [
    DataClass(
        "budget_contacts",
        _l("Contact details left with an idea for a participatory budget (name, e-mail or phone)"),
        _l("To talk with the author about the idea: questions during the feasibility study, the result, the works."),
        _l("the end of the vote (the last vote recorded, else the planned end of the vote); at once when the "
           "process is closed"),
        12, MONTHS,
        _l("The contact details are deleted and the consent withdrawn; the idea stays, without its author."),
        _budget_contacts, "budget_proposals",
    ),
    DataClass(
        "budget_vote_records",
        _l("The list of who voted in a participatory budget (which voter code, paper ballot or browser was used)"),
        _l("So that each person votes once, and to check the vote if it is challenged."),
        _l("the end of the vote; the period covers the two months in which the vote can be challenged"),
        3, MONTHS,
        _l("The link to the code, paper ballot or browser is replaced by a meaningless value; the channel, "
           "neighbourhood, polling point and day stay for the turnout figures. Ballots were never linked to anyone "
           "and are kept as they are."),
        _vote_records, "budget_vote_records",
    ),
    DataClass(
        "fph_contacts",
        _l("Contact details of the people applying to a residents' fund (FPH): name, phone, e-mail"),
        _l("To talk with the applicants about their project: the committee's decision, payments, the bilan."),
        _l("the end of the fund's year (31 December)"),
        24, MONTHS,
        _l("The contact details are deleted; the project, the decision and the amounts stay."),
        _fph_contacts, "fph_applications",
    ),
    DataClass(
        "fph_members",
        _l("Names of the members of a residents' fund committee, in the list of members and the minutes"),
        _l("To show that the committee decided with its quorum and that members with a conflict of interest "
           "did not vote."),
        _l("the end of the fund's year (31 December)"),
        60, MONTHS,
        _l("Each name is replaced by \"Member\" and a number, in the list and in the minutes; decisions and "
           "votes stay."),
        _fph_members, "fph_members",
    ),
    DataClass(
        "table_attendee_keys",
        _l("The random marker a phone keeps when checking in at a table de quartier"),
        _l("To estimate how many different people came, without knowing who they are."),
        _l("the end of the contrat de ville (31 December of its last year)"),
        12, MONTHS,
        _l("The markers are replaced by new random values that no phone holds; the counts and the estimate of "
           "different people stay the same."),
        _attendee_keys, "table_checkins",
    ),
    DataClass(
        "questionnaire_answer_codes",
        _l("Single-use answer codes of a questionnaire, and which of them were used"),
        _l("So that each code answers once."),
        _l("the closing of the questionnaire (its closing date, else its last answer)"),
        3, MONTHS,
        _l("The codes and their \"used\" markers are deleted; the anonymous answers stay."),
        _answer_codes, "questionnaire_codes",
    ),
    DataClass(
        "staff_sessions",
        _l("Staff logins (when a session began and ended)"),
        _l("Security: to end a session remotely and to check the use of an account."),
        _l("the end of the session"),
        6, MONTHS,
        _l("Deleted."),
        _staff_sessions, "staff_sessions",
    ),
    DataClass(
        "audit_events",
        _l("The log of staff actions (who changed what, when; never a resident's details)"),
        _l("Accountability of the staff and security."),
        _l("the action"),
        12, MONTHS,
        _l("Deleted."),
        _audit_events, "audit_events",
    ),
    DataClass(
        "field_photos",
        _l("Photos sent by a field tablet for an entry that never arrived"),
        _l("To attach the photos when the entry arrives."),
        _l("the photo's arrival"),
        30, DAYS,
        _l("Deleted."),
        _field_photos, "field_photos",
    ),
    DataClass(
        "questionnaire_unsent_photos",
        _l("Photos added to a questionnaire that was never sent"),
        _l("To keep the photo while the person finishes the questionnaire."),
        _l("the photo's upload"),
        48, HOURS,
        _l("Deleted."),
        _unsent_photos, "questionnaire_photos",
    ),
]
BY_KEY = {c.key: c for c in SCHEDULE}


# --- running the purge ------------------------------------------------------------------------


@dataclass
class Outcome:
    data_class: DataClass
    period: int
    cutoff_day: date
    #: {contract id or None: rows purged (or due, in a dry run)}
    counts: dict

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def purge(today: date | None = None, *, dry_run: bool = False, only: list[str] | None = None,
          origin: str = "") -> list[Outcome]:
    """Apply the schedule as of `today`. Flushes, never commits (the caller commits once, so a
    failure leaves nothing half-purged). Writes one audit event per class and contract purged.
    Running it again changes nothing: purged rows no longer match."""
    from ..core.audit import record

    today = today or date.today()
    outcomes = []
    # The log is purged first, so that this run's own events are never counted as old.
    for data_class in sorted(SCHEDULE, key=lambda c: c.key != "audit_events"):
        if only and data_class.key not in only:
            continue
        cutoff = Cutoff(today, data_class.period(), data_class.unit)
        counts = data_class.run(cutoff, dry_run)
        db.session.flush()
        outcomes.append(Outcome(data_class, cutoff.amount, cutoff.day, counts))
        if dry_run:
            continue
        for contract_id, n in sorted(counts.items(), key=lambda kv: (kv[0] is not None, kv[0] or 0)):
            record("purge", entity=data_class.entity, changes={
                "class": data_class.key, "rows": n, "period": f"{cutoff.amount} {data_class.unit}",
                "cutoff": cutoff.day.isoformat()}, contract_id=contract_id, origin=origin or "privacy.purge")
    db.session.flush()
    order = {c.key: i for i, c in enumerate(SCHEDULE)}
    return sorted(outcomes, key=lambda o: order[o.data_class.key])


def schedule_rows() -> list[dict]:
    """What the notice and the back office show: one row per class, periods as configured."""
    return [{"key": c.key, "what": c.what, "why": c.why, "start": c.start, "action": c.action,
             "period": c.period(), "unit": c.unit, "duration": c.period_timedelta(), "setting": c.setting}
            for c in SCHEDULE]
