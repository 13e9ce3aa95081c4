"""Public entry points of exploratory walks: short links and QR posters (the contract's walks,
each walk's public page, each published report), and what a neighbourhood page lists (the
walks to come there)."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _

from ..extensions import db
from ..links.services import Target
from .models import Walk, WalkStatus


def public_targets(contract):
    """For the links module: the list of the contract's walks, then each walk (a planned one
    with its day) and each published report."""
    yield Target(f"/c/{contract.slug}/walks", _("Marches exploratoires"), contract.scope, "")
    walks = db.session.scalars(
        sa.select(Walk).where(Walk.contract_id == contract.id)
        .options(sa.orm.selectinload(Walk.neighbourhood))
        .order_by(Walk.walked_on.desc(), Walk.id.desc())
    )
    for walk in walks:
        group = walk.neighbourhood.name
        when = walk.walked_on.strftime("%d/%m/%Y")
        yield Target(f"/w/{walk.id}", f"{walk.title} — {when}", walk.scope, group)
        if walk.status is WalkStatus.published:
            yield Target(f"/w/{walk.id}/report", _("Report: %(title)s", title=walk.title), walk.scope, group)


def openings(neighbourhood, today: date | None = None):
    """Walks planned in this neighbourhood from today on, soonest first."""
    from flask import url_for
    from flask_babel import format_date

    from ..core.content_i18n import preload
    from ..core.i18n import current_locale
    from ..core.templating import tr
    from ..territories.views import Opening
    from .labels import GROUP_TYPES, TIMES_OF_DAY

    today = today or date.today()
    walks = list(db.session.scalars(
        sa.select(Walk).where(Walk.neighbourhood_id == neighbourhood.id, Walk.status == WalkStatus.planned,
                              Walk.walked_on >= today)
        .order_by(Walk.walked_on, Walk.starts_at, Walk.id)
    ))
    preload(walks, current_locale())
    result = []
    for walk in walks:
        day = format_date(walk.walked_on, "full")
        when = _("%(day)s at %(time)s", day=day, time=walk.starts_at) if walk.starts_at else day
        status = _("%(when)s · %(time_of_day)s · %(group)s", when=when, time_of_day=TIMES_OF_DAY[walk.time_of_day],
                   group=GROUP_TYPES[walk.group_type])
        result.append(Opening(str(tr(walk, "title")), url_for("walks.walk", walk_id=walk.id),
                              _("Marche exploratoire"), status))
    return result
