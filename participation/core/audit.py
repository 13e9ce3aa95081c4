"""Audit log of staff actions: who changed what, and when.

`AuditEvent` rows are written by the session hook in this module, after each flush of a
back-office request by a logged-in staff member (one row per inserted, updated or deleted
record), and by `record()` for named actions (login, logout, failed login, a purge run from the
command line...); admins read them in the back office (`audit_views`). The log names the staff
member and the changed fields, never a resident: anonymous resident records (ballots, answers,
check-ins) are not logged, requests of the public site are not logged, and personal values
(contacts, e-mails, password hashes, tokens, keys) are stored as `REDACTED`, not copied.

Not captured by the hook: bulk statements (`session.execute(sa.update(...))`, `sa.insert(Model)`
with a list), e.g. money counters of a fund or voter codes made in bulk; the row change that
causes them (a decision, a code batch) is logged.
"""
from __future__ import annotations

import enum
import json
import math
import re
from datetime import date, datetime, time
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .users import RoleGrant, User, utcnow


class AuditEvent(db.Model):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    #: The staff member who acted; NULL for the system (a command-line tool, a scheduled purge).
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    #: The contract the changed record belongs to, when it has one: admins see their contracts' events.
    contract_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contracts.id", ondelete="SET NULL"), index=True)
    #: "create", "update", "delete", or a named action ("login", "export", "purge", "erase"...).
    action: Mapped[str] = mapped_column(sa.String(32))
    #: The table of the changed record ("budget_proposals"), or "" for an action on no record.
    entity: Mapped[str] = mapped_column(sa.String(64), default="")
    entity_id: Mapped[str] = mapped_column(sa.String(64), default="")
    #: {field: [old, new]} with personal values replaced by a marker; or details of a named action.
    changes: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    #: The endpoint or command that acted ("fph.application_edit", "cli:privacy purge").
    origin: Mapped[str] = mapped_column(sa.String(120), default="")

    user: Mapped[User | None] = relationship()

    __table_args__ = (sa.Index("ix_audit_events_entity", "entity", "entity_id"),)


def record(action: str, *, entity: str = "", entity_id="", changes: dict | None = None,
           contract_id: int | None = None, user_id: int | None = None, origin: str = "") -> AuditEvent:
    """Adds one event to the session (committed with the work it describes). The actor is the
    logged-in staff member of the request unless `user_id` is given; outside a request, the system."""
    from flask import has_request_context, request

    if user_id is None and has_request_context():
        from flask_login import current_user

        if current_user and current_user.is_authenticated:
            user_id = current_user.id
    if not origin:
        origin = (request.endpoint or "") if has_request_context() else "cli"
    event = AuditEvent(action=action, entity=entity, entity_id=str(entity_id or ""), changes=changes or {},
                       contract_id=contract_id, user_id=user_id, origin=origin[:120])
    db.session.add(event)
    return event



# ---------------------------------------------------------------------------------------------
# What is logged, and what is not
# ---------------------------------------------------------------------------------------------

#: Stored instead of a personal value: the log says that it changed, never what it was or became.
REDACTED = "[changed]"

#: Tables never logged, with the reason. Anonymous resident records first: a log line naming the
#: staff member who was logged in (on a shared tablet, or voting from their own browser) and the
#: second it happened would tie a person to a ballot or an answer.
EXCLUDED_TABLES: dict[str, str] = {
    "budget_ballots": "anonymous ballot",
    "budget_ballot_choices": "anonymous ballot content",
    "budget_vote_records": "who voted (voter key, polling point)",
    "budget_paper_entries": "content of a paper ballot, keyed by an official",
    # The token's hand-out is timed to the second in a log, while the token leads to its paper
    # ballot: the log would tell when (hence who) cast which ballot.
    "budget_paper_tokens": "paper ballot token: its hand-out time would lead to the ballot",
    "questionnaire_responses": "anonymous questionnaire response",
    "questionnaire_answers": "anonymous answers (free text, photos, places)",
    "questionnaire_code_uses": "which single-use answer code was used",
    "table_checkins": "anonymous attendance (attendee key, profile)",
    # Secrets made in bulk: the batch that made them is logged (who, when, how many).
    "budget_voter_codes": "voter code hashes (the code batch is logged)",
    "questionnaire_codes": "answer code hashes (the code batch is logged)",
    # Noise: technical rows that record no decision of a staff member.
    "audit_events": "the log itself",
    "staff_sessions": "login sessions (logins and logouts are named events)",
    "field_receipts": "field-mode delivery receipts (the record they deliver is logged, or excluded)",
    "field_photos": "photos staged by field mode before their record arrives",
}

