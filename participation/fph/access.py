"""Who may do what with FPH funds (named checks; views call them through perm.ensure).

Applicants' contact details are personal data: only fund managers see them (committee
members see the projects, not how to reach the people)."""
from ..core import permissions as perm
from ..core.users import Role, User

#: Create funds, sources, members; review eligibility; schedule sessions; pay; receive bilans.
MANAGERS = perm.PROCESS_MANAGERS
#: Enter an application for residents (marked assisted), or a bilan from paper.
ENTRY_ROLES = perm.FIELD_ROLES
#: Record a committee session (attendance, recusals, decisions) besides managers.
COMMITTEE_ROLES = frozenset({Role.admin, Role.facilitator, Role.committee_member})
#: Read the fund's figures.
FIGURE_READERS = frozenset({Role.admin, Role.facilitator, Role.evaluator})


def can_manage(user: User, fund) -> bool:
    return perm.has_role(user, MANAGERS, fund)


def can_create_in(user: User, scope) -> bool:
    return perm.has_role(user, MANAGERS, scope)


def can_enter(user: User, fund) -> bool:
    """A mediator collects applications where they work, also for a wider fund covering it."""
    if perm.has_role(user, ENTRY_ROLES, fund):
        return True
    return user.is_authenticated and any(g.role in ENTRY_ROLES and fund.scope.covers(g.scope) for g in user.grants)


def can_sit(user: User, fund) -> bool:
    """Read the applications (without contacts) and record a committee session."""
    return perm.has_role(user, COMMITTEE_ROLES, fund)


def can_see_contacts(user: User, fund) -> bool:
    return can_manage(user, fund)


def can_view_figures(user: User, fund) -> bool:
    return perm.has_role(user, FIGURE_READERS, fund)


def can_read(user: User, fund) -> bool:
    """Read the fund and its applications: managers, the committee, figure readers, field roles
    entering applications (contacts stay behind `can_see_contacts`)."""
    return can_manage(user, fund) or can_sit(user, fund) or can_view_figures(user, fund) or can_enter(user, fund)
