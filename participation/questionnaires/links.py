"""Public entry points of questionnaires: short links and QR posters, and what a
neighbourhood page lists as open."""
from __future__ import annotations

import sqlalchemy as sa
from flask import url_for

from ..extensions import db
from ..links.services import Target
from .models import Questionnaire, Status


def public_targets(contract):
    for q in db.session.scalars(sa.select(Questionnaire).where(
            Questionnaire.contract_id == contract.id, Questionnaire.status != Status.closed).order_by(Questionnaire.id)):
        yield Target(f"/q/{q.id}", q.title, q.scope, q.scope_label)


def openings(neighbourhood):
    """Questionnaires covering this neighbourhood that take answers today, newest first."""
    from datetime import date

    from flask_babel import gettext as _

    from ..territories.views import Opening
    from ..core.content_i18n import preload
    from ..core.i18n import current_locale
    from ..core.templating import tr
    from .labels import PURPOSES

    scope = neighbourhood.scope
    found = list(db.session.scalars(
        sa.select(Questionnaire).where(
            Questionnaire.contract_id == scope.contract_id,
            sa.or_(Questionnaire.commune_id.is_(None), Questionnaire.commune_id == scope.commune_id),
            sa.or_(Questionnaire.neighbourhood_id.is_(None), Questionnaire.neighbourhood_id == scope.neighbourhood_id),
            Questionnaire.status == Status.open,
            sa.or_(Questionnaire.opens_on.is_(None), Questionnaire.opens_on <= date.today()),
            sa.or_(Questionnaire.closes_on.is_(None), Questionnaire.closes_on >= date.today()),
        ).order_by(Questionnaire.id.desc())
    ))
    preload(found, current_locale())
    return [Opening(str(tr(q, "title")), url_for("questionnaires.start", qid=q.id), _("Questionnaire"),
                    str(PURPOSES[q.purpose])) for q in found]
