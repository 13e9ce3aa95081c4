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
from ..links.models import ShortLink
from ..questionnaires import access as questionnaire_access
from ..questionnaires.models import Option, Question, Questionnaire, Section


@dataclass(frozen=True)
class TranslatableSpec:
    model: type
    can_edit: Callable
    back_url: Callable
    max_length: dict = field(default_factory=dict)


#: Labels of translatable fields, shared by every model.
FIELD_LABELS = {
    "name": _l("Name"), "title": _l("Title"), "description": _l("Description"),
    "intro": _l("Introduction"), "intro_easy": _l("Introduction in easy-to-read language"),
    "thanks": _l("Thank-you message"), "text": _l("Question"), "help": _l("Help text"),
    "text_easy": _l("Question in easy-to-read language"), "label": _l("Answer"),
    "label_easy": _l("Answer in easy-to-read language"), "unit": _l("Unit"),
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
}
