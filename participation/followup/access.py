"""Who may do what with demands to institutions (named checks; views call them through perm.ensure).

A mechanism that raises demands may widen these (a table's own facilitators manage its
interpellations: see `tables.access`)."""
from ..core import permissions as perm
from ..core.territories import Scope
from ..core.users import User

#: Keep the contract's list of institutions, move demands through the workflow.
MANAGERS = perm.PROCESS_MANAGERS


def can_manage_institutions(user: User, contract) -> bool:
    return perm.has_role(user, MANAGERS, Scope(contract.id))


def can_manage(user: User, followup) -> bool:
    return perm.has_role(user, MANAGERS, followup)


_extra_managers = []


def register_manager_check(check) -> None:
    """Let a mechanism name more people who may move its own demands, e.g. the facilitators
    listed on a table de quartier: `check(user, followup) -> bool`."""
    _extra_managers.append(check)


def can_manage_followup(user: User, followup) -> bool:
    """What views call: scope managers, or whoever a mechanism says runs this demand."""
    return can_manage(user, followup) or any(check(user, followup) for check in _extra_managers)
