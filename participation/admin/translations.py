"""Which content can be translated from the back office, and who may translate it.

A new mechanism adds its translatable models here (model, permission, where to go back).
"""
from dataclasses import dataclass, field
from typing import Callable

from flask import url_for
from flask_babel import lazy_gettext as _l

from ..core import permissions as perm
from ..budgets.models import Process, Proposal
from ..core.territories import Category, Indicator
from ..fph import access as fph_access
from ..fph.models import Application, Bilan, Fund
from ..followup import access as followup_access
from ..followup.models import FollowUp, Institution
from ..links.models import ShortLink
from ..privacy.models import PrivacyNotice
from ..questionnaires import access as questionnaire_access
from ..questionnaires.models import Option, Question, Questionnaire, Section
from ..tables import access as table_access
from ..tables.models import AgendaItem, Meeting, NeighbourhoodTable
from ..walks import access as walk_access
from ..walks.models import Observation, Walk, WalkTheme, Waypoint


@dataclass(frozen=True)
class TranslatableSpec:
    model: type
    can_edit: Callable
    back_url: Callable
    max_length: dict = field(default_factory=dict)
    #: Field labels of this model where the shared FIELD_LABELS would mislead.
    labels: dict = field(default_factory=dict)


#: Labels of translatable fields, shared by every model.
FIELD_LABELS = {
    "name": _l("Name"), "title": _l("Title"), "description": _l("Description"),
    "intro": _l("Introduction"), "intro_easy": _l("Introduction in easy-to-read language"),
    "thanks": _l("Thank-you message"), "text": _l("Question"), "help": _l("Help text"),
    "text_easy": _l("Question in easy-to-read language"), "label": _l("Answer"),
    "label_easy": _l("Answer in easy-to-read language"), "unit": _l("Unit"),
    "place": _l("Place"), "accessibility": _l("Accessibility"), "summary": _l("Summary"),
    "decisions": _l("Decisions"), "body": _l("Demand"), "answer": _l("Answer of the institution"),
    "rules": _l("Rules"), "audience": _l("For whom"),
    "prompts": _l("Questions to ask oneself"), "seen": _l("What was seen"), "quote": _l("Quote"),
    "purposes": _l("Purposes"), "legal_basis": _l("Legal basis"), "other_information": _l("Other information"),
}


def _builder_url(questionnaire_id: int, anchor: str | None = None) -> str:
    return url_for("questionnaires_admin.detail", qid=questionnaire_id, _anchor=anchor)


# Translations are text: they are edited in place on any version of a questionnaire.
def _can_build(user, questionnaire) -> bool:
    return questionnaire_access.can_manage(user, questionnaire)


