"""Rights of access and erasure (RGPD articles 15 and 17): resident contacts and staff accounts.

A resident has no account: what the app holds about them is the contact details they left with
an idea (budgets) or an application (FPH). They are found by an exact match of a normalised
e-mail, phone number or name, never by a partial one (a "contains" search would show an admin
other people's details). Erasing blanks the contact and keeps the record; ballots and anonymous
answers were never linked to a contact, so nothing counted moves.

A staff account is erased by anonymising it: what the person did stays attributed to the
anonymised account, so the log and the records keep their meaning without naming anyone.
"""
from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale, gettext as _

from ..budgets.models import Process, Proposal
from ..core.audit import AuditEvent, record
from ..core.territories import Contract
from ..core.users import Role, RoleGrant, StaffSession, User, utcnow
from ..extensions import db
from ..fph.models import Application, Fund

#: Shortest query accepted, per kind: fewer digits or letters would match strangers.
MIN_PHONE_DIGITS = 6
MIN_NAME_CHARS = 3
#: The unusable password hash of an erased account (no "$": Werkzeug's check is always False).
UNUSABLE_PASSWORD = "!erased"


class RightsError(Exception):
    """A request the rules refuse; str(e) is a key of the views' messages."""


# --- finding a resident's contacts -------------------------------------------------------------


def normalise_email(value: str) -> str:
    return (value or "").strip().lower()


def normalise_phone(value: str) -> str:
    """Digits only, French international prefixes folded: "+33 6 12.34" == "06 12 34"."""
    digits = re.sub(r"\D", "", value or "")
    if (value or "").strip().startswith("+") and digits.startswith("33"):
        digits = "0" + digits[2:]
    elif digits.startswith("0033"):
        digits = "0" + digits[4:]
    return digits


def normalise_name(value: str) -> str:
    """Case, accents and spacing ignored: "  Élodie  MARTIN" == "elodie martin"."""
    decomposed = unicodedata.normalize("NFKD", value or "")
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


@dataclass(frozen=True)
class Query:
    kind: str  # "email", "phone" or "name"
    value: str  # normalised

    def matches(self, *, emails=(), phones=(), names=()) -> bool:
        if self.kind == "email":
            return any(normalise_email(e) == self.value for e in emails if e)
        if self.kind == "phone":
            return any(normalise_phone(p) == self.value for p in phones if p)
        return any(normalise_name(n) == self.value for n in names if n)


def parse_query(raw: str) -> Query:
    """RightsError("query") when it is too short or too vague to name one person."""
    raw = (raw or "").strip()[:254]
    if "@" in raw:
        value = normalise_email(raw)
        if re.fullmatch(r"[^@\s]+@[^@\s]+", value):
            return Query("email", value)
        raise RightsError("query")
    if raw and re.fullmatch(r"[\d\s().+\-/]+", raw):
        value = normalise_phone(raw)
        if len(value) >= MIN_PHONE_DIGITS:
            return Query("phone", value)
        raise RightsError("query")
    value = normalise_name(raw)
    if len(value.replace(" ", "")) >= MIN_NAME_CHARS:
        return Query("name", value)
    raise RightsError("query")


@dataclass(frozen=True)
class Found:
    """One record holding the person's contact."""

    kind: str  # "proposal" or "application"
    record: object

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.record.id}"


def find_contacts(contract: Contract, query: Query) -> list[Found]:
    """Every proposal and application of the contract whose contact matches exactly. Only rows that
    hold a contact are read, and the comparison is made on normalised values."""
    found: list[Found] = []
    proposals = db.session.scalars(
        sa.select(Proposal).join(Process, Process.id == Proposal.process_id)
        .where(Process.contract_id == contract.id, sa.or_(Proposal.contact != "", Proposal.contact_name != ""))
        .order_by(Proposal.process_id, Proposal.number))
    for p in proposals:
        if query.matches(emails=[p.contact], phones=[p.contact], names=[p.contact_name]):
            found.append(Found("proposal", p))
    applications = db.session.scalars(
        sa.select(Application).join(Fund, Fund.id == Application.fund_id)
        .where(Fund.contract_id == contract.id,
               sa.or_(Application.contact_name != "", Application.contact_phone != "", Application.contact_email != ""))
        .order_by(Application.id))
    for a in applications:
        if query.matches(emails=[a.contact_email], phones=[a.contact_phone], names=[a.contact_name]):
            found.append(Found("application", a))
    return found


def _day(value) -> str | None:
    return value.isoformat() if isinstance(value, (date, datetime)) else None


def resident_report(contract: Contract, query: Query, found: list[Found]) -> dict:
    """What the contract holds about the person: their contacts and the records they left them
    with. Nothing about anyone else (no comments of others, no committee votes, no staff)."""
    items = []
    for f in found:
        r = f.record
        if f.kind == "proposal":
            items.append({
                "type": "participatory budget idea", "process": r.process.title, "number": r.number,
                "title": r.title, "description": r.description, "address": r.address,
                "submitted_on": _day(r.submitted_on), "channel": r.channel.value,
                "contact": {"name": r.contact_name, "email_or_phone": r.contact, "consent": r.contact_consent},
            })
        else:
            items.append({
                "type": "FPH application", "fund": r.fund.name, "reference": r.reference, "title": r.title,
                "description": r.description, "place": r.place, "collective": r.collective,
                "amount_requested": r.amount_requested, "status": r.status.value,
                "submitted_on": _day(r.submitted_on), "channel": r.channel.value,
                "contact": {"name": r.contact_name, "phone": r.contact_phone, "email": r.contact_email},
            })
    return {
        "controller_contract": contract.name,
        "generated_on": date.today().isoformat(),
        "searched_by": query.kind,
        "records": items,
        "not_held": ("Ballots, questionnaire answers and check-ins are anonymous: they are not linked to any "
                     "contact and cannot be found from one."),
    }


