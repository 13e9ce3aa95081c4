"""Committee sessions of an FPH fund: agenda, attendance, quorum, conflict-of-interest
recusals, decisions and minutes.

The rules, as the committee applies them for each application on the agenda:

- *members voting* on an application = voting members present (observers never vote) minus
  those recused on THIS application;
- the committee may decide an application only if at least `Fund.quorum` members voting are
  there (a recusal can make the quorum fail for one application and not for the others);
- in vote mode the votes cast for / against / abstaining may not add up to more than the members
  voting; the application is granted when *for* > *against* (simple majority of the votes
  cast: a tie refuses); in consensus mode the outcome is recorded as decided by consensus;
- a grant is between 1 € and both the fund's ceiling and the amount requested; a refusal needs
  a reason (the applicants read it); a deferral puts the application back to "eligible" for a
  later session;
- a grant writes the `Decision`, reserves the money (`money.commit_grant`) and moves the
  application in one savepoint: if the envelope has not enough left, nothing is written. The
  unique (session, application) constraint makes a double click decide only once.

Services flush, never commit, and raise `CommitteeError` (a code and parameters; the views
turn it into a translated message with `message()`).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from . import money
from .labels import money as format_money
from .models import (
    AgendaEntry,
    Application,
    AppStatus,
    CommitteeMember,
    CommitteeSession,
    Decision,
    DecisionMode,
    Fund,
    Outcome,
    Recusal,
    SessionAttendance,
    SessionStatus,
)

REASON_MAX = 300
PLACE_MAX = 200


class CommitteeError(Exception):
    """A broken rule: `code` names it, `params` fill its message; `field` is the form field
    the message belongs next to (None: the whole form)."""

    def __init__(self, code: str, field: str | None = None, **params):
        super().__init__(code)
        self.code = code
        self.field = field
        self.params = params


def message(e: CommitteeError) -> str:
    """The translated message of a broken rule."""
    p = e.params
    texts = {
        "closed": lambda: _("This session is closed: nothing can be changed any more."),
        "not_eligible": lambda: _("Only eligible applications of this fund can be put on the agenda."),
        "on_agenda": lambda: _("This application is already on the agenda of this session."),
        "not_on_agenda": lambda: _("This application is not on the agenda of this session."),
        "decided": lambda: _("This application has already been decided in this session."),
        "not_member": lambda: _("Choose a member of this fund's committee."),
        "recused": lambda: _("This member has already declared a conflict of interest on this application."),
        "quorum": lambda: _(
            "Quorum not reached for this application: %(voting)s members voting present and not recused, %(quorum)s needed.",
            voting=p["voting"], quorum=p["quorum"]),
        "votes_missing": lambda: _("Enter the number of votes for, against and abstaining (0 if none)."),
        "votes_exceed": lambda: _(
            "%(cast)s votes entered, but only %(voting)s members may vote on this application.",
            cast=p["cast"], voting=p["voting"]),
        "votes_refuse": lambda: _(
            "The votes do not grant this application: it needs more votes for than against (a tie refuses)."),
        "votes_grant": lambda: _("The votes grant this application: it has more votes for than against."),
        "outcome": lambda: _("Choose the committee's decision."),
        "amount_missing": lambda: _("Enter the amount granted, in whole euros."),
        "amount_ceiling": lambda: _(
            "The amount granted may not exceed the fund's ceiling of %(ceiling)s €.", ceiling=p["ceiling"]),
        "amount_requested": lambda: _(
            "The amount granted may not exceed the amount requested (%(requested)s €).", requested=p["requested"]),
        "envelope": lambda: _(
            "Not granted: only %(left)s € left in the envelope.", left=p["left"]),
        "reason_missing": lambda: _("Give the reason of the refusal: the applicants will read it."),
        "too_long": lambda: _("This text is too long (%(max)s characters at most).", max=p["max"]),
        "date_missing": lambda: _("Enter the date of the session."),
        "minutes_empty": lambda: _("The minutes may not be empty."),
    }
    return texts[e.code]()


# --- sessions ----------------------------------------------------------------------------


def create_session(fund: Fund, held_on: date | None, place: str) -> CommitteeSession:
    if held_on is None:
        raise CommitteeError("date_missing", "held_on")
    place = (place or "").strip()
    if len(place) > PLACE_MAX:
        raise CommitteeError("too_long", "place", max=PLACE_MAX)
    session = CommitteeSession(fund=fund, held_on=held_on, place=place, status=SessionStatus.planned)
    db.session.add(session)
    db.session.flush()
    return session


def _open(session: CommitteeSession) -> None:
    """Recording something starts the session (planned → open); a closed one refuses."""
    if session.status == SessionStatus.closed:
        raise CommitteeError("closed")
    if session.status == SessionStatus.planned:
        session.status = SessionStatus.open


def _editable(session: CommitteeSession) -> None:
    if session.status == SessionStatus.closed:
        raise CommitteeError("closed")


# --- application status (H4's workflow when it exists) -----------------------------------


def _set_status(app: Application, target: AppStatus, *, reason: str = "", user=None) -> None:
    """Move an application through the fund's workflow (`services.TRANSITIONS`); the checks
    above make a refused transition impossible here."""
    from . import services

    services.set_status(app, target, reason=reason, user=user)


def _bilan_due_on(app: Application) -> date | None:
    from . import services

    return services.bilan_due_on(app)


# --- agenda ------------------------------------------------------------------------------


def eligible_applications(session: CommitteeSession) -> list[Application]:
    """Applications of the fund that can be put on this session's agenda."""
    on_agenda = sa.select(AgendaEntry.application_id).where(AgendaEntry.session_id == session.id)
    return list(db.session.scalars(
        sa.select(Application)
        .where(Application.fund_id == session.fund_id, Application.status == AppStatus.eligible,
               Application.id.not_in(on_agenda))
        .order_by(Application.submitted_on, Application.id)
    ))


