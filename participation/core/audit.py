"""Audit log of staff actions: who changed what, and when.

`AuditEvent` rows are written by the session hook in this module (staff requests and command-line
tools); admins read them in the back office. The log names the staff member and the changed
fields, never a resident: anonymous resident records (ballots, answers, check-ins) are not logged,
and personal values (contacts, e-mails, password hashes, tokens) are shown as changed, not copied.
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .users import User, utcnow


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


def init_app(app) -> None:
    """Installs the session hook that writes the log (placeholder until the hook lands)."""


def routes() -> list:
    return []
