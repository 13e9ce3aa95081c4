"""The audit log in the back office: platform administrators read every event, a contract's
administrators the events of their contracts; filters are a GET form, the list is paged by id
(newest first) and downloads as CSV."""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, request, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..extensions import db
from .audit import REDACTED, AuditEvent
from .exports import safe_cell
from .htmx import render
from .permissions import staff_required
from .territories import Contract
from .users import Role, RoleGrant, User

bp = Blueprint("audit", __name__, url_prefix="/admin/audit")

PER_PAGE = 50
#: The CSV is read from the database in slices of this many events (constant memory).
CSV_BATCH = 1000
ACTION_RE = re.compile(r"^[a-z_]{1,32}$")

ACTION_LABELS = {
    "create": _l("Created"),
    "update": _l("Changed"),
    "delete": _l("Deleted"),
    "login": _l("Logged in"),
    "logout": _l("Logged out"),
    "login_failed": _l("Failed login"),
    "sessions_revoke": _l("Sessions ended"),
    "export": _l("Export"),
    "purge": _l("Purge of personal data"),
    "erase": _l("Erasure of personal data"),
}

#: What a record of each table is, for people (the table name is shown for any other).
TABLE_LABELS = {
    "users": _l("Staff account"),
    "role_grants": _l("Role"),
    "contracts": _l("Contract"),
    "communes": _l("Commune"),
    "neighbourhoods": _l("Neighbourhood"),
    "categories": _l("Référentiel entry"),
    "indicators": _l("Indicator"),
    "indicator_values": _l("Indicator value"),
    "verbatims": _l("Verbatim"),
    "governance_api_tokens": _l("API token"),
    "content_translations": _l("Translation of content"),
    "short_links": _l("Short link"),
    "privacy_notices": _l("Privacy notice"),
    "budget_processes": _l("Participatory budget"),
    "budget_phases": _l("Budget phase"),
    "budget_proposals": _l("Budget proposal"),
    "budget_proposal_photos": _l("Proposal photo"),
    "budget_milestones": _l("Project milestone"),
    "budget_comments": _l("Comment on a proposal"),
    "budget_polling_points": _l("Polling point"),
    "budget_code_batches": _l("Batch of voter codes"),
    "questionnaires": _l("Questionnaire"),
    "questionnaire_versions": _l("Questionnaire version"),
    "questionnaire_sections": _l("Questionnaire section"),
    "questionnaire_questions": _l("Question"),
    "questionnaire_options": _l("Answer option"),
    "questionnaire_code_batches": _l("Batch of answer codes"),
    "fph_funds": _l("FPH fund"),
    "fph_sources": _l("Funding source"),
    "fph_applications": _l("FPH application"),
    "fph_budget_lines": _l("Budget line of an application"),
    "fph_members": _l("Committee member"),
    "fph_sessions": _l("Committee session"),
    "fph_agenda": _l("Committee agenda entry"),
    "fph_decisions": _l("Committee decision"),
    "fph_recusals": _l("Recusal"),
    "fph_session_attendance": _l("Committee attendance"),
    "fph_payments": _l("Payment"),
    "fph_bilans": _l("Project report"),
    "fph_bilan_photos": _l("Project report photo"),
    "walks": _l("Exploratory walk"),
    "walk_themes": _l("Walk theme"),
    "walk_waypoints": _l("Route stop"),
    "walk_observations": _l("Walk observation"),
    "walk_observation_photos": _l("Observation photo"),
    "walk_recommendations": _l("Walk recommendation"),
    "walk_point_checks": _l("Point check of a follow-up walk"),
    "walk_profile_counts": _l("Walkers' profile count"),
    "neighbourhood_tables": _l("Neighbourhood table"),
    "table_meetings": _l("Table meeting"),
    "table_agenda_items": _l("Agenda item"),
    "table_attendance_sheets": _l("Attendance sheet"),
    "table_paper_tallies": _l("Paper attendance tally"),
    "table_interpellations": _l("Interpellation"),
    "table_interpellation_meetings": _l("Interpellation at a meeting"),
    "followup_institutions": _l("Institution"),
    "followups": _l("Demand to an institution"),
    "followup_events": _l("Step of a demand"),
}