def _entry(session: CommitteeSession, app: Application) -> AgendaEntry | None:
    return next((e for e in session.agenda if e.application_id == app.id), None)


def _decision(session: CommitteeSession, app: Application) -> Decision | None:
    return db.session.scalar(sa.select(Decision).filter_by(session_id=session.id, application_id=app.id))


def add_to_agenda(session: CommitteeSession, app: Application, user=None) -> AgendaEntry:
    _editable(session)
    if _entry(session, app) is not None:
        raise CommitteeError("on_agenda")
    if app.fund_id != session.fund_id or app.status != AppStatus.eligible:
        raise CommitteeError("not_eligible")
    position = max((e.position for e in session.agenda), default=0) + 1
    entry = AgendaEntry(session=session, application=app, position=position)
    db.session.add(entry)
    _set_status(app, AppStatus.scheduled, user=user)
    db.session.flush()
    return entry


def remove_from_agenda(session: CommitteeSession, app: Application, user=None) -> None:
    """Take an undecided application off the agenda: it is eligible again."""
    _editable(session)
    entry = _entry(session, app)
    if entry is None:
        raise CommitteeError("not_on_agenda")
    if _decision(session, app) is not None:
        raise CommitteeError("decided")
    session.agenda.remove(entry)
    db.session.delete(entry)
    for r in [r for r in session.recusals if r.application_id == app.id]:
        session.recusals.remove(r)
        db.session.delete(r)
    if app.status == AppStatus.scheduled:
        _set_status(app, AppStatus.eligible, user=user)
    db.session.flush()


def move_on_agenda(session: CommitteeSession, app: Application, step: int) -> None:
    """Move an entry one place up (step −1) or down (+1)."""
    _editable(session)
    entries = sorted(session.agenda, key=lambda e: (e.position, e.id))
    index = next((i for i, e in enumerate(entries) if e.application_id == app.id), None)
    if index is None:
        raise CommitteeError("not_on_agenda")
    other = index + step
    if 0 <= other < len(entries):
        entries[index], entries[other] = entries[other], entries[index]
    for position, e in enumerate(entries, 1):
        e.position = position
    db.session.flush()


# --- attendance and recusals --------------------------------------------------------------


