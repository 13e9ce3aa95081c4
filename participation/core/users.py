"""Staff accounts, their role grants on scopes, and server-side sessions.

Residents never have an account. A staff member holds roles, each granted on a scope
(contract, commune or neighbourhood) and inherited by everything inside that scope.
"""
from __future__ import annotations

import enum
import secrets
from datetime import datetime, timezone

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from .territories import Commune, Contract, Neighbourhood, Scope


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


class Role(enum.Enum):
    admin = "admin"
    facilitator = "facilitator"
    mediator = "mediator"
    committee_member = "committee_member"
    evaluator = "evaluator"

    @property
    def label(self):
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.admin: _l("Administrator"),
    Role.facilitator: _l("Facilitator"),
    Role.mediator: _l("Mediator"),
    Role.committee_member: _l("Committee member"),
    Role.evaluator: _l("Evaluator"),
}


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stored lower-case; the login identifier.
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    #: Werkzeug scrypt hash (salted, memory-hard).
    password_hash: Mapped[str] = mapped_column(sa.String(256))
    is_enabled: Mapped[bool] = mapped_column(default=True)
    #: Platform administrator: creates contracts and their first admins.
    is_superadmin: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    grants: Mapped[list[RoleGrant]] = relationship(
        back_populates="user", cascade="all, delete-orphan", foreign_keys="RoleGrant.user_id"
    )

    def set_password(self, password: str) -> None:
        from flask import current_app

        self.password_hash = generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses disabled accounts
        return self.is_enabled


class RoleGrant(db.Model):
    __tablename__ = "role_grants"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(
        sa.Enum(Role, name="role", native_enum=False, create_constraint=True, length=32)
    )
    contract_id: Mapped[int] = mapped_column(sa.ForeignKey("contracts.id", ondelete="CASCADE"), index=True)
    #: Empty for a grant on the whole contract.
    commune_id: Mapped[int | None] = mapped_column(sa.ForeignKey("communes.id", ondelete="CASCADE"))
    #: Empty for a grant on a whole commune or contract.
    neighbourhood_id: Mapped[int | None] = mapped_column(sa.ForeignKey("neighbourhoods.id", ondelete="CASCADE"))
    #: "c1", "c1/m10" or "c1/m10/n100": the scope as one non-null value, so that the unique
    #: constraint below also holds for wide grants (NULLs never compare equal in SQL).
    scope_key: Mapped[str] = mapped_column(sa.String(64))
    granted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(back_populates="grants", foreign_keys=[user_id])
    contract: Mapped[Contract] = relationship()
    commune: Mapped[Commune | None] = relationship()
    neighbourhood: Mapped[Neighbourhood | None] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("user_id", "role", "scope_key"),
        # A neighbourhood grant names its commune too, so scope checks need no join.
        sa.CheckConstraint("neighbourhood_id IS NULL OR commune_id IS NOT NULL", name="scope_chain"),
    )

    @property
    def scope(self) -> Scope:
        return Scope(self.contract_id, self.commune_id, self.neighbourhood_id)

    @staticmethod
    def key_for(scope: Scope) -> str:
        parts = [f"c{scope.contract_id}"]
        if scope.commune_id is not None:
            parts.append(f"m{scope.commune_id}")
        if scope.neighbourhood_id is not None:
            parts.append(f"n{scope.neighbourhood_id}")
        return "/".join(parts)

    @property
    def scope_object(self):
        return self.neighbourhood or self.commune or self.contract


class StaffSession(db.Model):
    """A login. The cookie only carries its random id, so the server can end it."""

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(sa.String(64), unique=True, default=lambda: secrets.token_urlsafe(32))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


@sa.event.listens_for(RoleGrant, "before_insert")
@sa.event.listens_for(RoleGrant, "before_update")
def _set_scope_key(mapper, connection, grant: RoleGrant) -> None:
    grant.scope_key = RoleGrant.key_for(grant.scope)