def table_label(entity: str) -> str:
    label = TABLE_LABELS.get(entity)
    return str(label) if label is not None else entity


def action_label(action: str) -> str:
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else action


# ---------------------------------------------------------------------------------------------
# Who reads what
# ---------------------------------------------------------------------------------------------


def readable_contracts(user) -> set[int] | None:
    """None for a platform administrator (everything); else the contracts the user administers as
    a whole. An administrator of one commune or neighbourhood reads no contract-wide log."""
    if user.is_superadmin:
        return None
    return {g.contract_id for g in user.grants if g.role == Role.admin and g.commune_id is None}


def _scope(contracts: set[int] | None):
    return sa.true() if contracts is None else AuditEvent.contract_id.in_(contracts)


# ---------------------------------------------------------------------------------------------
# Filters
# ---------------------------------------------------------------------------------------------


@dataclass
class Filters:
    user: int | None = None
    entity: str = ""
    action: str = ""
    start: date | None = None
    end: date | None = None
    contract: int | None = None
    errors: dict = field(default_factory=dict)

    def args(self) -> dict:
        """The valid filters as query arguments (for page links and the CSV link)."""
        out = {"user": self.user, "entity": self.entity, "action": self.action,
               "from": self.start.isoformat() if self.start else None,
               "to": self.end.isoformat() if self.end else None, "contract": self.contract}
        return {k: v for k, v in out.items() if v not in (None, "")}


def _int(value: str) -> int | None:
    value = value.strip()
    if not value.isdigit() or len(value) > 12:
        raise ValueError
    return int(value)


def parse_filters(args, contracts: set[int] | None) -> Filters:
    """Reads the GET form. A bad value is left out of the query and reported (the page answers
    400), so a typed or stale URL never reaches the database as garbage."""
    f = Filters()
    if args.get("user", "").strip():
        try:
            f.user = _int(args["user"])
        except ValueError:
            f.errors["user"] = _("Choose a staff member from the list.")
    entity = args.get("entity", "").strip()
    if entity:
        if entity in db.metadata.tables:
            f.entity = entity
        else:
            f.errors["entity"] = _("Choose a kind of record from the list.")
    action = args.get("action", "").strip()
    if action:
        if ACTION_RE.match(action):
            f.action = action
        else:
            f.errors["action"] = _("Choose an action from the list.")
    for name, attr in (("from", "start"), ("to", "end")):
        value = args.get(name, "").strip()
        if value:
            try:
                setattr(f, attr, date.fromisoformat(value))
            except ValueError:
                f.errors[name] = _("Enter a date as YYYY-MM-DD.")
    if f.start and f.end and f.start > f.end:
        f.errors["to"] = _("The end date is before the start date.")
        f.end = None
    if args.get("contract", "").strip():
        try:
            contract = _int(args["contract"])
        except ValueError:
            contract = None
        if contract is None:
            f.errors["contract"] = _("Choose a contract from the list.")
        elif contracts is not None and contract not in contracts:
            abort(403)  # another contract's events: a question of access, not of typing
        else:
            f.contract = contract
    return f


def _local_midnight_utc(day: date) -> datetime:
    """Days are the contract's days (Europe/Paris); the log stores naive UTC."""
    zone = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "Europe/Paris")
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(timezone.utc).replace(tzinfo=None)


def _where(f: Filters, contracts: set[int] | None) -> list:
    clauses = [_scope(contracts)]
    if f.user is not None:
        clauses.append(AuditEvent.user_id == f.user)
    if f.entity:
        clauses.append(AuditEvent.entity == f.entity)
    if f.action:
        clauses.append(AuditEvent.action == f.action)
    if f.start:
        clauses.append(AuditEvent.at >= _local_midnight_utc(f.start))
    if f.end:
        clauses.append(AuditEvent.at < _local_midnight_utc(f.end + timedelta(days=1)))
    if f.contract is not None:
        clauses.append(AuditEvent.contract_id == f.contract)
    return clauses