TRANSLATABLE = {
    "categories": TranslatableSpec(
        Category,
        lambda user, obj: perm.can_edit_referentiel(user, obj.contract),
        lambda obj: url_for("admin.referentiel", contract_id=obj.contract_id),
        {"name": 300},
    ),
    "budget_processes": TranslatableSpec(
        Process,
        lambda user, obj: perm.has_role(user, perm.PROCESS_MANAGERS, obj),
        lambda obj: url_for("budgets.process", process_id=obj.id),
        {"title": 200},
    ),
    "budget_proposals": TranslatableSpec(
        Proposal,
        lambda user, obj: perm.has_role(user, perm.PROCESS_MANAGERS, obj.process),
        lambda obj: url_for("budgets.proposal", process_id=obj.process_id, number=obj.number),
        {"title": 200},
    ),
    "short_links": TranslatableSpec(
        ShortLink,
        perm.can_manage_links,
        lambda obj: url_for("links.detail", link_id=obj.id),
        {"title": 200},
    ),
    "questionnaires": TranslatableSpec(
        Questionnaire,
        _can_build,
        lambda obj: _builder_url(obj.id),
        {"title": 200},
    ),
    "questionnaire_sections": TranslatableSpec(
        Section,
        lambda user, obj: _can_build(user, obj.version.questionnaire),
        lambda obj: _builder_url(obj.version.questionnaire_id, f"s{obj.id}"),
        {"title": 200},
    ),
    "questionnaire_questions": TranslatableSpec(
        Question,
        lambda user, obj: _can_build(user, obj.section.version.questionnaire),
        lambda obj: _builder_url(obj.section.version.questionnaire_id, f"q{obj.id}"),
        {"text": 500, "text_easy": 500, "help": 2000},
    ),
    "questionnaire_options": TranslatableSpec(
        Option,
        lambda user, obj: _can_build(user, obj.question.section.version.questionnaire),
        lambda obj: _builder_url(obj.question.section.version.questionnaire_id, f"q{obj.question_id}"),
        {"label": 300, "label_easy": 300},
    ),
    "indicators": TranslatableSpec(
        Indicator,
        lambda user, obj: perm.can_edit_referentiel(user, obj.contract),
        lambda obj: url_for("admin.referentiel", contract_id=obj.contract_id, _anchor="indicators"),
        {"name": 300},
    ),
    "privacy_notices": TranslatableSpec(
        PrivacyNotice,
        lambda user, obj: perm.can_administer(user, obj.contract.scope),
        lambda obj: url_for("privacy.overview", contract_id=obj.contract_id),
        {"purposes": 10000, "legal_basis": 10000, "other_information": 10000},
    ),
    "followup_institutions": TranslatableSpec(
        Institution,
        lambda user, obj: followup_access.can_manage_institutions(user, obj.contract),
        lambda obj: url_for("followup_admin.institutions", contract_id=obj.contract_id),
        {"name": 200},
    ),
    "followups": TranslatableSpec(
        FollowUp,
        followup_access.can_manage_followup,
        lambda obj: url_for("followup_admin.detail", followup_id=obj.id),
        {"title": 200},
    ),
    "neighbourhood_tables": TranslatableSpec(
        NeighbourhoodTable,
        table_access.can_manage,
        lambda obj: url_for("tables_admin.table", table_id=obj.id),
        {"name": 200},
    ),
    "table_meetings": TranslatableSpec(
        Meeting,
        lambda user, obj: table_access.can_manage(user, obj.table),
        lambda obj: url_for("tables_admin.meeting", meeting_id=obj.id),
        {"title": 200, "place": 200},
    ),
    "table_agenda_items": TranslatableSpec(
        AgendaItem,
        lambda user, obj: table_access.can_manage(user, obj.meeting.table),
        lambda obj: url_for("tables_admin.meeting", meeting_id=obj.meeting_id, _anchor=f"item-{obj.id}"),
        {"title": 200},
    ),
    "fph_funds": TranslatableSpec(
        Fund,
        fph_access.can_manage,
        lambda obj: url_for("fph_admin.fund", fund_id=obj.id),
        {"name": 200},
    ),
    "fph_applications": TranslatableSpec(
        Application,
        lambda user, obj: fph_access.can_manage(user, obj.fund),
        lambda obj: url_for("fph_admin.application", application_id=obj.id),
        {"title": 200, "audience": 300},
    ),
    "fph_bilans": TranslatableSpec(
        Bilan,
        lambda user, obj: fph_access.can_manage(user, obj.application.fund),
        lambda obj: url_for("fph_admin.application", application_id=obj.application_id),
    ),
    "walks": TranslatableSpec(
        Walk,
        walk_access.can_manage,
        lambda obj: url_for("walks_admin.walk", walk_id=obj.id),
        {"title": 200},
        {"summary": _l("The group's conclusion")},
    ),
    "walk_themes": TranslatableSpec(
        WalkTheme,
        lambda user, obj: walk_access.can_manage(user, obj.walk),
        lambda obj: url_for("walks_admin.walk", walk_id=obj.walk_id, _anchor="grid"),
        {"name": 120},
    ),
    "walk_waypoints": TranslatableSpec(
        Waypoint,
        lambda user, obj: walk_access.can_manage(user, obj.walk),
        lambda obj: url_for("walks_admin.walk", walk_id=obj.walk_id, _anchor="route"),
        {"label": 200},
        {"label": _l("Name of the stop")},
    ),
    "walk_observations": TranslatableSpec(
        Observation,
        lambda user, obj: walk_access.can_manage(user, obj.walk),
        lambda obj: url_for("walks_admin.observation", obs_id=obj.id),
    ),
}
