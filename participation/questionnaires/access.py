"""Who may do what with questionnaires (named checks; views call them through perm.ensure)."""
from ..core import permissions as perm
from ..core.users import Role, User

#: Build, open and close questionnaires, print code slips, moderate free text.
MANAGERS = perm.PROCESS_MANAGERS
#: Enter answers on a resident's behalf (assisted) or from paper forms.
ENTRY_ROLES = perm.FIELD_ROLES
#: See results and download exports (aggregated, small cells suppressed).
RESULT_READERS = frozenset({Role.admin, Role.facilitator, Role.evaluator})


def can_manage(user: User, questionnaire) -> bool:
    return perm.has_role(user, MANAGERS, questionnaire)


def can_enter(user: User, questionnaire) -> bool:
    """A mediator collects answers where they work: on a questionnaire of their scope, and
    also on a wider one (a commune-wide barometer) that covers their neighbourhood."""
    if perm.has_role(user, ENTRY_ROLES, questionnaire):
        return True
    return user.is_authenticated and any(
        g.role in ENTRY_ROLES and questionnaire.scope.covers(g.scope) for g in user.grants
    )


def can_view_results(user: User, questionnaire) -> bool:
    return perm.has_role(user, RESULT_READERS, questionnaire)


def can_moderate(user: User, questionnaire) -> bool:
    return perm.has_role(user, MANAGERS, questionnaire)