def _page_arg(name: str) -> int | None:
    try:
        return _int(request.args.get(name, ""))
    except ValueError:
        return None  # a bad cursor shows the first page


# ---------------------------------------------------------------------------------------------
# Showing changes
# ---------------------------------------------------------------------------------------------


def show_value(value, words: dict | None = None) -> str:
    if value is None or value == "":
        return "—"
    if value is True:
        return words["yes"] if words else _("yes")
    if value is False:
        return words["no"] if words else _("no")
    if isinstance(value, (list, dict)):
        import json

        return json.dumps(value, ensure_ascii=False)
    return str(value)


def change_lines(changes: dict, action: str = "update", words: dict | None = None
                 ) -> list[tuple[str, str | None, str | None, bool]]:
    """(field, old, new, personal) per field: a created record has no old value, a deleted one no
    new value, and a named action's details are a value alone (old None)."""
    lines = []
    for name, value in (changes or {}).items():
        if value == REDACTED:
            lines.append((name, None, None, True))
        elif isinstance(value, list) and len(value) == 2 and action in ("create", "update", "delete"):
            old = None if action == "create" else show_value(value[0], words)
            new = None if action == "delete" else show_value(value[1], words)
            lines.append((name, old, new, False))
        else:
            lines.append((name, None, show_value(value, words), False))
    return lines


def changes_text(changes: dict, action: str = "update", words: dict | None = None) -> str:
    parts = []
    for name, old, new, personal in change_lines(changes, action, words):
        if personal:
            parts.append(f"{name}: {words['personal'] if words else _('personal data, not copied')}")
        elif old is None:
            parts.append(f"{name}: {new}")
        elif new is None:
            parts.append(f"{name}: {old} → ∅")
        else:
            parts.append(f"{name}: {old} → {new}")
    return "; ".join(parts)


# ---------------------------------------------------------------------------------------------
# Routes
# ---------------------------------------------------------------------------------------------


def _reader_contracts() -> set[int] | None:
    contracts = readable_contracts(current_user)
    if contracts is not None and not contracts:
        abort(403)
    return contracts


@bp.get("")
@staff_required
def index():
    contracts = _reader_contracts()
    f = parse_filters(request.args, contracts)
    where = _where(f, contracts)
    before, after = _page_arg("before"), _page_arg("after")
    stmt = sa.select(AuditEvent).where(*where)
    if after is not None and before is None:
        events = list(db.session.scalars(stmt.where(AuditEvent.id > after).order_by(AuditEvent.id.asc())
                                          .limit(PER_PAGE + 1)))
        has_newer = len(events) > PER_PAGE
        events = list(reversed(events[:PER_PAGE]))
        has_older = bool(events) and _exists(where, AuditEvent.id < events[-1].id)
    else:
        if before is not None:
            stmt = stmt.where(AuditEvent.id < before)
        events = list(db.session.scalars(stmt.order_by(AuditEvent.id.desc()).limit(PER_PAGE + 1)))
        has_older = len(events) > PER_PAGE
        events = events[:PER_PAGE]
        has_newer = bool(events) and before is not None and _exists(where, AuditEvent.id > events[0].id)
    names = _names({e.user_id for e in events if e.user_id is not None})
    contract_names = dict(db.session.execute(
        sa.select(Contract.id, Contract.name).where(sa.true() if contracts is None else Contract.id.in_(contracts))
    ).all())
    args = f.args()
    return render(
        "admin/audit.html",
        events=events, filters=f, errors=f.errors, names=names, contract_names=contract_names,
        staff=_staff_choices(contracts), entities=_entity_choices(), actions=_action_choices(),
        older_url=url_for("audit.index", **args, before=events[-1].id) if has_older else None,
        newer_url=url_for("audit.index", **args, after=events[0].id) if has_newer else None,
        first_url=url_for("audit.index", **args) if (before is not None or after is not None) else None,
        csv_url=url_for("audit.export", **args),
        table_label=table_label, action_label=action_label, change_lines=change_lines,
        when=lambda at: format_datetime(at, "medium"),
        status=400 if f.errors else 200,
    )


