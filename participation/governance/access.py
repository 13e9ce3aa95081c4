"""Who sees governance figures: evaluators, facilitators and admins of a scope (figures are
aggregated and protected, so every role that steers or evaluates the contract may read them);
who edits the référentiel's values and verbatims: the contract's admins and evaluators."""
from __future__ import annotations

from ..core.permissions import has_role
from ..core.territories import Scope
from ..core.users import Role, User

READERS = frozenset({Role.admin, Role.evaluator, Role.facilitator})
EDITORS = frozenset({Role.admin, Role.evaluator})


def can_view(user: User, target) -> bool:
    return has_role(user, READERS, target)


def can_edit_values(user: User, contract) -> bool:
    """Entered values, verbatims: the whole contract's evaluators and admins."""
    return has_role(user, EDITORS, Scope(contract.id))


def can_moderate_verbatims(user: User, contract) -> bool:
    return has_role(user, EDITORS, Scope(contract.id))


def can_hold_token(user: User, contract) -> bool:
    """An API token reads the whole contract: evaluators and admins of the whole contract."""
    return has_role(user, EDITORS, Scope(contract.id))
