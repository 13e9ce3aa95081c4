"""Who may do what with exploratory walks (named checks; views call them through perm.ensure)."""
from ..core import permissions as perm
from ..core.users import Role, User

#: Prepare walks, write recommendations, publish reports, moderate.
MANAGERS = perm.PROCESS_MANAGERS
#: Record observations on a tablet during the walk (besides participants with the walk's QR).
RECORDERS = perm.FIELD_ROLES
#: See the figures and the staff exports (exact coordinates).
FIGURE_READERS = frozenset({Role.admin, Role.facilitator, Role.evaluator})


def _listed_facilitator(user: User, walk) -> bool:
    """A staff account named among the walk's facilitators, still working in its contract."""
    return (
        user.is_authenticated
        and any(u.id == user.id for u in walk.facilitators)
        and any(g.contract_id == walk.contract_id for g in user.grants)
    )


def can_create_in(user: User, scope) -> bool:
    return perm.has_role(user, MANAGERS, scope)


def can_manage(user: User, walk) -> bool:
    return perm.has_role(user, MANAGERS, walk) or _listed_facilitator(user, walk)


def can_record(user: User, walk) -> bool:
    return can_manage(user, walk) or perm.has_role(user, RECORDERS, walk)


def can_view_figures(user: User, walk_or_scope) -> bool:
    return perm.has_role(user, FIGURE_READERS, walk_or_scope)


def can_manage_recommendation(user: User, followup) -> bool:
    """For `followup.access.register_manager_check`: a walk's listed facilitators run its
    recommendations too."""
    from ..extensions import db
    from .models import Recommendation

    if not user.is_authenticated or followup.kind.value != "recommendation":
        return False
    link = db.session.get(Recommendation, followup.id)
    return link is not None and _listed_facilitator(user, link.walk)