@bp.get("/events.csv")
@staff_required
def export():
    contracts = _reader_contracts()
    f = parse_filters(request.args, contracts)
    if f.errors:
        from .errors import render_error

        return render_error(400, " ".join(f.errors.values()))
    where = _where(f, contracts)
    # Everything that needs the request (the language) is read now: the body is written after
    # the view returns, in an application context of its own.
    zone = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "Europe/Paris")
    headers = [_("When"), _("Staff member"), _("Action"), _("Kind of record"), _("Table"), _("Record"),
               _("Contract"), _("Changes"), _("Origin")]
    words = {"system": _("system"), "personal": _("personal data, not copied"), "yes": _("yes"), "no": _("no"),
             "actions": {k: str(v) for k, v in ACTION_LABELS.items()},
             "tables": {k: str(v) for k, v in TABLE_LABELS.items()}}
    app = current_app._get_current_object()

    def body():
        # One short application context per slice, never held across a `yield`: the server may
        # resume the generator in another context.
        yield "\ufeff" + _csv_line([safe_cell(h) for h in headers])
        last, contract_names = None, None
        while True:
            with app.app_context():
                if contract_names is None:
                    contract_names = dict(db.session.execute(sa.select(Contract.id, Contract.name)).all())
                stmt = sa.select(AuditEvent).where(*where)
                if last is not None:
                    stmt = stmt.where(AuditEvent.id < last)
                batch = list(db.session.scalars(stmt.order_by(AuditEvent.id.desc()).limit(CSV_BATCH)))
                names = _names({e.user_id for e in batch if e.user_id is not None})
                chunk = "".join(_csv_line([safe_cell(v) for v in (
                    e.at.replace(microsecond=0, tzinfo=timezone.utc).astimezone(zone).isoformat(),
                    names.get(e.user_id, words["system"]) if e.user_id else words["system"],
                    words["actions"].get(e.action, e.action),
                    words["tables"].get(e.entity, e.entity), e.entity, e.entity_id,
                    contract_names.get(e.contract_id, "") if e.contract_id else "",
                    changes_text(e.changes, e.action, words), e.origin)]) for e in batch)
                last = batch[-1].id if batch else None
            if chunk:
                yield chunk
            if len(batch) < CSV_BATCH:
                return

    response = Response(body(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="audit-{date.today().isoformat()}.csv"'
    return response


def _csv_line(cells: list) -> str:
    out = io.StringIO()
    csv.writer(out).writerow(cells)
    return out.getvalue()


def _exists(where: list, extra) -> bool:
    return db.session.scalar(sa.select(sa.exists().where(*where, extra)))


def _names(user_ids: set[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    return dict(db.session.execute(sa.select(User.id, User.name).where(User.id.in_(user_ids))).all())


def _staff_choices(contracts: set[int] | None) -> list[tuple[int, str]]:
    stmt = sa.select(User.id, User.name).order_by(User.name, User.id)
    if contracts is not None:
        stmt = stmt.where(User.id.in_(sa.select(RoleGrant.user_id).where(RoleGrant.contract_id.in_(contracts))))
    return list(db.session.execute(stmt).all())


def _entity_choices() -> list[tuple[str, str]]:
    from .audit import EXCLUDED_TABLES

    names = [t for t in db.metadata.tables if t not in EXCLUDED_TABLES]
    return sorted(((t, table_label(t)) for t in names), key=lambda pair: pair[1].casefold())


def _action_choices() -> list[tuple[str, str]]:
    return [(key, str(label)) for key, label in ACTION_LABELS.items()]
