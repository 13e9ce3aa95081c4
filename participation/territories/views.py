"""Public territory pages: a contract, its neighbourhoods, one neighbourhood."""
from dataclasses import dataclass

import sqlalchemy as sa
from flask import Blueprint, abort, request
from flask_babel import gettext as _

from ..core.htmx import render
from ..core.permissions import public
from ..core.territories import CategoryKind, Commune, Contract, Neighbourhood, top_categories
from ..core.content_i18n import preload
from ..core.search import contains
from ..core.i18n import current_locale
from ..extensions import db
from ..links.services import Target, register_targets

bp = Blueprint("territories", __name__)

#: Each mechanism lists what is open in a neighbourhood: fn(neighbourhood) -> [Opening].
_openings: list = []


@dataclass(frozen=True)
class Opening:
    """One line of "what is open here" on a neighbourhood page."""

    title: str
    url: str
    kind: str
    status: str


def register_openings(provider) -> None:
    _openings.append(provider)


def _contract_or_404(slug: str) -> Contract:
    contract = db.session.scalar(sa.select(Contract).where(Contract.slug == slug))
    if contract is None:
        abort(404)
    return contract


@bp.get("/c/<slug>")
@public
def contract(slug):
    contract = _contract_or_404(slug)
    q = (request.args.get("q") or "").strip()[:100]
    query = (
        sa.select(Neighbourhood)
        .join(Commune)
        .where(Commune.contract_id == contract.id)
        .options(sa.orm.contains_eager(Neighbourhood.commune))
        .order_by(Commune.name, Neighbourhood.name)
    )
    if q:
        query = query.where(sa.or_(contains(Neighbourhood.name, q), contains(Commune.name, q), contains(Neighbourhood.qpv_code, q)))
    neighbourhoods = list(db.session.scalars(query))
    totals = db.session.execute(
        sa.select(sa.func.count(sa.distinct(Commune.id)), sa.func.count(Neighbourhood.id), sa.func.sum(Neighbourhood.population))
        .select_from(Commune)
        .outerjoin(Neighbourhood)
        .where(Commune.contract_id == contract.id)
    ).one()
    categories = top_categories(contract)
    preload(categories, current_locale())
    return render(
        "territories/contract.html",
        fragment="territories/_neighbourhood_list.html",
        contract=contract,
        neighbourhoods=neighbourhoods,
        q=q,
        totals=totals,
        challenges=[c for c in categories if c.kind == CategoryKind.challenge],
        orientations=[c for c in categories if c.kind == CategoryKind.orientation],
    )


@bp.get("/q/<qpv_code>")
@public
def neighbourhood(qpv_code):
    item = db.session.scalar(sa.select(Neighbourhood).where(Neighbourhood.qpv_code == qpv_code.upper()))
    if item is None:
        abort(404)
    openings = [o for provider in _openings for o in provider(item)]
    return render("territories/neighbourhood.html", neighbourhood=item, contract=item.commune.contract, openings=openings)


def _targets(contract: Contract):
    yield Target(f"/c/{contract.slug}", contract.name, contract.scope, _("Contract"))
    rows = db.session.scalars(
        sa.select(Neighbourhood)
        .join(Commune)
        .where(Commune.contract_id == contract.id)
        .options(sa.orm.contains_eager(Neighbourhood.commune))
        .order_by(Commune.name, Neighbourhood.name)
    )
    for n in rows:
        yield Target(f"/q/{n.qpv_code}", n.name, n.scope, n.commune.name)


register_targets(_targets)
