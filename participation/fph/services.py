"""FPH rules: funds and their sources and members, applications (reference, private follow
link, status workflow), payments, bilans and their photos.

Services take domain objects, flush and never commit; the view commits once. Every money move
goes through `money.py` (one conditional UPDATE each), so the envelope and the grants hold
under concurrent requests. A broken rule raises `ServiceError` with a code; `message` is the
translated sentence shown next to the form.

The status workflow is the `TRANSITIONS` dict below: the only place that says which status may
follow which (the committee module moves applications through `set_status` too).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload
from flask_babel import lazy_gettext as _l

from ..core.channels import Assistance, Channel
from ..core.secret_codes import keyed_hash
from ..core.territories import Neighbourhood, Scope
from ..extensions import db
from ..links.models import ALPHABET
from . import money
from .models import (
    DEFAULT_CEILING,
    HOLDS_MONEY,
    AgendaEntry,
    AppStatus,
    Application,
    Bilan,
    BilanPhoto,
    BudgetLine,
    CommitteeMember,
    CommitteeSession,
    DecisionMode,
    Fund,
    FundingSource,
    MemberRole,
    Payment,
    SessionStatus,
    SourceKind,
)

# --- errors ----------------------------------------------------------------------------

_MESSAGES = {
    "transition": _l("This step is not possible for an application in this state."),
    "reason_required": _l("Give the reason: the applicants will read it."),
    "envelope_below_committed": _l(
        "The envelope cannot be lower than what is already granted (%(committed)s €). Change the amounts "
        "or withdraw a grant first."),
    "no_neighbourhood": _l("Choose at least one neighbourhood."),
    "over_ceiling": _l("The amount asked (%(amount)s €) is above the fund's ceiling of %(ceiling)s € per project."),
    "no_budget": _l("Write at least one budget line with its amount."),
    "closed": _l("This fund does not take applications at the moment."),
    "beyond_grant": _l("This payment is more than what remains of the grant (%(remaining)s € left)."),
    "not_payable": _l("Only a granted project can be paid."),
    "withdraw_paid": _l("Money has already been paid to this project: it cannot be withdrawn."),
    "bilan_not_expected": _l("A bilan can be sent once the project has been granted."),
    "too_many_photos": _l("A bilan has at most %(max)s photos."),
    "close_without_bilan": _l("A project is closed once its bilan has been received."),
    "nonce": _l("This form has expired. Fill it in again."),
}


class ServiceError(ValueError):
    """A rule refused the action. `code` is for programs; `message` for people."""

    def __init__(self, code: str, **params):
        if code not in _MESSAGES:
            raise ValueError(f"unknown FPH error code {code!r}")
        self.code = code
        self.params = params
        super().__init__(code)

    @property
    def message(self) -> str:
        return str(_MESSAGES[self.code]) % self.params if self.params else str(_MESSAGES[self.code])


# --- status workflow -------------------------------------------------------------------

S = AppStatus
#: Which status may follow which. Eligibility can be reviewed again before a decision; the
#: committee may defer an application (back to eligible); money held is given back only by
#: a withdrawal before anything was paid.
TRANSITIONS: dict[AppStatus, frozenset[AppStatus]] = {
    S.submitted: frozenset({S.eligible, S.ineligible, S.withdrawn}),
    S.eligible: frozenset({S.ineligible, S.scheduled, S.withdrawn}),
    S.ineligible: frozenset({S.eligible}),
    S.scheduled: frozenset({S.eligible, S.granted, S.refused, S.withdrawn}),
    S.granted: frozenset({S.paid, S.bilan_received, S.withdrawn}),
    S.refused: frozenset(),
    S.paid: frozenset({S.bilan_received}),
    S.bilan_received: frozenset({S.closed}),
    S.closed: frozenset(),
    S.withdrawn: frozenset(),
}
#: Statuses whose change needs a reason given to the applicants.
NEEDS_REASON = frozenset({S.ineligible, S.refused})
#: Funded projects, shown on the public page.
FUNDED = (S.granted, S.paid, S.bilan_received, S.closed)
#: A bilan may be sent (by the applicants or keyed by staff) in these statuses.
BILAN_OPEN = frozenset({S.granted, S.paid, S.bilan_received})
MAX_PHOTOS = 4
NONCE_MIN_LENGTH = 16


def transition_allowed(application: Application, target: AppStatus) -> bool:
    return target in TRANSITIONS.get(application.status, frozenset())


def set_status(application: Application, target: AppStatus, *, reason: str = "", user=None) -> None:
    """Move the application to `target` (ServiceError "transition" / "reason_required").

    The reason is kept for the applicants when the new status needs one; other moves clear
    it. Money is not moved here: grants, releases and payments have their own functions."""
    if not transition_allowed(application, target):
        raise ServiceError("transition")
    reason = (reason or "").strip()
    if target in NEEDS_REASON and not reason:
        raise ServiceError("reason_required")
    application.status = target
    if target in NEEDS_REASON or target == S.withdrawn:
        application.status_reason = reason
    elif target in (S.eligible, S.scheduled):
        application.status_reason = ""
    db.session.flush()


def bilan_due_on(application: Application) -> date | None:
    """When the bilan is expected: the project's end (or start) + the fund's bilan delay."""
    end = application.ends_on or application.starts_on
    if end is None:
        return None
    return end + timedelta(days=application.fund.bilan_days)


def overdue_clause(today: date | None = None):
    """Granted or paid, bilan due before today, none received (SQL, for listings and counts)."""
    return sa.and_(
        Application.status.in_([S.granted, S.paid]),
        Application.bilan_due_on.is_not(None),
        Application.bilan_due_on < (today or date.today()),
    )


def is_overdue(application: Application, today: date | None = None) -> bool:
    return (application.status in (S.granted, S.paid) and application.bilan_due_on is not None
            and application.bilan_due_on < (today or date.today()))


# --- funds -----------------------------------------------------------------------------


def narrowest_scope(neighbourhoods: list[Neighbourhood], fund: Fund | None = None) -> Scope:
    """The narrowest scope covering all the neighbourhoods (one QPV, a commune, a contract).
    An existing fund never moves to another contract (its money, members and roles are there)."""
    contracts = {n.commune.contract_id for n in neighbourhoods}
    if len(contracts) != 1 or (fund is not None and fund.contract_id is not None and fund.contract_id not in contracts):
        raise ServiceError("no_neighbourhood")
    communes = {n.commune_id for n in neighbourhoods}
    if len(communes) > 1:
        return Scope(contracts.pop())
    if len(neighbourhoods) > 1:
        return Scope(contracts.pop(), communes.pop())
    return neighbourhoods[0].scope


def set_neighbourhoods(fund: Fund, neighbourhoods: list[Neighbourhood]) -> None:
    if not neighbourhoods:
        raise ServiceError("no_neighbourhood")
    scope = narrowest_scope(neighbourhoods, fund)
    fund.contract_id, fund.commune_id, fund.neighbourhood_id = scope.contract_id, scope.commune_id, scope.neighbourhood_id
    fund.neighbourhoods = sorted(neighbourhoods, key=lambda n: n.name)


@dataclass
class FundSettings:
    name: str
    year: int
    ceiling: int = DEFAULT_CEILING
    rules: str = ""
    decision_mode: DecisionMode = DecisionMode.vote
    quorum: int = 3
    bilan_days: int = 60
    accepting: bool = True


def create_fund(neighbourhoods: list[Neighbourhood], settings: FundSettings, original_locale: str = "fr") -> Fund:
    if not neighbourhoods:
        raise ServiceError("no_neighbourhood")
    scope = narrowest_scope(neighbourhoods)
    fund = Fund(contract_id=scope.contract_id, name="", year=settings.year, original_locale=original_locale)
    update_fund(fund, settings)
    set_neighbourhoods(fund, neighbourhoods)
    db.session.add(fund)
    db.session.flush()
    return fund


def update_fund(fund: Fund, settings: FundSettings) -> None:
    fund.name = settings.name.strip()
    fund.year = settings.year
    fund.ceiling = settings.ceiling
    fund.rules = (settings.rules or "").strip()
    fund.decision_mode = settings.decision_mode
    fund.quorum = settings.quorum
    fund.bilan_days = settings.bilan_days
    fund.accepting = settings.accepting
    db.session.flush()


def _sync_envelope(fund: Fund) -> None:
    """Envelope = sum of the sources, through money.set_envelope (refused below the grants)."""
    db.session.flush()
    total = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(FundingSource.amount), 0)).where(FundingSource.fund_id == fund.id))
    if not money.set_envelope(fund, int(total)):
        raise ServiceError("envelope_below_committed", committed=fund.committed)


def add_source(fund: Fund, kind: SourceKind, label: str, amount: int) -> FundingSource:
    source = FundingSource(fund_id=fund.id, kind=kind, label=(label or "").strip(), amount=amount)
    db.session.add(source)
    _sync_envelope(fund)
    return source


def remove_source(fund: Fund, source: FundingSource) -> None:
    db.session.delete(source)
    _sync_envelope(fund)


def add_member(fund: Fund, name: str, role: MemberRole, user=None) -> CommitteeMember:
    member = CommitteeMember(fund_id=fund.id, name=name.strip(), role=role, user_id=user.id if user else None)
    db.session.add(member)
    db.session.flush()
    return member


def set_member_active(member: CommitteeMember, active: bool) -> None:
    member.active = active
    db.session.flush()


def status_counts(fund: Fund) -> dict[AppStatus, int]:
    rows = db.session.execute(
        sa.select(Application.status, sa.func.count()).where(Application.fund_id == fund.id).group_by(Application.status))
    return {status: n for status, n in rows}


def overdue_counts(fund_ids: list[int]) -> dict[int, int]:
    if not fund_ids:
        return {}
    rows = db.session.execute(
        sa.select(Application.fund_id, sa.func.count()).where(Application.fund_id.in_(fund_ids), overdue_clause())
        .group_by(Application.fund_id))
    return dict(rows.all())


def next_session(fund: Fund) -> CommitteeSession | None:
    return db.session.scalar(
        sa.select(CommitteeSession)
        .where(CommitteeSession.fund_id == fund.id, CommitteeSession.held_on >= date.today(),
               CommitteeSession.status != SessionStatus.closed)
        .order_by(CommitteeSession.held_on).limit(1))


def funded_projects(fund: Fund, neighbourhood_id: int | None = None) -> list[Application]:
    query = (sa.select(Application).where(Application.fund_id == fund.id, Application.status.in_(FUNDED))
             .options(selectinload(Application.bilan).selectinload(Bilan.photos)))
    if neighbourhood_id is not None:
        query = query.where(Application.neighbourhood_id == neighbourhood_id)
    return list(db.session.scalars(query.order_by(Application.decided_on.desc().nulls_last(), Application.id.desc())))


# --- applications ----------------------------------------------------------------------


@dataclass
class ApplicationData:
    title: str
    audience: str
    description: str
    place: str
    starts_on: date | None
    ends_on: date | None
    neighbourhood_id: int | None
    #: (label, amount) pairs; the amount requested is their total.
    lines: list[tuple[str, int]]
    collective: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    contact_email: str = ""
    category_id: int | None = None


def follow_secret(fund: Fund, nonce: str) -> str:
    """The private follow link's secret, derived from the form's one-time nonce under the
    server key: a retried POST (same nonce) finds the same application and shows the same
    link, and only its keyed hash is stored."""
    digest = bytes.fromhex(keyed_hash("fph-follow-secret", f"{fund.id}:{nonce}"))
    return "".join(ALPHABET[b % len(ALPHABET)] for b in digest[:20])


def follow_hash(secret: str) -> str:
    return keyed_hash("fph-follow", secret)


def by_secret(secret: str) -> Application | None:
    if not secret or len(secret) > 64:
        return None
    return db.session.scalar(sa.select(Application).where(Application.follow_key_hash == follow_hash(secret)))


def _next_number(fund: Fund, last_tried: int) -> int:
    """The number after the fund's applications, or after the one just found taken."""
    existing = db.session.scalar(sa.select(sa.func.count()).select_from(Application).where(Application.fund_id == fund.id))
    return max(existing + 1, last_tried + 1)