def active_members(fund: Fund) -> list[CommitteeMember]:
    return [m for m in fund.members if m.active]


def set_attendance(session: CommitteeSession, member_ids) -> None:
    """The members present are exactly those ticked (unknown or inactive ids are ignored)."""
    _open(session)
    wanted = {m.id for m in active_members(session.fund)} & set(member_ids)
    for a in list(session.attendance):
        if a.member_id not in wanted:
            session.attendance.remove(a)
            db.session.delete(a)
    present = {a.member_id for a in session.attendance}
    for member_id in sorted(wanted - present):
        session.attendance.append(SessionAttendance(member_id=member_id))
    db.session.flush()


def _member(session: CommitteeSession, member_id: int | None) -> CommitteeMember:
    member = db.session.get(CommitteeMember, member_id) if member_id is not None else None
    if member is None or member.fund_id != session.fund_id or not member.active:
        raise CommitteeError("not_member", "member")
    return member


def add_recusal(session: CommitteeSession, member_id: int | None, app: Application, reason: str) -> Recusal:
    _open(session)
    member = _member(session, member_id)
    if _entry(session, app) is None:
        raise CommitteeError("not_on_agenda", "application")
    if _decision(session, app) is not None:
        raise CommitteeError("decided", "application")
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX:
        raise CommitteeError("too_long", "reason", max=REASON_MAX)
    if any(r.member_id == member.id and r.application_id == app.id for r in session.recusals):
        raise CommitteeError("recused", "member")
    recusal = Recusal(session=session, member=member, application=app, reason=reason)
    db.session.add(recusal)
    db.session.flush()
    return recusal


def remove_recusal(session: CommitteeSession, recusal_id: int | None) -> None:
    _open(session)
    recusal = next((r for r in session.recusals if r.id == recusal_id), None)
    if recusal is None:
        raise CommitteeError("not_member", "member")
    if _decision(session, recusal.application) is not None:
        raise CommitteeError("decided")
    session.recusals.remove(recusal)
    db.session.delete(recusal)
    db.session.flush()


# --- quorum --------------------------------------------------------------------------------


@dataclass
class Quorum:
    """Who may vote on one application of a session."""

    present: list[CommitteeMember]
    recused: list[CommitteeMember]
    #: present voting members not recused on this application
    voting: list[CommitteeMember]
    needed: int

    @property
    def reached(self) -> bool:
        return len(self.voting) >= self.needed


def quorum_for(session: CommitteeSession, app: Application) -> Quorum:
    present = sorted((a.member for a in session.attendance), key=lambda m: m.name)
    recused_ids = {r.member_id for r in session.recusals if r.application_id == app.id}
    voting = [m for m in present if m.votes and m.active and m.id not in recused_ids]
    recused = [r.member for r in session.recusals if r.application_id == app.id]
    return Quorum(present=present, recused=recused, voting=voting, needed=session.fund.quorum)


# --- decisions -------------------------------------------------------------------------------


@dataclass
class Ruling:
    """What the committee decided on one application, as entered in the form."""

    outcome: Outcome | None
    votes_for: int | None = None
    votes_against: int | None = None
    abstentions: int | None = None
    amount: int | None = None
    conditions: str = ""
    reason: str = ""


def _check_votes(fund: Fund, ruling: Ruling, quorum: Quorum) -> None:
    if fund.decision_mode != DecisionMode.vote or ruling.outcome == Outcome.deferred:
        return
    votes = (ruling.votes_for, ruling.votes_against, ruling.abstentions)
    if any(v is None for v in votes):
        raise CommitteeError("votes_missing", "votes")
    cast = sum(votes)
    if cast > len(quorum.voting):
        raise CommitteeError("votes_exceed", "votes", cast=cast, voting=len(quorum.voting))
    carried = ruling.votes_for > ruling.votes_against
    if ruling.outcome == Outcome.granted and not carried:
        raise CommitteeError("votes_refuse", "votes")
    if ruling.outcome == Outcome.refused and carried:
        raise CommitteeError("votes_grant", "votes")


