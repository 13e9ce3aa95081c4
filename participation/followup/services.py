"""Creating demands and moving them through the shared workflow. Used by every mechanism
that addresses institutions (tables de quartier, exploratory walks): they create the
`FollowUp` here and keep their own link to it.

Services flush, never commit; the request commits once.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa

from ..core.territories import Scope
from ..core.users import User
from ..extensions import db
from . import workflow
from .models import FollowUp, FollowUpEvent, Institution, InstitutionKind, Kind, Status


class FollowUpError(ValueError):
    """A step the workflow does not allow; `code` names it for a translated message."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def create(kind: Kind, scope: Scope, title: str, *, body: str = "", institution: Institution | None = None,
           category_id: int | None = None, original_locale: str = "fr", user: User | None = None,
           on: date | None = None) -> FollowUp:
    """A new demand, as a draft."""
    if institution is not None and institution.contract_id != scope.contract_id:
        raise FollowUpError("institution_elsewhere")
    item = FollowUp(
        kind=kind, contract_id=scope.contract_id, commune_id=scope.commune_id,
        neighbourhood_id=scope.neighbourhood_id, title=title.strip(), body=body.strip(),
        institution=institution, category_id=category_id, status=Status.draft, original_locale=original_locale,
    )
    db.session.add(item)
    item.events.append(FollowUpEvent(on=on or date.today(), to_status=Status.draft, user=user))
    db.session.flush()
    return item


def move(item: FollowUp, target: Status, *, on: date | None = None, note: str = "", answer: str | None = None,
         answer_due_on: date | None = None, action_due_on: date | None = None, user: User | None = None) -> FollowUpEvent:
    """One step of the workflow, dated `on` (default today), recorded as an event.

    The row is locked while it moves, so two staff moving the same demand at once cannot
    both apply a step from the same status.
    """
    on = on or date.today()
    db.session.execute(sa.select(FollowUp.id).where(FollowUp.id == item.id).with_for_update())
    db.session.refresh(item, ["status", "sent_on", "answered_on"])
    if not workflow.can_move(item.status, target):
        raise FollowUpError("transition")
    if target is Status.sent:
        if item.institution_id is None:
            raise FollowUpError("no_institution")
        item.sent_on = on
        days = item.institution.answer_days if item.institution else 60
        item.answer_due_on = answer_due_on or on + timedelta(days=days)
    elif item.sent_on is not None and on < item.sent_on:
        raise FollowUpError("before_sent")
    if target in workflow.ANSWERED and item.answered_on is None:
        item.answered_on = on
    if answer is not None:
        item.answer = answer.strip()
    if action_due_on is not None:
        item.action_due_on = action_due_on
    item.closed_on = on if target in workflow.CLOSED else None
    event = FollowUpEvent(on=on, from_status=item.status, to_status=target, note=note.strip(), user=user)
    item.status = target
    item.events.append(event)
    db.session.flush()
    return event


def add_note(item: FollowUp, note: str, *, on: date | None = None, user: User | None = None) -> FollowUpEvent:
    """A dated note without a status change (e.g. "reminder sent", "reported at the meeting")."""
    if not note.strip():
        raise FollowUpError("empty_note")
    event = FollowUpEvent(on=on or date.today(), note=note.strip(), user=user)
    item.events.append(event)
    db.session.flush()
    return event


def overdue_clause(today: date | None = None):
    """SQL condition true for overdue demands (same rule as `workflow.is_overdue`)."""
    today = today or date.today()
    return sa.or_(
        sa.and_(FollowUp.status == Status.sent, FollowUp.answer_due_on < today),
        sa.and_(FollowUp.status.in_([Status.answered, Status.in_progress]), FollowUp.action_due_on < today),
    )


def is_overdue(item: FollowUp, today: date | None = None) -> bool:
    return workflow.is_overdue(item.status, item.answer_due_on, item.action_due_on, today or date.today())


def active_institutions(contract_id: int) -> list[Institution]:
    return list(db.session.scalars(
        sa.select(Institution).where(Institution.contract_id == contract_id, Institution.active)
        .order_by(Institution.name)
    ))


