"""Who may do what with tables de quartier (named checks; views call them through perm.ensure)."""
from ..core import permissions as perm
from ..core.users import Role, User

#: Create tables, plan meetings, write and publish minutes, send interpellations.
MANAGERS = perm.PROCESS_MANAGERS
#: Key the counts of a paper sign-in sheet, check residents in on a tablet.
ATTENDANCE_ROLES = perm.FIELD_ROLES
#: See attendance figures (anonymous counts, small cells suppressed).
FIGURE_READERS = frozenset({Role.admin, Role.facilitator, Role.evaluator})


def _listed_facilitator(user: User, table) -> bool:
    """A staff account named among the table's facilitators, still working in its contract."""
    return (
        user.is_authenticated
        and any(u.id == user.id for u in table.facilitators)
        and any(g.contract_id == table.contract_id for g in user.grants)
    )


def can_manage(user: User, table) -> bool:
    return perm.has_role(user, MANAGERS, table) or _listed_facilitator(user, table)


def can_create_in(user: User, scope) -> bool:
    return perm.has_role(user, MANAGERS, scope)


def can_take_attendance(user: User, table) -> bool:
    if can_manage(user, table) or perm.has_role(user, ATTENDANCE_ROLES, table):
        return True
    # a mediator of one of the table's neighbourhoods, when the table spans several
    return user.is_authenticated and any(
        g.role in ATTENDANCE_ROLES and table.scope.covers(g.scope)
        and g.scope.neighbourhood_id in {n.id for n in table.neighbourhoods}
        for g in user.grants
    )


def can_view_figures(user: User, table) -> bool:
    return perm.has_role(user, FIGURE_READERS, table) or can_manage(user, table)