def _check_amount(fund: Fund, app: Application, amount: int | None) -> None:
    if amount is None or amount <= 0:
        raise CommitteeError("amount_missing", "amount")
    if amount > fund.ceiling:
        raise CommitteeError("amount_ceiling", "amount", ceiling=fund.ceiling)
    if amount > app.amount_requested:
        raise CommitteeError("amount_requested", "amount", requested=app.amount_requested)


def decide(session: CommitteeSession, app: Application, ruling: Ruling, *, user=None,
           today: date | None = None) -> Decision:
    """Record the committee's decision on one application of the agenda (see the module's
    docstring for the rules). A broken rule raises before anything is written, except a grant
    the envelope cannot hold or a decision recorded meanwhile by another request: the caller
    then rolls the request back (as every view does on CommitteeError)."""
    fund = session.fund
    if session.status == SessionStatus.closed:
        raise CommitteeError("closed")
    if _entry(session, app) is None:
        raise CommitteeError("not_on_agenda")
    if _decision(session, app) is not None or app.status != AppStatus.scheduled:
        raise CommitteeError("decided")
    if ruling.outcome is None:
        raise CommitteeError("outcome", "outcome")
    quorum = quorum_for(session, app)
    if not quorum.reached:
        raise CommitteeError("quorum", voting=len(quorum.voting), quorum=quorum.needed)
    _check_votes(fund, ruling, quorum)
    conditions, reason = (ruling.conditions or "").strip(), (ruling.reason or "").strip()
    if ruling.outcome == Outcome.granted:
        _check_amount(fund, app, ruling.amount)
    if ruling.outcome == Outcome.refused and not reason:
        raise CommitteeError("reason_missing", "reason")
    voted = fund.decision_mode == DecisionMode.vote and ruling.outcome != Outcome.deferred
    today = today or date.today()
    if session.status == SessionStatus.planned:
        session.status = SessionStatus.open
    # The money first: a grant the envelope cannot hold writes nothing at all. It is the
    # first write of the transaction, so every step below belongs to it (on SQLite too,
    # where a savepoint opened before any write would start and end a transaction of its own).
    if ruling.outcome == Outcome.granted and not money.commit_grant(fund, ruling.amount):
        raise CommitteeError("envelope", "amount", left=max(fund.available, 0))
    if ruling.outcome == Outcome.granted:
        app.granted_amount = ruling.amount
        app.conditions = conditions
        app.decided_on = today
        _set_status(app, AppStatus.granted, user=user)
        app.bilan_due_on = _bilan_due_on(app)
    elif ruling.outcome == Outcome.refused:
        app.decided_on = today
        _set_status(app, AppStatus.refused, reason=reason, user=user)
    else:
        _set_status(app, AppStatus.eligible, user=user)
    db.session.flush()
    decision = Decision(
        session_id=session.id,
        application_id=app.id,
        outcome=ruling.outcome,
        votes_for=ruling.votes_for if voted else None,
        votes_against=ruling.votes_against if voted else None,
        abstentions=ruling.abstentions if voted else None,
        amount=ruling.amount if ruling.outcome == Outcome.granted else None,
        conditions=conditions if ruling.outcome == Outcome.granted else "",
        reason=reason if ruling.outcome != Outcome.granted else "",
        decided_by_id=getattr(user, "id", None),
    )
    try:
        # A concurrent request (double click) decided it first: the unique (session,
        # application) constraint refuses this row; the caller rolls the whole request back,
        # money and status included.
        with db.session.begin_nested():
            db.session.add(decision)
            db.session.flush()
    except IntegrityError:
        raise CommitteeError("decided") from None
    return decision


# --- closing and minutes ---------------------------------------------------------------------


def close_session(session: CommitteeSession, user=None) -> None:
    """Close the session: undecided applications go back to "eligible" (for the next
    session), and the minutes are written from the decisions (editable afterwards)."""
    _editable(session)
    decided = {d.application_id for d in session.decisions}
    for entry in session.agenda:
        if entry.application_id not in decided and entry.application.status == AppStatus.scheduled:
            _set_status(entry.application, AppStatus.eligible, user=user)
    session.status = SessionStatus.closed
    db.session.flush()
    session.minutes = generate_minutes(session)
    db.session.flush()