def submit_application(
    fund: Fund,
    data: ApplicationData,
    *,
    nonce: str,
    channel: Channel = Channel.web,
    assistance: list[Assistance] | None = None,
    entered_by=None,
    original_locale: str = "fr",
    today: date | None = None,
) -> tuple[Application, str, bool]:
    """Record an application; returns (application, follow secret, recorded now?).

    A second POST of the same form (same nonce) returns the first application. The reference
    ("FPH-2026-007") is unique per fund: a concurrent submission that took the same number
    makes the insert fail inside a savepoint, and the next number is tried."""
    if len(nonce or "") < NONCE_MIN_LENGTH:
        raise ServiceError("nonce")
    if not fund.accepting and channel == Channel.web:
        raise ServiceError("closed")
    lines = [(label.strip(), amount) for label, amount in data.lines if label.strip() and amount is not None]
    total = sum(amount for _label, amount in lines)
    if not lines or total <= 0:
        raise ServiceError("no_budget")
    if total > fund.ceiling:
        raise ServiceError("over_ceiling", amount=total, ceiling=fund.ceiling)
    secret = follow_secret(fund, nonce)
    key = follow_hash(secret)
    again = db.session.scalar(sa.select(Application).where(Application.follow_key_hash == key))
    if again is not None:
        return again, secret, False
    number = 0
    for _attempt in range(20):
        number = _next_number(fund, number)
        application = Application(
            fund_id=fund.id, reference=f"FPH-{fund.year}-{number:03d}", title=data.title.strip(),
            audience=data.audience.strip(), description=data.description.strip(), place=data.place.strip(),
            starts_on=data.starts_on, ends_on=data.ends_on, neighbourhood_id=data.neighbourhood_id,
            category_id=data.category_id, amount_requested=total, collective=data.collective.strip(),
            contact_name=data.contact_name.strip(), contact_phone=data.contact_phone.strip(),
            contact_email=data.contact_email.strip(), channel=channel,
            assistance=[a.value for a in (assistance or [])], entered_by_id=entered_by.id if entered_by else None,
            follow_key_hash=key, status=S.submitted, submitted_on=today or date.today(),
        )
        application.original_locale = original_locale
        application.lines = [BudgetLine(position=i, label=label, amount=amount) for i, (label, amount) in enumerate(lines)]
        try:
            with db.session.begin_nested():
                db.session.add(application)
                db.session.flush()
        except sa.exc.IntegrityError:
            # The same form recorded meanwhile by a concurrent request, or the number taken.
            again = db.session.scalar(sa.select(Application).where(Application.follow_key_hash == key))
            if again is not None:
                return again, secret, False
            continue
        return application, secret, True
    raise RuntimeError("could not allocate an application reference")


