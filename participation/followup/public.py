"""Public pages of the follow-up: a contract's register of demands to institutions (filters,
overdue first) and one page per demand with its timeline. Drafts are never public.

Filters come from the query string and never fail the page: a value that makes no sense is
reported beside its field and left out. Filtering by a neighbourhood also lists the demands
about its whole commune and about the whole contract, since they concern it too (each row says
which territory it is about).
"""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import abort, request
from flask_babel import gettext as _

from ..core.content_i18n import preload
from ..core.htmx import render
from ..core.i18n import current_locale
from ..core.numbers import parse_int
from ..core.permissions import public
from ..core.territories import Commune, Contract, Neighbourhood, top_categories
from ..extensions import db
from . import services, workflow
from .labels import INSTITUTION_KINDS, KINDS, STATUSES
from .models import FollowUp, Institution, Kind, Status
from .views import bp

PAGE_SIZE = 50


# --- template helpers (also used by other mechanisms through _list.html / _timeline.html) ---


@bp.app_template_global()
def followup_today() -> date:
    return date.today()


@bp.app_template_global()
def followup_is_overdue(item: FollowUp, today: date | None = None) -> bool:
    return services.is_overdue(item, today)


@bp.app_template_global()
def followup_days_waiting(item: FollowUp, today: date | None = None) -> int | None:
    return services.days_waiting(item, today)


@bp.app_template_global()
def followup_kind_label(kind) -> str:
    return str(KINDS[kind])


@bp.app_template_global()
def followup_institution_kind_label(kind) -> str:
    return str(INSTITUTION_KINDS[kind])


# --- filters ----------------------------------------------------------------------------------


def _enum_arg(name: str, enum_cls, allowed, message: str, errors: dict):
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        value = enum_cls(raw)
    except ValueError:
        value = None
    if value is None or value not in allowed:
        errors[name] = message
        return None
    return value


def _id_arg(name: str, allowed: set[int], message: str, errors: dict) -> int | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    value = parse_int(raw)
    if value not in allowed:
        errors[name] = message
        return None
    return value


def filter_choices(contract: Contract) -> dict:
    """What the filter form offers for a contract: institutions (retired ones too: they stay on
    demands), neighbourhoods, défis and orientations (with their sub-themes)."""
    institutions = list(db.session.scalars(
        sa.select(Institution).where(Institution.contract_id == contract.id).order_by(Institution.name)))
    hoods = list(db.session.scalars(
        sa.select(Neighbourhood).join(Commune).where(Commune.contract_id == contract.id)
        .options(sa.orm.contains_eager(Neighbourhood.commune)).order_by(Commune.name, Neighbourhood.name)))
    categories = top_categories(contract)
    preload([*institutions, *categories], current_locale())
    return {"institutions": institutions, "neighbourhoods": hoods, "categories": categories}


def parse_filters(contract: Contract, choices: dict, errors: dict, *, statuses) -> services.Filters:
    """The register's filters from the query string; nonsense goes to `errors` and is ignored."""
    kind = _enum_arg("kind", Kind, set(Kind), _("Choose a kind from the list."), errors)
    status = _enum_arg("status", Status, set(statuses), _("Choose a status from the list."), errors)
    institution_id = _id_arg("institution", {i.id for i in choices["institutions"]},
                             _("Choose an institution from the list."), errors)
    neighbourhood_id = _id_arg("neighbourhood", {n.id for n in choices["neighbourhoods"]},
                               _("Choose a neighbourhood from the list."), errors)
    category_id = _id_arg("category", {c.id for c in choices["categories"]},
                          _("Choose a défi or an orientation from the list."), errors)
    category_ids: tuple[int, ...] = ()
    if category_id is not None:
        top = next(c for c in choices["categories"] if c.id == category_id)
        category_ids = (top.id, *(child.id for child in top.children))
    overdue = request.args.get("overdue", "").strip()
    if overdue not in ("", "1"):
        errors["overdue"] = _("Tick the box or leave it empty.")
    return services.Filters(kind=kind, status=status, institution_id=institution_id,
                            neighbourhood_id=neighbourhood_id, category_ids=category_ids,
                            overdue_only=overdue == "1")


def parse_page(errors: dict) -> int:
    raw = request.args.get("page", "").strip()
    if not raw:
        return 1
    page = parse_int(raw)
    if page is None or page < 1 or page > 100_000:
        errors["page"] = _("There is no such page: the first page is shown.")
        return 1
    return page


def filter_args(filters: services.Filters, chosen_category: int | None) -> dict:
    """The query string giving these filters again (for the pagination links)."""
    args = {}
    if filters.kind:
        args["kind"] = filters.kind.value
    if filters.status:
        args["status"] = filters.status.value
    if filters.institution_id:
        args["institution"] = filters.institution_id
    if filters.neighbourhood_id:
        args["neighbourhood"] = filters.neighbourhood_id
    if chosen_category:
        args["category"] = chosen_category
    if filters.overdue_only:
        args["overdue"] = "1"
    return args


def page_items(where, filters: services.Filters, page: int, today: date) -> tuple[list[FollowUp], int]:
    items, total = services.listing(where, filters, today, page=page, per_page=PAGE_SIZE)
    preload([*items, *{i.institution for i in items if i.institution}], current_locale())
    return items, total


# --- pages --------------------------------------------------------------------------------


def _contract_or_404(slug: str) -> Contract:
    contract = db.session.scalar(sa.select(Contract).where(Contract.slug == slug))
    if contract is None:
        abort(404)
    return contract


PUBLIC_STATUSES = [s for s in Status if s is not Status.draft]


@bp.get("/c/<slug>/follow-up")
@public
def register(slug):
    contract = _contract_or_404(slug)
    today = date.today()
    errors: dict[str, str] = {}
    choices = filter_choices(contract)
    filters = parse_filters(contract, choices, errors, statuses=PUBLIC_STATUSES)
    page = parse_page(errors)
    where = sa.and_(FollowUp.contract_id == contract.id, FollowUp.status != Status.draft)
    items, total = page_items(where, filters, page, today)
    chosen_category = filters.category_ids[0] if filters.category_ids else None
    return render(
        "followup/register.html",
        fragment="followup/_register_results.html",
        contract=contract,
        items=items,
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        today=today,
        filters=filters,
        chosen_category=chosen_category,
        args=filter_args(filters, chosen_category),
        errors=errors,
        statuses=PUBLIC_STATUSES,
        status_labels=STATUSES,
        kind_labels=KINDS,
        **choices,
    )


@bp.get("/follow-up/<int:followup_id>")
@public
def detail(followup_id):
    item = db.get_or_404(FollowUp, followup_id)
    if item.status is Status.draft:
        abort(404)
    preload([item, *([item.institution] if item.institution else []),
             *([item.category] if item.category else [])], current_locale())
    return render("followup/detail.html", item=item, today=date.today(), workflow=workflow)