#: Columns whose values are personal or secret, per table, on top of `PERSONAL_COLUMN`: contacts,
#: names of residents, and the free text residents write (it may name or describe someone, and the
#: log would keep it after the record itself is purged or erased). Text staff write (titles,
#: reasons, minutes, demands) is copied: it is what an audit needs to read.
REDACTED_COLUMNS: dict[str, frozenset[str]] = {
    # A staff member's name too: erasing an account must not leave its old name in the log.
    "users": frozenset({"email", "password_hash", "name"}),
    "budget_proposals": frozenset({"contact_name", "contact", "description", "address"}),
    "budget_comments": frozenset({"author_name", "body"}),
    "fph_applications": frozenset({"contact_name", "contact_phone", "contact_email", "follow_key_hash",
                                   "collective", "audience", "description"}),
    "fph_bilans": frozenset({"summary"}),
    # Committee members include residents: their names stay out of the log.
    "fph_members": frozenset({"name"}),
    "walk_observations": frozenset({"quote"}),
    "walks": frozenset({"record_key", "guides"}),
    "table_meetings": frozenset({"checkin_key"}),
    "verbatims": frozenset({"text"}),
    "governance_api_tokens": frozenset({"token_hash"}),
    "privacy_notices": frozenset({"dpo_contact", "rights_contact"}),
}

#: Any table, including ones added later: e-mails, phones, contacts, passwords, tokens, secrets,
#: hashes of codes or keys, keys, nonces, locators, receipts, IP addresses.
PERSONAL_COLUMN = re.compile(
    r"(e_?mail|phone|contact|password|token|secret|(^|_)hash$|_hash_|(^|_)key(_|$)|nonce|locator|receipt"
    r"|(^|_)ip(_|$)|user_agent)"
)

#: Longer text is cut: the log tells what changed, it is not a copy of the content.
MAX_TEXT = 200


def exclude(table: str, reason: str) -> None:
    """For a feature module whose table must stay out of the log (anonymous or technical rows)."""
    EXCLUDED_TABLES[table] = reason


def is_redacted(table: str, column: str) -> bool:
    return column in REDACTED_COLUMNS.get(table, ()) or bool(PERSONAL_COLUMN.search(column))


def _redacted_in_row(table: str, column: str, values: dict) -> bool:
    """A translation's text is as personal as the column it translates (a walker's quote)."""
    if table == "content_translations" and column == "text":
        if not values.get("entity_type") or not values.get("field"):
            return True  # what it translates is unknown here: keep it out
        return is_redacted(values["entity_type"], values["field"])
    return is_redacted(table, column)