def update_minutes(session: CommitteeSession, text: str) -> None:
    text = (text or "").strip()
    if not text:
        raise CommitteeError("minutes_empty", "minutes")
    session.minutes = text
    db.session.flush()


def _roles() -> dict:
    from .models import MemberRole

    return {
        MemberRole.chair: _("chair"),
        MemberRole.resident: _("resident"),
        MemberRole.partner: _("partner"),
        MemberRole.secretary: _("secretary"),
        MemberRole.observer: _("observer, does not vote"),
    }


def generate_minutes(session: CommitteeSession) -> str:
    """Plain-text minutes: when and where, who was there, the quorum, and for each
    application its decision (votes or consensus, recusals, amount and conditions, or the
    reason). Written in the language of whoever closes the session; editable afterwards."""
    from flask_babel import format_date

    fund = session.fund
    roles = _roles()
    present = sorted((a.member for a in session.attendance), key=lambda m: m.name)
    voting_present = [m for m in present if m.votes]
    lines = [
        _("Minutes of the FPH committee — %(fund)s", fund=fund.name),
        _("Date: %(date)s", date=format_date(session.held_on, "long")),
    ]
    if session.place:
        lines.append(_("Place: %(place)s", place=session.place))
    lines.append("")
    lines.append(_("Members present (%(count)s):", count=len(present)))
    lines += [f"- {m.name} ({roles[m.role]})" for m in present] or ["- " + _("none")]
    lines.append(_("Quorum: %(needed)s voting members; %(present)s present.", needed=fund.quorum,
                   present=len(voting_present)))
    mode = _("vote (simple majority of votes cast)") if fund.decision_mode == DecisionMode.vote else _("consensus")
    lines.append(_("Decision mode: %(mode)s", mode=mode))
    lines.append("")
    decisions = {d.application_id: d for d in session.decisions}
    for entry in sorted(session.agenda, key=lambda e: (e.position, e.id)):
        app = entry.application
        lines.append(f"{app.reference} — {app.title}")
        lines.append("  " + _("Amount requested: %(amount)s", amount=format_money(app.amount_requested)))
        recusals = [r for r in session.recusals if r.application_id == app.id]
        for r in recusals:
            text = _("Recusal: %(name)s (conflict of interest)", name=r.member.name)
            lines.append("  " + text + (f": {r.reason}" if r.reason else ""))
        d = decisions.get(app.id)
        if d is None:
            lines.append("  " + _("Not examined: back to the next session."))
        else:
            if d.votes_for is not None:
                lines.append("  " + _("Votes: %(yes)s for, %(no)s against, %(abstain)s abstaining.",
                                      yes=d.votes_for, no=d.votes_against, abstain=d.abstentions))
            elif d.outcome != Outcome.deferred:
                lines.append("  " + _("Decided by consensus."))
            if d.outcome == Outcome.granted:
                lines.append("  " + _("Decision: granted, %(amount)s.", amount=format_money(d.amount)))
                if d.conditions:
                    lines.append("  " + _("Conditions: %(conditions)s", conditions=d.conditions))
            elif d.outcome == Outcome.refused:
                lines.append("  " + _("Decision: refused."))
                lines.append("  " + _("Reason: %(reason)s", reason=d.reason))
            else:
                lines.append("  " + _("Decision: deferred to a later session."))
                if d.reason:
                    lines.append("  " + _("Reason: %(reason)s", reason=d.reason))
        lines.append("")
    granted = sum(d.amount or 0 for d in session.decisions if d.outcome == Outcome.granted)
    lines.append(_("Total granted in this session: %(amount)s.", amount=format_money(granted)))
    lines.append(_("Left in the envelope: %(amount)s.", amount=format_money(fund.available)))
    return "\n".join(lines)


def sessions_of(fund: Fund) -> list[CommitteeSession]:
    return list(db.session.scalars(
        sa.select(CommitteeSession).where(CommitteeSession.fund_id == fund.id)
        .order_by(CommitteeSession.held_on.desc(), CommitteeSession.id.desc())
    ))