def set_eligibility(application: Application, eligible: bool, reason: str = "", user=None) -> None:
    # On a committee agenda, only the committee moves it (decision, deferral, removal).
    if application.status is S.scheduled:
        raise ServiceError("transition")
    set_status(application, S.eligible if eligible else S.ineligible, reason=reason, user=user)


def withdraw(application: Application, reason: str = "", user=None) -> None:
    """Withdrawn by the applicants; a grant not yet paid gives its money back."""
    if application.status in HOLDS_MONEY and application.paid_total > 0:
        raise ServiceError("withdraw_paid")
    holds = application.status in HOLDS_MONEY and application.granted_amount
    set_status(application, S.withdrawn, reason=reason, user=user)
    # Off the agenda of any session still to decide (a closed session keeps its record).
    db.session.execute(sa.delete(AgendaEntry).where(
        AgendaEntry.application_id == application.id,
        AgendaEntry.session_id.in_(sa.select(CommitteeSession.id).where(CommitteeSession.status != SessionStatus.closed)),
    ))
    if holds and not money.release_grant(application.fund, application.granted_amount):
        raise ServiceError("transition")


def add_payment(application: Application, paid_on: date, amount: int, note: str = "") -> Payment:
    """An instalment; never beyond the grant (the conditional UPDATE decides under races)."""
    if application.status not in (S.granted, S.paid, S.bilan_received) or not application.granted_amount:
        raise ServiceError("not_payable")
    if not money.add_payment(application, amount):
        remaining = (application.granted_amount or 0) - application.paid_total
        raise ServiceError("beyond_grant", remaining=max(remaining, 0))
    payment = Payment(application_id=application.id, paid_on=paid_on, amount=amount, note=(note or "").strip())
    db.session.add(payment)
    if application.status == S.granted:
        set_status(application, S.paid)
    db.session.flush()
    return payment