def plain(value):
    """A JSON-safe, short copy of a column value."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # JSON has no NaN or infinity (PostgreSQL refuses them)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, enum.Enum):
        return plain(value.value)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "[binary]"
    if isinstance(value, (list, dict, tuple)):
        text = json.dumps(value, default=str, ensure_ascii=False)
        return value if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "…"
    text = str(value)
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "…"


# ---------------------------------------------------------------------------------------------
# Which contract a row belongs to
# ---------------------------------------------------------------------------------------------

#: table -> (column, parent table) for tables without a `contract_id` column. Tables not listed
#: follow their first foreign key to a table that leads to a contract (see `_parent_of`).
PARENTS: dict[str, tuple[str, str]] = {
    "neighbourhoods": ("commune_id", "communes"),
    "budget_phases": ("process_id", "budget_processes"),
    "budget_proposals": ("process_id", "budget_processes"),
    "budget_proposal_photos": ("proposal_id", "budget_proposals"),
    "budget_milestones": ("proposal_id", "budget_proposals"),
    "budget_comments": ("proposal_id", "budget_proposals"),
    "budget_polling_points": ("process_id", "budget_processes"),
    "budget_code_batches": ("process_id", "budget_processes"),
    "questionnaire_versions": ("questionnaire_id", "questionnaires"),
    "questionnaire_sections": ("version_id", "questionnaire_versions"),
    "questionnaire_questions": ("version_id", "questionnaire_versions"),
    "questionnaire_options": ("question_id", "questionnaire_questions"),
    "questionnaire_code_batches": ("questionnaire_id", "questionnaires"),
    "fph_sources": ("fund_id", "fph_funds"),
    "fph_applications": ("fund_id", "fph_funds"),
    "fph_budget_lines": ("application_id", "fph_applications"),
    "fph_members": ("fund_id", "fph_funds"),
    "fph_sessions": ("fund_id", "fph_funds"),
    "fph_agenda": ("session_id", "fph_sessions"),
    "fph_decisions": ("session_id", "fph_sessions"),
    "fph_recusals": ("session_id", "fph_sessions"),
    "fph_session_attendance": ("session_id", "fph_sessions"),
    "fph_payments": ("application_id", "fph_applications"),
    "fph_bilans": ("application_id", "fph_applications"),
    "fph_bilan_photos": ("bilan_id", "fph_bilans"),
    "walk_themes": ("walk_id", "walks"),
    "walk_waypoints": ("walk_id", "walks"),
    "walk_observations": ("walk_id", "walks"),
    "walk_observation_photos": ("observation_id", "walk_observations"),
    "walk_recommendations": ("walk_id", "walks"),
    "walk_point_checks": ("walk_id", "walks"),
    "walk_profile_counts": ("walk_id", "walks"),
    "table_meetings": ("table_id", "neighbourhood_tables"),
    "table_agenda_items": ("meeting_id", "table_meetings"),
    "table_attendance_sheets": ("meeting_id", "table_meetings"),
    "table_paper_tallies": ("meeting_id", "table_meetings"),
    "table_interpellations": ("table_id", "neighbourhood_tables"),
    "table_interpellation_meetings": ("meeting_id", "table_meetings"),
    "followup_events": ("followup_id", "followups"),
    "indicator_values": ("indicator_id", "indicators"),
}


def _parent_of(table: sa.Table) -> tuple[str, str] | None:
    if table.name in PARENTS:
        return PARENTS[table.name]
    for fk in table.foreign_keys:
        target = fk.column.table.name
        if target != "users" and len(fk.column.table.primary_key.columns) == 1 and (
            target in PARENTS or "contract_id" in fk.column.table.c or target == "contracts"
        ):
            return fk.parent.name, target
    return None


class _ContractResolver:
    """Finds the contract of rows, from objects already in the session when it can (no query),
    else with one primary-key SELECT per level; remembers what it found for the request."""

    def __init__(self, session, cache: dict):
        self.session = session
        self.cache = cache

    def of_values(self, table: sa.Table, values: dict):
        name = table.name
        if name == "contracts":
            return values.get("id")
        if name == "users":
            return self.of_user(values.get("id"))
        if name == "content_translations":
            target = db.metadata.tables.get(values.get("entity_type") or "")
            return self.of_row(target, values.get("entity_id")) if target is not None else None
        if "contract_id" in table.c:
            return values.get("contract_id")
        parent = _parent_of(table)
        if parent is None:
            return None
        return self.of_row(db.metadata.tables[parent[1]], values.get(parent[0]))

    def of_row(self, table: sa.Table | None, row_id):
        if row_id is None or table is None or len(table.primary_key.columns) != 1:
            return None
        if table.name == "contracts":
            return row_id
        if table.name == "users":
            return self.of_user(row_id)
        key = (table.name, row_id)
        if key not in self.cache:
            values = self._loaded(table, row_id)
            if values is None:
                wanted = [c for c in ("contract_id", "entity_type", "entity_id") if c in table.c]
                parent = _parent_of(table)
                if parent and parent[0] not in wanted:
                    wanted.append(parent[0])
                pk = table.primary_key.columns[0]
                row = self.session.connection().execute(
                    sa.select(*[table.c[c] for c in wanted] or [pk]).where(pk == row_id)).first() if wanted else None
                values = dict(row._mapping) if row is not None else None
            self.cache[key] = self.of_values(table, values) if values is not None else None
        return self.cache[key]

    def of_user(self, user_id):
        """A staff member's contract when all their roles are in one contract, else none."""
        if user_id is None:
            return None
        key = ("users", user_id)
        if key not in self.cache:
            ids = self.session.connection().execute(
                sa.select(RoleGrant.contract_id).where(RoleGrant.user_id == user_id).distinct().limit(2)
            ).scalars().all()
            self.cache[key] = ids[0] if len(ids) == 1 else None
        return self.cache[key]

    def _loaded(self, table: sa.Table, row_id):
        """The row's values from an object of the session's identity map, without loading."""
        mapper = _mapper_of(table)
        if mapper is None:
            return None
        obj = self.session.identity_map.get(mapper.identity_key_from_primary_key((row_id,)))
        if obj is None:
            return None
        values = _column_values(sa.inspect(obj), mapper)
        return values if _parent_known(table, values) else None


def _mapper_of(table: sa.Table):
    if not _MAPPERS:
        _MAPPERS.update({m.local_table.name: m for m in db.Model.registry.mappers})
    return _MAPPERS.get(table.name)


_MAPPERS: dict = {}


