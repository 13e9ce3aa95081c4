"""Which content can be translated from the back office, and who may translate it.

A new mechanism adds its translatable models here (model, permission, where to go back).
"""
from dataclasses import dataclass, field
from typing import Callable

from flask import url_for
from flask_babel import lazy_gettext as _l

from ..core import permissions as perm
from ..budgets.models import Process, Proposal
from ..core.territories import Category
from ..links.models import ShortLink


@dataclass(frozen=True)
class TranslatableSpec:
    model: type
    can_edit: Callable
    back_url: Callable
    max_length: dict = field(default_factory=dict)


#: Labels of translatable fields, shared by every model.
FIELD_LABELS = {"name": _l("Name"), "title": _l("Title"), "description": _l("Description")}

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
}