@dataclass(frozen=True)
class Figures:
    """Counts for governance (people are not counted here, so no suppression is needed)."""

    raised: int
    sent: int
    answered: int
    done: int
    refused: int
    overdue: int
    #: Median days between sending and the answer, over answered demands (None if none).
    median_answer_days: float | None


# --- institutions ---------------------------------------------------------------------------


def _name_taken(contract_id: int, name: str, except_id: int | None = None) -> bool:
    query = sa.select(Institution.id).where(Institution.contract_id == contract_id,
                                            sa.func.lower(Institution.name) == sa.func.lower(sa.literal(name)))
    if except_id is not None:
        query = query.where(Institution.id != except_id)
    return db.session.scalar(query.limit(1)) is not None


def add_institution(contract, name: str, kind: InstitutionKind, answer_days: int = 60, *,
                    original_locale: str = "fr") -> Institution:
    """A new institution on the contract's list (names are unique within a contract, whatever the case)."""
    name = name.strip()
    if not name:
        raise FollowUpError("institution_name")
    if answer_days <= 0:
        raise FollowUpError("answer_days")
    if _name_taken(contract.id, name):
        raise FollowUpError("institution_exists")
    institution = Institution(contract_id=contract.id, name=name, kind=kind, answer_days=answer_days,
                              active=True, original_locale=original_locale)
    db.session.add(institution)
    db.session.flush()
    return institution


def update_institution(institution: Institution, *, name: str | None = None, kind: InstitutionKind | None = None,
                       answer_days: int | None = None, active: bool | None = None) -> Institution:
    """Rename, change the kind or the expected days, retire or reactivate. A retired institution
    stays on the demands already addressed to it; it is no longer offered for new ones."""
    if name is not None:
        name = name.strip()
        if not name:
            raise FollowUpError("institution_name")
        if _name_taken(institution.contract_id, name, institution.id):
            raise FollowUpError("institution_exists")
        institution.name = name
    if answer_days is not None:
        if answer_days <= 0:
            raise FollowUpError("answer_days")
        institution.answer_days = answer_days
    if kind is not None:
        institution.kind = kind
    if active is not None:
        institution.active = active
    db.session.flush()
    return institution


def _city(name: str) -> str:
    """The city's name as addressee: "Ville de Marseille", "Ville d'Aix-en-Provence" (elision before a vowel)."""
    return ("Ville d'" if name[:1].upper() in "AEIOUYÂÉÈÊÎÔ" else "Ville de ") + name


def default_institutions(contract) -> list[tuple[str, InstitutionKind]]:
    """The usual addressees of a contrat de ville: each commune's city hall, the intercommunality,
    the State (préfecture), the CAF and the social landlords."""
    return [
        *((_city(commune.name), InstitutionKind.city) for commune in contract.communes),
        (f"Métropole / intercommunalité ({contract.name})", InstitutionKind.metropolis),
        ("État (préfecture)", InstitutionKind.state),
        ("CAF", InstitutionKind.caf),
        ("Bailleur social", InstitutionKind.landlord),
    ]


def ensure_default_institutions(contract) -> list[Institution]:
    """Add the usual institutions that the contract's list lacks (by name, whatever the case);
    returns those added. Idempotent: a second call adds nothing, and a retired one stays retired."""
    added = []
    for name, kind in default_institutions(contract):
        if not _name_taken(contract.id, name):
            added.append(add_institution(contract, name, kind, 60, original_locale=contract.default_locale or "fr"))
    return added


def institutions_of(contract_id: int) -> list[Institution]:
    """Every institution of the contract, active first, by name."""
    return list(db.session.scalars(
        sa.select(Institution).where(Institution.contract_id == contract_id)
        .order_by(Institution.active.desc(), Institution.name)
    ))


# --- editing a demand -----------------------------------------------------------------------