# --- bilans and photos ------------------------------------------------------------------


def process_photos(files) -> list:
    """Check and re-encode uploaded photos (EXIF stripped) before anything is written.
    Raises core.photos.PhotoError."""
    from flask import current_app

    from ..core.photos import process_photo

    return [process_photo(f, max_bytes=current_app.config["MAX_PHOTO_BYTES"]) for f in files]


def photo_store():
    from flask import current_app

    from ..core.photos import PhotoStore

    return PhotoStore(current_app.config["UPLOAD_DIR"])


def record_bilan(
    application: Application,
    *,
    summary: str,
    participants: int | None,
    spent: int | None,
    photos: list[tuple[object, str]] = (),
    channel: Channel = Channel.web,
    today: date | None = None,
) -> Bilan:
    """The project's bilan (a second one completes the first: new text, more photos).
    Photos are processed already (EXIF-free) and stay unpublished until checked."""
    if application.status not in BILAN_OPEN:
        raise ServiceError("bilan_not_expected")
    bilan = application.bilan
    if bilan is None:
        bilan = Bilan(application_id=application.id, received_on=today or date.today(), channel=channel,
                      original_locale=application.original_locale)
        application.bilan = bilan
    if len(bilan.photos) + len(photos) > MAX_PHOTOS:
        raise ServiceError("too_many_photos", max=MAX_PHOTOS)
    bilan.summary = summary.strip()
    bilan.participants = participants
    bilan.spent = spent
    bilan.channel = channel
    store = photo_store()
    for photo, caption in photos:
        sha = store.save(photo)
        bilan.photos.append(BilanPhoto(sha=sha, caption=(caption or "").strip()[:300], published=False))
    if application.status != S.bilan_received:
        set_status(application, S.bilan_received)
    db.session.flush()
    return bilan


