"""Staff login sessions that the server can end; logins, logouts and failed logins are audited."""
from __future__ import annotations

import secrets
from datetime import timedelta
from functools import lru_cache

import sqlalchemy as sa
from flask import current_app, session
from flask_babel import lazy_gettext as _l
from flask_login import login_user, logout_user

from ..core import audit
from ..core.users import StaffSession, User, utcnow
from ..extensions import db

SESSION_KEY = "staff_sid"


def init_login(app, login_manager) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"
    # "basic": residents' and mediators' phones change IP often; revocation is server-side.
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(user_id: str):
        token = session.get(SESSION_KEY)
        if not token or not user_id.isdigit():
            return None
        return db.session.scalar(
            sa.select(User)
            .join(StaffSession, StaffSession.user_id == User.id)
            .where(
                User.id == int(user_id),
                User.is_enabled.is_(True),
                StaffSession.token == token,
                StaffSession.revoked_at.is_(None),
                StaffSession.created_at > utcnow() - timedelta(hours=current_app.config["STAFF_SESSION_HOURS"]),
            )
        )


def find_user(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == email.strip().lower()))


def authenticate(email: str, password: str) -> User | None:
    user = find_user(email)
    if user is None:
        # Same work as a real check, so timing does not reveal which emails exist.
        User(password_hash=_dummy_hash(current_app.config["PASSWORD_HASH_METHOD"])).check_password(password)
        return None
    if not user.check_password(password) or not user.is_enabled:
        return None
    return user


def start_session(user: User) -> StaffSession:
    session.clear()  # a new session id at login (no fixation)
    staff_session = StaffSession(user=user)
    db.session.add(staff_session)
    db.session.flush()
    session[SESSION_KEY] = staff_session.token
    login_user(user)
    _record("login", user)
    return staff_session


def record_failed_login(email: str) -> bool:
    """Audits a refused login on an existing account (a wrong password, or a disabled account).
    An address that names no account is not logged: it may be anything a visitor typed."""
    user = find_user(email)
    if user is None:
        return False
    _record("login_failed", user)
    return True


def _record(action: str, user: User, **changes) -> None:
    """An account event: the account is the subject and the actor (for a failed login, the
    account somebody tried to open), filed under its contract when all its roles are in one."""
    audit.record(action, entity="users", entity_id=user.id, user_id=user.id, changes=changes,
                 contract_id=audit.contract_of_user(user.id))


def end_session() -> None:
    from flask_login import current_user

    if current_user.is_authenticated:
        _record("logout", current_user)
    token = session.get(SESSION_KEY)
    if token:
        db.session.execute(
            sa.update(StaffSession)
            .where(StaffSession.token == token, StaffSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
    logout_user()
    session.clear()


def revoke_all_sessions(user: User) -> int:
    result = db.session.execute(
        sa.update(StaffSession)
        .where(StaffSession.user_id == user.id, StaffSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    # Sessions are not logged row by row (see audit.EXCLUDED_TABLES): the act of ending them is.
    audit.record("sessions_revoke", entity="users", entity_id=user.id, changes={"sessions": result.rowcount},
                 contract_id=audit.contract_of_user(user.id))
    return result.rowcount


def active_session_count(user: User) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).where(StaffSession.user_id == user.id, StaffSession.revoked_at.is_(None))
    )


def change_password(user: User, new_password: str) -> None:
    """Set a new password and end every other session of the account (a stolen or
    forgotten session on a shared tablet stops working); this one stays open."""
    user.set_password(new_password)
    current = session.get(SESSION_KEY)
    db.session.execute(
        sa.update(StaffSession)
        .where(StaffSession.user_id == user.id, StaffSession.revoked_at.is_(None), StaffSession.token != current)
        .values(revoked_at=utcnow())
    )
    db.session.flush()


def set_enabled(user: User, enabled: bool) -> None:
    user.is_enabled = enabled
    if not enabled:
        revoke_all_sessions(user)
    db.session.flush()



@lru_cache(maxsize=1)
def _dummy_hash(method: str) -> str:
    from werkzeug.security import generate_password_hash

    return generate_password_hash(secrets.token_hex(16), method=method)
