"""Who may do what where: named checks, and the decorators every route declares.

Every view is marked `@public` or `@staff_required`; object-level rules are the named
`can_*` checks below, called by views through `ensure()`. Listing queries are scoped
with `scope_clause()`, so nobody counts or lists what is outside their grants.
"""
from __future__ import annotations

from functools import wraps

import sqlalchemy as sa
from flask import abort
from flask_login import current_user, login_required

from .territories import Scope
from .users import Role, User

STAFF_MANAGERS = frozenset({Role.admin})
LINK_MANAGERS = frozenset({Role.admin, Role.facilitator})
#: Who runs participation processes (creates them, moves phases, reviews, moderates).
PROCESS_MANAGERS = frozenset({Role.admin, Role.facilitator})
#: Who enters contributions on a resident's behalf or keys paper forms.
FIELD_ROLES = frozenset({Role.admin, Role.facilitator, Role.mediator})


def public(view):
    """Anyone, without an account (residents)."""
    view.access = "public"
    return view


def authenticated(view):
    """Any logged-in account, even one whose roles were all removed (e.g. to log out)."""
    protected = login_required(view)
    protected.access = "authenticated"
    return protected


def staff_required(view):
    """A logged-in staff member holding at least one role (or a platform admin)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not (current_user.is_superadmin or current_user.grants):
            abort(403)
        return view(*args, **kwargs)

    protected = login_required(wrapper)
    protected.access = "staff"
    return protected


def ensure(allowed: bool) -> None:
    if not allowed:
        abort(403)


def _scope_of(target) -> Scope:
    return target if isinstance(target, Scope) else target.scope


def has_role(user: User, roles, target) -> bool:
    """True if the user holds one of `roles` on a scope that covers `target`."""
    if not user.is_authenticated:
        return False
    if user.is_superadmin:
        return True
    scope = _scope_of(target)
    return any(g.role in roles and g.scope.covers(scope) for g in user.grants)


def works_in_contract(user: User, contract) -> bool:
    """Any role anywhere in the contract: enough to read its référentiel."""
    return user.is_superadmin or any(g.contract_id == contract.id for g in user.grants)


def can_administer(user: User, target) -> bool:
    return has_role(user, STAFF_MANAGERS, target)


def can_edit_referentiel(user: User, contract) -> bool:
    """The référentiel belongs to the whole contract: only its admins edit it."""
    return has_role(user, STAFF_MANAGERS, Scope(contract.id))


def can_manage_links(user: User, target) -> bool:
    return has_role(user, LINK_MANAGERS, target)


def can_grant(user: User, role: Role, target) -> bool:
    """Admins grant roles inside their own scope only; nobody grants above their scope."""
    return has_role(user, STAFF_MANAGERS, target)


def can_manage_account(user: User, staff: User) -> bool:
    """Disabling an account or ending its sessions affects every contract it works in,
    so it needs admin rights over every one of its grants."""
    if user.is_superadmin:
        return True
    if staff.is_superadmin or not staff.grants:
        return False
    return all(can_administer(user, g.scope) for g in staff.grants)


def can_view_staff(user: User, staff: User) -> bool:
    return user.is_superadmin or any(can_administer(user, g.scope) for g in staff.grants)


def managed_scopes(user: User, roles=STAFF_MANAGERS) -> list[Scope]:
    return [g.scope for g in user.grants if g.role in roles]


def scope_clause(user: User, roles, contract_col, commune_col=None, neighbourhood_col=None):
    """A WHERE clause keeping rows inside the user's scopes for `roles`.

    A row at a wider level than a grant (e.g. a contract-wide link seen by a commune
    facilitator) is outside that grant.
    """
    if user.is_superadmin:
        return sa.true()
    clauses = []
    for s in managed_scopes(user, roles):
        parts = [contract_col == s.contract_id]
        if s.commune_id is not None:
            parts.append(commune_col == s.commune_id if commune_col is not None else sa.false())
        if s.neighbourhood_id is not None:
            parts.append(neighbourhood_col == s.neighbourhood_id if neighbourhood_col is not None else sa.false())
        clauses.append(sa.and_(*parts))
    return sa.or_(*clauses) if clauses else sa.false()