def set_photo_published(photo: BilanPhoto, published: bool) -> None:
    photo.published = published
    db.session.flush()


def close(application: Application, user=None) -> None:
    if application.status != S.bilan_received:
        raise ServiceError("close_without_bilan")
    set_status(application, S.closed, user=user)


@dataclass(frozen=True)
class Event:
    on: date
    kind: str
    amount: int | None = None
    detail: str = ""


def history(application: Application) -> list[Event]:
    """What happened to the application, oldest first: submission, committee decisions,
    payments, bilan (derived from the records themselves)."""
    from .models import Decision

    events = [Event(application.submitted_on, "submitted")]
    decisions = db.session.execute(
        sa.select(Decision, CommitteeSession.held_on).join(CommitteeSession, Decision.session_id == CommitteeSession.id)
        .where(Decision.application_id == application.id).order_by(CommitteeSession.held_on, Decision.id))
    for decision, held_on in decisions:
        events.append(Event(held_on, f"decision_{decision.outcome.value}", decision.amount, decision.reason or decision.conditions))
    events += [Event(p.paid_on, "payment", p.amount, p.note) for p in application.payments]
    if application.bilan is not None:
        events.append(Event(application.bilan.received_on, "bilan"))
    return sorted(events, key=lambda e: e.on)


def paid_sum(fund: Fund) -> int:
    return int(db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(Application.paid_total), 0)).where(Application.fund_id == fund.id)))


def bilan_data(application: Application) -> dict:
    """The bilan already received, to prefill its form (photos are added, never re-sent)."""
    bilan = application.bilan
    if bilan is None:
        return {}
    return {"summary": bilan.summary, "participants": bilan.participants, "spent": bilan.spent}