def erase_contacts(contract: Contract, found: list[Found]) -> int:
    """Blank the contacts (the consent with them) and keep the records; one audit event each.
    Bulk UPDATEs: the records' other fields are not loaded back into an edit."""
    n = 0
    for f in found:
        r = f.record
        if f.kind == "proposal":
            db.session.execute(sa.update(Proposal).where(Proposal.id == r.id)
                               .values(contact="", contact_name="", contact_consent=False)
                               .execution_options(synchronize_session="fetch"))
            entity = "budget_proposals"
        else:
            db.session.execute(sa.update(Application).where(Application.id == r.id)
                               .values(contact_name="", contact_phone="", contact_email="")
                               .execution_options(synchronize_session="fetch"))
            entity = "fph_applications"
        record("erase", entity=entity, entity_id=r.id, changes={"contact": "erased on request"},
               contract_id=contract.id)
        n += 1
    db.session.flush()
    return n


# --- staff accounts ----------------------------------------------------------------------------


def staff_report(staff: User) -> dict:
    """Everything the app holds about a staff member: the account, the roles, the logins and the
    actions logged in their name."""
    sessions = db.session.scalars(sa.select(StaffSession).where(StaffSession.user_id == staff.id)
                                  .order_by(StaffSession.created_at))
    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.user_id == staff.id).order_by(AuditEvent.at))
    return {
        "account": {"id": staff.id, "name": staff.name, "email": staff.email, "enabled": staff.is_enabled,
                    "platform_administrator": staff.is_superadmin, "created_at": _day(staff.created_at)},
        "roles": [{"role": g.role.value, "scope": g.scope_object.label, "contract": g.contract.name,
                   "granted_at": _day(g.granted_at)} for g in staff.grants],
        "sessions": [{"began": _day(s.created_at), "ended": _day(s.revoked_at)} for s in sessions],
        "actions": [{"at": _day(e.at), "action": e.action, "table": e.entity, "record": e.entity_id,
                     "contract_id": e.contract_id, "origin": e.origin, "changes": e.changes} for e in events],
        "not_included": "The password is stored only as a salted hash, which is not included.",
    }


def contract_wide_admins(contract_id: int, excluding: int) -> int:
    """Enabled accounts other than `excluding` holding the admin role on the whole contract."""
    return db.session.scalar(
        sa.select(sa.func.count(sa.distinct(RoleGrant.user_id))).join(User, User.id == RoleGrant.user_id)
        .where(RoleGrant.contract_id == contract_id, RoleGrant.role == Role.admin, RoleGrant.commune_id.is_(None),
               User.is_enabled.is_(True), User.id != excluding))


def check_staff_erasure(actor: User, staff: User) -> None:
    if staff.id == actor.id:
        raise RightsError("self")
    for g in staff.grants:
        if g.role == Role.admin and g.commune_id is None and not contract_wide_admins(g.contract_id, staff.id):
            raise RightsError("last_admin")
    if staff.is_superadmin and not db.session.scalar(
            sa.select(sa.func.count()).select_from(User)
            .where(User.is_superadmin.is_(True), User.is_enabled.is_(True), User.id != staff.id)):
        raise RightsError("last_superadmin")


def deleted_name(user_id: int) -> str:
    """In the app's default language: the name is stored once and shown to everyone."""
    with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "fr")):
        return _("Deleted account #%(id)s", id=user_id)


def erase_staff(actor: User, staff: User) -> None:
    """Anonymise the account: name, unusable unique e-mail and password, disabled, roles removed,
    sessions ended. Its past actions stay attributed to the anonymised account."""
    check_staff_erasure(actor, staff)
    contracts = sorted({g.contract_id for g in staff.grants})
    staff.name = deleted_name(staff.id)
    # ".invalid" is reserved (RFC 2606): nobody can receive mail there, nor guess the token to log in.
    staff.email = f"deleted-{staff.id}-{secrets.token_hex(8)}@erased.invalid"
    staff.password_hash = UNUSABLE_PASSWORD
    staff.is_enabled = False
    staff.is_superadmin = False
    staff.grants.clear()
    db.session.execute(sa.update(StaffSession).where(StaffSession.user_id == staff.id,
                                                     StaffSession.revoked_at.is_(None)).values(revoked_at=utcnow()))
    for contract_id in contracts or [None]:
        record("erase", entity="users", entity_id=staff.id, changes={"account": "anonymised on request"},
               contract_id=contract_id)
    db.session.flush()


def is_erased(staff: User) -> bool:
    return staff.password_hash == UNUSABLE_PASSWORD and not staff.is_enabled