def edit(item: FollowUp, *, title: str, body: str, institution: Institution | None, category_id: int | None,
         answer_due_on: date | None, action_due_on: date | None) -> FollowUp:
    """Correct a demand's text, addressee, défi or due dates. A retired institution is kept if the
    demand already had it, never newly chosen; due dates cannot precede the sending."""
    title = title.strip()
    if not title:
        raise FollowUpError("title")
    if institution is not None:
        if institution.contract_id != item.contract_id:
            raise FollowUpError("institution_elsewhere")
        if not institution.active and institution.id != item.institution_id:
            raise FollowUpError("institution_retired")
    if institution is None and item.status is not Status.draft:
        raise FollowUpError("no_institution")
    if category_id is not None:
        from ..core.territories import Category

        category = db.session.get(Category, category_id)
        if category is None or category.contract_id != item.contract_id:
            raise FollowUpError("category_elsewhere")
    for due in (answer_due_on, action_due_on):
        if due is not None and item.sent_on is not None and due < item.sent_on:
            raise FollowUpError("due_before_sent")
    if item.status is not Status.draft and answer_due_on is None:
        raise FollowUpError("answer_due_required")
    item.title = title
    item.body = body.strip()
    item.institution = institution
    item.category_id = category_id
    item.answer_due_on = answer_due_on
    item.action_due_on = action_due_on
    db.session.flush()
    return item


def check_step_date(item: FollowUp, on: date, today: date) -> None:
    """A step happened on a real day: not in the future, not before the demand was sent."""
    if on > today:
        raise FollowUpError("future")
    if item.sent_on is not None and on < item.sent_on:
        raise FollowUpError("before_sent")


# --- listings -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """What a register or a back-office list is narrowed to (ids already checked against the contract)."""

    kind: Kind | None = None
    status: Status | None = None
    institution_id: int | None = None
    #: A neighbourhood: its own demands, and those about its whole commune or the whole contract.
    neighbourhood_id: int | None = None
    #: A défi / orientation: demands filed under it or under one of its sub-themes.
    category_ids: tuple[int, ...] = ()
    overdue_only: bool = False


def filter_clauses(filters: Filters, today: date) -> list:
    clauses = []
    if filters.kind is not None:
        clauses.append(FollowUp.kind == filters.kind)
    if filters.status is not None:
        clauses.append(FollowUp.status == filters.status)
    if filters.institution_id is not None:
        clauses.append(FollowUp.institution_id == filters.institution_id)
    if filters.neighbourhood_id is not None:
        from ..core.territories import Neighbourhood

        hood = db.session.get(Neighbourhood, filters.neighbourhood_id)
        clauses.append(sa.or_(
            FollowUp.neighbourhood_id == filters.neighbourhood_id,
            sa.and_(FollowUp.neighbourhood_id.is_(None),
                    sa.or_(FollowUp.commune_id.is_(None), FollowUp.commune_id == hood.commune_id)),
        ))
    if filters.category_ids:
        clauses.append(FollowUp.category_id.in_(filters.category_ids))
    if filters.overdue_only:
        clauses.append(overdue_clause(today))
    return clauses


def listing(where, filters: Filters, today: date, *, page: int = 1, per_page: int = 50) -> tuple[list[FollowUp], int]:
    """One page of demands matching `where` (e.g. a contract, not drafts, or a staff scope) and the
    filters, overdue first, then the most recently sent; and how many match in all."""
    conditions = [where, *filter_clauses(filters, today)]
    total = db.session.scalar(sa.select(sa.func.count(FollowUp.id)).where(*conditions))
    overdue_first = sa.case((overdue_clause(today), 0), else_=1)
    items = list(db.session.scalars(
        sa.select(FollowUp).where(*conditions)
        .order_by(overdue_first, FollowUp.sent_on.is_(None), FollowUp.sent_on.desc(), FollowUp.id.desc())
        .offset((page - 1) * per_page).limit(per_page)
    ))
    return items, total or 0


def days_waiting(item: FollowUp, today: date | None = None) -> int | None:
    """Days the demand has waited for an answer: until today while it waits, else until the answer."""
    if item.sent_on is None:
        return None
    end = item.answered_on or (today or date.today())
    return max((end - item.sent_on).days, 0)