def _parent_known(table: sa.Table, values: dict) -> bool:
    if "contract_id" in table.c:
        return "contract_id" in values
    if table.name == "content_translations":
        return "entity_type" in values and "entity_id" in values
    parent = _parent_of(table)
    return parent is None or parent[0] in values


def _columns(mapper):
    """(attribute key, column) of the mapper's own table columns."""
    cached = _COLUMNS.get(mapper)
    if cached is None:
        cached = [(prop.key, prop.columns[0]) for prop in mapper.column_attrs
                  if isinstance(prop.columns[0], sa.Column) and prop.columns[0].table is mapper.local_table]
        _COLUMNS[mapper] = cached
    return cached


_COLUMNS: dict = {}


def _column_values(state, mapper) -> dict:
    """Loaded column values by column name (an unloaded attribute is left out, never loaded)."""
    loaded = state.dict
    return {column.name: loaded[key] for key, column in _columns(mapper) if key in loaded}


# ---------------------------------------------------------------------------------------------
# The session hook
# ---------------------------------------------------------------------------------------------


def _actor() -> int | None:
    """The logged-in staff member of a back-office request, or None: outside a request, during a
    resident-facing (public) request, or when nobody is logged in, nothing is logged."""
    from flask import current_app, g, has_request_context, request

    if not has_request_context() or not current_app.config.get("AUDIT_LOG", True):
        return None
    view = current_app.view_functions.get(request.endpoint or "")
    if view is None or getattr(view, "access", None) == "public":
        return None
    # Flask-Login keeps the user it loaded on `g`: read it there rather than through
    # `current_user`, which could run the user loader in the middle of a flush.
    user = g.get("_login_user")
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    state = sa.inspect(user, raiseerr=False)
    if state is None or state.key is None:
        return None
    return state.key[1][0]


def _after_flush(session, flush_context) -> None:
    user_id = _actor()
    if user_id is None:
        return
    from flask import current_app, g, request

    rows = []
    resolver = _ContractResolver(session, g.setdefault("_audit_contracts", {}))
    for action, objects in (("create", session.new), ("update", session.dirty), ("delete", session.deleted)):
        for obj in objects:
            state = sa.inspect(obj)
            mapper = state.mapper
            table = mapper.local_table
            if not isinstance(table, sa.Table) or table.name in EXCLUDED_TABLES:
                continue
            if action == "update" and (state.was_deleted or state.key is None):
                continue
            try:
                row = _row_event(action, state, mapper, table, resolver)
            except sa.exc.SQLAlchemyError:
                raise
            except Exception:  # a value the log cannot describe must not lose the staff member's work
                current_app.logger.exception("audit: cannot describe a change of %s", table.name)
                continue
            if row is not None:
                rows.append({**row, "user_id": user_id, "origin": (request.endpoint or "")[:120]})
    if rows:
        session.connection().execute(AuditEvent.__table__.insert(), rows)


def _row_event(action: str, state, mapper, table: sa.Table, resolver) -> dict | None:
    values = _column_values(state, mapper)
    changes = {}
    for key, column in _columns(mapper):
        if action == "update":
            history = state.attrs[key].history
            if not history.added and not history.deleted:
                continue
            old = history.deleted[0] if history.deleted else None
            new = history.added[0] if history.added else None
            if old == new:
                continue
        elif column.primary_key or values.get(column.name) is None:
            continue
        else:
            old, new = (None, values[column.name]) if action == "create" else (values[column.name], None)
        changes[column.name] = REDACTED if _redacted_in_row(table.name, column.name, values) else [plain(old), plain(new)]
    if action == "update" and not changes:
        return None  # only relationships or unchanged values: no UPDATE of this row
    pk = [values.get(column.name) for column in table.primary_key.columns]
    if _parent_known(table, values) or action == "delete" or len(pk) != 1:
        contract = resolver.of_values(table, values)
    else:
        # An object expired by an earlier commit of the request, then changed: read the rest.
        contract = resolver.of_row(table, pk[0])
    return {
        "at": utcnow(),
        "action": action,
        "entity": table.name[:64],
        "entity_id": "/".join("" if v is None else str(v) for v in pk)[:64],
        "changes": changes,
        "contract_id": contract,
    }


def contract_of_user(user_id: int | None) -> int | None:
    """A staff member's contract when all their roles are in one (for login events)."""
    return _ContractResolver(db.session, {}).of_user(user_id)


def init_app(app) -> None:
    """Installs the session hook (once: every app of the process shares `db.session`)."""
    app.config.setdefault("AUDIT_LOG", True)
    if not sa.event.contains(db.session, "after_flush", _after_flush):
        sa.event.listen(db.session, "after_flush", _after_flush)


def routes() -> list:
    from .audit_views import bp

    return [bp]
